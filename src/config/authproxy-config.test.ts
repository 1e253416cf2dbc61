// authproxy.cfg validation: defaults, every error at once, did-you-mean, no secret in any message.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS } from './authproxy-config.ts';
import { matchesIp } from '../core/ip-ranges.ts';
import { fingerprintSecret } from './secret-fingerprint.ts';

import {
  CA_PEM,
  CONFIG_DIR,
  SKEY,
  RADIUS_SECRET,
  fakeReadFile,
  server,
  BASE,
  parseOk,
  parseErrors,
  escape,
} from './test-support/authproxy-fixtures.ts';

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
      syslog: undefined,
      statusReportIntervalMs: 0,
      statusName: undefined,
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
    assert.equal(s.recvBufferBytes, 4 * 1024 * 1024);
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

describe('parseAuthProxyConfig: recv_buffer_bytes', () => {
  it('takes a size in bytes, and refuses one below the kernel minimum or beyond 256 MiB', () => {
    const withKey = (v: string) =>
      `[duo_only_client]\n${server().replace('failmode=secure', `failmode=secure\nrecv_buffer_bytes=${v}`)}`;
    assert.equal(parseOk(withKey('16777216')).servers[0]?.recvBufferBytes, 16_777_216);
    assert.deepEqual(parseErrors(withKey('1024')), [
      '[radius_server_auto] recv_buffer_bytes: must be 4096-268435456, got 1024 (line 8)',
    ]);
    assert.deepEqual(parseErrors(withKey('4MB')), [
      '[radius_server_auto] recv_buffer_bytes: must be an integer, got "4MB" (line 8)',
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
    ['ldap_server_autp', /did you mean \[ldap_server_auto\]\?/],
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
      'allow_concat: unknown key; it belongs in [radius_server_auto] or [ldap_server_auto]',
    ],
    [
      'main',
      'failmode=safe',
      'failmode: unknown key; it belongs in [radius_server_auto] or [radius_server_challenge] or [ldap_server_auto]',
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
      '[main] syslog_facility: has no effect without syslog_target (udp://, tcp:// or tls://)',
      '[main] log_syslog: not supported by Airlock, ignored (set syslog_target (udp://, tcp:// or tls://) for RFC 5424 syslog)',
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
    [
      'main',
      'syslog_target=siem.example.org:514',
      'syslog_target: must be udp://HOST[:PORT], tcp://HOST[:PORT] or tls://HOST[:PORT]',
    ],
    [
      'main',
      'syslog_facility=authpriv2',
      'syslog_facility: unknown facility "authpriv2"; did you mean authpriv?',
    ],
    [
      'main',
      'syslog_app_name=my proxy',
      'syslog_app_name: must be 1-48 printable ASCII characters without spaces (RFC 5424 APP-NAME)',
    ],
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

describe('parseAuthProxyConfig: the SIEM output ([main] syslog_*)', () => {
  it('reads target, facility, app name and the TLS CA', () => {
    const config = parseOk(
      `[main]\nsyslog_target=tls://siem.example.org\nsyslog_facility=LOCAL4\nsyslog_app_name=vpn-proxy\nsyslog_ca_file=ca.pem\n${BASE}`,
    );
    assert.deepEqual(config.main.syslog, {
      target: { transport: 'tls', host: 'siem.example.org', port: 6514 },
      facility: 'local4',
      appName: 'vpn-proxy',
      caPem: CA_PEM,
    });
  });

  it('defaults to facility auth and app name airlock-proxy', () => {
    const config = parseOk(`[main]\nsyslog_target=udp://10.0.0.9\n${BASE}`);
    assert.deepEqual(config.main.syslog, {
      target: { transport: 'udp', host: '10.0.0.9', port: 514 },
      facility: 'auth',
      appName: 'airlock-proxy',
      caPem: undefined,
    });
  });

  it('refuses a CA file for a target that is not tls://', () => {
    assert.match(
      parseErrors(`[main]\nsyslog_target=tcp://10.0.0.9\nsyslog_ca_file=ca.pem\n${BASE}`).join(
        '\n',
      ),
      /syslog_ca_file: applies to tls:\/\/ targets only/,
    );
  });
});
