// The per-user out-of-band budget (rate-bucket-store.ts) in this process's memory, for a service
// whose database no other node shares (SQLite): the same buckets as the `rate_buckets` table
// without a database write per push, call or SMS. Nodes that share a database (PostgreSQL, whose
// signals reach the other nodes) keep the table: the budget must hold across them
// (docs/multi-node.md).
import { TokenBuckets, type TakeResult, type TokenBucketOptions } from '../core/token-bucket.ts';
import type { RateBucketStore } from './rate-bucket-store.ts';
import type { Store } from './store.ts';

export class MemoryRateBuckets implements RateBucketStore {
  readonly #buckets: TokenBuckets;

  constructor(maxKeys?: number) {
    this.#buckets = new TokenBuckets(maxKeys);
  }

  takeRateToken(key: string, nowMs: number, options: TokenBucketOptions): Promise<TakeResult> {
    return Promise.resolve(this.#buckets.take(key, nowMs, options));
  }

  pruneRateBuckets(beforeMs: number): Promise<number> {
    return Promise.resolve(this.#buckets.forgetUntouchedSince(beforeMs));
  }
}

/**
 * Where the out-of-band budgets of `store`'s service live: in the database when other nodes share
 * it (`store.signals.shared`), else in memory.
 */
export function loginBudgetStore(store: Store): RateBucketStore {
  return store.signals.shared ? store : new MemoryRateBuckets();
}
