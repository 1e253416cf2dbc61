// Health of a delivery factor (SMS, phone, push) per provider: healthy | degraded, from a sliding window of deliveries.
//
// *Degraded* (docs/design/goals-and-terms.md §3): it answers, but slowly or with errors. Here: the
// provider fails too many deliveries, or accepts them too slowly. Degraded is advice, never a ban:
// preauth's status_msg, the device capabilities and factor=auto steer users away; users can still
// choose the factor. Pure: the caller records outcomes with the time, this classifies. Hysteresis:
// degraded as soon as a threshold is crossed; healthy again only after `recoverySamples` good
// deliveries in a row and `recoverySeconds` without a bad one (or once every bad delivery has left
// the window).
import { isOneOf } from './closed-set.ts';

export const FACTOR_HEALTH_STATES = ['healthy', 'degraded'] as const;
export type FactorHealthState = (typeof FACTOR_HEALTH_STATES)[number];

export const DELIVERY_OUTCOMES = ['delivered', 'failed'] as const;
/** `delivered`: the provider accepted the message or call; `failed`: a `ProviderError`. */
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** The factors of the Auth API a user can be steered between. */
export const AUTH_FACTORS = ['push', 'phone', 'sms', 'passcode'] as const;
export type AuthFactor = (typeof AUTH_FACTORS)[number];
export const isAuthFactor = (v: unknown): v is AuthFactor => isOneOf(AUTH_FACTORS, v);

export interface FactorHealthOptions {
  /** The most recent deliveries kept. */
  windowSize: number;
  /** Deliveries older than this leave the window. */
  windowSeconds: number;
  /** Deliveries in the window needed before the failure rate or p95 is judged. */
  minSamples: number;
  /** Share (0–1) of failed deliveries above which the factor is degraded. */
  maxFailureRate: number;
  /** p95 of the provider's accept latency above which the factor is degraded; 0 = off. */
  maxP95LatencyMs: number;
  /** Good deliveries in a row (not failed, not slower than `maxP95LatencyMs`) needed to recover. */
  recoverySamples: number;
  /** Time without a bad delivery needed to recover. */
  recoverySeconds: number;
}

export const FACTOR_HEALTH_DEFAULTS: Readonly<FactorHealthOptions> = Object.freeze({
  windowSize: 50,
  windowSeconds: 900,
  minSamples: 5,
  maxFailureRate: 0.25,
  maxP95LatencyMs: 5000,
  recoverySamples: 3,
  recoverySeconds: 60,
});

export interface FactorHealthReport {
  readonly state: FactorHealthState;
  /** Why, for people: `failure rate 60% > 25% over 10 deliveries`. */
  readonly reason: string;
  /** Failed share of the window, 0–1; undefined when it is empty. */
  readonly failureRate: number | undefined;
  /** p95 accept latency of the window's delivered messages; undefined without any. */
  readonly p95LatencyMs: number | undefined;
  /** Deliveries in the window. */
  readonly samples: number;
  /** When the current state began; undefined while healthy since the start. */
  readonly sinceMs: number | undefined;
}

/**
 * One (factor, provider)'s health. `record` each delivery attempt, read `state` when needed; both
 * take the time, so a test drives it with a `FixedClock`. O(log n + n) per record (n ≤
 * `windowSize`, a memmove at worst), O(1) per read: the p95 comes from a sorted copy kept up to date.
 *
 * @example
 * const health = new FactorHealth({ maxFailureRate: 0.2 });
 * health.record('failed', 10_000, clock.nowMs());
 * health.state(clock.nowMs()); // { state: 'healthy', reason: 'only 1 recent delivery, judged from 5', … }
 */
export class FactorHealth {
  readonly #o: FactorHealthOptions;
  // Ring buffer, oldest at #head.
  readonly #atMs: number[];
  readonly #latencyMs: number[];
  readonly #failed: boolean[];
  readonly #bad: boolean[];
  #head = 0;
  #count = 0;
  /** Latencies of the window's delivered samples, ascending. */
  readonly #sortedLatencyMs: number[] = [];
  #failures = 0;
  #badCount = 0;
  /** Good deliveries at the end of the window, in a row. */
  #goodStreak = 0;
  #lastBadAtMs: number | undefined;
  #nowMs = -Infinity;
  #everRecorded = false;
  #state: FactorHealthState = 'healthy';
  #sinceMs: number | undefined;
  #trigger = '';

  constructor(options: Partial<FactorHealthOptions> = {}) {
    this.#o = { ...FACTOR_HEALTH_DEFAULTS, ...stripUndefined(options) };
    const problems = checkFactorHealthOptions(this.#o);
    if (problems.length > 0) throw new RangeError(`factor health: ${problems.join('; ')}`);
    this.#atMs = new Array<number>(this.#o.windowSize).fill(0);
    this.#latencyMs = new Array<number>(this.#o.windowSize).fill(0);
    this.#failed = new Array<boolean>(this.#o.windowSize).fill(false);
    this.#bad = new Array<boolean>(this.#o.windowSize).fill(false);
  }

  /** Records one delivery attempt that ended at `nowMs` after `latencyMs`. */
  record(outcome: DeliveryOutcome, latencyMs: number, nowMs: number): void {
    const now = this.#advance(nowMs);
    if (this.#count === this.#o.windowSize) this.#dropOldest();
    const failed = outcome === 'failed';
    const latency = Math.max(0, latencyMs);
    const bad = failed || (this.#o.maxP95LatencyMs > 0 && latency > this.#o.maxP95LatencyMs);
    const i = (this.#head + this.#count) % this.#o.windowSize;
    this.#atMs[i] = now;
    this.#latencyMs[i] = latency;
    this.#failed[i] = failed;
    this.#bad[i] = bad;
    this.#count++;
    this.#everRecorded = true;
    if (failed) this.#failures++;
    else insertSorted(this.#sortedLatencyMs, latency);
    if (bad) {
      this.#badCount++;
      this.#goodStreak = 0;
      this.#lastBadAtMs = now;
    } else {
      this.#goodStreak++;
    }
    this.#evaluate(now);
  }

  /** The state at `nowMs`; may move it (samples age out, recovery time passes). */
  state(nowMs: number): FactorHealthReport {
    const now = this.#advance(nowMs);
    const findings = this.#evaluate(now);
    return this.#report(now, findings);
  }

  /** Time never runs backwards here: an earlier `nowMs` (clock step) counts as the latest seen. */
  #advance(nowMs: number): number {
    this.#nowMs = Math.max(this.#nowMs, nowMs);
    return this.#nowMs;
  }

  #evaluate(now: number): string[] {
    this.#expire(now);
    const findings = this.#overThresholds();
    if (this.#state === 'healthy') {
      if (findings.length > 0) {
        this.#state = 'degraded';
        this.#sinceMs = now;
        this.#trigger = findings.join('; ');
      }
      return findings;
    }
    const quiet =
      this.#lastBadAtMs === undefined || now - this.#lastBadAtMs >= this.#o.recoverySeconds * 1000;
    const streak = Math.min(this.#goodStreak, this.#count);
    if (quiet && (this.#badCount === 0 || streak >= this.#o.recoverySamples)) {
      // Forget the outage: keep only the good run, or the old failures would degrade it again.
      while (this.#count > streak) this.#dropOldest();
      this.#state = 'healthy';
      this.#sinceMs = now;
      this.#trigger = '';
      return [];
    }
    return findings;
  }

  #overThresholds(): string[] {
    if (this.#count === 0 || this.#count < this.#o.minSamples) return [];
    const findings: string[] = [];
    const rate = this.#failures / this.#count;
    if (rate > this.#o.maxFailureRate) {
      findings.push(
        `failure rate ${percent(rate)} > ${percent(this.#o.maxFailureRate)} over ${plural(this.#count, 'delivery', 'deliveries')}`,
      );
    }
    const p95 = this.#p95();
    if (this.#o.maxP95LatencyMs > 0 && p95 !== undefined && p95 > this.#o.maxP95LatencyMs) {
      findings.push(`p95 ${Math.round(p95)} ms > ${this.#o.maxP95LatencyMs} ms`);
    }
    return findings;
  }

  #report(now: number, findings: string[]): FactorHealthReport {
    const stats = {
      failureRate: this.#count === 0 ? undefined : this.#failures / this.#count,
      p95LatencyMs: this.#p95(),
      samples: this.#count,
      sinceMs: this.#sinceMs,
    };
    return { state: this.#state, reason: this.#reason(now, findings, stats), ...stats };
  }

  #reason(
    now: number,
    findings: string[],
    stats: { failureRate: number | undefined; p95LatencyMs: number | undefined },
  ): string {
    if (this.#state === 'degraded') {
      if (findings.length > 0) return findings.join('; ');
      const agoSeconds =
        this.#lastBadAtMs === undefined ? 0 : Math.floor((now - this.#lastBadAtMs) / 1000);
      return (
        `recovering from ${this.#trigger}: ` +
        `${Math.min(this.#goodStreak, this.#count)} of ${this.#o.recoverySamples} good deliveries in a row, ` +
        `last problem ${agoSeconds} s ago (needs ${this.#o.recoverySeconds} s)`
      );
    }
    if (this.#count === 0) return this.#everRecorded ? 'no recent deliveries' : 'no deliveries yet';
    if (this.#count < this.#o.minSamples) {
      return `only ${plural(this.#count, 'recent delivery', 'recent deliveries')}, judged from ${this.#o.minSamples}`;
    }
    const parts = [
      `failure rate ${percent(stats.failureRate ?? 0)} over ${plural(this.#count, 'delivery', 'deliveries')}`,
    ];
    if (stats.p95LatencyMs !== undefined) parts.push(`p95 ${Math.round(stats.p95LatencyMs)} ms`);
    return parts.join(', ');
  }

  #p95(): number | undefined {
    const sorted = this.#sortedLatencyMs;
    // Same definition as the circuit breaker's latencyP95Ms (nearest rank).
    return sorted.length === 0 ? undefined : sorted[Math.ceil(0.95 * sorted.length) - 1];
  }

  #expire(now: number): void {
    const oldestKeptMs = now - this.#o.windowSeconds * 1000;
    while (this.#count > 0 && (this.#atMs[this.#head] ?? 0) <= oldestKeptMs) this.#dropOldest();
  }

  #dropOldest(): void {
    const i = this.#head;
    if (this.#failed[i] === true) this.#failures--;
    else removeSorted(this.#sortedLatencyMs, this.#latencyMs[i] ?? 0);
    if (this.#bad[i] === true) this.#badCount--;
    this.#head = (this.#head + 1) % this.#o.windowSize;
    this.#count--;
  }
}

/** Every problem with the options, for the config loader and the constructor. */
export function checkFactorHealthOptions(o: FactorHealthOptions): string[] {
  const problems: string[] = [];
  const integer = (key: keyof FactorHealthOptions, min: number, max: number) => {
    const v = o[key];
    if (!Number.isInteger(v) || v < min || v > max) {
      problems.push(`${key}: must be an integer from ${min} to ${max}`);
    }
  };
  integer('windowSize', 1, 10_000);
  integer('windowSeconds', 1, 7 * 24 * 3600);
  integer('minSamples', 1, 10_000);
  integer('maxP95LatencyMs', 0, 600_000);
  integer('recoverySamples', 1, 10_000);
  integer('recoverySeconds', 0, 24 * 3600);
  if (!(o.maxFailureRate >= 0 && o.maxFailureRate < 1)) {
    problems.push('maxFailureRate: must be a number from 0 to below 1');
  }
  if (Number.isInteger(o.minSamples) && o.minSamples > o.windowSize) {
    problems.push('minSamples: must not exceed windowSize');
  }
  if (Number.isInteger(o.recoverySamples) && o.recoverySamples > o.windowSize) {
    problems.push('recoverySamples: must not exceed windowSize');
  }
  return problems;
}

export interface FactorHealthEntry extends FactorHealthReport {
  readonly factor: AuthFactor;
  readonly provider: string;
}

/**
 * The health of every (factor, provider) seen, for the CLI, the JSON endpoint and metrics.
 * Rebuild it when the factors configuration changes, so a replaced provider stops counting.
 */
export class FactorHealthBoard {
  readonly #options: Partial<FactorHealthOptions>;
  readonly #entries = new Map<
    string,
    { factor: AuthFactor; provider: string; health: FactorHealth }
  >();

  constructor(options: Partial<FactorHealthOptions> = {}) {
    // Fails here, not at the first delivery, when the options are unusable.
    new FactorHealth(options);
    this.#options = options;
  }

  record(
    factor: AuthFactor,
    provider: string,
    outcome: DeliveryOutcome,
    latencyMs: number,
    nowMs: number,
  ): void {
    const key = `${factor}\u0000${provider}`;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { factor, provider, health: new FactorHealth(this.#options) };
      this.#entries.set(key, entry);
    }
    entry.health.record(outcome, latencyMs, nowMs);
  }

  /** One entry per (factor, provider) recorded so far, in first-recorded order. */
  report(nowMs: number): FactorHealthEntry[] {
    return [...this.#entries.values()].map(({ factor, provider, health }) => ({
      factor,
      provider,
      ...health.state(nowMs),
    }));
  }

  /** Factors with at least one degraded provider, in `AUTH_FACTORS` order. */
  degradedFactors(nowMs: number): AuthFactor[] {
    const degraded = new Set(
      this.report(nowMs)
        .filter((e) => e.state === 'degraded')
        .map((e) => e.factor),
    );
    return AUTH_FACTORS.filter((f) => degraded.has(f));
  }
}

const SUBJECTS: Readonly<Record<AuthFactor, { text: string; plural: boolean }>> = {
  push: { text: 'push', plural: false },
  phone: { text: 'phone calls', plural: true },
  sms: { text: 'SMS', plural: false },
  passcode: { text: 'passcodes', plural: true },
};

const ALTERNATIVES: Readonly<Record<AuthFactor, string>> = {
  push: 'push',
  phone: 'a phone call',
  sms: 'SMS',
  passcode: 'a passcode',
};

/**
 * The status_msg line that steers a user away from degraded factors they could use; undefined
 * when none of their factors is degraded.
 *
 * @example
 * steerAwayMessage(['sms'], ['push', 'sms', 'passcode']); // 'SMS is having problems — use push or a passcode.'
 */
export function steerAwayMessage(
  degradedFactors: readonly AuthFactor[],
  availableFactors: readonly AuthFactor[],
): string | undefined {
  const available = AUTH_FACTORS.filter((f) => availableFactors.includes(f));
  const affected = available.filter((f) => degradedFactors.includes(f));
  if (affected.length === 0) return undefined;
  const others = available.filter((f) => !degradedFactors.includes(f));
  const subject = joinWords(
    affected.map((f) => SUBJECTS[f].text),
    'and',
  );
  const verb = affected.length > 1 || SUBJECTS[affected[0] ?? 'sms'].plural ? 'are' : 'is';
  const advice =
    others.length === 0
      ? 'expect delays'
      : `use ${joinWords(
          others.map((f) => ALTERNATIVES[f]),
          'or',
        )}`;
  return `${subject.charAt(0).toUpperCase()}${subject.slice(1)} ${verb} having problems — ${advice}.`;
}

/**
 * `factors` with the degraded ones moved to the end, order otherwise kept: the order for the
 * devices' capabilities and the pick of factor=auto (first capable, now first healthy).
 *
 * @example
 * steerFactors(['auto', 'sms', 'push'], ['sms']); // ['auto', 'push', 'sms']
 */
export function steerFactors<T extends string>(
  factors: readonly T[],
  degradedFactors: readonly string[],
): T[] {
  const degraded = factors.filter((f) => degradedFactors.includes(f));
  return [...factors.filter((f) => !degradedFactors.includes(f)), ...degraded];
}

function joinWords(words: readonly string[], conjunction: 'and' | 'or'): string {
  if (words.length <= 1) return words[0] ?? '';
  return `${words.slice(0, -1).join(', ')} ${conjunction} ${words[words.length - 1]}`;
}

function insertSorted(sorted: number[], value: number): void {
  sorted.splice(lowerBound(sorted, value), 0, value);
}

function removeSorted(sorted: number[], value: number): void {
  const i = lowerBound(sorted, value);
  if (sorted[i] === value) sorted.splice(i, 1);
}

/** The first index whose value is ≥ `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
