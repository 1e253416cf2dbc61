// Host health: reachable / degraded / unreachable over the whole table of findings, with the reasons shown to admins.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyHostHealth,
  HOST_HEALTH_DEFAULTS,
  type HostHealthInput,
  type HostHealthStatus,
  type HostObservation,
  type ProbeOutcome,
} from './host-health.ts';

const T = 1_700_000_000_000;

const answers = (n: number, latencyMs = 100): HostObservation[] =>
  Array.from({ length: n }, (_, i) => ({ atMs: T + i, answered: true, latencyMs }));
/** Answers whose time measured a user (a push), not the host. */
const unmeasured = (n: number): HostObservation[] =>
  Array.from({ length: n }, (_, i) => ({ atMs: T + i, answered: true, latencyMs: undefined }));
const failures = (n: number, reason: 'timeout' | 'connect' = 'timeout'): HostObservation[] =>
  Array.from({ length: n }, (_, i) => ({ atMs: T + 100 + i, answered: false, reason }));

const PING_OK: ProbeOutcome = { kind: 'ok', atMs: T, latencyMs: 5 };
const CHECK_OK: ProbeOutcome = { kind: 'ok', atMs: T, latencyMs: 8 };
const CLOSED = { status: 'closed', openCause: undefined, openReason: undefined } as const;

function input(o: Partial<HostHealthInput>): HostHealthInput {
  return { observations: [], breaker: CLOSED, lastPing: PING_OK, lastCheck: CHECK_OK, ...o };
}

const TABLE: Array<[string, HostHealthInput, HostHealthStatus, string]> = [
  [
    'nothing observed yet',
    { observations: [], breaker: undefined, lastPing: undefined, lastCheck: undefined },
    'reachable',
    'no observations yet',
  ],
  ['ping and check answer, no traffic', input({}), 'reachable', 'answering'],
  [
    'fast answers',
    input({ observations: [...answers(18, 120), ...failures(2)] }),
    'reachable',
    'p95 120 ms; error rate 10%',
  ],
  [
    'breaker open after failures',
    input({
      breaker: {
        status: 'open',
        openCause: 'failures',
        openReason: '3 consecutive failures (last: timeout)',
      },
    }),
    'unreachable',
    'circuit open: 3 consecutive failures (last: timeout)',
  ],
  [
    'breaker half-open after failures (probe in flight)',
    input({
      breaker: { status: 'half-open', openCause: 'failures', openReason: 'probe failed: dns' },
    }),
    'unreachable',
    'circuit half-open: probe failed: dns',
  ],
  [
    'the last liveness ping failed',
    input({ lastPing: { kind: 'unreachable', atMs: T, reason: 'connect' } }),
    'unreachable',
    'ping failed: connect',
  ],
  [
    'the last ping got a 404 page (not an Auth API)',
    input({ lastPing: { kind: 'invalid', atMs: T, httpStatus: 404 } }),
    'unreachable',
    'ping failed: HTTP 404',
  ],
  [
    'the last check got a server error',
    input({ lastCheck: { kind: 'unreachable', atMs: T, reason: 'server-error' } }),
    'unreachable',
    'check failed: server-error',
  ],
  [
    'the last failureThreshold calls failed (breaker off)',
    input({ breaker: undefined, observations: [...answers(10), ...failures(3, 'connect')] }),
    'unreachable',
    '3 consecutive failures (last: connect)',
  ],
  [
    'ping, check and the last calls all failed (breaker off)',
    input({
      breaker: undefined,
      lastPing: { kind: 'unreachable', atMs: T, reason: 'timeout' },
      lastCheck: { kind: 'unreachable', atMs: T, reason: 'timeout' },
      observations: failures(4),
    }),
    'unreachable',
    'ping failed: timeout; check failed: timeout; 4 consecutive failures (last: timeout)',
  ],
  [
    'every unreachable finding at once, all listed',
    input({
      breaker: { status: 'open', openCause: 'failures', openReason: 'x' },
      lastPing: { kind: 'unreachable', atMs: T, reason: 'tls' },
      observations: failures(3),
    }),
    'unreachable',
    // The trailing failures are the breaker's own count: not listed twice.
    'circuit open: x; ping failed: tls',
  ],
  [
    'check rejected: wrong ikey/skey',
    input({ lastCheck: { kind: 'rejected', atMs: T, code: 40103, message: 'Invalid signature' } }),
    'degraded',
    'check rejected: 40103',
  ],
  [
    'check answered with something that is not the Auth API',
    input({ lastCheck: { kind: 'invalid', atMs: T, httpStatus: 302 } }),
    'degraded',
    'check invalid: HTTP 302',
  ],
  [
    'p95 over the threshold',
    input({ observations: [...answers(9, 200), ...answers(11, 4_200)] }),
    'degraded',
    'p95 4200 ms > 3000 ms',
  ],
  [
    'breaker open for latency: slow, but answering',
    input({
      breaker: { status: 'open', openCause: 'latency', openReason: 'p95 4200 ms > 3000 ms' },
      observations: answers(10, 4_200),
    }),
    'degraded',
    'circuit open: p95 4200 ms > 3000 ms; p95 4200 ms > 3000 ms',
  ],
  [
    'error rate over 20 %',
    input({ observations: [...failures(2), ...answers(3), ...failures(2), ...answers(3)] }),
    'degraded',
    'error rate 40% > 20%',
  ],
  [
    'error rate exactly 20 % is not over it',
    input({ observations: [...failures(2), ...answers(8)] }),
    'reachable',
    'p95 100 ms; error rate 20%',
  ],
  [
    'slow, but fewer than minSamples answers',
    input({ observations: answers(9, 9_000) }),
    'reachable',
    'p95 9000 ms; error rate 0%',
  ],
  [
    'errors, but fewer than minSamples observations',
    input({ observations: [...failures(2), ...answers(1), ...failures(2), ...answers(1)] }),
    'reachable',
    'p95 100 ms; error rate 67%',
  ],
  [
    'push answers carry no latency and do not count towards p95',
    input({ observations: [...unmeasured(12), ...answers(2, 9_000)] }),
    'reachable',
    'p95 9000 ms; error rate 0%',
  ],
  [
    'slow, erroring and rejected: degraded, all listed',
    input({
      lastCheck: { kind: 'rejected', atMs: T, message: 'Forbidden' },
      observations: [...failures(3), ...answers(10, 5_000)],
    }),
    'degraded',
    'check rejected: Forbidden; p95 5000 ms > 3000 ms; error rate 23% > 20%',
  ],
  [
    'unreachable wins over degraded',
    input({
      lastPing: { kind: 'unreachable', atMs: T, reason: 'timeout' },
      observations: answers(20, 9_000),
    }),
    'unreachable',
    'ping failed: timeout',
  ],
];

describe('classifyHostHealth: the table', () => {
  for (const [name, given, status, reason] of TABLE) {
    it(`${name} → ${status} (${reason})`, () => {
      const report = classifyHostHealth(given);
      assert.equal(report.status, status);
      assert.equal(report.reason, reason);
      assert.deepEqual(report.reasons, reason.split('; '));
    });
  }
});

describe('classifyHostHealth: options and figures', () => {
  it('has the documented defaults (the breaker’s latency, samples and threshold; 20 %)', () => {
    assert.deepEqual(HOST_HEALTH_DEFAULTS, {
      degradedLatencyMs: 3_000,
      errorRateThreshold: 0.2,
      minSamples: 10,
      failureThreshold: 3,
    });
  });

  it('takes its thresholds from the options', () => {
    const given = input({ observations: [...answers(3, 400), ...failures(1)] });
    assert.equal(classifyHostHealth(given).status, 'reachable');
    const report = classifyHostHealth(given, {
      degradedLatencyMs: 300,
      minSamples: 3,
      errorRateThreshold: 0.1,
    });
    assert.equal(report.status, 'degraded');
    assert.equal(report.reason, 'p95 400 ms > 300 ms; error rate 25% > 10%');
  });

  it('never marks a host degraded for latency when degradedLatencyMs is 0', () => {
    const report = classifyHostHealth(input({ observations: answers(20, 60_000) }), {
      degradedLatencyMs: 0,
    });
    assert.equal(report.status, 'reachable');
  });

  it('reports p95, error rate and sample count', () => {
    const report = classifyHostHealth(input({ observations: [...answers(3, 10), ...failures(1)] }));
    assert.equal(report.p95Ms, 10);
    assert.equal(report.errorRate, 0.25);
    assert.equal(report.samples, 4);
  });

  it('counts only the trailing run of failures as consecutive', () => {
    const report = classifyHostHealth(
      input({ breaker: undefined, observations: [...failures(2), ...answers(1), ...failures(2)] }),
    );
    assert.notEqual(report.status, 'unreachable');
  });
});
