// authproxy.cfg validation: defaults, every error at once, did-you-mean, no secret in any message.

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
  type AuthProxyConfig,
  type ParseAuthProxyConfigOptions,
} from './authproxy-config.ts';
import { matchesIp } from '../core/ip-ranges.ts';
import { fingerprintSecret } from './secret-fingerprint.ts';

const CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBijCCATGgAwIBAgIUf3Op4p9N8M3q0V6CTqAGpKnUtzIwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPQWlybG9jayB0ZXN0IENBMCAXDTI2MTEzMDEyMjE1MVoYDzIx
MjYxMTA2MTIyMTUxWjAaMRgwFgYDVQQDDA9BaXJsb2NrIHRlc3QgQ0EwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAAS5UXY9BNXDKEpBbdcI+G3iqul4k58BOVYkerm7
WLknRkB5LQWhOAJayBxcT/bI7Maz2AgTIY9E0xsICEOvaI4jo1MwUTAdBgNVHQ4E
FgQUx4uj7YFLeGxtlYr9uReXJ/jDAVowHwYDVR0jBBgwFoAUx4uj7YFLeGxtlYr9
uReXJ/jDAVowDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBJNkhr
YczYTh+mm1cv2LnpH9ztibfLSZgqT5kV4poccAIgP8txgjGJr1jxtZ0ROxm8+Eij
FX84Q2QG9FRQX4gGfSU=
-----END CERTIFICATE-----
`;

const CONFIG_DIR = '/etc/airlock';

/** Secrets used below; none may ever appear in an error or a warning. */
const SKEY = 'SKEYsecretSKEYsecretSKEYsecretSKEYsecre';
const RADIUS_SECRET = 'pa;ss#word-long-enough';
const LDAP_PASSWORD = 'ldap;bind#password';
const UPSTREAM_SECRET = 'upstream-radius;secret';

/** A fake disk: only these files exist. */
function fakeReadFile(files: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = files[path];
    if (text === undefined) {
      throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    }
    return text;
  };
}

const OPTIONS: ParseAuthProxyConfigOptions = {
  configDir: CONFIG_DIR,
  readFile: fakeReadFile({ '/etc/airlock/ca.pem': CA_PEM, '/etc/ssl/ldap-ca.pem': CA_PEM }),
};

function server(extra = '', name = 'radius_server_auto'): string {
  return `[${name}]
ikey=DIABCDEFGHIJKLMNOPQR
skey=${SKEY}
api_host=airlock.example.org
client=duo_only_client
failmode=secure
radius_ip_1=10.0.0.0/8
radius_secret_1=${RADIUS_SECRET}
${extra}
`;
}

const BASE = `[duo_only_client]\n${server()}`;

function parseOk(text: string, options = OPTIONS): AuthProxyConfig {
  const r = parseAuthProxyConfig(text, options);
  if (!r.ok) assert.fail(`expected no errors, got:\n${r.errors.join('\n')}`);
  return r.config;
}

function parseErrors(text: string, options = OPTIONS): readonly string[] {
  const r = parseAuthProxyConfig(text, options);
  if (r.ok) assert.fail('expected errors, got a config');
  return r.errors;
}

describe('parseAuthProxyConfig: a minimal file', () => {
  const config = parseOk(BASE);

  it('fills [main] with the defaults, paths resolved against the config directory', () => {
    assert.deepEqual(config.main, {
      debug: false,
      logDir: '/etc/airlock/log',
      logMaxSizeBytes: 10_485_760,
      logMaxFiles: 6,
      logAuthEvents: true,
      logStdout: false,
      logFile: true,
      testConnectivityOnStartup: false,
      adminListen: { host: '127.0.0.1', port: 9443 },
      stateDir: '/etc/airlock/state',
      alertWebhookUrls: [],
      alertWebhookSecret: '',
    });
  });

  it('fills the server section with Airlock defaults', () => {
    const s = config.servers[0];
    assert.ok(s?.kind === 'auto');
    assert.equal(s.section, 'radius_server_auto');
    assert.equal(s.clientSection, 'duo_only_client');
    assert.equal(s.client, config.clients.duo_only_client);
    assert.deepEqual(s.client, { kind: 'duo-only', section: 'duo_only_client' });
    assert.equal(s.apiHost, 'airlock.example.org');
    assert.equal(s.apiPort, 443);
    assert.equal(s.apiAuthority, 'airlock.example.org');
    assert.equal(s.apiTimeoutMs, 10_000);
    assert.equal(s.apiCaFile, undefined);
    assert.equal(s.failmode, 'secure');
    assert.equal(s.failmodeExplicit, true);
    assert.equal(s.bindAddress, '0.0.0.0');
    assert.equal(s.port, 1812);
    assert.equal(s.requireMessageAuthenticator, true);
    assert.equal(s.clientIpAttr, 'Calling-Station-Id');
    assert.deepEqual(s.factors, ['auto']);
    assert.equal(s.allowConcat, true);
    assert.equal(s.delimiter, ',');
    assert.equal(s.delimitedPasswordLength, 0);
    assert.deepEqual(s.exemptUsernames, []);
    assert.deepEqual(s.passThroughAttrNames, []);
    assert.equal(s.passThroughAll, false);
    assert.equal(s.debug, false);
  });

  it('keeps a secret with ; and # whole, with its fingerprint', () => {
    const entry = config.servers[0]?.radiusClients[0];
    assert.equal(entry?.secret, 'pa;ss#word-long-enough');
    assert.equal(entry?.secretFingerprint, fingerprintSecret('pa;ss#word-long-enough'));
    assert.match(entry?.secretFingerprint ?? '', /^[0-9a-f]{8}$/);
    assert.equal(config.servers[0]?.skey, SKEY);
  });

  it('parses radius_ip_N into a matcher', () => {
    const m = config.servers[0]?.radiusClients[0]?.matcher;
    assert.ok(m);
    assert.equal(matchesIp(m, '10.1.2.3'), true);
    assert.equal(matchesIp(m, '::ffff:10.1.2.3'), true);
    assert.equal(matchesIp(m, '192.168.0.1'), false);
  });

  it('is frozen all the way down', () => {
    assert.equal(Object.isFrozen(config), true);
    assert.equal(Object.isFrozen(config.main), true);
    assert.equal(Object.isFrozen(config.main.adminListen), true);
    assert.equal(Object.isFrozen(config.servers), true);
    assert.equal(Object.isFrozen(config.servers[0]), true);
    assert.equal(Object.isFrozen(config.servers[0]?.radiusClients[0]?.matcher), true);
    assert.equal(Object.isFrozen(config.clients), true);
    assert.equal(Object.isFrozen(config.warnings), true);
    assert.throws(() => {
      (config.servers[0] as { failmode: string }).failmode = 'safe';
    }, TypeError);
  });

  it('has frozen defaults', () => {
    assert.equal(Object.isFrozen(DEFAULTS.server), true);
    assert.equal(DEFAULTS.server.failmode, 'secure');
  });
});

describe('parseAuthProxyConfig: failmode', () => {
  it('defaults to secure with a warning naming the section', () => {
    const text = `[duo_only_client]\n${server().replace('failmode=secure\n', '')}`;
    const config = parseOk(text);
    assert.equal(config.servers[0]?.failmode, 'secure');
    assert.equal(config.servers[0]?.failmodeExplicit, false);
    assert.deepEqual(config.warnings, [
      "[radius_server_auto] failmode not set: using secure (fail closed); Duo's proxy would fail open (safe)",
    ]);
  });

  for (const [value, expected] of [
    ['safe', 'safe'],
    ['SAFE', 'safe'],
    ['Secure', 'secure'],
  ] as const) {
    it(`reads failmode=${value} as ${expected}`, () => {
      const text = `[duo_only_client]\n${server().replace('failmode=secure', `failmode=${value}`)}`;
      assert.equal(parseOk(text).servers[0]?.failmode, expected);
    });
  }

  it('refuses anything else with the message docs/design/conventions.md §4 shows', () => {
    const text = `[duo_only_client]\n${server().replace('failmode=secure', 'failmode=open')}`;
    assert.deepEqual(parseErrors(text), [
      '[radius_server_auto] failmode: must be safe or secure, got "open" (line 7)',
    ]);
  });
});

describe('parseAuthProxyConfig: every error at once', () => {
  it('reports five mistakes as five messages, each naming section and key', () => {
    const text = `[main]
log_max_files = many

[duo_only_client]

[radius_server_auto]
ikey=DIABCDEFGHIJKLMNOPQR
skey=${SKEY}
api_host=airlock.example.org
client=duo_only_client
faillmode=secure
api_timeout=0
radius_ip_1=10.0.0.0/33
radius_secret_1=${RADIUS_SECRET}
factors=push,sms
`;
    assert.deepEqual(parseErrors(text), [
      '[main] log_max_files: must be an integer, got "many" (line 2)',
      '[radius_server_auto] faillmode: unknown key; did you mean failmode? (line 11)',
      '[radius_server_auto] api_timeout: never wait forever: set 1–180 seconds, got 0 (line 12)',
      '[radius_server_auto] radius_ip_1: "10.0.0.0/33": prefix length must be 0-32 (line 13)',
      '[radius_server_auto] factors: "sms" not allowed: choose from auto, push, phone, passcode (line 15)',
    ]);
  });

  it('reports syntax errors with line numbers next to schema errors', () => {
    const text = `orphan=1\n[duo_only_client]\n${server('port=http')}\n[duo_only_client]\n`;
    assert.deepEqual(parseErrors(text), [
      'line 1: key before any [section] header',
      'line 13: duplicate section [duo_only_client] (first at line 2)',
      '[radius_server_auto] port: must be an integer, got "http" (line 11)',
    ]);
  });
});

describe('parseAuthProxyConfig: unknown sections and keys', () => {
  const sectionCases: Array<[section: string, expected: RegExp]> = [
    [
      'radius_server_autp',
      /^line 1: unsupported section \[radius_server_autp\]; did you mean \[radius_server_auto\]\?; supported: \[main\], \[ad_client\]/,
    ],
    ['radius_server_autp2', /did you mean \[radius_server_auto2\]\?/],
    ['Main', /did you mean \[main\]\?/],
    ['main2', /\[main\] cannot be numbered/],
    ['ldap_server_auto', /Duo's proxy has it; Airlock: the LDAP server is not implemented yet/],
    ['radius_server_iframe', /unsupported section \[radius_server_iframe\] \(Duo's proxy has it/],
    ['something_else', /^line 1: unsupported section \[something_else\]; supported: /],
  ];
  for (const [section, expected] of sectionCases) {
    it(`refuses [${section}]`, () => {
      const errors = parseErrors(`[${section}]\n${BASE}`);
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0] ?? '', expected);
    });
  }

  const keyCases: Array<[section: string, line: string, expected: string]> = [
    ['radius_server_auto', 'faillmode=secure', 'faillmode: unknown key; did you mean failmode?'],
    [
      'radius_server_auto',
      'radius_sercet_2=x',
      'radius_sercet_2: unknown key; did you mean radius_secret_2?',
    ],
    ['radius_server_auto', 'api_hots=x', 'api_hots: unknown key; did you mean api_host?'],
    ['radius_server_auto', 'favourite_colour=blue', 'favourite_colour: unknown key'],
    [
      'radius_server_auto',
      'radius_ip_0=10.0.0.1',
      'radius_ip_0: unknown key; did you mean radius_ip_1?',
    ],
    [
      'radius_server_challenge',
      'allow_concat=true',
      'allow_concat: unknown key; it belongs in [radius_server_auto]',
    ],
    [
      'main',
      'failmode=safe',
      'failmode: unknown key; it belongs in [radius_server_auto] or [radius_server_challenge]',
    ],
    [
      'duo_only_client',
      'host=x',
      'host: unknown key; it belongs in [ad_client] or [radius_client]',
    ],
    ['radius_server_auto', 'skey_protected=abc', 'skey_protected: not supported, use skey'],
    [
      'radius_server_auto',
      'radius_secret_protected_1=abc',
      'radius_secret_protected_1: not supported, use radius_secret_N',
    ],
  ];
  for (const [section, line, expected] of keyCases) {
    it(`[${section}] ${line} -> ${expected}`, () => {
      const text =
        section === 'radius_server_auto' || section === 'radius_server_challenge'
          ? `[duo_only_client]\n${server(line, section)}`
          : `[${section}]\n${line}\n${BASE.replace('[duo_only_client]\n', section === 'duo_only_client' ? '' : '[duo_only_client]\n')}`;
      const errors = parseErrors(text);
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(
        errors[0] ?? '',
        new RegExp(`^\\[${section}\\] ${escape(expected)} \\(line \\d+\\)$`),
      );
    });
  }

  const hiddenKeys: Array<[line: string, hint: string]> = [
    ['radius_secret_2 topsecret: value', '; did you mean radius_secret_2?'],
    ['Xk3pQ9vL2mN7rT5w: value', ''],
    ['colour=blue', ''],
    ['averyveryverylongsecretwithoutanyunderscore: x', ''],
  ];
  for (const [line, hint] of hiddenKeys) {
    it(`does not echo the key of "${line}" (it may be a secret)`, () => {
      const errors = parseErrors(`[duo_only_client]\n${server(line)}`);
      assert.deepEqual(errors, [
        `[radius_server_auto] unknown key (not shown: it does not look like a key name and may be a secret)${hint} (line 10)`,
      ]);
    });
  }

  it('accepts the Duo keys Airlock ignores, each with a warning', () => {
    const text = `[main]
log_syslog=true
syslog_facility=LOG_AUTH
log_sso_events=false
fips_mode=false
http_proxy_host=proxy.example.org
http_proxy_port=3128
http_ca_certs_file=conf/ca-bundle.crt
${BASE}http_proxy_host=proxy.example.org
`;
    const config = parseOk(text);
    assert.deepEqual(config.warnings, [
      '[main] log_syslog: not supported by Airlock, ignored (set log_stdout=true and let the service manager forward it)',
      '[main] syslog_facility: not supported by Airlock, ignored',
      '[main] log_sso_events: not supported by Airlock, ignored (Airlock has no SSO connector)',
      '[main] fips_mode: not supported by Airlock, ignored',
      '[main] http_proxy_host: not supported by Airlock, ignored (Airlock connects to api_host directly)',
      '[main] http_proxy_port: not supported by Airlock, ignored (Airlock connects to api_host directly)',
      '[main] http_ca_certs_file: not supported by Airlock, ignored (set api_ca_file in each server section)',
      '[radius_server_auto] http_proxy_host: not supported by Airlock, ignored (Airlock connects to api_host directly)',
    ]);
  });
});

describe('parseAuthProxyConfig: values', () => {
  const boolCases: Array<[string, boolean]> = [
    ['true', true],
    ['Yes', true],
    ['on', true],
    ['1', true],
    ['FALSE', false],
    ['no', false],
    ['Off', false],
    ['0', false],
  ];
  for (const [text, expected] of boolCases) {
    it(`reads the boolean ${text} as ${expected}`, () => {
      assert.equal(parseOk(`[main]\ndebug=${text}\n${BASE}`).main.debug, expected);
    });
  }

  const valueErrors: Array<[section: 'main' | 'server', line: string, expected: string]> = [
    ['main', 'debug=maybe', 'debug: must be true or false (or yes/no, on/off, 1/0), got "maybe"'],
    ['main', 'debug=', 'debug: must be true or false (or yes/no, on/off, 1/0), got ""'],
    ['main', 'log_max_size=10MB', 'log_max_size: must be an integer, got "10MB"'],
    ['main', 'log_max_size=1e6', 'log_max_size: must be an integer, got "1e6"'],
    ['main', 'log_max_size=0x10', 'log_max_size: must be an integer, got "0x10"'],
    ['main', 'log_max_files=-1', 'log_max_files: must be at least 0, got -1'],
    ['main', 'admin_listen=9443', 'admin_listen: must be HOST:PORT or [IPv6]:PORT, got "9443"'],
    [
      'main',
      'alert_webhook_url_1=ftp://x.example/h',
      'alert_webhook_url_1: must be an http:// or https:// URL',
    ],
    [
      'main',
      'alert_webhook_url_2=not a url',
      'alert_webhook_url_2: must be an http:// or https:// URL',
    ],
    ['main', 'interface=eth0', 'interface: must be an IP address, got "eth0"'],
    ['server', 'api_timeout=-5', 'api_timeout: never wait forever: set 1–180 seconds, got -5'],
    ['server', 'api_timeout=181', 'api_timeout: must be 1-180, got 181'],
    ['server', 'api_port=0', 'api_port: must be 1-65535, got 0'],
    ['server', 'port=70000', 'port: must be 0-65535, got 70000'],
    ['server', 'interface=localhost', 'interface: must be an IP address, got "localhost"'],
    ['server', 'factors=push,push', 'factors: lists "push" more than once'],
    ['server', 'factors=', 'factors: must list at least one of auto, push, phone, passcode'],
    ['server', 'delimiter=', 'delimiter: must not be empty'],
    [
      'server',
      'delimited_password_length=-1',
      'delimited_password_length: must be at least 0, got -1',
    ],
    [
      'server',
      'pw_codec=latin-1',
      'pw_codec: Airlock decodes passwords as UTF-8 only, got "latin-1"',
    ],
    ['server', 'exempt_username_1=', 'exempt_username_1: must not be empty'],
    [
      'server',
      'api_ca_file=missing.pem',
      'api_ca_file: cannot read /etc/airlock/missing.pem (ENOENT)',
    ],
    [
      'server',
      'allow_concat=true\nconcat_mode=false',
      'concat_mode: is the old name of allow_concat: set only allow_concat',
    ],
  ];
  for (const [where, line, expected] of valueErrors) {
    it(`refuses ${line.replace('\n', ' + ')}`, () => {
      const text =
        where === 'main' ? `[main]\n${line}\n${BASE}` : `[duo_only_client]\n${server(line)}`;
      const section = where === 'main' ? 'main' : 'radius_server_auto';
      const errors = parseErrors(text);
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(
        errors[0] ?? '',
        new RegExp(`^\\[${section}\\] ${escape(expected)} \\(line \\d+\\)$`),
      );
    });
  }

  it('refuses a required key that is missing, naming section and key', () => {
    const text = `[duo_only_client]\n[radius_server_auto]\nclient=duo_only_client\nfailmode=safe\n`;
    assert.deepEqual(parseErrors(text), [
      '[radius_server_auto] ikey: required',
      '[radius_server_auto] skey: required',
      '[radius_server_auto] api_host: required',
      '[radius_server_auto] radius_ip_1: required: at least one radius_ip_N / radius_secret_N pair (the VPN or NAS allowed to ask)',
    ]);
  });

  it('reads api_host with a port, or api_host plus api_port', () => {
    const withPort = parseOk(
      `[duo_only_client]\n${server().replace('api_host=airlock.example.org', 'api_host=localhost:8443')}`,
    );
    assert.deepEqual(
      [
        withPort.servers[0]?.apiHost,
        withPort.servers[0]?.apiPort,
        withPort.servers[0]?.apiAuthority,
      ],
      ['localhost', 8443, 'localhost:8443'],
    );
    const separate = parseOk(`[duo_only_client]\n${server('api_port=8443')}`);
    assert.equal(separate.servers[0]?.apiAuthority, 'airlock.example.org:8443');
    const v6 = parseOk(
      `[duo_only_client]\n${server().replace('api_host=airlock.example.org', 'api_host=[::1]:8443')}`,
    );
    assert.deepEqual([v6.servers[0]?.apiHost, v6.servers[0]?.apiAuthority], ['::1', '[::1]:8443']);
  });

  it('refuses api_host with a scheme, or a port that contradicts api_port', () => {
    const scheme = `[duo_only_client]\n${server().replace('api_host=airlock.example.org', 'api_host=https://airlock.example.org')}`;
    assert.match(
      parseErrors(scheme)[0] ?? '',
      /api_host: write the host name only, without "https:\/\/"/,
    );
    const clash = `[duo_only_client]\n${server('api_port=443').replace('api_host=airlock.example.org', 'api_host=localhost:8443')}`;
    assert.match(
      parseErrors(clash)[0] ?? '',
      /api_port: 443 conflicts with the port in api_host \(8443\)/,
    );
  });

  it('loads api_ca_file relative to the config directory and keeps its PEM', () => {
    const s = parseOk(`[duo_only_client]\n${server('api_ca_file=ca.pem')}`).servers[0];
    assert.equal(s?.apiCaFile, '/etc/airlock/ca.pem');
    assert.equal(s?.apiCaPem, CA_PEM);
  });

  it('refuses an api_ca_file that is not PEM or does not parse', () => {
    const options = {
      configDir: CONFIG_DIR,
      readFile: fakeReadFile({
        '/etc/airlock/junk.pem': 'hello',
        '/etc/airlock/bad.pem': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      }),
    };
    assert.match(
      parseErrors(`[duo_only_client]\n${server('api_ca_file=junk.pem')}`, options)[0] ?? '',
      /api_ca_file: \/etc\/airlock\/junk.pem holds no PEM certificate/,
    );
    assert.match(
      parseErrors(`[duo_only_client]\n${server('api_ca_file=bad.pem')}`, options)[0] ?? '',
      /api_ca_file: certificate 1 in \/etc\/airlock\/bad.pem does not parse/,
    );
  });

  it('reads lists, exempt users, factors in order and [main] interface as the default bind', () => {
    const text = `[main]\ninterface=10.1.1.1\ndebug=yes\n[duo_only_client]\n${server(
      'factors=Passcode, push\nexempt_username_2=svc-b\nexempt_username_1=svc-a\npass_through_attr_names=Class, Filter-Id',
    )}`;
    const s = parseOk(text).servers[0];
    assert.ok(s?.kind === 'auto');
    assert.deepEqual(s.factors, ['passcode', 'push']);
    assert.deepEqual(s.exemptUsernames, ['svc-a', 'svc-b']);
    assert.deepEqual(s.passThroughAttrNames, ['Class', 'Filter-Id']);
    assert.equal(s.bindAddress, '10.1.1.1');
    assert.equal(s.debug, true);
  });

  it("accepts concat_mode, Duo's old name for allow_concat", () => {
    const s = parseOk(`[duo_only_client]\n${server('concat_mode=false')}`).servers[0];
    assert.ok(s?.kind === 'auto');
    assert.equal(s.allowConcat, false);
  });

  it('resolves log_dir and state_dir, and keeps absolute paths', () => {
    const main = parseOk(`[main]\nlog_dir=/var/log/airlock\nstate_dir=../state\n${BASE}`).main;
    assert.equal(main.logDir, '/var/log/airlock');
    assert.equal(main.stateDir, '/etc/state');
  });

  it('turns file logging off only when logging to stdout', () => {
    assert.equal(parseOk(`[main]\nlog_stdout=true\n${BASE}`).main.logFile, false);
    assert.equal(parseOk(`[main]\nlog_stdout=true\nlog_file=true\n${BASE}`).main.logFile, true);
    assert.equal(parseOk(`[main]\nlog_file=false\n${BASE}`).main.logFile, true);
  });
});

describe('parseAuthProxyConfig: radius_ip_N and radius_secret_N', () => {
  it('pairs them by number, in number order, in every address form', () => {
    const text = `[duo_only_client]\n${server(`radius_ip_3=10.0.0.1-10.0.0.9
radius_secret_3=third-secret-long-enough
radius_ip_2=192.168.0.0/255.255.0.0
radius_secret_2=second-secret-long-enough
radius_ip_10=2001:db8::/32
radius_secret_10=tenth-secret-long-enough`)}`;
    const entries = parseOk(text).servers[0]?.radiusClients ?? [];
    assert.deepEqual(
      entries.map((e) => [e.index, e.matcher.text, e.secret]),
      [
        [1, '10.0.0.0/8', RADIUS_SECRET],
        [2, '192.168.0.0/255.255.0.0', 'second-secret-long-enough'],
        [3, '10.0.0.1-10.0.0.9', 'third-secret-long-enough'],
        [10, '2001:db8::/32', 'tenth-secret-long-enough'],
      ],
    );
  });

  it('refuses an ip without its secret and a secret without its ip', () => {
    const errors = parseErrors(
      `[duo_only_client]\n${server('radius_ip_2=10.0.0.2\nradius_secret_3=lonely-secret-value')}`,
    );
    assert.deepEqual(errors, [
      '[radius_server_auto] radius_ip_2: has no radius_secret_2 (line 10)',
      '[radius_server_auto] radius_secret_3: has no radius_ip_3 (line 11)',
    ]);
  });

  it('warns about a short secret by fingerprint only', () => {
    const config = parseOk(`[duo_only_client]\n${server().replace(RADIUS_SECRET, 'short;1')}`);
    assert.deepEqual(config.warnings, [
      `[radius_server_auto] radius_secret_1: shorter than 16 characters (sha256 ${fingerprintSecret('short;1')}); RFC 2865 §3 asks for at least 16`,
    ]);
  });
});

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
      'no server section: add [radius_server_auto] or [radius_server_challenge] (see docs/proxy-config.md)',
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

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
