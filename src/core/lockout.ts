// Second-factor lockout: how many consecutive failures lock a user out, for how long, and from where.
import type { UserStatus } from './model.ts';

/**
 * docs/design/auth-api.md, Decisions: 10 consecutive failed second-factor attempts lock the user
 * (`locked out`).
 */
export const LOCKOUT_THRESHOLD = 10;

export interface FailedAttemptOutcome {
  /** The new consecutive-failure count to store. */
  failedAttempts: number;
  /** True once the count reaches the threshold: the caller sets the status to `locked out`. */
  lockOut: boolean;
}

/**
 * Counts one more failed second-factor attempt. Primary-password failures never come here: they
 * are the primary authentication's business, and counting them would let anyone who knows a
 * username lock its owner out.
 */
export function recordFailedAttempt(
  failedAttemptsBefore: number,
  threshold: number = LOCKOUT_THRESHOLD,
): FailedAttemptOutcome {
  if (!Number.isSafeInteger(failedAttemptsBefore) || failedAttemptsBefore < 0) {
    throw new RangeError(
      `failedAttempts must be a non-negative integer, got ${failedAttemptsBefore}`,
    );
  }
  if (!Number.isSafeInteger(threshold) || threshold < 1) {
    throw new RangeError(`threshold must be a positive integer, got ${threshold}`);
  }
  const failedAttempts = failedAttemptsBefore + 1;
  return { failedAttempts, lockOut: failedAttempts >= threshold };
}

/**
 * Default of `airlock serve --lockout-duration`: a lockout ends by itself after 15 minutes, so ten
 * wrong passcodes from anyone cost the user a quarter of an hour, not a call to the help desk.
 */
export const DEFAULT_LOCKOUT_DURATION_SECONDS = 15 * 60;

/**
 * When a lockout that begins at `nowMs` ends by itself: `null` for a duration of 0 (until an
 * administrator unlocks the user).
 */
export function lockoutExpiry(nowMs: number, durationSeconds: number): number | null {
  if (!Number.isSafeInteger(durationSeconds) || durationSeconds < 0) {
    throw new RangeError(`lockout duration must be a non-negative integer, got ${durationSeconds}`);
  }
  return durationSeconds === 0 ? null : nowMs + durationSeconds * 1000;
}

/** A user's status as stored: `locked out` may carry the time it ends by itself. */
export interface StoredUserStatus {
  status: UserStatus;
  /** Set only with `locked out`; null = locked out until an administrator unlocks. */
  lockedUntilMs: number | null;
}

/**
 * The status that counts at `nowMs`. The one change it makes: a lockout past its end is over
 * (the user is `active`); the row keeps `locked out` until the next failure, success or unlock
 * writes it. Any other status, and a lockout without an end, is taken as stored.
 *
 * | stored status          | lockedUntilMs      | effective                       |
 * | active/bypass/disabled | (ignored)          | as stored, lockedUntilMs null   |
 * | locked out             | null               | locked out, until unlocked      |
 * | locked out             | T, nowMs < T       | locked out until T              |
 * | locked out             | T, nowMs >= T      | active                          |
 */
export function effectiveUserStatus(stored: StoredUserStatus, nowMs: number): StoredUserStatus {
  if (stored.status !== 'locked out') return { status: stored.status, lockedUntilMs: null };
  if (stored.lockedUntilMs === null) return { status: 'locked out', lockedUntilMs: null };
  return nowMs < stored.lockedUntilMs
    ? { status: 'locked out', lockedUntilMs: stored.lockedUntilMs }
    : { status: 'active', lockedUntilMs: null };
}

/**
 * Where a failed second factor came from: the application that sent it and the end user's IP it
 * passed as `ipaddr` (null when it passed none).
 */
export interface FailureSource {
  appId: string;
  ip: string | null;
}

export interface FailureSourceCount extends FailureSource {
  failures: number;
}

/** How many failure sources a user's row keeps until a success or an unlock clears them. */
export const MAX_RECORDED_FAILURE_SOURCES = 100;

/** Longest `ipaddr` kept: an IPv6 address with a zone fits; a client cannot grow the row. */
const MAX_SOURCE_IP_LENGTH = 64;

/** One line of the user's failure-source list (JSON: an `ipaddr` is the client's text). */
export function encodeFailureSource(source: FailureSource): string {
  const ip = source.ip === null ? null : source.ip.slice(0, MAX_SOURCE_IP_LENGTH);
  return `${JSON.stringify([source.appId, ip])}\n`;
}

/**
 * The sources of a user's failures, with how many each made, in order of first failure: what
 * the audit record of a lockout names. Lines that do not decode are skipped.
 */
export function summarizeFailureSources(encoded: string): FailureSourceCount[] {
  const counts = new Map<string, FailureSourceCount>();
  for (const line of encoded.split('\n')) {
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    if (!Array.isArray(value) || typeof value[0] !== 'string') continue;
    const ip = typeof value[1] === 'string' ? value[1] : null;
    const key = JSON.stringify([value[0], ip]);
    const entry = counts.get(key) ?? { appId: value[0], ip, failures: 0 };
    entry.failures += 1;
    counts.set(key, entry);
  }
  return [...counts.values()];
}
