// Token-bucket rate limiting per key (one bucket per application, per console login name and
// address, …), driven by an injected clock. The map is bounded without ever resetting a limit:
// only buckets that have refilled completely are forgotten (forgetting them changes nothing), and
// when every bucket is still live, new keys share one overflow bucket instead of starting fresh.

export interface TokenBucketOptions {
  /** Sustained rate: tokens added per second. */
  ratePerSecond: number;
  /** Bucket size: how many requests may arrive at once after a quiet period. */
  burst: number;
}

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedMs: number;
  /** The options of the last take: what "refilled completely" means for this bucket. */
  ratePerSecond: number;
  burst: number;
}

/** At most one sweep for refilled buckets per this much clock time (a sweep reads every bucket). */
const SWEEP_INTERVAL_MS = 1_000;

export class TokenBuckets {
  /** In order of last use, least recently used first. */
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxKeys: number;
  /** Shared by the keys that found no room; undefined until the map is first full of live buckets. */
  #overflow: Bucket | undefined;
  #nextSweepMs = Number.NEGATIVE_INFINITY;

  constructor(maxKeys = 100_000) {
    this.#maxKeys = maxKeys;
  }

  /** How many keys have a bucket of their own. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token from `key`'s bucket at time `nowMs`. */
  take(key: string, nowMs: number, options: TokenBucketOptions): TakeResult {
    const bucket = this.#bucketFor(key, nowMs, options);
    const elapsedSeconds = Math.max(0, nowMs - bucket.updatedMs) / 1000;
    bucket.tokens = Math.min(options.burst, bucket.tokens + elapsedSeconds * options.ratePerSecond);
    bucket.updatedMs = Math.max(bucket.updatedMs, nowMs);
    bucket.ratePerSecond = options.ratePerSecond;
    bucket.burst = options.burst;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / options.ratePerSecond));
    return { ok: false, retryAfterSeconds };
  }

  /**
   * Gives back a token taken for an attempt that turned out not to count (never above burst). A
   * bucket full again is forgotten (a new one would be the same), so keys that only ever get
   * their tokens back — every successful login's budgets — leave the map as small as they found it.
   */
  refund(key: string, options: TokenBucketOptions): void {
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return;
    bucket.tokens = Math.min(options.burst, bucket.tokens + 1);
    if (bucket.tokens >= options.burst) this.#buckets.delete(key);
  }

  /**
   * Forgets the buckets untouched since `beforeMs` and says how many went. Only buckets that have
   * refilled by then should go (a full bucket and no bucket are the same): give a time at least
   * burst / rate ago.
   */
  forgetUntouchedSince(beforeMs: number): number {
    let forgotten = 0;
    for (const [key, b] of this.#buckets) {
      if (b.updatedMs >= beforeMs) continue;
      this.#buckets.delete(key);
      forgotten += 1;
    }
    return forgotten;
  }

  #bucketFor(key: string, nowMs: number, options: TokenBucketOptions): Bucket {
    const existing = this.#buckets.get(key);
    if (existing) {
      // Most recently used goes last.
      this.#buckets.delete(key);
      this.#buckets.set(key, existing);
      return existing;
    }
    if (this.#buckets.size >= this.#maxKeys && nowMs >= this.#nextSweepMs) {
      this.#forgetRefilled(nowMs);
      this.#nextSweepMs = nowMs + SWEEP_INTERVAL_MS;
    }
    const fresh = { tokens: options.burst, updatedMs: nowMs, ...options };
    if (this.#buckets.size < this.#maxKeys) {
      this.#buckets.set(key, fresh);
      return fresh;
    }
    // No room without resetting a live limit: share one bucket (stricter, never looser).
    this.#overflow ??= fresh;
    return this.#overflow;
  }

  /** Drops the buckets that are full again at `nowMs`: a new bucket would be the same. */
  #forgetRefilled(nowMs: number): void {
    for (const [key, b] of this.#buckets) {
      const elapsedSeconds = Math.max(0, nowMs - b.updatedMs) / 1000;
      if (b.tokens + elapsedSeconds * b.ratePerSecond >= b.burst) this.#buckets.delete(key);
    }
  }
}
