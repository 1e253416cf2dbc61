// Factor health: the healthy/degraded transition table over an injected time, the window, and steering.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { latencyP95Ms } from './circuit-breaker.ts';
import {
  FACTOR_HEALTH_DEFAULTS,
  FactorHealth,
  FactorHealthBoard,
  steerAwayMessage,
  steerFactors,
  type AuthFactor,
  type FactorHealthOptions,
} from './factor-health.ts';

const T0 = 1_700_000_000_000;
const SECOND = 1000;

/** Options of the table below: judged from 5, > 25% failed or p95 > 5 s, recover after 3 good + 60 s. */
const OPTIONS: FactorHealthOptions = {
  windowSize: 20,
  windowSeconds: 600,
  minSamples: 5,
  maxFailureRate: 0.25,
  maxP95LatencyMs: 5000,
  recoverySamples: 3,
  recoverySeconds: 60,
};

/** A health with a clock of its own; `ok`/`fail` record one delivery and advance a second. */
function harness(options: Partial<FactorHealthOptions> = OPTIONS) {
  const health = new FactorHealth(options);
  let now = T0;
  const step = (outcome: 'delivered' | 'failed', latencyMs: number) => {
    health.record(outcome, latencyMs, now);
    now += SECOND;
  };
  return {
    health,
    ok: (n = 1, latencyMs = 300) => {
      for (let i = 0; i < n; i++) step('delivered', latencyMs);
    },
    fail: (n = 1) => {
      for (let i = 0; i < n; i++) step('failed', 10_000);
    },
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
    state: () => health.state(now),
  };
}

describe('FactorHealth: entering degraded', () => {
  it('is healthy with no deliveries yet', () => {
    const h = harness();
    assert.deepEqual(h.state(), {
      state: 'healthy',
      reason: 'no deliveries yet',
      failureRate: undefined,
      p95LatencyMs: undefined,
      samples: 0,
      sinceMs: undefined,
    });
  });

  it('does not judge fewer than minSamples deliveries, even all failed', () => {
    const h = harness();
    h.fail(4);
    const s = h.state();
    assert.equal(s.state, 'healthy');
    assert.equal(s.failureRate, 1);
    assert.equal(s.reason, 'only 4 recent deliveries, judged from 5');
  });

  it('turns degraded on the delivery that pushes the failure rate over the threshold', () => {
    const h = harness();
    h.ok(3);
    h.fail(1);
    assert.equal(h.state().state, 'healthy');
    const at = h.now();
    h.fail(1); // 2 of 5 = 40% > 25%
    const s = h.state();
    assert.equal(s.state, 'degraded');
    assert.equal(s.reason, 'failure rate 40% > 25% over 5 deliveries');
    assert.equal(s.failureRate, 0.4);
    assert.equal(s.sinceMs, at);
  });

  it('stays healthy at exactly the failure-rate threshold', () => {
    const h = harness();
    h.ok(6);
    h.fail(2); // 2 of 8 = 25%, not above
    const s = h.state();
    assert.equal(s.state, 'healthy');
    assert.equal(s.reason, 'failure rate 25% over 8 deliveries, p95 300 ms');
  });

  it('turns degraded when the p95 accept latency exceeds the threshold', () => {
    const h = harness();
    h.ok(4, 400);
    h.ok(1, 6000); // nearest-rank p95 of 5 samples is the largest
    const s = h.state();
    assert.equal(s.state, 'degraded');
    assert.equal(s.reason, 'p95 6000 ms > 5000 ms');
    assert.equal(s.p95LatencyMs, 6000);
    assert.equal(s.failureRate, 0);
  });

  it('ignores latency when maxP95LatencyMs is 0', () => {
    const h = harness({ ...OPTIONS, maxP95LatencyMs: 0 });
    h.ok(10, 60_000);
    assert.equal(h.state().state, 'healthy');
  });

  it('names both findings when both thresholds are crossed', () => {
    const h = harness();
    h.ok(3, 9000);
    h.fail(2);
    assert.equal(
      h.state().reason,
      'failure rate 40% > 25% over 5 deliveries; p95 9000 ms > 5000 ms',
    );
  });
});

describe('FactorHealth: recovering (hysteresis)', () => {
  /** Degraded by 5 straight failures at T0..T0+4 s. */
  function degraded() {
    const h = harness();
    h.fail(5);
    assert.equal(h.state().state, 'degraded');
    return h;
  }

  it('stays degraded after enough good deliveries until recoverySeconds passed since the last failure', () => {
    const h = degraded();
    h.ok(10); // rate 5/15 = 33%: still over; streak 10
    assert.equal(h.state().state, 'degraded');
    h.advance(45 * SECOND); // the last failure (T0 + 4 s) is now 56 s old
    assert.equal(h.state().state, 'degraded');
    h.advance(5 * SECOND);
    const s = h.state();
    assert.equal(s.state, 'healthy');
    assert.equal(s.sinceMs, h.now());
  });

  it('stays degraded after recoverySeconds until recoverySamples good deliveries in a row', () => {
    const h = degraded();
    h.advance(120 * SECOND);
    h.ok(2);
    const s = h.state();
    assert.equal(s.state, 'degraded');
    assert.equal(s.reason, 'failure rate 71% > 25% over 7 deliveries');
    h.ok(1);
    assert.equal(h.state().state, 'healthy');
  });

  it('explains the recovery progress once the thresholds are no longer crossed', () => {
    const h = harness();
    h.ok(3);
    h.fail(2); // degraded at 40%
    h.ok(3); // 2 of 8 = 25%: not over, streak 3 but the last failure is only 4 s old
    const s = h.state();
    assert.equal(s.state, 'degraded');
    assert.equal(
      s.reason,
      'recovering from failure rate 40% > 25% over 5 deliveries: 3 of 3 good deliveries in a row, last problem 4 s ago (needs 60 s)',
    );
  });

  it('a failure during recovery restarts both the streak and the quiet time', () => {
    const h = degraded();
    h.advance(120 * SECOND);
    h.ok(2);
    h.fail(1);
    h.ok(3);
    assert.equal(h.state().state, 'degraded');
    h.advance(60 * SECOND);
    assert.equal(h.state().state, 'healthy');
  });

  it('a slow delivery counts as a problem for the streak', () => {
    const h = degraded();
    h.advance(120 * SECOND);
    h.ok(2);
    h.ok(1, 7000);
    h.ok(2);
    assert.equal(h.state().state, 'degraded');
    h.advance(60 * SECOND);
    h.ok(1);
    assert.equal(h.state().state, 'healthy');
  });

  it('forgets the outage on recovery, so one more failure does not flap it back', () => {
    const h = degraded();
    h.advance(120 * SECOND);
    h.ok(3);
    const recovered = h.state();
    assert.equal(recovered.state, 'healthy');
    assert.equal(recovered.samples, 3);
    assert.equal(recovered.failureRate, 0);
    h.fail(1); // 1 of 4: below minSamples
    assert.equal(h.state().state, 'healthy');
    h.ok(1); // 1 of 5 = 20%
    assert.equal(h.state().state, 'healthy');
    h.fail(1); // 2 of 6 = 33%: a real new problem
    assert.equal(h.state().state, 'degraded');
  });

  it('recovers without traffic once every failure has left the window (users were steered away)', () => {
    const h = degraded();
    h.advance(598 * SECOND); // now T0 + 603 s
    assert.equal(h.state().state, 'degraded'); // the last failure (T0 + 4 s) is still in the window
    h.advance(1 * SECOND);
    const s = h.state();
    assert.equal(s.state, 'healthy');
    assert.equal(s.samples, 0);
    assert.equal(s.reason, 'no recent deliveries');
  });

  it('recovers when failures are pushed out of the window by count and the quiet time passed', () => {
    const h = harness({ ...OPTIONS, windowSize: 5, recoverySamples: 5 });
    h.fail(5);
    assert.equal(h.state().state, 'degraded');
    h.ok(4);
    assert.equal(h.state().state, 'degraded');
    h.advance(60 * SECOND);
    assert.equal(h.state().state, 'degraded'); // 4 good in a row, one failure still in the window
    h.ok(1);
    assert.equal(h.state().state, 'healthy');
  });
});

describe('FactorHealth: the window', () => {
  it('judges only the last windowSize deliveries', () => {
    const h = harness({ ...OPTIONS, windowSize: 5 });
    h.fail(1);
    h.ok(5);
    const s = h.state();
    assert.equal(s.samples, 5);
    assert.equal(s.failureRate, 0);
  });

  it('drops deliveries windowSeconds old or older', () => {
    const health = new FactorHealth(OPTIONS);
    health.record('delivered', 100, T0);
    health.record('delivered', 100, T0 + 100 * SECOND);
    health.record('delivered', 100, T0 + 300 * SECOND);
    assert.equal(health.state(T0 + 600 * SECOND - 1).samples, 3);
    assert.equal(health.state(T0 + 600 * SECOND).samples, 2);
    assert.equal(health.state(T0 + 900 * SECOND).samples, 0);
  });

  it('treats a time earlier than one already seen as the latest', () => {
    const health = new FactorHealth(OPTIONS);
    health.record('delivered', 100, T0 + 10 * SECOND);
    health.record('delivered', 100, T0); // clock stepped back
    const s = health.state(T0 + 10 * SECOND + 600 * SECOND);
    assert.equal(s.samples, 0); // both counted at T0 + 10 s, both expired together
  });

  it('keeps the p95 equal to a full sort of the window under churn', () => {
    const h = new FactorHealth({ ...OPTIONS, windowSize: 37, maxP95LatencyMs: 0 });
    const window: number[] = [];
    let seed = 12345;
    for (let i = 0; i < 500; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const failed = seed % 7 === 0;
      const latency = seed % 997; // repeats on purpose
      h.record(failed ? 'failed' : 'delivered', latency, T0 + i);
      window.push(failed ? -1 : latency);
      if (window.length > 37) window.shift();
      const delivered = window.filter((x) => x >= 0);
      assert.equal(h.state(T0 + i).p95LatencyMs, latencyP95Ms(delivered), `after ${i + 1}`);
    }
  });
});

describe('FactorHealth: options', () => {
  it('uses the documented defaults', () => {
    assert.deepEqual(FACTOR_HEALTH_DEFAULTS, {
      windowSize: 50,
      windowSeconds: 900,
      minSamples: 5,
      maxFailureRate: 0.25,
      maxP95LatencyMs: 5000,
      recoverySamples: 3,
      recoverySeconds: 60,
    });
  });

  it('rejects unusable options, naming each', () => {
    assert.throws(() => new FactorHealth({ windowSize: 0, maxFailureRate: 1.5, minSamples: 2.5 }), {
      name: 'RangeError',
      message:
        'factor health: windowSize: must be an integer from 1 to 10000; minSamples: must be an integer from 1 to 10000; maxFailureRate: must be a number from 0 to below 1; recoverySamples: must not exceed windowSize',
    });
  });
});

describe('FactorHealthBoard', () => {
  it('keeps (factor, provider) apart and lists degraded factors', () => {
    const board = new FactorHealthBoard(OPTIONS);
    for (let i = 0; i < 5; i++) {
      board.record('sms', 'twilio', 'failed', 100, T0 + i);
      board.record('phone', 'twilio', 'delivered', 100, T0 + i);
      board.record('sms', 'file', 'delivered', 1, T0 + i);
    }
    const report = board.report(T0 + 10);
    assert.deepEqual(
      report.map((e) => [e.factor, e.provider, e.state]),
      [
        ['sms', 'twilio', 'degraded'],
        ['phone', 'twilio', 'healthy'],
        ['sms', 'file', 'healthy'],
      ],
    );
    assert.deepEqual(board.degradedFactors(T0 + 10), ['sms']);
  });

  it('rejects unusable options when built', () => {
    assert.throws(() => new FactorHealthBoard({ windowSize: -1 }), RangeError);
  });
});

describe('steerAwayMessage', () => {
  const cases: Array<[AuthFactor[], AuthFactor[], string | undefined]> = [
    [['sms'], ['push', 'sms', 'passcode'], 'SMS is having problems — use push or a passcode.'],
    [['sms'], ['sms', 'passcode', 'push'], 'SMS is having problems — use push or a passcode.'],
    [
      ['sms', 'phone'],
      ['push', 'phone', 'sms', 'passcode'],
      'Phone calls and SMS are having problems — use push or a passcode.',
    ],
    [['phone'], ['phone', 'sms'], 'Phone calls are having problems — use SMS.'],
    [
      ['push'],
      ['push', 'phone', 'sms', 'passcode'],
      'Push is having problems — use a phone call, SMS or a passcode.',
    ],
    [['sms'], ['sms'], 'SMS is having problems — expect delays.'],
    [['sms'], ['push', 'passcode'], undefined],
    [[], ['push', 'sms'], undefined],
  ];
  for (const [degraded, available, expected] of cases) {
    it(`degraded [${degraded.join(', ')}], available [${available.join(', ')}] -> ${expected ?? 'nothing'}`, () => {
      assert.equal(steerAwayMessage(degraded, available), expected);
    });
  }
});

describe('steerFactors', () => {
  it('moves degraded factors to the end, keeping the order otherwise', () => {
    assert.deepEqual(steerFactors(['auto', 'push', 'sms', 'phone', 'mobile_otp'], ['sms']), [
      'auto',
      'push',
      'phone',
      'mobile_otp',
      'sms',
    ]);
    assert.deepEqual(steerFactors(['sms', 'phone', 'push'], ['phone', 'sms']), [
      'push',
      'sms',
      'phone',
    ]);
    assert.deepEqual(steerFactors(['push', 'sms'], []), ['push', 'sms']);
  });
});
