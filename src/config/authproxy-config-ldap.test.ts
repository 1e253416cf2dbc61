// authproxy.cfg validation, part 3: [ldap_server_auto], its defaults, its TLS files and its errors.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULTS } from './authproxy-config.ts';
import {
  CA_PEM,
  LDAP_PASSWORD,
  SKEY,
  fakeReadFile,
  parseErrors,
  parseOk,
} from './test-support/authproxy-fixtures.ts';

const KEY_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const FILES = {
  '/etc/airlock/ldap-cert.pem': CA_PEM,
  '/etc/airlock/ldap-key.pem': KEY_PEM,
};
const OPTIONS = { configDir: '/etc/airlock', readFile: fakeReadFile(FILES) };

const AD = `[ad_client]
host=127.0.0.1
auth_type=plain
bind_dn=cn=svc,dc=example,dc=org
service_account_password=${LDAP_PASSWORD}
search_dn=ou=people,dc=example,dc=org
username_attribute=uid
`;

function ldapSection(extra = '', name = 'ldap_server_auto'): string {
  return `[${name}]
ikey=DIABCDEFGHIJKLMNOPQR
skey=${SKEY}
api_host=airlock.example.org
client=ad_client
failmode=safe
${extra}
`;
}

describe('parseAuthProxyConfig: [ldap_server_auto]', () => {
  it('reads a minimal section with Duo defaults (but failmode as given)', () => {
    const config = parseOk(`${AD}${ldapSection()}`, OPTIONS);
    const s = config.servers[0];
    assert.ok(s?.kind === 'ldap');
    assert.equal(s.section, 'ldap_server_auto');
    assert.equal(s.client.section, 'ad_client');
    assert.equal(s.port, 389);
    assert.equal(s.failmode, 'safe');
    assert.deepEqual(s.factors, ['auto']);
    assert.equal(s.allowConcat, true);
    assert.equal(s.delimiter, ',');
    assert.equal(s.exemptPrimaryBind, true);
    assert.equal(s.allowUnlimitedBinds, false);
    assert.equal(s.allowSearchesAfterBind, true);
    assert.equal(s.usernameAttribute, 'uid', "the [ad_client]'s username_attribute");
    assert.equal(s.networkTimeoutMs, DEFAULTS.ldap.networkTimeoutSeconds * 1000);
    assert.equal(s.idleTimeoutMs, 3_600_000);
    assert.equal(s.maxConnections, 1000);
    assert.equal(s.sslPort, undefined);
    assert.deepEqual(s.radiusClients, []);
    assert.ok(Object.isFrozen(s));
    // On every interface, with no client restriction and no TLS: two warnings.
    assert.ok(
      config.warnings.some((w) => w.startsWith('[ldap_server_auto] no ldap_client_ip_N: any host')),
      config.warnings.join('\n'),
    );
    assert.ok(
      config.warnings.some((w) => w.includes('passwords and codes cross the network in clear')),
    );
  });

  it('reads every key, numbered sections and the TLS files', () => {
    const config = parseOk(
      `${AD}${ldapSection(
        `port=1389
interface=127.0.0.1
factors=push,phone
allow_concat=false
delimiter=|
exempt_primary_bind=false
exempt_ou_1=ou=services,dc=example,dc=org
exempt_ou_2=ou=robots,dc=example,dc=org
exempt_username_1=monitor
username_attribute=cn
allow_unlimited_binds=true
allow_searches_after_bind=false
ldap_client_ip_1=10.0.0.0/8
ldap_client_ip_2=192.0.2.7
ssl_cert_path=ldap-cert.pem
ssl_key_path=ldap-key.pem
ssl_port=1636
network_timeout=30
idle_timeout=120
max_connections=50`,
        'ldap_server_auto2',
      )}`,
      OPTIONS,
    );
    const s = config.servers[0];
    assert.ok(s?.kind === 'ldap');
    assert.equal(s.section, 'ldap_server_auto2');
    assert.equal(s.port, 1389);
    assert.equal(s.bindAddress, '127.0.0.1');
    assert.deepEqual(s.factors, ['push', 'phone']);
    assert.equal(s.allowConcat, false);
    assert.equal(s.delimiter, '|');
    assert.equal(s.exemptPrimaryBind, false);
    assert.deepEqual(s.exemptOus, ['ou=services,dc=example,dc=org', 'ou=robots,dc=example,dc=org']);
    assert.deepEqual(s.exemptUsernames, ['monitor']);
    assert.equal(s.usernameAttribute, 'cn');
    assert.equal(s.allowUnlimitedBinds, true);
    assert.equal(s.allowSearchesAfterBind, false);
    assert.equal(s.ldapClients.length, 2);
    assert.equal(s.sslCertPath, '/etc/airlock/ldap-cert.pem');
    assert.equal(s.sslKeyPem, KEY_PEM);
    assert.equal(s.sslPort, 1636);
    assert.equal(s.networkTimeoutMs, 30_000);
    assert.equal(s.idleTimeoutMs, 120_000);
    assert.equal(s.maxConnections, 50);
    assert.ok(
      !config.warnings.some((w) => w.startsWith('[ldap_server_auto2]')),
      config.warnings.join('\n'),
    );
  });

  it('reports every error at once, each placed, with a did-you-mean', () => {
    const errors = parseErrors(
      `[radius_client]
host=10.0.0.1
secret=upstream-secret-long-enough
${ldapSection(`client=radius_client
factors=passcode
ldap_client_ip_1=not-an-ip
radius_ip_1=10.0.0.1
exempt_primry_bind=true
ssl_key_path=ldap-key.pem
username_attribute=bad attr`).replace('client=ad_client\n', '')}`,
      OPTIONS,
    );
    const text = errors.join('\n');
    assert.match(text, /\[ldap_server_auto\] client: \[radius_client\] is not an \[ad_client\]/);
    assert.match(
      text,
      /\[ldap_server_auto\] factors: "passcode" not allowed: choose from auto, push, phone/,
    );
    assert.match(text, /\[ldap_server_auto\] ldap_client_ip_1: /);
    assert.match(text, /\[ldap_server_auto\] radius_ip_1: unknown key/);
    assert.match(text, /exempt_primry_bind: unknown key; did you mean exempt_primary_bind\?/);
    assert.match(text, /ssl_cert_path: required with ssl_key_path/);
    assert.match(text, /username_attribute: not an attribute name/);
    assert.ok(errors.length >= 7, text);
    assert.ok(!text.includes(SKEY));
  });

  it('refuses an unreadable key file and a port already used by another section', () => {
    const errors = parseErrors(
      `${AD}${ldapSection('ssl_cert_path=ldap-cert.pem\nssl_key_path=missing.pem\nport=1812')}
[radius_server_auto]
ikey=DIABCDEFGHIJKLMNOPQR
skey=${SKEY}
api_host=airlock.example.org
client=ad_client
failmode=secure
radius_ip_1=10.0.0.0/8
radius_secret_1=radius-secret-long-enough
`,
      OPTIONS,
    );
    const text = errors.join('\n');
    assert.match(
      text,
      /ssl_key_path: cannot read a PEM private key from \/etc\/airlock\/missing.pem/,
    );
    assert.match(text, /port: 1812 on 0.0.0.0 is already used by \[ldap_server_auto\]/);
  });

  it('examples/authproxy-ldap.cfg has an LDAP server in front of its directory', () => {
    const examples = resolve(import.meta.dirname, '../../examples');
    const config = parseOk(readFileSync(join(examples, 'authproxy-ldap.cfg'), 'utf8'), {
      configDir: examples,
      readFile: () => CA_PEM,
    });
    const s = config.servers.find((x) => x.kind === 'ldap');
    assert.ok(s?.kind === 'ldap');
    assert.equal(s.port, 13890);
    assert.equal(s.exemptPrimaryBind, false);
    assert.deepEqual(s.exemptOus, ['ou=services,dc=example,dc=org']);
  });
});

describe('[ad_client] dn_cache_seconds', () => {
  const dnCacheMs = (line: string): number => {
    const client = parseOk(`${AD}${line}\n${ldapSection()}`, OPTIONS).clients.ad_client;
    assert.ok(client?.kind === 'ad');
    return client.dnCacheMs;
  };

  it('remembers a DN 600 s by default, as long as set, or not at all with 0', () => {
    assert.equal(dnCacheMs(''), 600_000);
    assert.equal(dnCacheMs('dn_cache_seconds=86400'), 86_400_000);
    assert.equal(dnCacheMs('dn_cache_seconds=0'), 0);
  });

  it('refuses a negative, too long or fractional time, placed', () => {
    for (const value of ['-1', '86401', '1.5']) {
      assert.deepEqual(
        parseErrors(`${AD}dn_cache_seconds=${value}\n${ldapSection()}`, OPTIONS).filter((e) =>
          e.includes('dn_cache_seconds'),
        ),
        [
          value === '1.5'
            ? `[ad_client] dn_cache_seconds: must be an integer, got "1.5" (line 8)`
            : `[ad_client] dn_cache_seconds: must be 0-86400, got ${value} (line 8)`,
        ],
      );
    }
  });
});
