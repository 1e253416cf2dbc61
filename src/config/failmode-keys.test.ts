// Per-group failmode and fail-open attribute keys: the parsers and their place in authproxy.cfg.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAuthProxyConfig, type AuthProxyConfig } from './authproxy-config.ts';
import { parseDnList, parseFailOpenAttributes, splitSemicolonList } from './failmode-keys.ts';

const AD = `[ad_client]
host=127.0.0.1
transport=clear
auth_type=plain
bind_dn=cn=airlock,ou=services,dc=example,dc=org
service_account_password=ldap-bind-password
search_dn=ou=people,dc=example,dc=org
`;
const RADIUS = `[radius_client]
host=10.9.0.1
secret=upstream-radius-secret-long
`;

function server(
  failmode: string,
  extra: string,
  client = 'ad_client',
  name = 'radius_server_auto',
): string {
  return `[${name}]
ikey=DIABCDEFGHIJKLMNOPQR
skey=SKEYsecretSKEYsecretSKEYsecretSKEYsecre
api_host=airlock.example.org
client=${client}
failmode=${failmode}
radius_ip_1=10.0.0.0/8
radius_secret_1=radius-secret-long-enough
${extra}
`;
}

const OPTIONS = { configDir: '/etc/airlock', readFile: () => '' };

function parseOk(text: string): AuthProxyConfig {
  const r = parseAuthProxyConfig(text, OPTIONS);
  if (!r.ok) assert.fail(`expected no errors, got:\n${r.errors.join('\n')}`);
  return r.config;
}

function parseErrors(text: string): readonly string[] {
  const r = parseAuthProxyConfig(text, OPTIONS);
  if (r.ok) assert.fail('expected errors, got a config');
  return r.errors;
}

const CONTRACTORS = 'cn=contractors,ou=groups,dc=example,dc=org';
const VPN = 'cn=vpn-users,ou=groups,dc=example,dc=org';

describe('failmode_secure_groups and failmode_safe_groups', () => {
  it('reads ;-separated group DNs in a failmode=safe section, and makes the ad_client read groups', () => {
    const config = parseOk(
      `${AD}${server('safe', `failmode_secure_groups = ${CONTRACTORS} ; CN=Temps, OU=Groups, DC=example, DC=org`)}`,
    );
    const s = config.servers[0]!;
    assert.deepEqual(s.failmodeSecureGroups, [
      CONTRACTORS,
      'CN=Temps, OU=Groups, DC=example, DC=org',
    ]);
    assert.deepEqual(s.failmodeSafeGroups, []);
    const c = config.clients.ad_client;
    assert.ok(c?.kind === 'ad');
    assert.equal(c.fetchGroups, true);
  });

  it('reads failmode_safe_groups in a failmode=secure section', () => {
    const s = parseOk(`${AD}${server('secure', `failmode_safe_groups=${VPN}`)}`).servers[0]!;
    assert.deepEqual(s.failmodeSafeGroups, [VPN]);
    assert.deepEqual(s.failmodeSecureGroups, []);
  });

  it('does not make the ad_client read groups when no section uses failmode groups', () => {
    const config = parseOk(`${AD}${server('safe', '')}`);
    const c = config.clients.ad_client;
    assert.ok(c?.kind === 'ad');
    assert.equal(c.fetchGroups, false);
    assert.deepEqual(config.servers[0]?.failOpenAttributes, []);
  });

  it('refuses a group key that has no effect in the section failmode', () => {
    assert.deepEqual(
      parseErrors(`${AD}${server('secure', `failmode_secure_groups=${CONTRACTORS}`)}`),
      [
        '[radius_server_auto] failmode_secure_groups: has no effect with failmode=secure: every user already fails secure; it belongs in a failmode=safe section (line 16)',
      ],
    );
    assert.deepEqual(parseErrors(`${AD}${server('safe', `failmode_safe_groups=${VPN}`)}`), [
      '[radius_server_auto] failmode_safe_groups: has no effect with failmode=safe: every user already fails safe; it belongs in a failmode=secure section (line 16)',
    ]);
  });

  it('refuses group keys with a primary that gives no groups', () => {
    assert.deepEqual(
      parseErrors(
        `${RADIUS}${server('safe', `failmode_secure_groups=${CONTRACTORS}`, 'radius_client')}`,
      ),
      [
        '[radius_server_auto] failmode_secure_groups: has no effect: [radius_client] gives no directory groups; only an [ad_client] primary does (line 12)',
      ],
    );
    assert.match(
      parseErrors(
        `[duo_only_client]\n${server('secure', `failmode_safe_groups=${VPN}`, 'duo_only_client')}`,
      )[0]!,
      /\[duo_only_client\] gives no directory groups/,
    );
  });

  it('refuses a value that is not a DN, and a DN listed twice', () => {
    assert.deepEqual(
      parseErrors(
        `${AD}${server('safe', `failmode_secure_groups=contractors; ${CONTRACTORS};CN=Contractors, ou=groups,dc=example,dc=org`)}`,
      ),
      [
        '[radius_server_auto] failmode_secure_groups: "contractors" is not a DN (cn=group,ou=groups,dc=example,dc=org); separate DNs with ";" (line 16)',
        '[radius_server_auto] failmode_secure_groups: lists "CN=Contractors, ou=groups,dc=example,dc=org" twice (line 16)',
      ],
    );
  });
});

describe('fail_open_attributes', () => {
  it('reads Name=value pairs into wire values by the dictionary type', () => {
    const s = parseOk(
      `${AD}${server('safe', 'fail_open_attributes = Class=restricted; filter-id=no-2fa; Session-Timeout=3600; Framed-IP-Address=10.1.2.3; Class=0xC0FFEE')}`,
    ).servers[0]!;
    assert.deepEqual(
      s.failOpenAttributes.map((a) => [a.name, a.type, a.valueHex]),
      [
        ['Class', 25, Buffer.from('restricted').toString('hex')],
        ['Filter-Id', 11, Buffer.from('no-2fa').toString('hex')],
        ['Session-Timeout', 27, '00000e10'],
        ['Framed-IP-Address', 8, '0a010203'],
        ['Class', 25, 'c0ffee'],
      ],
    );
  });

  it('is allowed in a secure section too (exempt users, failmode_safe_groups, preauth allow)', () => {
    parseOk(
      `[duo_only_client]\n${server('secure', 'fail_open_attributes=Filter-Id=no-2fa', 'duo_only_client')}`,
    );
  });

  it('reports every bad pair', () => {
    const errors = parseErrors(
      `${AD}${server('safe', 'fail_open_attributes=Klass=x; Filter-Id; Session-Timeout=1h; Framed-IP-Address=10.1.2; State=abc; Class=0xZZ; Reply-Message=hi; Idle-Timeout=')}`,
    );
    assert.deepEqual(
      errors.map((e) =>
        e.replace('[radius_server_auto] fail_open_attributes: ', '').replace(' (line 16)', ''),
      ),
      [
        '"Klass" is not a RADIUS attribute Airlock knows',
        '"Filter-Id" must be Name=value (Filter-Id=no-2fa)',
        'Session-Timeout: must be a decimal integer, got "1h"',
        'Framed-IP-Address: must be an IPv4 address, got "10.1.2"',
        'State cannot be configured: the proxy or the NAS sets it',
        'Class: must be 0x followed by pairs of hex digits, got "0xZZ"',
        'Reply-Message cannot be configured: the proxy or the NAS sets it',
        'Idle-Timeout needs a value',
      ],
    );
  });

  it('refuses a value longer than 253 octets', () => {
    const { errors } = parseFailOpenAttributes(`Filter-Id=${'x'.repeat(254)}`);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /longer than 253/);
  });

  it('keeps an escaped ; inside a value', () => {
    const { attributes } = parseFailOpenAttributes('Filter-Id=a\\;b');
    assert.equal(Buffer.from(attributes[0]!.valueHex, 'hex').toString(), 'a;b');
  });
});

describe('splitSemicolonList and parseDnList', () => {
  it('splits at unescaped semicolons only, trimming and dropping empty items', () => {
    assert.deepEqual(splitSemicolonList(' a=1,b=2 ;; c=x\\;y ; '), ['a=1,b=2', 'c=x\\;y']);
  });

  it('asks for at least one DN', () => {
    assert.deepEqual(parseDnList(' ; ').errors, ['must list at least one group DN']);
  });
});
