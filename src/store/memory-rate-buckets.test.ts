// The in-memory out-of-band budget of a single node passes the store contract's rate bucket cases
// (contract/rate-buckets.contract.ts), and a service picks it only when no other node shares its
// database.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RATE_BUCKET_CASES } from './contract/rate-buckets.contract.ts';
import { loginBudgetStore, MemoryRateBuckets } from './memory-rate-buckets.ts';
import type { Store } from './store.ts';
import type { StoreSignals } from './store-signals.ts';

void describe('MemoryRateBuckets', () => {
  for (const { name, run } of RATE_BUCKET_CASES) {
    void test(name, () => run(new MemoryRateBuckets(), 1_700_000_000_000));
  }

  void test('prune forgets only untouched buckets and counts them', async () => {
    const buckets = new MemoryRateBuckets();
    const budget = { ratePerSecond: 1, burst: 2 };
    await buckets.takeRateToken('a', 1_000, budget);
    await buckets.takeRateToken('b', 5_000, budget);
    assert.equal(await buckets.pruneRateBuckets(5_000), 1);
    assert.equal(await buckets.pruneRateBuckets(5_000), 0);
  });
});

void describe('loginBudgetStore', () => {
  const storeWith = (shared: boolean) => ({ signals: { shared } as StoreSignals }) as Store;

  void test('keeps the database buckets when other nodes share the store', () => {
    const store = storeWith(true);
    assert.equal(loginBudgetStore(store), store);
  });

  void test('uses memory on a store no other node shares', () => {
    assert.ok(loginBudgetStore(storeWith(false)) instanceof MemoryRateBuckets);
  });
});
