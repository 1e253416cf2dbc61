// Lockout: the threshold edge, the expiry decision table, failure sources and argument checks.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UserStatus } from './model.ts';
import {
  DEFAULT_LOCKOUT_DURATION_SECONDS,
  effectiveUserStatus,
  encodeFailureSource,
  LOCKOUT_THRESHOLD,
  lockoutExpiry,
  recordFailedAttempt,
  summarizeFailureSources,
} from './lockout.ts';

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

describe('lockoutExpiry', () => {
  it('defaults to 15 minutes', () => assert.equal(DEFAULT_LOCKOUT_DURATION_SECONDS, 900));

  it('ends a lockout the duration after it begins', () => {
    assert.equal(lockoutExpiry(1_000_000, 900), 1_000_000 + 900_000);
  });

  it('gives no end for a duration of 0: locked out until an administrator unlocks', () => {
    assert.equal(lockoutExpiry(1_000_000, 0), null);
  });

  it('throws on a negative or fractional duration', () => {
    assert.throws(() => lockoutExpiry(0, -1), RangeError);
    assert.throws(() => lockoutExpiry(0, 1.5), RangeError);
  });
});

describe('effectiveUserStatus', () => {
  const now = 5_000_000;
  // [stored status, lockedUntilMs, effective status, effective lockedUntilMs]
  const table: [UserStatus, number | null, UserStatus, number | null][] = [
    ['active', null, 'active', null],
    ['bypass', null, 'bypass', null],
    ['disabled', null, 'disabled', null],
    // A stray expiry on another status means nothing.
    ['disabled', now - 1, 'disabled', null],
    ['active', now + 1, 'active', null],
    ['locked out', null, 'locked out', null],
    ['locked out', now + 1, 'locked out', now + 1],
    ['locked out', now + 900_000, 'locked out', now + 900_000],
    // The lockout ends at its expiry, not a millisecond later.
    ['locked out', now, 'active', null],
    ['locked out', now - 1, 'active', null],
  ];
  for (const [status, lockedUntilMs, wantStatus, wantUntil] of table) {
    it(`${status} until ${lockedUntilMs === null ? 'unlocked' : lockedUntilMs - now} → ${wantStatus}`, () => {
      assert.deepEqual(effectiveUserStatus({ status, lockedUntilMs }, now), {
        status: wantStatus,
        lockedUntilMs: wantUntil,
      });
    });
  }
});

describe('failure sources', () => {
  it('counts failures per (application, ipaddr) in order of first failure', () => {
    const encoded = [
      { appId: 'DIA', ip: '198.51.100.1' },
      { appId: 'DIA', ip: '198.51.100.2' },
      { appId: 'DIA', ip: '198.51.100.1' },
      { appId: 'DIB', ip: null },
      { appId: 'DIA', ip: '198.51.100.1' },
    ]
      .map(encodeFailureSource)
      .join('');
    assert.deepEqual(summarizeFailureSources(encoded), [
      { appId: 'DIA', ip: '198.51.100.1', failures: 3 },
      { appId: 'DIA', ip: '198.51.100.2', failures: 1 },
      { appId: 'DIB', ip: null, failures: 1 },
    ]);
  });

  it('keeps a client-given ipaddr on one line and bounded in length', () => {
    const line = encodeFailureSource({ appId: 'DIA', ip: `1.2.3.4\n${'x'.repeat(500)}` });
    assert.equal(line.indexOf('\n'), line.length - 1);
    assert.ok(line.length < 100);
    assert.equal(summarizeFailureSources(line)[0]?.ip?.startsWith('1.2.3.4\n'), true);
  });

  it('skips lines that do not decode', () => {
    assert.deepEqual(summarizeFailureSources('garbage\n[1,2]\n\n["DIA",null]\n'), [
      { appId: 'DIA', ip: null, failures: 1 },
    ]);
  });
});
