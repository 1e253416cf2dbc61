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
