// Health of one Auth API host (reachable | degraded | unreachable, with the reason), from its recent observations.
//
// The terms of docs/design/goals-and-terms.md §3: *unreachable* = cannot be reached, or answers
// with a server error, within the deadline (failmode applies); *degraded* = answers, but slowly,
// with errors, or in a way a login cannot complete (failmode does not apply). Pure: the client
// records, this classifies.
import {
  latencyP95Ms,
  BREAKER_DEFAULTS,
  type BreakerOpenCause,
  type BreakerStatus,
} from './circuit-breaker.ts';
import type { UnreachableReason } from './failmode-decision.ts';

export const HOST_HEALTH_STATUSES = ['reachable', 'degraded', 'unreachable'] as const;
export type HostHealthStatus = (typeof HOST_HEALTH_STATUSES)[number];

export interface HostHealthOptions {
  /** p95 latency over the window above which the host is degraded; 0 = off. */
  degradedLatencyMs: number;
  /** Share (0–1) of unreachable-class outcomes in the window above which the host is degraded. */
  errorRateThreshold: number;
  /** Observations needed before the p95 or the error rate is judged. */
  minSamples: number;
  /** Trailing consecutive failures that make the host unreachable (also with the breaker off). */
  failureThreshold: number;
}

export const HOST_HEALTH_DEFAULTS: Readonly<HostHealthOptions> = Object.freeze({
  degradedLatencyMs: BREAKER_DEFAULTS.degradedLatencyMs,
  errorRateThreshold: 0.2,
  minSamples: BREAKER_DEFAULTS.minSamples,
  failureThreshold: BREAKER_DEFAULTS.failureThreshold,
});

/** The health monitor's default period: `ping` and `check` each host every 10 s (0 = off). */
export const DEFAULT_HEALTH_CHECK_INTERVAL_MS = 10_000;

/** One call to the host: it answered (any HTTP answer that is not a server error), or it failed. */
export type HostObservation =
  | {
      readonly atMs: number;
      readonly answered: true;
      /** Undefined when the time measures someone else (a push waiting on the user). */
      readonly latencyMs: number | undefined;
    }
  | { readonly atMs: number; readonly answered: false; readonly reason: UnreachableReason };

/** The last `ping` or `check`, summarized. */
export type ProbeOutcome =
  | { readonly kind: 'ok'; readonly atMs: number; readonly latencyMs: number }
  | { readonly kind: 'unreachable'; readonly atMs: number; readonly reason: UnreachableReason }
  | {
      readonly kind: 'rejected';
      readonly atMs: number;
      readonly code?: number | undefined;
      readonly message: string;
    }
  | { readonly kind: 'invalid'; readonly atMs: number; readonly httpStatus: number };

export interface HostHealthInput {
  /** The latest observations, oldest first (the client keeps a bounded window). */
  readonly observations: readonly HostObservation[];
  /** Undefined when the breaker is disabled. */
  readonly breaker:
    | {
        readonly status: BreakerStatus;
        readonly openCause: BreakerOpenCause | undefined;
        readonly openReason: string | undefined;
      }
    | undefined;
  readonly lastPing: ProbeOutcome | undefined;
  readonly lastCheck: ProbeOutcome | undefined;
}

export interface HostHealthReport {
  readonly status: HostHealthStatus;
  /** Every finding of the deciding status, joined with `; ` (`'p95 4200 ms > 3000 ms'`). */
  readonly reason: string;
  readonly reasons: readonly string[];
  /** Over the window's measured answers; undefined without any. */
  readonly p95Ms: number | undefined;
  /** Unreachable-class share of the window, 0–1; undefined without observations. */
  readonly errorRate: number | undefined;
  readonly samples: number;
}

/**
 * Classifies a host. Unreachable, first match wins in this order of findings (all are listed):
 * the breaker is open or half-open for failures; the last `ping` failed; the last `check` got an
 * unreachable-class outcome; the last `failureThreshold` observations all failed. Else degraded
 * when: the last `check` was rejected (`check rejected: 40103`) or invalid; the breaker is open
 * for latency; p95 > `degradedLatencyMs`; error rate > `errorRateThreshold` (both with at least
 * `minSamples` observations). Else reachable.
 *
 * @example
 * classifyHostHealth({ observations, breaker: undefined, lastPing: { kind: 'unreachable', atMs, reason: 'connect' }, lastCheck: undefined });
 * // => { status: 'unreachable', reason: 'ping failed: connect', … }
 */
export function classifyHostHealth(
  input: HostHealthInput,
  options: Partial<HostHealthOptions> = {},
): HostHealthReport {
  const o = withDefaults(options);
  const { observations, breaker, lastPing, lastCheck } = input;

  // One pass over the window: the proxy classifies its host after every call to the service.
  const measured: number[] = [];
  let failures = 0;
  for (const x of observations) {
    if (!x.answered) failures += 1;
    else if (x.latencyMs !== undefined) measured.push(x.latencyMs);
  }
  const p95Ms = latencyP95Ms(measured);
  const errorRate = observations.length === 0 ? undefined : failures / observations.length;
  const stats = { p95Ms, errorRate, samples: observations.length };

  const unreachable: string[] = [];
  const breakerOpen = breaker !== undefined && breaker.status !== 'closed';
  if (breakerOpen && breaker.openCause !== 'latency') {
    unreachable.push(`circuit ${breaker.status}: ${breaker.openReason ?? 'failures'}`);
  }
  if (lastPing !== undefined && lastPing.kind !== 'ok') {
    unreachable.push(`ping failed: ${describeProbe(lastPing)}`);
  }
  if (lastCheck?.kind === 'unreachable') unreachable.push(`check failed: ${lastCheck.reason}`);
  const trailing = trailingFailures(observations);
  // With the breaker on, an open breaker already says so (it counts the same failures).
  if (trailing.length >= o.failureThreshold && !breakerOpen) {
    const last = trailing[trailing.length - 1];
    unreachable.push(
      `${trailing.length} consecutive failures (last: ${last?.answered === false ? last.reason : '?'})`,
    );
  }
  if (unreachable.length > 0) return report('unreachable', unreachable, stats);

  const degraded: string[] = [];
  if (lastCheck?.kind === 'rejected' || lastCheck?.kind === 'invalid') {
    degraded.push(`check ${lastCheck.kind}: ${describeProbe(lastCheck)}`);
  }
  if (breakerOpen && breaker.openCause === 'latency') {
    degraded.push(`circuit ${breaker.status}: ${breaker.openReason ?? 'slow'}`);
  }
  if (
    o.degradedLatencyMs > 0 &&
    p95Ms !== undefined &&
    measured.length >= o.minSamples &&
    p95Ms > o.degradedLatencyMs
  ) {
    degraded.push(`p95 ${Math.round(p95Ms)} ms > ${o.degradedLatencyMs} ms`);
  }
  if (
    errorRate !== undefined &&
    observations.length >= o.minSamples &&
    errorRate > o.errorRateThreshold
  ) {
    degraded.push(`error rate ${percent(errorRate)} > ${percent(o.errorRateThreshold)}`);
  }
  if (degraded.length > 0) return report('degraded', degraded, stats);

  if (observations.length === 0 && lastPing === undefined && lastCheck === undefined) {
    return report('reachable', ['no observations yet'], stats);
  }
  const summary = [
    p95Ms === undefined ? undefined : `p95 ${Math.round(p95Ms)} ms`,
    errorRate === undefined ? undefined : `error rate ${percent(errorRate)}`,
  ].filter((s): s is string => s !== undefined);
  return report('reachable', summary.length > 0 ? summary : ['answering'], stats);
}

function report(
  status: HostHealthStatus,
  reasons: string[],
  stats: { p95Ms: number | undefined; errorRate: number | undefined; samples: number },
): HostHealthReport {
  return { status, reason: reasons.join('; '), reasons, ...stats };
}

function trailingFailures(observations: readonly HostObservation[]): HostObservation[] {
  let start = observations.length;
  while (start > 0 && observations[start - 1]?.answered === false) start--;
  return observations.slice(start);
}

function describeProbe(p: ProbeOutcome): string {
  switch (p.kind) {
    case 'ok':
      return `ok in ${Math.round(p.latencyMs)} ms`;
    case 'unreachable':
      return p.reason;
    case 'rejected':
      return p.code === undefined ? p.message : String(p.code);
    case 'invalid':
      return `HTTP ${p.httpStatus}`;
  }
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

const HOST_HEALTH_OPTION_KEYS = Object.keys(HOST_HEALTH_DEFAULTS) as (keyof HostHealthOptions)[];

/** The defaults with every option that is set (an option given as undefined keeps its default). */
function withDefaults(options: Partial<HostHealthOptions>): HostHealthOptions {
  const o = { ...HOST_HEALTH_DEFAULTS };
  for (const key of HOST_HEALTH_OPTION_KEYS) {
    const value = options[key];
    if (value !== undefined) o[key] = value;
  }
  return o;
}
