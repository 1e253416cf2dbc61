// The Store contract: token buckets shared by the service nodes (run on both backends by
// store-contract.test.ts). The same cases run against the in-memory buckets of a single node
// (memory-rate-buckets.test.ts): both must behave alike.
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { FixedClock } from '../../runtime/clock.ts';
import type { RateBucketStore } from '../rate-bucket-store.ts';
import type { Store } from '../store.ts';
import type { ContractContext } from './harness.ts';

const budget = { ratePerSecond: 3 / 60, burst: 3 };

/** The rate bucket cases, for any RateBucketStore; `now` is the time the case starts at. */
export const RATE_BUCKET_CASES: ReadonlyArray<{
  name: string;
  run: (buckets: RateBucketStore, now: number) => Promise<void>;
}> = [
  {
    name: 'a bucket starts full, empties, and refills at its rate',
    run: async (buckets, now) => {
      const take = (atMs: number) => buckets.takeRateToken('oob:u-rb-1', atMs, budget);
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
      assert.deepEqual(await buckets.takeRateToken('oob:u-rb-2', now, budget), { ok: true });
      // Never more than the burst, however long the bucket rested.
      const later = now + 3_600_000;
      const takes = [];
      for (let i = 0; i < 4; i++) takes.push((await take(later)).ok);
      assert.deepEqual(takes, [true, true, true, false]);
    },
  },
  {
    name: 'concurrent takes never spend more than the bucket holds',
    run: async (buckets, now) => {
      const results = await Promise.all(
        Array.from({ length: 12 }, () =>
          buckets.takeRateToken('oob:u-rb-3', now, { ratePerSecond: 1 / 60, burst: 5 }),
        ),
      );
      assert.equal(results.filter((r) => r.ok).length, 5);
    },
  },
  {
    name: 'prune forgets buckets untouched since the given time',
    run: async (buckets, now) => {
      await buckets.takeRateToken('oob:u-rb-4', now - 7_200_000, budget);
      await buckets.takeRateToken('oob:u-rb-5', now, budget);
      assert.ok((await buckets.pruneRateBuckets(now - 3_600_000)) >= 1);
      // u-rb-5 was kept: its bucket still misses the token taken.
      const takes = [];
      for (let i = 0; i < 3; i++)
        takes.push((await buckets.takeRateToken('oob:u-rb-5', now, budget)).ok);
      assert.deepEqual(takes, [true, true, false]);
    },
  },
];

export function rateBucketsContract(c: ContractContext): void {
  const { contractTest } = c;
  let store: Store;
  let clock: FixedClock;
  before(() => {
    ({ store, clock } = c.opened());
  });

  void describe('rate buckets', () => {
    for (const { name, run } of RATE_BUCKET_CASES) {
      void contractTest(name, () => run(store, clock.nowMs()));
    }
  });
}
