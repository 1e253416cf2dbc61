// Primary-only mode: an emergency switch with a bounded lifetime (docs/design/auth-api.md §3.10,
// docs/design/goals-and-terms.md §3).

export const PRIMARY_ONLY_DEFAULT_MINUTES = 60;
export const PRIMARY_ONLY_MAX_MINUTES = 240;

/** What is persisted when an admin switches primary-only mode on. */
export interface PrimaryOnlyRecord {
  enabledAtMs: number;
  expiresAtMs: number;
  actor: string;
  reason: string;
}

export type PrimaryOnlyState =
  | { active: true; record: PrimaryOnlyRecord; remainingMs: number }
  | { active: false; expiredRecord: PrimaryOnlyRecord | undefined };

/** Whether the mode is on at `nowMs`; it ends by itself at `expiresAtMs`. */
export function primaryOnlyState(
  record: PrimaryOnlyRecord | undefined,
  nowMs: number,
): PrimaryOnlyState {
  if (!record) return { active: false, expiredRecord: undefined };
  if (nowMs >= record.expiresAtMs || nowMs < record.enabledAtMs)
    return { active: false, expiredRecord: record };
  return { active: true, record, remainingMs: record.expiresAtMs - nowMs };
}

/** Validates the requested duration; the guide's limit is four hours. */
export function validatePrimaryOnlyMinutes(minutes: number): string | undefined {
  if (!Number.isInteger(minutes) || minutes < 1)
    return 'minutes must be a whole number from 1 to 240';
  if (minutes > PRIMARY_ONLY_MAX_MINUTES)
    return 'primary-only mode must be set for no more than 4 hours (240 minutes)';
  return undefined;
}

export function newPrimaryOnlyRecord(input: {
  nowMs: number;
  minutes: number;
  actor: string;
  reason: string;
}): PrimaryOnlyRecord {
  const problem = validatePrimaryOnlyMinutes(input.minutes);
  if (problem) throw new RangeError(problem);
  if (input.reason.trim() === '') throw new RangeError('a reason is required');
  return {
    enabledAtMs: input.nowMs,
    expiresAtMs: input.nowMs + input.minutes * 60_000,
    actor: input.actor,
    reason: input.reason.trim(),
  };
}
