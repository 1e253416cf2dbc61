// Circuit breaker for one Auth API host (closed → open → half-open): a pure state machine, no timers.
//
// The caller owns the state value and replaces it with the `state` each function returns. Time is
// an input (`nowMs`), so a FixedClock drives every transition in tests.
import type { UnreachableReason } from './failmode-decision.ts';

export const BREAKER_STATUSES = ['closed', 'open', 'half-open'] as const;
/**
 * `closed`: requests flow. `open`: no request is allowed until `retryAtMs`. `half-open`: the one
 * probe is in flight; its result closes or re-opens the breaker.
 */
export type BreakerStatus = (typeof BREAKER_STATUSES)[number];

/** Why the breaker (last) opened: unreachable-class failures, or a p95 latency over the threshold. */
export const BREAKER_OPEN_CAUSES = ['failures', 'latency'] as const;
export type BreakerOpenCause = (typeof BREAKER_OPEN_CAUSES)[number];

export interface BreakerOptions {
  /** Consecutive unreachable-class failures that open the breaker. */
  failureThreshold: number;
  /** First open period; doubled after each failed probe. */
  openMs: number;
  /** Cap of the doubled open period; also how long a probe may stay unreported before it counts as lost. */
  maxOpenMs: number;
  /** p95 latency above which the breaker opens (with `minSamples` samples); 0 = never on latency. */
  degradedLatencyMs: number;
  /** Latency samples kept: the last N answers (a count, not a time window). */
  latencyWindow: number;
  /** Samples needed before the p95 may open the breaker. */
  minSamples: number;
}

/** Documented in docs/outage-engine.md; the proxy's authproxy.cfg defaults derive from these. */
export const BREAKER_DEFAULTS: Readonly<BreakerOptions> = Object.freeze({
  failureThreshold: 3,
  openMs: 10_000,
  maxOpenMs: 120_000,
  degradedLatencyMs: 3_000,
  latencyWindow: 50,
  minSamples: 10,
});

export interface BreakerState {
  readonly options: Readonly<BreakerOptions>;
  readonly status: BreakerStatus;
  /** Unreachable-class failures since the last answer. */
  readonly consecutiveFailures: number;
  /** The reason of the last failure, for messages. */
  readonly lastFailureReason: UnreachableReason | undefined;
  /** Latencies of the latest answers (oldest first); emptied when the breaker closes. */
  readonly latenciesMs: readonly number[];
  /** open/half-open: when the breaker opened (the first time, in this outage). */
  readonly openedAtMs: number | undefined;
  readonly openCause: BreakerOpenCause | undefined;
  /** open/half-open: the transition reason that opened it, e.g. `3 consecutive failures (last: timeout)`. */
  readonly openReason: string | undefined;
  /** The current open period; `openMs` when closed. */
  readonly openPeriodMs: number;
  /** open: the first moment a probe is allowed. */
  readonly retryAtMs: number | undefined;
  /** half-open: when the probe was handed out. */
  readonly probeStartedAtMs: number | undefined;
}

/** A change of status, for the caller to log (and, in the proxy, to send as a webhook). */
export interface BreakerTransition {
  readonly from: BreakerStatus;
  readonly to: BreakerStatus;
  /** Human-readable and stable enough to grep: `3 consecutive failures (last: timeout)`. */
  readonly reason: string;
  readonly atMs: number;
}

/** The next state, and the transition when the status changed. */
export interface BreakerStep {
  readonly state: BreakerState;
  readonly transition: BreakerTransition | undefined;
}

export type BreakerDecision = BreakerStep &
  (
    | {
        readonly allowed: true;
        /** This request is the half-open probe: report its result with `probe: true`. */
        readonly probe: boolean;
      }
    | {
        readonly allowed: false;
        /** When asking again can succeed (open: the end of the open period). */
        readonly retryAtMs: number;
      }
  );

export interface BreakerSuccess {
  nowMs: number;
  /** The answer's latency; undefined when it is no measure of the host (a push waiting on a user). */
  latencyMs?: number | undefined;
  /** This is the result of the probe `breakerAllows` handed out. */
  probe?: boolean;
}

export interface BreakerFailure {
  nowMs: number;
  reason: UnreachableReason;
  probe?: boolean;
}

/**
 * A closed breaker with `options` over the defaults. Throws `RangeError` for options that cannot
 * work (they are validated with the configuration first, so that is a programming error).
 *
 * @example
 * let breaker = createBreakerState({ failureThreshold: 2 });
 * const gate = breakerAllows(breaker, clock.nowMs());
 * breaker = gate.state;
 * if (gate.allowed) breaker = breakerOnFailure(breaker, { nowMs: clock.nowMs(), reason: 'timeout' }).state;
 */
export function createBreakerState(options: Partial<BreakerOptions> = {}): BreakerState {
  const merged: BreakerOptions = { ...BREAKER_DEFAULTS };
  for (const [key, value] of Object.entries(options) as Array<[keyof BreakerOptions, unknown]>) {
    if (value !== undefined) merged[key] = value as number;
  }
  validateOptions(merged);
  return {
    options: Object.freeze(merged),
    status: 'closed',
    consecutiveFailures: 0,
    lastFailureReason: undefined,
    latenciesMs: [],
    openedAtMs: undefined,
    openCause: undefined,
    openReason: undefined,
    openPeriodMs: merged.openMs,
    retryAtMs: undefined,
    probeStartedAtMs: undefined,
  };
}

/**
 * May a request go to the host now? Closed: yes. Open: no until `retryAtMs`; from then the first
 * caller gets the probe (`probe: true`) and the breaker is half-open. Half-open: no, while the
 * probe is in flight; a probe unreported for `maxOpenMs` counts as lost and is handed out again.
 * Keep the returned `state`: it records the probe.
 */
export function breakerAllows(state: BreakerState, nowMs: number): BreakerDecision {
  switch (state.status) {
    case 'closed':
      return { allowed: true, probe: false, state, transition: undefined };
    case 'open': {
      const retryAtMs = state.retryAtMs ?? nowMs;
      if (nowMs < retryAtMs) return { allowed: false, retryAtMs, state, transition: undefined };
      const next: BreakerState = { ...state, status: 'half-open', probeStartedAtMs: nowMs };
      return {
        allowed: true,
        probe: true,
        state: next,
        transition: {
          from: 'open',
          to: 'half-open',
          reason: `open for ${state.openPeriodMs} ms: probing`,
          atMs: nowMs,
        },
      };
    }
    case 'half-open': {
      const leaseEndMs = (state.probeStartedAtMs ?? nowMs) + state.options.maxOpenMs;
      if (nowMs < leaseEndMs) {
        return { allowed: false, retryAtMs: leaseEndMs, state, transition: undefined };
      }
      // The probe never reported (a caller bug or a lost promise): hand out a new one rather
      // than stay half-open for ever.
      return {
        allowed: true,
        probe: true,
        state: { ...state, probeStartedAtMs: nowMs },
        transition: undefined,
      };
    }
  }
}

/**
 * The host answered (`ok`, and also `rejected`/`invalid`: an answer means the host is up). Resets
 * the failure count and records the latency. Closed: opens when the p95 of at least `minSamples`
 * samples exceeds `degradedLatencyMs`. Half-open, the probe: closes, unless the probe itself was
 * slower than `degradedLatencyMs` (then re-opens with backoff). Any other result while open or
 * half-open (a request sent before the breaker opened) changes no status.
 */
export function breakerOnSuccess(state: BreakerState, success: BreakerSuccess): BreakerStep {
  const { nowMs, latencyMs } = success;
  const { options } = state;
  const measured =
    latencyMs !== undefined && Number.isFinite(latencyMs) ? Math.max(0, latencyMs) : undefined;
  if (state.status === 'half-open' && success.probe === true) {
    if (measured !== undefined && isSlow(measured, options)) {
      return reopen(
        state,
        nowMs,
        'latency',
        `probe answered in ${Math.round(measured)} ms > ${options.degradedLatencyMs} ms`,
      );
    }
    return {
      state: {
        ...state,
        status: 'closed',
        consecutiveFailures: 0,
        lastFailureReason: undefined,
        // Judge the recovered host afresh: old slow samples would re-open it at once.
        latenciesMs: measured === undefined ? [] : [measured],
        openedAtMs: undefined,
        openCause: undefined,
        openReason: undefined,
        openPeriodMs: options.openMs,
        retryAtMs: undefined,
        probeStartedAtMs: undefined,
      },
      transition: {
        from: 'half-open',
        to: 'closed',
        reason:
          measured === undefined
            ? 'probe succeeded'
            : `probe succeeded in ${Math.round(measured)} ms`,
        atMs: nowMs,
      },
    };
  }
  const latenciesMs =
    measured === undefined
      ? state.latenciesMs
      : [...state.latenciesMs, measured].slice(-options.latencyWindow);
  // Every answer passes here: Object.assign costs a third of a spread literal on Node 20's V8.
  const next: BreakerState = Object.assign({}, state, {
    consecutiveFailures: 0,
    lastFailureReason: undefined,
    latenciesMs,
  });
  if (state.status !== 'closed') return { state: next, transition: undefined };
  // Sorting the window on every answer is the costly part, and it is only needed when the p95
  // can exceed the threshold: that takes more than 5% of the samples above it.
  const p95 =
    options.degradedLatencyMs > 0 &&
    latenciesMs.length >= options.minSamples &&
    countAbove(latenciesMs, options.degradedLatencyMs) >=
      latenciesMs.length - Math.ceil(0.95 * latenciesMs.length) + 1
      ? latencyP95Ms(latenciesMs)
      : undefined;
  if (p95 !== undefined && p95 > options.degradedLatencyMs) {
    return open(
      next,
      nowMs,
      'latency',
      `p95 ${Math.round(p95)} ms > ${options.degradedLatencyMs} ms over ${latenciesMs.length} answers`,
    );
  }
  return { state: next, transition: undefined };
}

/**
 * An unreachable-class outcome (dns, connect, tls, timeout, server-error, malformed). Closed:
 * opens at `failureThreshold` consecutive failures. Half-open, the probe: re-opens with the open
 * period doubled (capped at `maxOpenMs`). Open: counted, no status change; a breaker opened for
 * latency becomes one opened for failures once the count reaches the threshold.
 */
export function breakerOnFailure(state: BreakerState, failure: BreakerFailure): BreakerStep {
  const { nowMs, reason } = failure;
  const { options } = state;
  const consecutiveFailures = state.consecutiveFailures + 1;
  const counted: BreakerState = { ...state, consecutiveFailures, lastFailureReason: reason };
  const failuresText = `${consecutiveFailures} consecutive ${consecutiveFailures === 1 ? 'failure' : 'failures'} (last: ${reason})`;
  switch (state.status) {
    case 'closed':
      return consecutiveFailures >= options.failureThreshold
        ? open(counted, nowMs, 'failures', failuresText)
        : { state: counted, transition: undefined };
    case 'half-open':
      if (failure.probe === true)
        return reopen(counted, nowMs, 'failures', `probe failed: ${reason}`);
      return { state: upgradeCause(counted, failuresText), transition: undefined };
    case 'open':
      return { state: upgradeCause(counted, failuresText), transition: undefined };
  }
}

/**
 * Nearest-rank 95th percentile (the smallest sample with at least 95 % of samples at or below
 * it); undefined for no samples.
 *
 * @example
 * latencyP95Ms([10, 20, 30]); // 30
 */
export function latencyP95Ms(samplesMs: readonly number[]): number | undefined {
  if (samplesMs.length === 0) return undefined;
  // The answer is the (n - rank + 1)-th largest sample: keep only that many largest ones (3 of a
  // 50-sample window) instead of sorting a copy, on every call to the service.
  const keep = samplesMs.length - Math.ceil(0.95 * samplesMs.length) + 1;
  const largest: number[] = []; // descending
  for (const ms of samplesMs) {
    if (!Number.isFinite(ms)) return sortedP95(samplesMs);
    if (largest.length === keep && ms <= largest[keep - 1]!) continue;
    let i = largest.length === keep ? keep - 1 : largest.length;
    while (i > 0 && largest[i - 1]! < ms) {
      largest[i] = largest[i - 1]!;
      i -= 1;
    }
    largest[i] = ms;
    if (largest.length > keep) largest.length = keep;
  }
  return largest[keep - 1];
}

function sortedP95(samplesMs: readonly number[]): number | undefined {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return sorted[Math.ceil(0.95 * sorted.length) - 1];
}

function isSlow(latencyMs: number, options: BreakerOptions): boolean {
  return options.degradedLatencyMs > 0 && latencyMs > options.degradedLatencyMs;
}

function open(
  state: BreakerState,
  nowMs: number,
  cause: BreakerOpenCause,
  reason: string,
): BreakerStep {
  const period = state.options.openMs;
  return {
    state: {
      ...state,
      status: 'open',
      openedAtMs: nowMs,
      openCause: cause,
      openReason: reason,
      openPeriodMs: period,
      retryAtMs: nowMs + period,
      probeStartedAtMs: undefined,
    },
    transition: {
      from: 'closed',
      to: 'open',
      reason: `${reason}; open for ${period} ms`,
      atMs: nowMs,
    },
  };
}

/** A failed (or slow) probe: open again for twice as long, at most `maxOpenMs`. */
function reopen(
  state: BreakerState,
  nowMs: number,
  cause: BreakerOpenCause,
  reason: string,
): BreakerStep {
  const period = Math.min(state.openPeriodMs * 2, state.options.maxOpenMs);
  return {
    state: {
      ...state,
      status: 'open',
      openCause: cause,
      openReason: reason,
      openPeriodMs: period,
      retryAtMs: nowMs + period,
      probeStartedAtMs: undefined,
    },
    transition: {
      from: 'half-open',
      to: 'open',
      reason: `${reason}; open for ${period} ms`,
      atMs: nowMs,
    },
  };
}

/** Open for latency, then failing too: the host is now unreachable, not merely slow. */
function upgradeCause(state: BreakerState, failuresText: string): BreakerState {
  if (state.openCause !== 'latency' || state.consecutiveFailures < state.options.failureThreshold) {
    return state;
  }
  return { ...state, openCause: 'failures', openReason: failuresText };
}

function validateOptions(o: BreakerOptions): void {
  const positiveInt = (name: keyof BreakerOptions) => {
    if (!Number.isSafeInteger(o[name]) || o[name] < 1) {
      throw new RangeError(`${name} must be a positive integer, got ${o[name]}`);
    }
  };
  positiveInt('failureThreshold');
  positiveInt('openMs');
  positiveInt('maxOpenMs');
  positiveInt('latencyWindow');
  positiveInt('minSamples');
  if (o.maxOpenMs < o.openMs) {
    throw new RangeError(`maxOpenMs (${o.maxOpenMs}) must be at least openMs (${o.openMs})`);
  }
  if (o.minSamples > o.latencyWindow) {
    throw new RangeError(
      `minSamples (${o.minSamples}) must be at most latencyWindow (${o.latencyWindow})`,
    );
  }
  if (!Number.isFinite(o.degradedLatencyMs) || o.degradedLatencyMs < 0) {
    throw new RangeError(`degradedLatencyMs must be 0 (off) or more, got ${o.degradedLatencyMs}`);
  }
}

function countAbove(samplesMs: readonly number[], thresholdMs: number): number {
  let n = 0;
  for (const ms of samplesMs) if (ms > thresholdMs) n += 1;
  return n;
}
