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

  describe('bounded size', () => {
    it('keeps a throttled key throttled when the map fills past its bound', () => {
      const buckets = new TokenBuckets(4);
      for (let i = 0; i < 3; i++) buckets.take('victim', 0, options);
      assert.equal(buckets.take('victim', 0, options).ok, false);
      // An attacker cycles through many fresh keys, each one live (a token taken).
      for (let i = 0; i < 50; i++) buckets.take(`k${i}`, 0, options);
      assert.ok(buckets.size <= 4, `size ${buckets.size}`);
      assert.equal(buckets.take('victim', 0, options).ok, false);
    });

    it('makes room by dropping buckets that have refilled, never a live one', () => {
      const buckets = new TokenBuckets(3);
      buckets.take('old-1', 0, options);
      buckets.take('old-2', 0, options);
      for (let i = 0; i < 3; i++) buckets.take('live', 9_900, options);
      // At 10 s old-1 and old-2 are full again (nothing lost by forgetting them); live is not.
      assert.equal(buckets.take('new', 10_000, options).ok, true);
      assert.ok(buckets.size <= 3);
      assert.equal(buckets.take('live', 10_000, options).ok, false);
    });

    it('lets keys without room share one bucket rather than start fresh', () => {
      const buckets = new TokenBuckets(2);
      buckets.take('a', 0, options);
      buckets.take('b', 0, options);
      const results = Array.from({ length: 5 }, (_, i) => buckets.take(`x${i}`, 0, options).ok);
      // One burst for all of them together, not one each.
      assert.deepEqual(results, [true, true, true, false, false]);
      assert.ok(buckets.size <= 2);
    });
  });
});

describe('TokenBuckets eviction and refunds', () => {
  const options = { ratePerSecond: 1, burst: 2 };

  it('when full, keeps every live bucket: a new key is throttled with the overflow, never reset', () => {
    const buckets = new TokenBuckets(2);
    buckets.take('a', 0, options);
    buckets.take('a', 0, options);
    buckets.take('b', 0, options);
    assert.equal(buckets.take('a', 0, options).ok, false);
    buckets.take('c', 0, options);
    assert.equal(buckets.size, 2, 'c has no bucket of its own');
    assert.equal(buckets.take('a', 0, options).ok, false, "a's drained bucket survived");
    // 'b' kept its bucket (one token left): not a fresh budget.
    assert.equal(buckets.take('b', 0, options).ok, true);
    assert.equal(buckets.take('b', 0, options).ok, false);
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

  it('forgets a bucket refunded to full: takes that all come back leave no bucket behind', () => {
    const buckets = new TokenBuckets();
    buckets.take('a', 0, options);
    buckets.take('a', 0, options);
    buckets.refund('a', options);
    assert.equal(buckets.size, 1, 'one token still out');
    buckets.refund('a', options);
    assert.equal(buckets.size, 0);
    // The same as the forgotten bucket: full.
    assert.equal(buckets.take('a', 0, options).ok, true);
    assert.equal(buckets.take('a', 0, options).ok, true);
    assert.equal(buckets.take('a', 0, options).ok, false);
  });
});
