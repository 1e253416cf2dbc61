// Token-bucket rate limiting per key (an application, a failure source), driven by an injected clock.

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
}

export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxKeys: number;

  constructor(maxKeys = 100_000) {
    this.#maxKeys = maxKeys;
  }

  /** How many keys have a bucket now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token from `key`'s bucket at time `nowMs`. */
  take(key: string, nowMs: number, options: TokenBucketOptions): TakeResult {
    let bucket = this.#buckets.get(key);
    if (bucket) {
      // Map order is use order: the first key is the least recently used.
      this.#buckets.delete(key);
    } else {
      // Bounded memory, evicting the least recently used key only: clearing every bucket would
      // hand a fresh budget to whoever is being limited right now.
      if (this.#buckets.size >= this.#maxKeys) this.#evictLeastRecentlyUsed();
      bucket = { tokens: options.burst, updatedMs: nowMs };
    }
    this.#buckets.set(key, bucket);
    const elapsedSeconds = Math.max(0, nowMs - bucket.updatedMs) / 1000;
    bucket.tokens = Math.min(options.burst, bucket.tokens + elapsedSeconds * options.ratePerSecond);
    bucket.updatedMs = Math.max(bucket.updatedMs, nowMs);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / options.ratePerSecond));
    return { ok: false, retryAfterSeconds };
  }

  /** Gives back a token taken for an attempt that turned out not to count (never above burst). */
  refund(key: string, options: TokenBucketOptions): void {
    const bucket = this.#buckets.get(key);
    if (bucket) bucket.tokens = Math.min(options.burst, bucket.tokens + 1);
  }

  #evictLeastRecentlyUsed(): void {
    const oldest = this.#buckets.keys().next();
    if (!oldest.done) this.#buckets.delete(oldest.value);
  }
}
