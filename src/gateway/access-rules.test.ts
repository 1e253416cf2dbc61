import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GatewayAppConfig } from '../config/gateway-config-model.ts';
import {
  SECOND_FACTOR_KINDS,
  groupNames,
  matchApp,
  sessionOpensApp,
  validateReturnUrl,
  type SecondFactorKind,
} from './access-rules.ts';

const app = (over: Partial<GatewayAppConfig>): GatewayAppConfig => ({
  name: 'x',
  section: 'app:x',
  hosts: ['app.example.test'],
  paths: ['/'],
  restriction: 'two_factor',
  failmode: 'secure',
  failmodeExplicit: true,
  ...over,
});

const wiki = app({ name: 'wiki', hosts: ['wiki.example.test'], failmode: 'safe' });
const hr = app({ name: 'hr', hosts: ['hr.example.test'] });
const hrAdmin = app({ name: 'hr-admin', hosts: ['hr.example.test'], paths: ['/admin'] });
const apps = [wiki, hr, hrAdmin];
const portal = new URL('https://auth.example.test/');

describe('access rules', () => {
  it('matches host (any case, any port) and the longest path prefix on a segment boundary', () => {
    assert.equal(matchApp(apps, 'WIKI.example.test:8443', '/a'), wiki);
    assert.equal(matchApp(apps, 'hr.example.test', '/admin'), hrAdmin);
    assert.equal(matchApp(apps, 'hr.example.test', '/admin/users?x=1'), hrAdmin);
    assert.equal(matchApp(apps, 'hr.example.test', '/administrator'), hr);
    assert.equal(matchApp(apps, 'other.example.test', '/'), undefined);
  });

  it('decides which sessions open which restriction, over the whole table', () => {
    const table: Array<[GatewayAppConfig, SecondFactorKind | undefined, boolean]> = [];
    for (const restriction of ['two_factor', 'one_factor', 'bypass', 'deny'] as const) {
      for (const failmode of ['safe', 'secure'] as const) {
        for (const kind of [undefined, ...SECOND_FACTOR_KINDS]) {
          const a = app({ restriction, failmode });
          const expected =
            restriction === 'bypass' ||
            (restriction === 'one_factor' && kind !== undefined) ||
            (restriction === 'two_factor' &&
              (kind === 'otp' ||
                kind === 'push' ||
                kind === 'phone' ||
                kind === 'bypass' ||
                (kind === 'skipped-failmode' && failmode === 'safe')));
          table.push([a, kind, expected]);
        }
      }
    }
    for (const [a, kind, expected] of table) {
      const session = kind === undefined ? undefined : { secondFactor: kind };
      assert.equal(sessionOpensApp(a, session), expected, `${a.restriction}/${a.failmode}/${kind}`);
    }
  });

  it('accepts return addresses on configured hosts only (no open redirect)', () => {
    assert.equal(
      validateReturnUrl('https://wiki.example.test:8443/page?a=1', apps, portal)?.href,
      'https://wiki.example.test:8443/page?a=1',
    );
    assert.ok(validateReturnUrl('https://auth.example.test/x', apps, portal));
    for (const bad of [
      'https://evil.example/',
      'https://wiki.example.test.evil.example/',
      'https://evil.example/?https://wiki.example.test/',
      'https://wiki.example.test@evil.example/',
      'https://user:pw@wiki.example.test/',
      '//evil.example/',
      '/relative',
      'http://wiki.example.test/',
      'javascript:alert(1)//wiki.example.test',
      'https://evil.example\\@wiki.example.test/',
      'https:\\\\evil.example',
      'https://wiki.example.test\t.evil.example/',
      ' https://wiki.example.test/',
      '',
      undefined,
    ]) {
      assert.equal(validateReturnUrl(bad, apps, portal), undefined, String(bad));
    }
  });

  it('names groups by their first RDN value', () => {
    assert.deepEqual(
      groupNames(['cn=vpn-users,ou=groups,dc=example,dc=org', 'CN=A\\, B,OU=x', 'cn=ok']),
      ['vpn-users', 'ok'],
    );
  });
});
