// The Store contract: OTP tokens (run on both backends by store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { FixedClock } from '../../runtime/clock.ts';
import type { Store } from '../store.ts';
import { type RawSql, rejectsWith, totpToken, type ContractContext } from './harness.ts';

export function otpTokensContract(c: ContractContext): void {
  const { contractTest, createUser } = c;
  let store: Store;
  let raw: RawSql;
  let clock: FixedClock;
  before(() => {
    ({ store, raw, clock } = c.opened());
  });

  void describe('OTP tokens', () => {
    void contractTest(
      "addOtpToken returns the token with its secret in plaintext; listOtpTokens returns the user's tokens",
      async () => {
        await createUser('O1');
        const token = await store.addOtpToken(totpToken('T1', 'O1'));
        assert.deepEqual(token, {
          id: 'T1',
          userId: 'O1',
          type: 'totp',
          secret: 'JBSWY3DPEHPK3PXPT1',
          algorithm: 'SHA1',
          digits: 6,
          periodSeconds: 30,
          counter: 0,
          lastStep: null,
          name: 'phone',
          createdAtMs: clock.nowMs(),
        });
        const hotp = await store.addOtpToken({
          ...totpToken('T1h', 'O1'),
          type: 'hotp',
          counter: 5,
          name: null,
        });
        assert.deepEqual(await store.listOtpTokens('O1'), [token, hotp]);
        assert.deepEqual(await store.listOtpTokens('UNOPE'), []);
      },
    );

    void contractTest(
      'token secrets are sealed at rest: the raw row holds no plaintext',
      async () => {
        const rows = await raw.query(`SELECT * FROM otp_tokens WHERE id = 'T1'`);
        assert.equal(rows.length, 1);
        assert.ok(!JSON.stringify(rows).includes('JBSWY3DPEHPK3PXPT1'));
        assert.match(String(rows[0]?.secret_sealed), /^v2:/);
      },
    );

    void contractTest('addOtpToken for an unknown user is refused', async () => {
      await assert.rejects(
        store.addOtpToken(totpToken('TX', 'UNOPE')),
        rejectsWith('STORE_NOT_FOUND', /UNOPE/),
      );
    });

    void contractTest(
      'claimTotpStep accepts a step once, then refuses it and any earlier step',
      async () => {
        await createUser('O2');
        await store.addOtpToken(totpToken('T2', 'O2'));
        assert.equal(await store.claimTotpStep('T2', 1000), true);
        assert.equal(await store.claimTotpStep('T2', 1000), false);
        assert.equal(await store.claimTotpStep('T2', 999), false);
        assert.equal(await store.claimTotpStep('T2', 1001), true);
        assert.equal((await store.listOtpTokens('O2'))[0]?.lastStep, 1001);
        assert.equal(await store.claimTotpStep('TNOPE', 1), false);
      },
    );

    void contractTest('ten concurrent claims of one TOTP step: exactly one wins', async () => {
      await createUser('O3');
      await store.addOtpToken(totpToken('T3', 'O3'));
      const step = 56_666_666;
      const wins = await Promise.all(
        Array.from({ length: 10 }, () => store.claimTotpStep('T3', step)),
      );
      assert.equal(wins.filter(Boolean).length, 1);
    });

    void contractTest(
      'advanceHotpCounter moves the counter only from the expected value, once under concurrency',
      async () => {
        await createUser('O4');
        await store.addOtpToken({ ...totpToken('T4', 'O4'), type: 'hotp', counter: 10 });
        assert.equal(await store.advanceHotpCounter('T4', 9, 12), false);
        assert.equal(await store.advanceHotpCounter('T4', 10, 12), true);
        assert.equal(await store.advanceHotpCounter('T4', 10, 12), false);
        const wins = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.advanceHotpCounter('T4', 12, 13 + i)),
        );
        assert.equal(wins.filter(Boolean).length, 1);
        const counter = (await store.listOtpTokens('O4'))[0]?.counter;
        assert.equal(counter, 13 + wins.indexOf(true));
      },
    );
  });
}
