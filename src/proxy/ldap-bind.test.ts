// The LDAP proxy's exempt_ou_N rule: a DN is under a base RDN by RDN, never by a text suffix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDnUnder } from './ldap-bind.ts';

describe('isDnUnder (exempt_ou_N)', () => {
  const base = 'ou=services,dc=example,dc=org';
  const cases: Array<[string, boolean]> = [
    ['ou=services,dc=example,dc=org', true],
    ['cn=gitlab,ou=services,dc=example,dc=org', true],
    ['CN=GitLab, OU=Services, DC=Example, DC=Org', true],
    ['cn=a,ou=team,ou=services,dc=example,dc=org', true],
    ['uid=alice,ou=people,dc=example,dc=org', false],
    ['dc=example,dc=org', false],
    // An escaped comma is part of a value: this entry is directly under dc=example,dc=org.
    ['uid=alice\\,ou=services,dc=example,dc=org', false],
    ['cn=x,ou=services,dc=example,dc=org,dc=evil', false],
    ['', false],
  ];
  for (const [dn, expected] of cases) {
    it(`${expected ? 'exempts' : 'does not exempt'} ${JSON.stringify(dn)}`, () => {
      assert.equal(isDnUnder(dn, base), expected);
    });
  }
});
