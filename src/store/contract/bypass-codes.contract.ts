// The Store contract: bypass codes (run on both backends by store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { FixedClock } from '../../runtime/clock.ts';
import type { Store } from '../store.ts';
import { START_MS, rejectsWith, type ContractContext } from './harness.ts';

export function bypassCodesContract(c: ContractContext): void {
  const { contractTest, createUser } = c;
  let store: Store;
  let clock: FixedClock;
  before(() => {
    ({ store, clock } = c.opened());
  });

  void describe('bypass codes', () => {
    void contractTest(
      'replaceBypassCodes replaces every code of the user and returns the new ones',
      async () => {
        await createUser('B1');
        const first = await store.replaceBypassCodes('B1', [
          { id: 'BC1', codeHash: 'hash1', remainingUses: 1, expiresAtMs: null },
          { id: 'BC2', codeHash: 'hash2', remainingUses: null, expiresAtMs: START_MS + 60_000 },
        ]);
        assert.deepEqual(first, [
          {
            id: 'BC1',
            userId: 'B1',
            codeHash: 'hash1',
            remainingUses: 1,
            expiresAtMs: null,
            createdAtMs: clock.nowMs(),
          },
          {
            id: 'BC2',
            userId: 'B1',
            codeHash: 'hash2',
            remainingUses: null,
            expiresAtMs: START_MS + 60_000,
            createdAtMs: clock.nowMs(),
          },
        ]);
        assert.deepEqual(await store.listBypassCodes('B1'), first);
        const second = await store.replaceBypassCodes('B1', [
          { id: 'BC3', codeHash: 'hash3', remainingUses: 2, expiresAtMs: null },
        ]);
        assert.deepEqual(await store.listBypassCodes('B1'), second);
        assert.deepEqual(await store.replaceBypassCodes('B1', []), []);
        assert.deepEqual(await store.listBypassCodes('B1'), []);
        await assert.rejects(
          store.replaceBypassCodes('UNOPE', []),
          rejectsWith('STORE_NOT_FOUND', /UNOPE/),
        );
      },
    );

    void contractTest('consumeBypassCode uses a counted code up and then removes it', async () => {
      await createUser('B2');
      await store.replaceBypassCodes('B2', [
        { id: 'BC4', codeHash: 'h', remainingUses: 2, expiresAtMs: null },
      ]);
      assert.equal(await store.consumeBypassCode('BC4', START_MS), true);
      assert.equal((await store.listBypassCodes('B2'))[0]?.remainingUses, 1);
      assert.equal(await store.consumeBypassCode('BC4', START_MS), true);
      assert.deepEqual(await store.listBypassCodes('B2'), []);
      assert.equal(await store.consumeBypassCode('BC4', START_MS), false);
      assert.equal(await store.consumeBypassCode('BCNOPE', START_MS), false);
    });

    void contractTest(
      'an unlimited code works until it expires, and not at its expiry instant',
      async () => {
        await createUser('B3');
        const expiresAtMs = START_MS + 1000;
        await store.replaceBypassCodes('B3', [
          { id: 'BC5', codeHash: 'h', remainingUses: null, expiresAtMs },
        ]);
        for (let i = 0; i < 3; i++)
          assert.equal(await store.consumeBypassCode('BC5', expiresAtMs - 1), true);
        assert.equal((await store.listBypassCodes('B3'))[0]?.remainingUses, null);
        assert.equal(await store.consumeBypassCode('BC5', expiresAtMs), false);
        assert.equal(await store.consumeBypassCode('BC5', expiresAtMs + 1), false);
      },
    );

    void contractTest('an expired counted code is refused and keeps its uses', async () => {
      await createUser('B4');
      await store.replaceBypassCodes('B4', [
        { id: 'BC6', codeHash: 'h', remainingUses: 3, expiresAtMs: START_MS },
      ]);
      assert.equal(await store.consumeBypassCode('BC6', START_MS + 1), false);
      assert.equal((await store.listBypassCodes('B4'))[0]?.remainingUses, 3);
    });

    void contractTest('concurrent uses of a 3-use code: exactly three succeed', async () => {
      await createUser('B5');
      await store.replaceBypassCodes('B5', [
        { id: 'BC7', codeHash: 'h', remainingUses: 3, expiresAtMs: null },
      ]);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => store.consumeBypassCode('BC7', START_MS)),
      );
      assert.equal(results.filter(Boolean).length, 3);
      assert.deepEqual(await store.listBypassCodes('B5'), []);
    });
  });
}
