// Token-bucket rate limiting per key (one bucket per application), driven by an injected clock.

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

  /** Takes one token from `key`'s bucket at time `nowMs`. */
  take(key: string, nowMs: number, options: TokenBucketOptions): TakeResult {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      // Bounded memory: the key space is applications, but never let it grow without limit.
      if (this.#buckets.size >= this.#maxKeys) this.#buckets.clear();
      bucket = { tokens: options.burst, updatedMs: nowMs };
      this.#buckets.set(key, bucket);
    }
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
}
