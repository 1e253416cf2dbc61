import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBuckets } from './token-bucket.ts';

describe('TokenBuckets', () => {
  const options = { ratePerSecond: 2, burst: 3 };

  it('allows a burst, then refuses with a Retry-After, then refills with time', () => {
    const buckets = new TokenBuckets();
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) assert.deepEqual(buckets.take('app', t0, options), { ok: true });
    assert.deepEqual(buckets.take('app', t0, options), { ok: false, retryAfterSeconds: 1 });
    assert.deepEqual(buckets.take('app', t0 + 499, options).ok, false);
    assert.deepEqual(buckets.take('app', t0 + 1000, options), { ok: true });
  });

  it('keeps one bucket per key', () => {
    const buckets = new TokenBuckets();
    for (let i = 0; i < 3; i++) buckets.take('a', 0, options);
    assert.equal(buckets.take('a', 0, options).ok, false);
    assert.equal(buckets.take('b', 0, options).ok, true);
  });

  it('does not refill when the clock goes backwards', () => {
    const buckets = new TokenBuckets();
    for (let i = 0; i < 3; i++) buckets.take('a', 10_000, options);
    assert.equal(buckets.take('a', 5_000, options).ok, false);
  });
});

describe('TokenBuckets eviction and refunds', () => {
  const options = { ratePerSecond: 1, burst: 2 };

  it('evicts the least recently used key when full, never the live ones used since', () => {
    const buckets = new TokenBuckets(2);
    buckets.take('a', 0, options);
    buckets.take('a', 0, options);
    buckets.take('b', 0, options);
    // 'a' is used again (refused), so 'b' is now the least recently used.
    assert.equal(buckets.take('a', 0, options).ok, false);
    buckets.take('c', 0, options);
    assert.equal(buckets.size, 2);
    assert.equal(buckets.take('a', 0, options).ok, false, "a's drained bucket survived");
    // 'b' was evicted: it starts full again.
    assert.equal(buckets.take('b', 0, options).ok, true);
    assert.equal(buckets.take('b', 0, options).ok, true);
  });

  it('never clears every bucket when a new key arrives at the limit', () => {
    const buckets = new TokenBuckets(3);
    for (const key of ['a', 'b', 'c']) {
      buckets.take(key, 0, options);
      buckets.take(key, 0, options);
    }
    buckets.take('d', 0, options);
    assert.equal(buckets.take('b', 0, options).ok, false);
    assert.equal(buckets.take('c', 0, options).ok, false);
  });

  it('gives a token back with refund, never above the burst', () => {
    const buckets = new TokenBuckets();
    buckets.take('a', 0, options);
    buckets.take('a', 0, options);
    buckets.refund('a', options);
    assert.equal(buckets.take('a', 0, options).ok, true);
    assert.equal(buckets.take('a', 0, options).ok, false);
    buckets.refund('a', options);
    buckets.refund('a', options);
    buckets.refund('a', options);
    assert.equal(buckets.take('a', 0, options).ok, true);
    assert.equal(buckets.take('a', 0, options).ok, true);
    assert.equal(buckets.take('a', 0, options).ok, false);
    buckets.refund('unknown', options);
    assert.equal(buckets.size, 1, 'a refund for an unknown key makes no bucket');
  });
});
