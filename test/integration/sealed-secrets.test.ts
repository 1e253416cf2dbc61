// Security finding 9 on the real service: someone who can write the database copies one row's
// sealed secret into another row. The Auth API and the Admin API deny (4xx) and log an error;
// they never accept the copied secret, and never answer 500 (failmode=safe lets a 500 through).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signedCall } from './admin-client.ts';
import { IT_BACKEND, startService, totpAt, type Harness } from './service-harness.ts';

let h: Harness;
before(async () => {
  h = await startService();
});
after(async () => {
  await h?.close();
});

/** Raw SQL: the `column` of row `to` gets the stored value of row `from`. */
async function copySealed(table: string, column: string, key: string, from: string, to: string) {
  const rows = await h.rawSql(`SELECT ${column} AS v FROM ${table} WHERE ${key} = '${from}'`);
  const value = String(rows[0]?.v);
  await h.rawSql(`UPDATE ${table} SET ${column} = '${value}' WHERE ${key} = '${to}'`);
}

const errorLogs = (pattern: RegExp) =>
  h.logs.filter((l) => l.level === 50 && pattern.test(String(l.msg)));

describe(`sealed secrets moved between rows, on ${IT_BACKEND}`, () => {
  for (const sig of [2, 5] as const) {
    it(`refuses application B signed with A's skey after A's sealed skey was copied into B (v${sig})`, async () => {
      const a = await h.createApp();
      const b = await h.createApp();
      await copySealed('applications', 'skey_sealed', 'id', a.id, b.id);
      const before = errorLogs(new RegExp(`skey_sealed of row ${b.id}`)).length;
      // The attack: B's ikey, signed with A's skey, which the attacker holds.
      const forged = await h.duo({ ...b, skey: a.skey }, sig)('POST', '/auth/v2/preauth', {
        username: 'anyone',
      });
      assert.equal(forged.stat, 'FAIL');
      assert.equal(forged.code, 40103);
      const genuine = await h.duo(b, sig)('GET', '/auth/v2/check');
      assert.equal(genuine.code, 40103, "B's own skey cannot be verified either");
      assert.equal(
        errorLogs(
          new RegExp(`application refused: cannot open applications\\.skey_sealed of row ${b.id}`),
        ).length,
        before + 2,
      );
      assert.equal((await h.duo(a, sig)('GET', '/auth/v2/check')).stat, 'OK');
    });
  }

  it("denies a user whose token holds another user's token secret, with 403 and an error log", async () => {
    const app = await h.createApp();
    const alice = await h.createUser('sealed-alice', { totp: true });
    const bob = await h.createUser('sealed-bob', { totp: true });
    const [aliceToken] = await h.store.listOtpTokens(alice.id);
    const [bobToken] = await h.store.listOtpTokens(bob.id);
    await copySealed('otp_tokens', 'secret_sealed', 'id', aliceToken!.id, bobToken!.id);
    const call = h.duo(app);
    // Alice, who knows her own TOTP secret, answers for Bob.
    for (const [path, params] of [
      ['/auth/v2/preauth', { username: 'sealed-bob' }],
      [
        '/auth/v2/auth',
        { username: 'sealed-bob', factor: 'passcode', passcode: totpAt(alice.totp!, h.clock) },
      ],
      ['/auth/v2/auth', { user_id: bob.id, factor: 'passcode', passcode: '123456' }],
    ] as const) {
      const res = await call('POST', path, params);
      assert.equal(res.stat, 'FAIL', `${path} ${JSON.stringify(res)}`);
      assert.equal(res.code, 40301);
    }
    assert.equal(
      errorLogs(
        new RegExp(`login refused: cannot open otp_tokens\\.secret_sealed of row ${bobToken!.id}`),
      ).length,
      3,
    );
    const alicePre = await call('POST', '/auth/v2/preauth', { username: 'sealed-alice' });
    assert.equal((alicePre.response as { result: string }).result, 'auth');
  });

  it('refuses an Admin API key whose sealed skey was copied from another key, with 401 40103', async () => {
    const keyA = { ikey: 'DASEALEDKEY000000001', skey: 'sealed-key-a-'.padEnd(40, 'a') };
    const keyB = { ikey: 'DASEALEDKEY000000002', skey: 'sealed-key-b-'.padEnd(40, 'b') };
    await h.store.createAdminApiKey({ ...keyA, name: 'a' });
    await h.store.createAdminApiKey({ ...keyB, name: 'b' });
    await copySealed('admin_api_keys', 'skey_sealed', 'ikey', keyA.ikey, keyB.ikey);
    const forged = await signedCall(
      h.service,
      h.clock,
      { ikey: keyB.ikey, skey: keyA.skey },
      'GET',
      '/admin/v1/users',
    );
    assert.equal(forged.status, 401);
    assert.equal(forged.body.code, 40103);
    assert.equal(
      errorLogs(
        /Admin API key refused: cannot open admin_api_keys\.skey_sealed of row DASEALEDKEY000000002/,
      ).length,
      1,
    );
    assert.equal(
      (await signedCall(h.service, h.clock, keyA, 'GET', '/admin/v1/users')).status,
      200,
    );
  });
});
