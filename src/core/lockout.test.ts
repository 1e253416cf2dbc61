// Lockout counting: the threshold edge and argument checks.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOCKOUT_THRESHOLD, recordFailedAttempt } from './lockout.ts';

describe('recordFailedAttempt', () => {
  it('uses a threshold of 10', () => assert.equal(LOCKOUT_THRESHOLD, 10));

  it('does not lock out on the first failure', () => {
    assert.deepEqual(recordFailedAttempt(0), { failedAttempts: 1, lockOut: false });
  });

  it('does not lock out on the ninth consecutive failure', () => {
    assert.deepEqual(recordFailedAttempt(8), { failedAttempts: 9, lockOut: false });
  });

  it('locks out on the tenth consecutive failure', () => {
    assert.deepEqual(recordFailedAttempt(9), { failedAttempts: 10, lockOut: true });
  });

  it('keeps locking out past the threshold', () => {
    assert.deepEqual(recordFailedAttempt(10), { failedAttempts: 11, lockOut: true });
  });

  it('honours a custom threshold', () => {
    assert.deepEqual(recordFailedAttempt(2, 3), { failedAttempts: 3, lockOut: true });
    assert.deepEqual(recordFailedAttempt(1, 3), { failedAttempts: 2, lockOut: false });
  });

  it('throws on a negative count or a threshold below 1', () => {
    assert.throws(() => recordFailedAttempt(-1), RangeError);
    assert.throws(() => recordFailedAttempt(1.5), RangeError);
    assert.throws(() => recordFailedAttempt(0, 0), RangeError);
  });
});
