// The Store contract: sealed secrets are bound to their row (security finding 9), run on both
// backends by store-contract.test.ts. Someone who can write the database copies one row's sealed
// value into another row; reading that row must fail loudly, never yield the other row's secret.
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { Store } from '../store.ts';
import {
  type RawSql,
  rejectsWith,
  newApplication,
  totpToken,
  type ContractContext,
} from './harness.ts';

export function sealedSecretsContract(c: ContractContext): void {
  const { contractTest, createUser } = c;
  let store: Store;
  let raw: RawSql;
  before(() => {
    ({ store, raw } = c.opened());
  });

  /** Raw SQL: the `column` of row `to` gets the stored value of row `from`. */
  async function copySealed(table: string, column: string, key: string, from: string, to: string) {
    const rows = await raw.query(`SELECT ${column} AS v FROM ${table} WHERE ${key} = '${from}'`);
    const value = String(rows[0]?.v);
    assert.match(value, /^v2:[A-Za-z0-9+/]+=*$/);
    await raw.query(`UPDATE ${table} SET ${column} = '${value}' WHERE ${key} = '${to}'`);
  }

  void describe('sealed secrets are bound to their row', () => {
    void contractTest(
      "an application's skey copied into another application's row is refused, naming the row",
      async () => {
        const a = await store.createApplication(newApplication('sa'));
        const b = await store.createApplication(newApplication('sb'));
        await copySealed('applications', 'skey_sealed', 'id', a.id, b.id);
        const refused = rejectsWith(
          'STORE_SECRET_UNREADABLE',
          new RegExp(`applications\\.skey_sealed of row ${b.id}: authentication failed`),
        );
        await assert.rejects(store.getApplicationByIkey(b.ikey), refused);
        await assert.rejects(store.getApplication(b.id), refused);
        assert.equal((await store.getApplicationByIkey(a.ikey))?.skey, a.skey);
      },
    );

    void contractTest(
      "an OTP token's secret copied onto another user's token is refused, naming the token",
      async () => {
        await createUser('SS1');
        await createUser('SS2');
        await store.addOtpToken(totpToken('TSS1', 'SS1'));
        await store.addOtpToken(totpToken('TSS2', 'SS2'));
        await copySealed('otp_tokens', 'secret_sealed', 'id', 'TSS1', 'TSS2');
        const refused = rejectsWith(
          'STORE_SECRET_UNREADABLE',
          /otp_tokens\.secret_sealed of row TSS2: authentication failed/,
        );
        await assert.rejects(store.listOtpTokens('SS2'), refused);
        await assert.rejects(store.loadAuthSubject({ userId: 'SS2' }), refused);
        await assert.rejects(store.loadAuthSubject({ username: 'user-SS2' }), refused);
        const intact = await store.loadAuthSubject({ userId: 'SS1' });
        assert.equal(intact?.tokens[0]?.secret, 'JBSWY3DPEHPK3PXPTSS1');
      },
    );

    void contractTest(
      "an administrator's TOTP secret or an Admin API key's skey moved to another row is refused",
      async () => {
        for (const id of ['ADS1', 'ADS2']) {
          await store.createAdmin({
            id,
            username: `admin-${id}`,
            passwordHash: 'x',
            totpSecret: `JBSWY3DPEHPK3PXP${id}`,
          });
          await store.createAdminApiKey({ ikey: `DK${id}`, skey: `skey-${id}`, name: id });
        }
        await copySealed('admins', 'totp_secret_sealed', 'id', 'ADS1', 'ADS2');
        await assert.rejects(
          store.findAdmin('admin-ADS2'),
          rejectsWith('STORE_SECRET_UNREADABLE', /admins\.totp_secret_sealed of row ADS2/),
        );
        await copySealed('admin_api_keys', 'skey_sealed', 'ikey', 'DKADS1', 'DKADS2');
        await assert.rejects(
          store.getAdminApiKey('DKADS2'),
          rejectsWith('STORE_SECRET_UNREADABLE', /admin_api_keys\.skey_sealed of row DKADS2/),
        );
        assert.equal((await store.getAdminApiKey('DKADS1'))?.skey, 'skey-ADS1');
      },
    );

    void contractTest(
      'a v1 value (no row binding) written into a migrated database is refused',
      async () => {
        await store.createApplication(newApplication('sv1'));
        const id = newApplication('sv1').ikey;
        // Any well-formed v1 value: it is refused for its version, before any decryption.
        await raw.query(
          `UPDATE applications SET skey_sealed = 'v1:${Buffer.alloc(40, 1).toString('base64')}' WHERE id = '${id}'`,
        );
        await assert.rejects(
          store.getApplicationByIkey(id),
          rejectsWith(
            'STORE_SECRET_UNREADABLE',
            /of row DISV1X+: a v1 value, not bound to its row/,
          ),
        );
      },
    );
  });
}
