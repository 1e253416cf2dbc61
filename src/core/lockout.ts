// Second-factor lockout: how many consecutive failures lock a user out.

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
