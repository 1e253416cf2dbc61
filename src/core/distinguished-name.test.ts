import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDn, normalizeDn, splitDn } from './distinguished-name.ts';

describe('distinguished names', () => {
  it('splits at unescaped commas only', () => {
    assert.deepEqual(splitDn('cn=Smith\\, J,ou=people'), ['cn=Smith\\, J', 'ou=people']);
  });

  it('normalizes case and the spaces around separators', () => {
    assert.equal(
      normalizeDn(' CN=VPN Users , OU = Groups,DC=Example,DC=org'),
      'cn=vpn users,ou=groups,dc=example,dc=org',
    );
  });

  it('accepts type=value RDNs and refuses names and empty parts', () => {
    assert.ok(isDn('cn=contractors,ou=groups,dc=example,dc=org'));
    assert.ok(isDn('CN=Temps, OU=Groups, DC=example, DC=org'));
    for (const bad of ['contractors', 'cn=', 'cn=a,,dc=b', '=x', 'cn=a,'])
      assert.equal(isDn(bad), false, bad);
  });
});
