// The Store contract: token buckets shared by the service nodes (run on both backends by
// store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { FixedClock } from '../../runtime/clock.ts';
import type { Store } from '../store.ts';
import type { ContractContext } from './harness.ts';

export function rateBucketsContract(c: ContractContext): void {
  const { contractTest } = c;
  let store: Store;
  let clock: FixedClock;
  before(() => {
    ({ store, clock } = c.opened());
  });
  const budget = { ratePerSecond: 3 / 60, burst: 3 };

  void describe('rate buckets', () => {
    void contractTest('a bucket starts full, empties, and refills at its rate', async () => {
      const now = clock.nowMs();
      const take = (atMs: number) => store.takeRateToken('oob:u-rb-1', atMs, budget);
      assert.deepEqual(
        [await take(now), await take(now), await take(now)],
        [{ ok: true }, { ok: true }, { ok: true }],
      );
      assert.deepEqual(await take(now), { ok: false, retryAfterSeconds: 20 });
      // 10 s later half a token has come back: 10 s more to wait.
      assert.deepEqual(await take(now + 10_000), { ok: false, retryAfterSeconds: 10 });
      assert.deepEqual(await take(now + 20_000), { ok: true });
      assert.deepEqual((await take(now + 20_000)).ok, false);
      // Another key has a bucket of its own.
      assert.deepEqual(await store.takeRateToken('oob:u-rb-2', now, budget), { ok: true });
      // Never more than the burst, however long the bucket rested.
      const later = now + 3_600_000;
      const takes = [];
      for (let i = 0; i < 4; i++) takes.push((await take(later)).ok);
      assert.deepEqual(takes, [true, true, true, false]);
    });

    void contractTest('concurrent takes never spend more than the bucket holds', async () => {
      const now = clock.nowMs();
      const results = await Promise.all(
        Array.from({ length: 12 }, () =>
          store.takeRateToken('oob:u-rb-3', now, { ratePerSecond: 1 / 60, burst: 5 }),
        ),
      );
      assert.equal(results.filter((r) => r.ok).length, 5);
    });

    void contractTest('prune forgets buckets untouched since the given time', async () => {
      const now = clock.nowMs();
      await store.takeRateToken('oob:u-rb-4', now - 7_200_000, budget);
      await store.takeRateToken('oob:u-rb-5', now, budget);
      assert.ok((await store.pruneRateBuckets(now - 3_600_000)) >= 1);
      // u-rb-5 was kept: its bucket still misses the token taken.
      const takes = [];
      for (let i = 0; i < 3; i++)
        takes.push((await store.takeRateToken('oob:u-rb-5', now, budget)).ok);
      assert.deepEqual(takes, [true, true, false]);
    });
  });
}
