// authproxy.cfg validation, part 2: client sections, several servers, failover, breaker keys, secrets, examples, loading.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import {
  ConfigError,
  DEFAULTS,
  loadAuthProxyConfig,
  parseAuthProxyConfig,
} from './authproxy-config.ts';
import { fingerprintSecret } from './secret-fingerprint.ts';

import {
  CA_PEM,
  SKEY,
  RADIUS_SECRET,
  LDAP_PASSWORD,
  UPSTREAM_SECRET,
  fakeReadFile,
  OPTIONS,
  server,
  BASE,
  parseOk,
  parseErrors,
  escape,
} from './test-support/authproxy-fixtures.ts';

describe('parseAuthProxyConfig: client sections', () => {
  const AD = `[ad_client]
host=ldap1.example.org
host_2=ldap2.example.org
transport=ldaps
ssl_ca_certs_file=/etc/ssl/ldap-ca.pem
auth_type=plain
bind_dn=cn=airlock,ou=services,dc=example,dc=org
service_account_password=${LDAP_PASSWORD}
search_dn=ou=people,dc=example,dc=org
username_attribute=uid
`;
  const RADIUS = `[radius_client2]
host=10.9.0.1
host_2=10.9.0.2
port_2=11812
secret=${UPSTREAM_SECRET}
retries=2
pass_through_attr_names=Class
`;

  it('reads an [ad_client] with LDAP simple bind and its defaults', () => {
    const config = parseOk(
      `${AD}${server().replace('client=duo_only_client', 'client=ad_client')}`,
    );
    const c = config.clients.ad_client;
    assert.ok(c?.kind === 'ad');
    assert.deepEqual(c.hosts, ['ldap1.example.org', 'ldap2.example.org']);
    assert.equal(c.port, 636);
    assert.equal(c.transport, 'ldaps');
    assert.equal(c.serviceAccountBindName, 'cn=airlock,ou=services,dc=example,dc=org');
    assert.equal(c.serviceAccountPassword, LDAP_PASSWORD);
    assert.equal(c.serviceAccountPasswordFingerprint, fingerprintSecret(LDAP_PASSWORD));
    assert.equal(c.usernameAttribute, 'uid');
    assert.equal(c.atAttribute, 'userPrincipalName');
    assert.equal(c.sslCaCertsFile, '/etc/ssl/ldap-ca.pem');
    assert.equal(c.sslCaPem, CA_PEM);
    assert.equal(c.sslVerifyHostname, true);
    assert.equal(c.timeoutMs, 10_000);
    assert.equal(config.servers[0]?.client, c);
    assert.deepEqual(config.warnings, []);
  });

  it('refuses NTLM and SSPI binds with the way out', () => {
    for (const type of ['ntlm2', 'NTLM1', 'sspi']) {
      const errors = parseErrors(
        `${AD.replace('auth_type=plain', `auth_type=${type}`)}${server().replace('client=duo_only_client', 'client=ad_client')}`,
      );
      assert.deepEqual(errors, [
        `[ad_client] auth_type: "${type}" is not supported: Airlock authenticates with an LDAP simple bind; set auth_type=plain (and bind_dn to the service account DN) (line 6)`,
      ]);
    }
  });

  it('warns when auth_type is missing and when passwords would cross the network in clear', () => {
    const text = `[ad_client]\nhost=ldap.example.org\nservice_account_username=svc@example.org\nservice_account_password=${LDAP_PASSWORD}\nsearch_dn=dc=example,dc=org\n${server().replace('client=duo_only_client', 'client=ad_client')}`;
    const config = parseOk(text);
    const c = config.clients.ad_client;
    assert.ok(c?.kind === 'ad');
    assert.equal(c.port, 389);
    assert.equal(c.serviceAccountBindName, 'svc@example.org');
    assert.deepEqual(config.warnings, [
      "[ad_client] auth_type not set: using plain (LDAP simple bind); Duo's proxy would use ntlm2, so set bind_dn to the service account DN (or service_account_username to user@domain)",
      '[ad_client] transport: clear sends passwords unencrypted to ldap.example.org; use ldaps or starttls',
    ]);
  });

  it('refuses an [ad_client] without host, search_dn, bind name or password', () => {
    const errors = parseErrors(
      `[ad_client]\nauth_type=plain\n${server().replace('client=duo_only_client', 'client=ad_client')}`,
    );
    assert.deepEqual(errors, [
      '[ad_client] host: required: the server to authenticate against',
      '[ad_client] bind_dn: required (or service_account_username): the service account that binds to search for users',
      '[ad_client] service_account_password: required',
      '[ad_client] search_dn: required',
    ]);
  });

  it('names the exact host key and CA file that are wrong', () => {
    const text = `${AD.replace('host_2=ldap2.example.org', 'host_2=ldap 2').replace('/etc/ssl/ldap-ca.pem', '/etc/ssl/none.pem')}${server().replace('client=duo_only_client', 'client=ad_client')}`;
    assert.deepEqual(parseErrors(text), [
      '[ad_client] host_2: must be a host name or IP address, got "ldap 2" (line 3)',
      '[ad_client] ssl_ca_certs_file: cannot read /etc/ssl/none.pem (ENOENT) (line 5)',
    ]);
  });

  it('reads a numbered [radius_client2] with per-host ports', () => {
    const config = parseOk(
      `${RADIUS}${server().replace('client=duo_only_client', 'client=radius_client2')}`,
    );
    const c = config.clients.radius_client2;
    assert.ok(c?.kind === 'radius');
    assert.deepEqual(c.hosts, [
      { host: '10.9.0.1', port: 1812 },
      { host: '10.9.0.2', port: 11812 },
    ]);
    assert.equal(c.secret, UPSTREAM_SECRET);
    assert.equal(c.retries, 2);
    assert.equal(c.retryWaitMs, 2000);
    assert.equal(c.requireMessageAuthenticator, true);
    assert.deepEqual(c.passThroughAttrNames, ['Class']);
    assert.deepEqual(config.warnings, []);
  });

  it('requires a Message-Authenticator in upstream replies unless turned off, with a warning naming the section', () => {
    const config = parseOk(
      `${RADIUS}require_message_authenticator=false\n${server().replace('client=duo_only_client', 'client=radius_client2')}`,
    );
    const c = config.clients.radius_client2;
    assert.ok(c?.kind === 'radius');
    assert.equal(c.requireMessageAuthenticator, false);
    assert.deepEqual(config.warnings, [
      '[radius_client2] require_message_authenticator: false, so upstream replies without a Message-Authenticator are accepted: an Access-Accept forged on the path to the RADIUS server is believed (BlastRADIUS, CVE-2024-3596)',
    ]);
  });

  it('refuses a port_N without its host_N', () => {
    const errors = parseErrors(
      `${RADIUS}port_5=1812\n${server().replace('client=duo_only_client', 'client=radius_client2')}`,
    );
    assert.deepEqual(errors, ['[radius_client2] port_5: has no host_5 (line 8)']);
  });

  it('refuses a client= that names no section, with did-you-mean and the sections present', () => {
    const errors = parseErrors(
      `${RADIUS}[duo_only_client]\n${server().replace('client=duo_only_client', 'client=radius_client')}`,
    );
    assert.deepEqual(errors, [
      '[radius_server_auto] client: no [radius_client] section in this file; did you mean radius_client2? (client sections here: [radius_client2], [duo_only_client]) (line 13)',
    ]);
  });

  it('refuses a client= that names a server section or no client kind', () => {
    const two = `[duo_only_client]\n${server()}${server('port=1813', 'radius_server_auto2').replace('client=duo_only_client', 'client=radius_server_auto')}`;
    assert.match(
      parseErrors(two)[0] ?? '',
      /client: \[radius_server_auto\] is not a client section/,
    );
    const odd = `[duo_only_client]\n${server().replace('client=duo_only_client', 'client=ldap')}`;
    assert.match(parseErrors(odd)[0] ?? '', /client: "ldap" is not a client section name/);
  });

  it('warns about a client section no server uses', () => {
    const config = parseOk(`${RADIUS}${BASE}`);
    assert.deepEqual(config.warnings, ['[radius_client2] is not used by any server section']);
  });

  it('refuses a file with no server section', () => {
    assert.deepEqual(parseErrors('[main]\n[duo_only_client]\n'), [
      'no server section: add [radius_server_auto], [radius_server_challenge] or [ldap_server_auto] (see docs/proxy-config.md)',
    ]);
  });
});

describe('parseAuthProxyConfig: several server sections', () => {
  it('reads numbered sections of both kinds in file order', () => {
    const text = `[duo_only_client]
${server('port=1812')}
${server('port=1813\nprompt_format=HTML\nfactors=passcode', 'radius_server_challenge')}
${server('port=1814', 'radius_server_auto2')}`;
    const config = parseOk(text);
    assert.deepEqual(
      config.servers.map((s) => [s.kind, s.section, s.port]),
      [
        ['auto', 'radius_server_auto', 1812],
        ['challenge', 'radius_server_challenge', 1813],
        ['auto', 'radius_server_auto2', 1814],
      ],
    );
    const challenge = config.servers[1];
    assert.ok(challenge?.kind === 'challenge');
    assert.equal(challenge.promptFormat, 'html');
    assert.equal(challenge.enrollChallenge, true);
    assert.deepEqual(challenge.factors, ['passcode']);
  });

  it('defaults the challenge menu to push, phone and passcode', () => {
    const s = parseOk(`[duo_only_client]\n${server('', 'radius_server_challenge')}`).servers[0];
    assert.ok(s?.kind === 'challenge');
    assert.deepEqual(s.factors, ['push', 'phone', 'passcode']);
    assert.equal(s.promptFormat, 'console');
  });

  const conflicts: Array<[first: string, second: string, clash: boolean]> = [
    ['', '', true],
    ['interface=10.0.0.1', 'interface=10.0.0.1', true],
    ['interface=10.0.0.1', '', true],
    ['interface=10.0.0.1', 'interface=10.0.0.2', false],
    ['', 'port=1813', false],
    ['port=0', 'port=0', false],
  ];
  for (const [first, second, clash] of conflicts) {
    it(`${clash ? 'refuses' : 'accepts'} two servers with "${first}" and "${second}"`, () => {
      const text = `[duo_only_client]\n${server(first)}${server(second, 'radius_server_auto2')}`;
      const r = parseAuthProxyConfig(text, OPTIONS);
      assert.equal(r.ok, !clash);
      if (!r.ok)
        assert.match(
          r.errors[0] ?? '',
          /^\[radius_server_auto2\] port: \d+ on \S+ is already used by \[radius_server_auto\]/,
        );
    });
  }
});

describe('parseAuthProxyConfig: API host failover (api_host_N)', () => {
  const withHost = (line: string, extra = '') =>
    `[duo_only_client]\n${server(extra).replace('api_host=airlock.example.org', line)}`;

  it('lists api_host alone when there is no api_host_N, and keeps apiHost/apiPort as the first', () => {
    const s = parseOk(BASE).servers[0];
    assert.deepEqual(s?.apiHosts, [
      { apiHost: 'airlock.example.org', apiPort: 443, apiAuthority: 'airlock.example.org' },
    ]);
  });

  it('reads api_host_2, api_host_3, … in number order, each with its own port or api_port', () => {
    const s = parseOk(
      withHost(
        'api_host=a.example.org',
        'api_port=8443\napi_host_3=[2001:db8::3]\napi_host_2=b.example.org:9443\napi_host_10=10.0.0.10',
      ),
    ).servers[0];
    assert.deepEqual(
      s?.apiHosts.map((h) => [h.apiHost, h.apiPort, h.apiAuthority]),
      [
        ['a.example.org', 8443, 'a.example.org:8443'],
        ['b.example.org', 9443, 'b.example.org:9443'],
        ['2001:db8::3', 8443, '[2001:db8::3]:8443'],
        ['10.0.0.10', 8443, '10.0.0.10:8443'],
      ],
    );
    assert.deepEqual(
      [s?.apiHost, s?.apiPort, s?.apiAuthority],
      ['a.example.org', 8443, 'a.example.org:8443'],
    );
  });

  it('gives api_host_N port 443 when neither it nor api_port has one (api_host may)', () => {
    const s = parseOk(withHost('api_host=localhost:8443', 'api_host_2=backup.example.org'))
      .servers[0];
    assert.deepEqual(
      s?.apiHosts.map((h) => h.apiAuthority),
      ['localhost:8443', 'backup.example.org'],
    );
  });

  const BAD: Array<[string, string]> = [
    [
      'api_host_1=b.example.org',
      'api_host_1: is api_host itself: set api_host, and number the failover hosts from api_host_2',
    ],
    [
      'api_host_2=https://b.example.org',
      'api_host_2: write the host name only, without "https://"',
    ],
    ['api_host_2=b.example.org:0', 'api_host_2: port must be 1-65535, got 0'],
    [
      'api_host_2=bad host',
      'api_host_2: must be a host name or IP address, optionally with :port, got "bad host"',
    ],
    ['api_host_2=', 'api_host_2: must not be empty'],
    [
      'api_host_2=AIRLOCK.example.org:443',
      'api_host_2: AIRLOCK.example.org is already listed as api_host; list each API host once',
    ],
  ];
  for (const [line, message] of BAD) {
    it(`refuses ${line}`, () => {
      const errors = parseErrors(`[duo_only_client]\n${server(line)}`);
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.equal(errors[0]?.replace(/ \(line \d+\)$/, ''), `[radius_server_auto] ${message}`);
    });
  }

  it('suggests api_host_2 for a near miss', () => {
    assert.match(
      parseErrors(`[duo_only_client]\n${server('api_hots_2=b.example.org')}`)[0] ?? '',
      /api_hots_2: unknown key; did you mean api_host_2\?/,
    );
  });
});

describe('parseAuthProxyConfig: circuit breaker and health monitor keys', () => {
  const DEFAULT_RESILIENCE = {
    breakerEnabled: true,
    breakerFailureThreshold: 3,
    breakerOpenMs: 10_000,
    breakerMaxOpenMs: 120_000,
    degradedLatencyMs: 3_000,
    healthCheckIntervalMs: 10_000,
  };

  it('defaults to the documented values, in milliseconds', () => {
    assert.deepEqual(parseOk(BASE).servers[0]?.resilience, DEFAULT_RESILIENCE);
    assert.deepEqual(DEFAULTS.resilience, {
      breakerEnabled: true,
      breakerFailureThreshold: 3,
      breakerOpenSeconds: 10,
      breakerMaxOpenSeconds: 120,
      degradedLatencyMs: 3_000,
      healthCheckIntervalSeconds: 10,
    });
    assert.equal(Object.isFrozen(DEFAULTS.resilience), true);
  });

  it('takes [main] as the default of every server section, and a section overrides it', () => {
    const text = `[main]
breaker_failure_threshold=5
breaker_open_seconds=30
breaker_max_open_seconds=600
degraded_latency_ms=2000
health_check_interval=0
[duo_only_client]
${server('port=1812')}
${server('port=1813\nbreaker_failure_threshold=2\nhealth_check_interval=60\nbreaker_enabled=no', 'radius_server_auto2')}`;
    const config = parseOk(text);
    assert.deepEqual(config.servers[0]?.resilience, {
      breakerEnabled: true,
      breakerFailureThreshold: 5,
      breakerOpenMs: 30_000,
      breakerMaxOpenMs: 600_000,
      degradedLatencyMs: 2_000,
      healthCheckIntervalMs: 0,
    });
    assert.deepEqual(config.servers[1]?.resilience, {
      breakerEnabled: false,
      breakerFailureThreshold: 2,
      breakerOpenMs: 30_000,
      breakerMaxOpenMs: 600_000,
      degradedLatencyMs: 2_000,
      healthCheckIntervalMs: 60_000,
    });
    assert.deepEqual(config.main, parseOk(BASE).main, '[main] itself is unchanged by these keys');
  });

  it('warns when the breaker is off: every login waits during an outage', () => {
    for (const text of [
      `[main]\nbreaker_enabled=false\n${BASE}`,
      `[duo_only_client]\n${server('breaker_enabled=false')}`,
    ]) {
      const config = parseOk(text);
      assert.equal(config.servers[0]?.resilience.breakerEnabled, false);
      assert.equal(config.warnings.filter((w) => w.includes('breaker_enabled')).length, 1);
      assert.match(
        config.warnings.find((w) => w.includes('breaker_enabled')) ?? '',
        /^\[(main|radius_server_auto)\] breaker_enabled: false, so during an outage every login waits api_timeout for each API host \(Duo's behaviour\)$/,
      );
    }
  });

  it('warns when degraded_latency_ms is not below api_timeout', () => {
    const config = parseOk(
      `[duo_only_client]\n${server('api_timeout=3\ndegraded_latency_ms=3000')}`,
    );
    assert.ok(
      config.warnings.includes(
        '[radius_server_auto] degraded_latency_ms: 3000 is not below api_timeout (3 s): an answer that slow times out first, so no API host is ever reported degraded for latency',
      ),
      config.warnings.join('\n'),
    );
    const off = parseOk(`[duo_only_client]\n${server('api_timeout=3\ndegraded_latency_ms=0')}`);
    assert.equal(off.servers[0]?.resilience.degradedLatencyMs, 0);
    assert.ok(!off.warnings.some((w) => w.includes('degraded_latency_ms')));
  });

  const BAD: Array<['main' | 'server', string, string]> = [
    ['server', 'breaker_failure_threshold=0', 'breaker_failure_threshold: must be 1-100, got 0'],
    [
      'main',
      'breaker_failure_threshold=three',
      'breaker_failure_threshold: must be an integer, got "three"',
    ],
    ['server', 'breaker_open_seconds=0', 'breaker_open_seconds: must be 1-3600, got 0'],
    [
      'server',
      'breaker_max_open_seconds=100000',
      'breaker_max_open_seconds: must be 1-86400, got 100000',
    ],
    ['server', 'degraded_latency_ms=-1', 'degraded_latency_ms: must be 0-600000, got -1'],
    ['main', 'health_check_interval=10s', 'health_check_interval: must be an integer, got "10s"'],
    ['server', 'health_check_interval=3601', 'health_check_interval: must be 0-3600, got 3601'],
    [
      'server',
      'breaker_enabled=maybe',
      'breaker_enabled: must be true or false (or yes/no, on/off, 1/0), got "maybe"',
    ],
    [
      'server',
      'breaker_open_seconds=60\nbreaker_max_open_seconds=30',
      'breaker_max_open_seconds: must be at least breaker_open_seconds (60), got 30',
    ],
    [
      'server',
      'breaker_open_seconds=300',
      'breaker_open_seconds: 300 is longer than breaker_max_open_seconds (120); raise that too',
    ],
    [
      'main',
      'breaker_max_open_seconds=5',
      'breaker_max_open_seconds: must be at least breaker_open_seconds (10), got 5',
    ],
  ];
  for (const [where, line, message] of BAD) {
    it(`refuses ${line.replace('\n', ' + ')} in ${where === 'main' ? '[main]' : 'a server section'}`, () => {
      const text =
        where === 'main' ? `[main]\n${line}\n${BASE}` : `[duo_only_client]\n${server(line)}`;
      const errors = parseErrors(text);
      assert.equal(errors.length, 1, errors.join('\n'));
      const section = where === 'main' ? 'main' : 'radius_server_auto';
      assert.equal(errors[0]?.replace(/ \(line \d+\)$/, ''), `[${section}] ${message}`);
    });
  }

  it('reports an inconsistent [main] once, not again in every section', () => {
    const text = `[main]\nbreaker_open_seconds=600\n[duo_only_client]\n${server('port=1812')}${server('port=1813', 'radius_server_auto2')}`;
    assert.deepEqual(
      parseErrors(text).map((e) => e.replace(/ \(line \d+\)$/, '')),
      [
        '[main] breaker_open_seconds: 600 is longer than breaker_max_open_seconds (120); raise that too',
      ],
    );
  });

  it('suggests the key for a near miss', () => {
    assert.match(
      parseErrors(`[duo_only_client]\n${server('breaker_failure_treshold=2')}`)[0] ?? '',
      /breaker_failure_treshold: unknown key; did you mean breaker_failure_threshold\?/,
    );
  });
});

describe('parseAuthProxyConfig: secrets never appear in messages', () => {
  it('keeps every secret out of every error and warning', () => {
    const text = `[main]
log_syslog=true
[ad_client]
host=ldap.example.org
service_account_password=${LDAP_PASSWORD}
service_account_password_protected=${LDAP_PASSWORD}
search_dn=dc=example,dc=org
[radius_client]
host=10.0.0.1
secret=${UPSTREAM_SECRET}
secret_protected=${UPSTREAM_SECRET}
pw_codec=latin-1
[radius_server_auto]
ikey=DIABCDEFGHIJKLMNOPQR
skey=${SKEY}
skey_protected=${SKEY}
api_host=airlock.example.org
client=ad_client
radius_ip_1=not-an-ip
radius_secret_1=${RADIUS_SECRET}
radius_secret_2=${RADIUS_SECRET}
radius_secret_protected_1=${RADIUS_SECRET}
${RADIUS_SECRET}
${SKEY}: oops
[radius_server_auto]
skey=${SKEY}
[radius_server_challenge]
client=radius_client
skey=short
radius_ip_1=10.0.0.1
radius_secret_1=short;#1
`;
    const r = parseAuthProxyConfig(text, OPTIONS);
    assert.equal(r.ok, false);
    const messages = [...(r.ok ? [] : r.errors), ...r.warnings];
    assert.ok(messages.length >= 15, messages.join('\n'));
    for (const secret of [SKEY, RADIUS_SECRET, LDAP_PASSWORD, UPSTREAM_SECRET, 'short;#1']) {
      // Not whole, not cut off, not lower-cased (a secret on a line of its own parses as a key).
      const probe = secret.slice(0, 8).toLowerCase();
      for (const m of messages)
        assert.ok(!m.toLowerCase().includes(probe), `secret leaked into: ${m}`);
    }
  });

  it('fingerprints are the first 8 hex digits of SHA-256', () => {
    assert.equal(fingerprintSecret('testing123'), 'b822f1cd');
  });
});

describe('examples/*.cfg', () => {
  const examples = resolve(import.meta.dirname, '../../examples');
  for (const file of ['authproxy.cfg', 'authproxy-ldap.cfg']) {
    it(`${file} parses without errors`, () => {
      const config = parseOk(readFileSync(join(examples, file), 'utf8'), {
        configDir: examples,
        readFile: fakeReadFile({ [resolve(examples, '../data/tls/ca.pem')]: CA_PEM }),
      });
      const s = config.servers[0];
      assert.equal(s?.failmode, 'secure');
      assert.equal(s?.port, 18120);
      assert.equal(s?.apiPort, 8443);
      assert.equal(s?.apiCaPem, CA_PEM);
    });
  }

  it('authproxy.cfg is the duo-only setup npm start expects', () => {
    const config = parseOk(readFileSync(join(examples, 'authproxy.cfg'), 'utf8'), {
      configDir: examples,
      readFile: () => CA_PEM,
    });
    const s = config.servers[0];
    assert.equal(s?.clientSection, 'duo_only_client');
    assert.equal(s?.radiusClients[0]?.secret, 'testing123');
    assert.equal(s?.apiAuthority, 'localhost:8443');
  });

  it("authproxy-duo-cloud.cfg points at Duo's cloud on 443 with the system's CAs", () => {
    const config = parseOk(readFileSync(join(examples, 'authproxy-duo-cloud.cfg'), 'utf8'), {
      configDir: examples,
      readFile: () => CA_PEM,
    });
    const s = config.servers[0];
    assert.equal(s?.apiAuthority, 'api-xxxxxxxx.duosecurity.com');
    assert.equal(s?.apiPort, 443);
    assert.equal(s?.apiCaPem, undefined);
    assert.equal(s?.failmode, 'secure');
  });

  it('authproxy-ldap.cfg reads OpenLDAP users by uid', () => {
    const config = parseOk(readFileSync(join(examples, 'authproxy-ldap.cfg'), 'utf8'), {
      configDir: examples,
      readFile: () => CA_PEM,
    });
    const c = config.clients.ad_client;
    assert.ok(c?.kind === 'ad');
    assert.equal(c.usernameAttribute, 'uid');
    assert.equal(c.searchDn, 'ou=people,dc=example,dc=org');
  });
});

describe('loadAuthProxyConfig', () => {
  it('reads the file and resolves paths against its directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-cfg-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), CA_PEM);
      writeFileSync(
        join(dir, 'authproxy.cfg'),
        `[duo_only_client]\n${server('api_ca_file=ca.pem')}`,
      );
      const config = loadAuthProxyConfig(join(dir, 'authproxy.cfg'));
      assert.equal(config.main.logDir, join(dir, 'log'));
      assert.equal(config.servers[0]?.apiCaPem, CA_PEM);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('throws a ConfigError listing every error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-cfg-'));
    try {
      const path = join(dir, 'authproxy.cfg');
      writeFileSync(
        path,
        `[duo_only_client]\n${server('failmode=open\nport=x').replace('failmode=secure\n', '')}`,
      );
      assert.throws(
        () => loadAuthProxyConfig(path),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.equal(err.code, 'CONFIG_INVALID');
          assert.equal(err.errors.length, 2);
          assert.match(
            err.message,
            new RegExp(`^${escape(path)}: 2 errors\\n  \\[radius_server_auto\\] failmode`),
          );
          return true;
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('throws a ConfigError for a missing file', () => {
    assert.throws(() => loadAuthProxyConfig('/nonexistent/authproxy.cfg'), {
      name: 'ConfigError',
      message: '/nonexistent/authproxy.cfg: 1 error\n  cannot read the file (ENOENT)',
    });
  });
});
