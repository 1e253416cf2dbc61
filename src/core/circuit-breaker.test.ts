// Circuit breaker: every state × every event with a FixedClock, backoff, the p95 rule, and the probe invariant.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FixedClock } from '../runtime/clock.ts';
import {
  BREAKER_DEFAULTS,
  breakerAllows,
  breakerOnFailure,
  breakerOnSuccess,
  createBreakerState,
  latencyP95Ms,
  type BreakerDecision,
  type BreakerOptions,
  type BreakerState,
  type BreakerStatus,
  type BreakerStep,
} from './circuit-breaker.ts';

const T0 = 1_700_000_000_000;
const OPTIONS: Partial<BreakerOptions> = {
  failureThreshold: 3,
  openMs: 10_000,
  maxOpenMs: 120_000,
  degradedLatencyMs: 3_000,
  latencyWindow: 20,
  minSamples: 5,
};

/** Drives a breaker with a clock, keeping every state and transition. */
class Driver {
  readonly clock = new FixedClock(T0);
  state: BreakerState;
  readonly transitions: Array<[BreakerStatus, BreakerStatus]> = [];

  constructor(options: Partial<BreakerOptions> = OPTIONS) {
    this.state = createBreakerState(options);
  }

  #keep<S extends BreakerStep>(step: S): S {
    this.state = step.state;
    if (step.transition) this.transitions.push([step.transition.from, step.transition.to]);
    return step;
  }

  allows() {
    return this.#keep(breakerAllows(this.state, this.clock.nowMs()));
  }

  ok(latencyMs = 50, probe = false) {
    return this.#keep(
      breakerOnSuccess(this.state, { nowMs: this.clock.nowMs(), latencyMs, probe }),
    );
  }

  /** An answer whose time measures a user, not the host. */
  unmeasured() {
    return this.#keep(breakerOnSuccess(this.state, { nowMs: this.clock.nowMs() }));
  }

  fail(probe = false) {
    return this.#keep(
      breakerOnFailure(this.state, { nowMs: this.clock.nowMs(), reason: 'timeout', probe }),
    );
  }
}

/** The states of the table, each reached through the public functions only. */
const STATES = {
  'closed, no failures': () => new Driver(),
  'closed, one failure short of the threshold': () => {
    const d = new Driver();
    d.fail();
    d.fail();
    return d;
  },
  'open for failures, before retryAt': () => {
    const d = new Driver();
    d.fail();
    d.fail();
    d.fail();
    d.clock.advance(9_999);
    return d;
  },
  'open for failures, retryAt reached': () => {
    const d = new Driver();
    d.fail();
    d.fail();
    d.fail();
    d.clock.advance(10_000);
    return d;
  },
  'open for latency, before retryAt': () => {
    const d = new Driver();
    for (let i = 0; i < 5; i++) d.ok(4_000);
    d.clock.advance(1);
    return d;
  },
  'half-open, probe in flight': () => {
    const d = new Driver();
    d.fail();
    d.fail();
    d.fail();
    d.clock.advance(10_000);
    d.allows();
    return d;
  },
  'half-open, probe lost (maxOpenMs passed)': () => {
    const d = new Driver();
    d.fail();
    d.fail();
    d.fail();
    d.clock.advance(10_000);
    d.allows();
    d.clock.advance(120_000);
    return d;
  },
} as const;
type StateName = keyof typeof STATES;

const EVENTS = {
  'allows?': (d: Driver) => d.allows(),
  'answer (fast)': (d: Driver) => d.ok(50),
  'answer (slow, not a probe)': (d: Driver) => d.ok(5_000),
  'failure (not a probe)': (d: Driver) => d.fail(),
  'probe answer (fast)': (d: Driver) => d.ok(50, true),
  'probe answer (slow)': (d: Driver) => d.ok(5_000, true),
  'probe failure': (d: Driver) => d.fail(true),
} as const;
type EventName = keyof typeof EVENTS;

interface Expect {
  status: BreakerStatus;
  transition?: [BreakerStatus, BreakerStatus];
  allowed?: boolean;
  probe?: boolean;
  failures?: number;
  /** Relative to the clock at the event. */
  retryInMs?: number;
}

// Probe flags on a closed or open breaker are ignored (no probe was handed out); a slow probe
// re-opens like a failed one. Half-open results that are not the probe's change no status.
const TABLE: Record<StateName, Record<EventName, Expect>> = {
  'closed, no failures': {
    'allows?': { status: 'closed', allowed: true, probe: false },
    'answer (fast)': { status: 'closed', failures: 0 },
    'answer (slow, not a probe)': { status: 'closed', failures: 0 },
    'failure (not a probe)': { status: 'closed', failures: 1 },
    'probe answer (fast)': { status: 'closed', failures: 0 },
    'probe answer (slow)': { status: 'closed', failures: 0 },
    'probe failure': { status: 'closed', failures: 1 },
  },
  'closed, one failure short of the threshold': {
    'allows?': { status: 'closed', allowed: true, probe: false, failures: 2 },
    'answer (fast)': { status: 'closed', failures: 0 },
    'answer (slow, not a probe)': { status: 'closed', failures: 0 },
    'failure (not a probe)': {
      status: 'open',
      transition: ['closed', 'open'],
      failures: 3,
      retryInMs: 10_000,
    },
    'probe answer (fast)': { status: 'closed', failures: 0 },
    'probe answer (slow)': { status: 'closed', failures: 0 },
    'probe failure': {
      status: 'open',
      transition: ['closed', 'open'],
      failures: 3,
      retryInMs: 10_000,
    },
  },
  'open for failures, before retryAt': {
    'allows?': { status: 'open', allowed: false, retryInMs: 1 },
    'answer (fast)': { status: 'open', failures: 0, retryInMs: 1 },
    'answer (slow, not a probe)': { status: 'open', failures: 0, retryInMs: 1 },
    'failure (not a probe)': { status: 'open', failures: 4, retryInMs: 1 },
    'probe answer (fast)': { status: 'open', failures: 0, retryInMs: 1 },
    'probe answer (slow)': { status: 'open', failures: 0, retryInMs: 1 },
    'probe failure': { status: 'open', failures: 4, retryInMs: 1 },
  },
  'open for failures, retryAt reached': {
    'allows?': {
      status: 'half-open',
      transition: ['open', 'half-open'],
      allowed: true,
      probe: true,
    },
    'answer (fast)': { status: 'open', failures: 0, retryInMs: 0 },
    'answer (slow, not a probe)': { status: 'open', failures: 0, retryInMs: 0 },
    'failure (not a probe)': { status: 'open', failures: 4, retryInMs: 0 },
    'probe answer (fast)': { status: 'open', failures: 0, retryInMs: 0 },
    'probe answer (slow)': { status: 'open', failures: 0, retryInMs: 0 },
    'probe failure': { status: 'open', failures: 4, retryInMs: 0 },
  },
  'open for latency, before retryAt': {
    'allows?': { status: 'open', allowed: false, retryInMs: 9_999 },
    'answer (fast)': { status: 'open', failures: 0, retryInMs: 9_999 },
    'answer (slow, not a probe)': { status: 'open', failures: 0, retryInMs: 9_999 },
    'failure (not a probe)': { status: 'open', failures: 1, retryInMs: 9_999 },
    'probe answer (fast)': { status: 'open', failures: 0, retryInMs: 9_999 },
    'probe answer (slow)': { status: 'open', failures: 0, retryInMs: 9_999 },
    'probe failure': { status: 'open', failures: 1, retryInMs: 9_999 },
  },
  'half-open, probe in flight': {
    'allows?': { status: 'half-open', allowed: false, retryInMs: 120_000 },
    'answer (fast)': { status: 'half-open', failures: 0 },
    'answer (slow, not a probe)': { status: 'half-open', failures: 0 },
    'failure (not a probe)': { status: 'half-open', failures: 4 },
    'probe answer (fast)': { status: 'closed', transition: ['half-open', 'closed'], failures: 0 },
    'probe answer (slow)': {
      status: 'open',
      transition: ['half-open', 'open'],
      retryInMs: 20_000,
    },
    'probe failure': {
      status: 'open',
      transition: ['half-open', 'open'],
      failures: 4,
      retryInMs: 20_000,
    },
  },
  'half-open, probe lost (maxOpenMs passed)': {
    'allows?': { status: 'half-open', allowed: true, probe: true },
    'answer (fast)': { status: 'half-open', failures: 0 },
    'answer (slow, not a probe)': { status: 'half-open', failures: 0 },
    'failure (not a probe)': { status: 'half-open', failures: 4 },
    'probe answer (fast)': { status: 'closed', transition: ['half-open', 'closed'], failures: 0 },
    'probe answer (slow)': {
      status: 'open',
      transition: ['half-open', 'open'],
      retryInMs: 20_000,
    },
    'probe failure': {
      status: 'open',
      transition: ['half-open', 'open'],
      failures: 4,
      retryInMs: 20_000,
    },
  },
};

describe('circuit breaker: the whole transition table (state × event)', () => {
  for (const [stateName, events] of Object.entries(TABLE) as Array<
    [StateName, Record<EventName, Expect>]
  >) {
    for (const [eventName, expected] of Object.entries(events) as Array<[EventName, Expect]>) {
      const arrow = expected.transition ? `${expected.transition.join(' → ')}` : 'stays';
      it(`${stateName} + ${eventName}: ${arrow} ${expected.status}`, () => {
        const d = STATES[stateName]();
        const before = d.transitions.length;
        const result = EVENTS[eventName](d);
        assert.equal(d.state.status, expected.status);
        const transition = d.transitions.slice(before);
        assert.deepEqual(transition, expected.transition ? [expected.transition] : []);
        if (expected.failures !== undefined) {
          assert.equal(d.state.consecutiveFailures, expected.failures);
        }
        if (expected.allowed !== undefined) {
          assert.ok('allowed' in result);
          const gate = result as BreakerDecision;
          assert.equal(gate.allowed, expected.allowed);
          if (gate.allowed) assert.equal(gate.probe, expected.probe);
          else assert.equal(gate.retryAtMs, d.clock.nowMs() + (expected.retryInMs ?? 0));
        } else if (expected.retryInMs !== undefined) {
          assert.equal(d.state.retryAtMs, d.clock.nowMs() + expected.retryInMs);
        }
      });
    }
  }

  it('covers every state and every event', () => {
    assert.deepEqual(Object.keys(TABLE).sort(), Object.keys(STATES).sort());
    for (const events of Object.values(TABLE)) {
      assert.deepEqual(Object.keys(events).sort(), Object.keys(EVENTS).sort());
    }
  });
});

describe('circuit breaker: opening', () => {
  it('opens after exactly failureThreshold consecutive failures, with a reason to log', () => {
    const d = new Driver();
    assert.equal(d.fail().transition, undefined);
    assert.equal(d.fail().transition, undefined);
    const step = d.fail();
    assert.deepEqual(step.transition, {
      from: 'closed',
      to: 'open',
      reason: '3 consecutive failures (last: timeout); open for 10000 ms',
      atMs: T0,
    });
    assert.equal(d.state.openCause, 'failures');
    assert.equal(d.state.openedAtMs, T0);
    assert.equal(d.state.retryAtMs, T0 + 10_000);
  });

  it('resets the count on any answer, so failures must be consecutive', () => {
    const d = new Driver();
    for (let i = 0; i < 10; i++) {
      d.fail();
      d.fail();
      d.ok(); // a rejected (4xx) or invalid answer is reported the same way: the host is up
    }
    assert.equal(d.state.status, 'closed');
    assert.equal(d.state.consecutiveFailures, 0);
  });

  it('opens on p95 only with at least minSamples samples', () => {
    const d = new Driver();
    for (let i = 0; i < 4; i++) assert.equal(d.ok(4_200).transition, undefined);
    const step = d.ok(4_200);
    assert.deepEqual(step.transition, {
      from: 'closed',
      to: 'open',
      reason: 'p95 4200 ms > 3000 ms over 5 answers; open for 10000 ms',
      atMs: T0,
    });
    assert.equal(d.state.openCause, 'latency');
  });

  it('does not open when only the slowest 5 % are slow', () => {
    const d = new Driver();
    for (let i = 0; i < 19; i++) d.ok(100);
    d.ok(9_000);
    assert.equal(d.state.status, 'closed');
    assert.equal(latencyP95Ms(d.state.latenciesMs), 100);
    d.ok(9_000); // now 2 of 20 (the window) are slow: the p95 is slow
    assert.equal(d.state.status, 'open');
  });

  it('keeps only the last latencyWindow samples', () => {
    const d = new Driver({ ...OPTIONS, degradedLatencyMs: 0 });
    for (let i = 1; i <= 30; i++) d.ok(i);
    assert.deepEqual(
      d.state.latenciesMs,
      Array.from({ length: 20 }, (_, i) => i + 11),
    );
  });

  it('never opens on latency when degradedLatencyMs is 0', () => {
    const d = new Driver({ ...OPTIONS, degradedLatencyMs: 0 });
    for (let i = 0; i < 50; i++) d.ok(60_000);
    assert.equal(d.state.status, 'closed');
  });

  it('ignores an answer without a latency (a push waiting on its user) for the p95', () => {
    const d = new Driver();
    for (let i = 0; i < 10; i++) d.unmeasured();
    assert.deepEqual(d.state.latenciesMs, []);
  });

  it('turns a breaker open for latency into one open for failures when failures follow', () => {
    const d = new Driver();
    for (let i = 0; i < 5; i++) d.ok(4_000);
    d.fail();
    d.fail();
    assert.equal(d.state.openCause, 'latency');
    d.fail();
    assert.equal(d.state.openCause, 'failures');
    assert.equal(d.state.openReason, '3 consecutive failures (last: timeout)');
    assert.equal(d.state.status, 'open');
  });
});

describe('circuit breaker: half-open and backoff', () => {
  function openAndProbe(d: Driver): void {
    d.clock.set(d.state.retryAtMs ?? d.clock.nowMs());
    const gate = d.allows();
    assert.ok(gate.allowed && gate.probe);
  }

  it('doubles the open period after each failed probe, up to maxOpenMs, and resets on close', () => {
    const d = new Driver();
    d.fail();
    d.fail();
    d.fail();
    const periods = [d.state.openPeriodMs];
    for (let i = 0; i < 6; i++) {
      openAndProbe(d);
      d.fail(true);
      periods.push(d.state.openPeriodMs);
      assert.equal(d.state.retryAtMs, d.clock.nowMs() + d.state.openPeriodMs);
    }
    assert.deepEqual(periods, [10_000, 20_000, 40_000, 80_000, 120_000, 120_000, 120_000]);
    openAndProbe(d);
    const closed = d.ok(40, true);
    assert.equal(closed.transition?.reason, 'probe succeeded in 40 ms');
    assert.equal(d.state.openPeriodMs, 10_000);
    assert.deepEqual(d.state.latenciesMs, [40]);
    d.fail();
    d.fail();
    d.fail();
    assert.equal(d.state.retryAtMs, d.clock.nowMs() + 10_000);
  });

  it('keeps openedAtMs from the first opening through failed probes (the outage start)', () => {
    const d = new Driver();
    d.fail();
    d.fail();
    d.fail();
    openAndProbe(d);
    d.fail(true);
    assert.equal(d.state.openedAtMs, T0);
  });

  it('re-opens on a probe slower than degradedLatencyMs, naming the latency', () => {
    const d = new Driver();
    d.fail();
    d.fail();
    d.fail();
    openAndProbe(d);
    const step = d.ok(4_500, true);
    assert.equal(step.transition?.reason, 'probe answered in 4500 ms > 3000 ms; open for 20000 ms');
    assert.equal(d.state.openCause, 'latency');
  });

  it('reports open → half-open with the period that ended', () => {
    const d = new Driver();
    d.fail();
    d.fail();
    d.fail();
    d.clock.advance(10_000);
    assert.deepEqual(d.allows().transition, {
      from: 'open',
      to: 'half-open',
      reason: 'open for 10000 ms: probing',
      atMs: T0 + 10_000,
    });
  });
});

describe('circuit breaker: the invariant', () => {
  it('while not closed, lets through nothing but one probe at a time (random walk, 20 000 steps)', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const d = new Driver({ ...OPTIONS, minSamples: 3 });
    let probesInFlight = 0;
    let probesHandedOut = 0;
    let probeStartedAtMs = 0;
    let closes = 0;
    for (let step = 0; step < 20_000; step++) {
      d.clock.advance(Math.floor(random() * 3_000));
      const roll = random();
      if (roll < 0.5) {
        const wasOpenBeforeRetry =
          d.state.status === 'open' && d.clock.nowMs() < (d.state.retryAtMs ?? 0);
        const gate = d.allows();
        if (wasOpenBeforeRetry) assert.equal(gate.allowed, false);
        if (gate.allowed && gate.probe) {
          // A second probe only replaces one unreported for maxOpenMs (counted as lost).
          if (probesInFlight === 1) {
            assert.ok(d.clock.nowMs() - probeStartedAtMs >= 120_000, 'a second probe in flight');
            probesInFlight = 0;
          }
          probesInFlight++;
          probesHandedOut++;
          probeStartedAtMs = d.clock.nowMs();
        }
        if (gate.allowed && !gate.probe) assert.equal(d.state.status, 'closed');
      } else if (probesInFlight > 0 && roll < 0.75) {
        probesInFlight--;
        if (random() < 0.5) d.ok(random() < 0.8 ? 100 : 5_000, true);
        else d.fail(true);
        if (d.state.status === 'closed') closes++;
      } else if (roll < 0.9) {
        d.fail();
      } else {
        d.ok(random() < 0.7 ? 100 : 5_000);
      }
      if (d.state.status === 'half-open') assert.equal(probesInFlight, 1);
      else assert.equal(probesInFlight, 0);
    }
    assert.ok(probesHandedOut > 100, `only ${probesHandedOut} probes`);
    assert.ok(closes > 10, `only ${closes} closes`);
  });
});

describe('circuit breaker: options', () => {
  it('has the documented defaults', () => {
    assert.deepEqual(BREAKER_DEFAULTS, {
      failureThreshold: 3,
      openMs: 10_000,
      maxOpenMs: 120_000,
      degradedLatencyMs: 3_000,
      latencyWindow: 50,
      minSamples: 10,
    });
    assert.deepEqual(createBreakerState().options, BREAKER_DEFAULTS);
    assert.deepEqual(createBreakerState({ openMs: undefined }).options, BREAKER_DEFAULTS);
  });

  const BAD: Array<[Partial<BreakerOptions>, RegExp]> = [
    [{ failureThreshold: 0 }, /failureThreshold must be a positive integer/],
    [{ openMs: 1.5 }, /openMs must be a positive integer/],
    [{ maxOpenMs: 5_000 }, /maxOpenMs \(5000\) must be at least openMs \(10000\)/],
    [{ latencyWindow: 5 }, /minSamples \(10\) must be at most latencyWindow \(5\)/],
    [{ degradedLatencyMs: -1 }, /degradedLatencyMs must be 0 \(off\) or more/],
  ];
  for (const [options, message] of BAD) {
    it(`refuses ${JSON.stringify(options)}`, () => {
      assert.throws(() => createBreakerState(options), { name: 'RangeError', message });
    });
  }
});

describe('latencyP95Ms', () => {
  const CASES: Array<[number[], number | undefined]> = [
    [[], undefined],
    [[7], 7],
    [[30, 10, 20], 30],
    [Array.from({ length: 20 }, (_, i) => i + 1), 19],
    [Array.from({ length: 100 }, (_, i) => i + 1), 95],
  ];
  for (const [samples, expected] of CASES) {
    it(`is ${expected} for ${samples.length} samples`, () => {
      assert.equal(latencyP95Ms(samples), expected);
    });
  }

  it('is the nearest-rank sample of the sorted list, whatever the order and ties', () => {
    let seed = 42;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648);
    for (let n = 1; n <= 120; n++) {
      for (const spread of [3, 1000]) {
        const samples = Array.from({ length: n }, () => (next() % spread) + (next() % 7) / 8);
        const sorted = [...samples].sort((a, b) => a - b);
        assert.equal(
          latencyP95Ms(samples),
          sorted[Math.ceil(0.95 * n) - 1],
          `n=${n} ${samples.join(',')}`,
        );
      }
    }
  });
});
