// Token buckets in the database, for budgets that must hold across service nodes (migration
// 0013; docs/multi-node.md): the per-user budget of pushes, calls and SMS. The same arithmetic
// as core/token-bucket.ts, done by one conditional write, so concurrent takes on several nodes
// never spend more than the bucket holds.
import type { TakeResult, TokenBucketOptions } from '../core/token-bucket.ts';

export interface RateBucketStore {
  /** Takes one token from `key`'s bucket at `nowMs` (a new bucket starts full). */
  takeRateToken(key: string, nowMs: number, options: TokenBucketOptions): Promise<TakeResult>;
  /**
   * Forgets buckets untouched since `beforeMs`. Only buckets that have refilled by then may go
   * (a full bucket and no bucket are the same): give a time at least burst / rate ago.
   */
  pruneRateBuckets(beforeMs: number): Promise<number>;
}
