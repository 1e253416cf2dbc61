import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emergencyLimitsFromEnv, formatDurationMs, parseDurationMs } from './emergency-limits.ts';

describe('emergency limits', () => {
  it('parses durations in seconds, minutes, hours and days', () => {
    assert.equal(parseDurationMs('90s'), 90_000);
    assert.equal(parseDurationMs('30m'), 1_800_000);
    assert.equal(parseDurationMs('1h'), 3_600_000);
    assert.equal(parseDurationMs('1h30m'), 5_400_000);
    assert.equal(parseDurationMs('2D'), 172_800_000);
    for (const bad of ['', '0m', '30', 'm', '1.5h', '-1h', '1 h', '1w']) {
      assert.equal(parseDurationMs(bad), undefined, bad);
    }
  });

  it('formats a duration back', () => {
    assert.equal(formatDurationMs(5_400_000), '1h30m');
    assert.equal(formatDurationMs(90_000), '1m30s');
    assert.equal(formatDurationMs(0), '0s');
  });

  it('reads the maximum from the environment, defaulting to 24 hours', () => {
    assert.equal(emergencyLimitsFromEnv({}).maxDurationMs, 86_400_000);
    assert.equal(emergencyLimitsFromEnv({}).defaultDurationMs, 3_600_000);
    const short = emergencyLimitsFromEnv({ AIRLOCK_EMERGENCY_MAX_DURATION: '30m' });
    assert.deepEqual(short, { maxDurationMs: 1_800_000, defaultDurationMs: 1_800_000 });
    assert.throws(
      () => emergencyLimitsFromEnv({ AIRLOCK_EMERGENCY_MAX_DURATION: 'soon' }),
      /AIRLOCK_EMERGENCY_MAX_DURATION must be a duration/,
    );
  });
});
