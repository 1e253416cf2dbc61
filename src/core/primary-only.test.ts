import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  newPrimaryOnlyRecord,
  primaryOnlyState,
  validatePrimaryOnlyMinutes,
} from './primary-only.ts';

describe('primary-only mode', () => {
  const t0 = 1_700_000_000_000;
  const record = newPrimaryOnlyRecord({
    nowMs: t0,
    minutes: 60,
    actor: 'cli:root',
    reason: 'Duo outage',
  });

  it('is active from enabling until its expiry, then ends by itself', () => {
    assert.equal(primaryOnlyState(record, t0).active, true);
    const mid = primaryOnlyState(record, t0 + 59 * 60_000);
    assert.ok(mid.active && mid.remainingMs === 60_000);
    assert.deepEqual(primaryOnlyState(record, t0 + 60 * 60_000), {
      active: false,
      expiredRecord: record,
    });
  });

  it('is off without a record, and off for a record from the future (clock went back)', () => {
    assert.deepEqual(primaryOnlyState(undefined, t0), { active: false, expiredRecord: undefined });
    assert.equal(primaryOnlyState(record, t0 - 1).active, false);
  });

  it('accepts 1 to 240 minutes and refuses more than 4 hours', () => {
    assert.equal(validatePrimaryOnlyMinutes(1), undefined);
    assert.equal(validatePrimaryOnlyMinutes(240), undefined);
    assert.match(validatePrimaryOnlyMinutes(241) ?? '', /no more than 4 hours/);
    assert.match(validatePrimaryOnlyMinutes(0) ?? '', /1 to 240/);
    assert.match(validatePrimaryOnlyMinutes(1.5) ?? '', /whole number/);
    assert.throws(
      () => newPrimaryOnlyRecord({ nowMs: t0, minutes: 300, actor: 'a', reason: 'r' }),
      RangeError,
    );
  });

  it('requires a reason', () => {
    assert.throws(
      () => newPrimaryOnlyRecord({ nowMs: t0, minutes: 5, actor: 'a', reason: '  ' }),
      /reason/,
    );
  });
});
