// Decides whether a user may log in to an application and how: the preauth decision table.
import type { GroupStatus, NewUserPolicy, UserStatus } from './model.ts';

export const PREAUTH_RESULTS = ['auth', 'allow', 'deny', 'enroll'] as const;
export type PreauthResult = (typeof PREAUTH_RESULTS)[number];

/** Why the decision came out as it did; stable strings, used in audit events and `explain`. */
export const PREAUTH_REASONS = [
  'user-disabled',
  'user-locked-out',
  'group-disabled',
  'not-in-allowed-group',
  'user-bypass',
  'group-bypass',
  'enrolled',
  'new-user-enroll',
  'new-user-allow',
  'new-user-deny',
] as const;
export type PreauthReason = (typeof PREAUTH_REASONS)[number];

export interface PreauthInput {
  /** Undefined when the username is unknown to Airlock. */
  user: { status: UserStatus } | undefined;
  /** The user has at least one usable second factor (token, device, unused bypass code). */
  enrolled: boolean;
  /** Every group the user is a member of. */
  groups: readonly { id: string; status: GroupStatus }[];
  application: {
    newUserPolicy: NewUserPolicy;
    /** Groups allowed to use the application; empty = everyone. */
    allowedGroupIds: readonly string[];
  };
}

export interface PreauthDecision {
  result: PreauthResult;
  reason: PreauthReason;
  statusMsg: string;
}

const MESSAGES: Record<PreauthReason, string> = {
  'user-disabled': 'Your account is disabled.',
  'user-locked-out': 'Your account is locked out.',
  'group-disabled': 'Your account is disabled.',
  'not-in-allowed-group': 'You are not allowed to use this application.',
  'user-bypass': 'Allowing user in bypass status.',
  'group-bypass': 'Allowing user in a bypass group.',
  enrolled: 'Account is active',
  'new-user-enroll': 'Enroll an authentication device to proceed',
  'new-user-allow': 'Allowing unknown user',
  'new-user-deny': 'Enrollment is required and not allowed here.',
};

/**
 * The Decisions table of docs/design/auth-api.md: any disabled or locked-out status (the user's,
 * or a group's that gives access to the application) denies; otherwise a bypass status (user or
 * such a group) allows; otherwise an enrolled user must authenticate; otherwise the
 * application's new-user policy decides. A deny always wins over a bypass: a deny must never
 * become an allow.
 */
export function decidePreauth(input: PreauthInput): PreauthDecision {
  const { user, application } = input;
  const restricted = application.allowedGroupIds.length > 0;
  const accessGroups = restricted
    ? input.groups.filter((g) => application.allowedGroupIds.includes(g.id))
    : input.groups;

  if (user?.status === 'disabled') return decision('deny', 'user-disabled');
  if (user?.status === 'locked out') return decision('deny', 'user-locked-out');
  // An unknown user is in no group, so a group-restricted application never lets one through.
  if (restricted && accessGroups.length === 0) return decision('deny', 'not-in-allowed-group');
  if (accessGroups.some((g) => g.status === 'disabled')) return decision('deny', 'group-disabled');

  if (user?.status === 'bypass') return decision('allow', 'user-bypass');
  if (accessGroups.some((g) => g.status === 'bypass')) return decision('allow', 'group-bypass');

  if (user && input.enrolled) return decision('auth', 'enrolled');

  switch (application.newUserPolicy) {
    case 'enroll':
      return decision('enroll', 'new-user-enroll');
    case 'allow':
      return decision('allow', 'new-user-allow');
    case 'deny':
      return decision('deny', 'new-user-deny');
  }
}

function decision(result: PreauthResult, reason: PreauthReason): PreauthDecision {
  return { result, reason, statusMsg: MESSAGES[reason] };
}
