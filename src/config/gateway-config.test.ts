import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGatewayConfig } from './gateway-config.ts';

const SECRET = 'a'.repeat(64);
const CA = `-----BEGIN CERTIFICATE-----
MIIBdzCCAR2gAwIBAgIUFoGx5Fm5Bz4o7kRW5cOPp1xJQJMwCgYIKoZIzj0EAwIw
ETEPMA0GA1UEAwwGdGVzdGNhMB4XDTI0MDEwMTAwMDAwMFoXDTM0MDEwMTAwMDAw
MFowETEPMA0GA1UEAwwGdGVzdGNhMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
-----END CERTIFICATE-----`;

function valid(extra: Record<string, string[]> = {}): string {
  const sections: Record<string, string[]> = {
    main: ['log_dir=log', 'admin_listen=127.0.0.1:0'],
    gateway: [
      'listen=127.0.0.1:0',
      'portal_url=https://auth.example.test/',
      'cookie_domain=example.test',
      `session_secret=${SECRET}`,
    ],
    ad_client: [
      'host=127.0.0.1',
      'auth_type=plain',
      'bind_dn=cn=svc,dc=example,dc=test',
      'service_account_password=svcpw',
      'search_dn=ou=people,dc=example,dc=test',
      'username_attribute=uid',
    ],
    service: ['ikey=DIXXXXXXXXXXXXXXXXXX', 'skey=' + 's'.repeat(40), 'api_host=localhost:8443'],
    'app:wiki': ['hosts=wiki.example.test', 'failmode=safe'],
    'app:hr': ['hosts=hr.example.test, hr2.example.test', 'paths=/, /admin', 'failmode=secure'],
    ...extra,
  };
  return Object.entries(sections)
    .map(([name, lines]) => `[${name}]\n${lines.join('\n')}\n`)
    .join('\n');
}

const parse = (text: string) =>
  parseGatewayConfig(text, { configDir: '/etc/airlock', readFile: () => CA });

describe('gateway.cfg', () => {
  it('reads a complete file into a frozen config', () => {
    const result = parse(valid());
    assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
    const { config } = result;
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.apps[0]));
    assert.equal(config.gateway.cookieName, '__Secure-airlock_session');
    assert.equal(config.gateway.cookieDomain, 'example.test');
    assert.equal(config.gateway.sessionIdleMs, 900_000);
    assert.equal(config.gateway.failmodeSessionLifetimeMs, 1_800_000);
    assert.deepEqual(
      config.apps.map((a) => [a.name, a.failmode, a.restriction, a.hosts, a.paths]),
      [
        ['wiki', 'safe', 'two_factor', ['wiki.example.test'], ['/']],
        ['hr', 'secure', 'two_factor', ['hr.example.test', 'hr2.example.test'], ['/', '/admin']],
      ],
    );
    assert.equal(config.service.apiHosts[0]?.apiAuthority, 'localhost:8443');
    assert.equal(config.directory.usernameAttribute, 'uid');
    assert.equal(config.directory.fetchGroups, true);
  });

  it('uses a __Host- cookie on the portal host when no cookie_domain is set', () => {
    const result = parse(
      valid({
        gateway: [
          'portal_url=https://auth.example.test/',
          `session_secret=${SECRET}`,
          'listen=127.0.0.1:0',
        ],
        'app:wiki': ['hosts=auth.example.test', 'paths=/wiki', 'failmode=safe'],
        'app:hr': ['hosts=auth.example.test', 'paths=/hr', 'failmode=secure'],
      }),
    );
    assert.ok(result.ok, result.ok ? '' : result.errors.join('\n'));
    assert.equal(result.config.gateway.cookieName, '__Host-airlock_session');
  });

  it('reports every error at once, each placed, with did-you-mean', () => {
    const text = valid({
      gateway: [
        'portal_url=http://auth.example.test/',
        'cookie_domain=example.test',
        'session_secret=short',
        'session_idle_secnds=60',
        'failmode_session_lifetime_seconds=999999',
      ],
      'app:wiki': ['hosts=wiki.other.test', 'failmode=open', 'restriction=2fa'],
      'app:hr': ['hosts=hr.example.test', 'failmode=secure'],
      'app:hr-copy': ['hosts=hr.example.test', 'failmode=secure'],
      servce: ['x=1'],
    });
    const result = parse(text);
    assert.equal(result.ok, false);
    const errors = result.ok ? [] : result.errors;
    const expect = [
      /unsupported section \[servce\]; did you mean \[service\]\?/,
      /\[gateway\] portal_url: must be https:\/\/ .*\(line \d+\)/,
      /\[gateway\] session_secret: must be at least 32 characters .*got 5/,
      /\[gateway\] session_idle_secnds: unknown key; did you mean session_idle_seconds\?/,
      /\[gateway\] failmode_session_lifetime_seconds: must be 60-86400, got 999999/,
      /\[app:wiki\] failmode: must be safe or secure, got "open"/,
      /\[app:wiki\] restriction: must be two_factor, one_factor, bypass or deny, got "2fa"/,
      /\[app:wiki\] hosts: wiki\.other\.test is not under cookie_domain example\.test/,
      /\[app:hr-copy\] paths: hr\.example\.test\/ is already claimed by \[app:hr\]/,
    ];
    for (const re of expect) {
      assert.ok(
        errors.some((e) => re.test(e)),
        `missing ${String(re)} in:\n${errors.join('\n')}`,
      );
    }
    assert.ok(!errors.join('\n').includes('short'), 'the secret never appears in a message');
  });

  it('requires every section and names what each is for', () => {
    const result = parse('[main]\n');
    assert.equal(result.ok, false);
    const errors = result.ok ? '' : result.errors.join('\n');
    for (const s of ['[gateway]', '[ad_client]', '[service]', '[app:NAME]']) {
      assert.ok(errors.includes(`no ${s} section`), errors);
    }
  });

  it('refuses an app host the __Host- cookie never reaches', () => {
    const result = parse(
      valid({
        gateway: ['portal_url=https://auth.example.test/', `session_secret=${SECRET}`],
      }),
    );
    assert.equal(result.ok, false);
    assert.match(
      result.ok ? '' : result.errors.join('\n'),
      /\[app:wiki\] hosts: wiki\.example\.test never sees the portal's __Host- cookie/,
    );
  });

  it('hints the section a misplaced key belongs in', () => {
    const result = parse(valid({ 'app:wiki': ['hosts=wiki.example.test', 'api_timeout=5'] }));
    assert.match(
      result.ok ? '' : result.errors.join('\n'),
      /\[app:wiki\] api_timeout: unknown key; it belongs in \[service\]/,
    );
  });

  it('reads trusted_proxies (addresses, CIDRs) and reports each bad entry; none by default', () => {
    const none = parse(valid());
    assert.ok(none.ok);
    assert.deepEqual(none.config.gateway.trustedProxies, []);
    const gateway = (extra: string) => ({
      gateway: [
        'listen=127.0.0.1:0',
        'portal_url=https://auth.example.test/',
        'cookie_domain=example.test',
        `session_secret=${SECRET}`,
        `trusted_proxies=${extra}`,
      ],
    });
    const some = parse(valid(gateway('127.0.0.1, 10.1.0.0/16, ::1')));
    assert.ok(some.ok, some.ok ? '' : some.errors.join('\n'));
    assert.deepEqual(
      some.config.gateway.trustedProxies.map((m) => m.text),
      ['127.0.0.1', '10.1.0.0/16', '::1'],
    );
    const bad = parse(valid(gateway('127.0.0.1, proxy.example.test, 10.0.0.0/33')));
    assert.ok(!bad.ok);
    assert.equal(
      bad.errors.filter((e) => /trusted_proxies/.test(e)).length,
      2,
      bad.errors.join('\n'),
    );
  });

  it('reads OpenID Connect clients and reports their errors with the others', () => {
    const result = parse(
      valid({
        'oidc_client:rp': [
          'client_secret=short',
          'redirect_uris=http://rp.example.test/cb',
          'failmode=open',
        ],
      }),
    );
    assert.equal(result.ok, false);
    const errors = result.ok ? '' : result.errors.join('\n');
    for (const re of [
      /no \[oidc\] section: \[oidc_client:…\] needs signing_key_files/,
      /\[oidc\] signing_key_files: required/,
      /\[oidc_client:rp\] client_secret: must be at least 32 characters/,
      /\[oidc_client:rp\] redirect_uris: "http:\/\/rp\.example\.test\/cb" must be https:\/\//,
      /\[oidc_client:rp\] failmode: must be safe or secure, got "open"/,
    ]) {
      assert.match(errors, re);
    }
    assert.ok(!errors.includes('short'));
  });
});
