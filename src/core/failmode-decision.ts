// Failmode decision (docs/design/auth-api.md §3.9, §3.10): what an unanswered secondary
// authentication means, with the per-group failmode of the guide's "restrictive" level
// (docs/proxy.md, Per-group failmode).
import { isOneOf } from './closed-set.ts';
import { normalizeDn } from './distinguished-name.ts';

export const FAILMODES = ['safe', 'secure'] as const;
/**
 * `safe` = fail open, `secure` = fail closed (docs/design/goals-and-terms.md §3); Airlock's default
 * is `secure`.
 */
export type Failmode = (typeof FAILMODES)[number];
export const isFailmode = (v: unknown): v is Failmode => isOneOf(FAILMODES, v);

/** The Auth API call the outcome belongs to. */
export const SECOND_FACTOR_STAGES = ['preauth', 'auth'] as const;
export type SecondFactorStage = (typeof SECOND_FACTOR_STAGES)[number];

/**
 * Why the service counts as unreachable (docs/design/auth-api.md §3.9). The first four are network
 * failures; `server-error` is an HTTP 5xx; `malformed` is an HTTP 200 without the fields the
 * endpoint needs.
 */
export const UNREACHABLE_REASONS = [
  'dns',
  'connect',
  'tls',
  'timeout',
  'server-error',
  'malformed',
] as const;
export type UnreachableReason = (typeof UNREACHABLE_REASONS)[number];

/** A summary of what happened upstream; not the whole response. */
export type SecondFactorOutcome =
  /** The service answered with a well-formed response; the caller acts on its `result`. */
  | { kind: 'ok' }
  | { kind: 'unreachable'; reason: UnreachableReason }
  /** A 4xx (or 200) with `stat: FAIL`: bad credentials, signature, parameters, rate limit. */
  | { kind: 'rejected'; code?: number; message: string }
  /** A non-5xx answer that is not JSON or not a Duo envelope. */
  | { kind: 'invalid'; httpStatus: number }
  /** Primary-only mode is on: no Auth API call is made at all. */
  | { kind: 'primary-only' };
export type SecondFactorOutcomeKind = SecondFactorOutcome['kind'];

/** Per-group failmode: the user's directory groups and the section's group lists, all DNs. */
export interface GroupFailmode {
  /** The user's groups from primary authentication; empty when the primary gives none. */
  groups: readonly string[];
  /** `failmode_secure_groups`: members fail secure even where the section fails safe. */
  secureGroups: readonly string[];
  /** `failmode_safe_groups`: members fail safe where the section fails secure. */
  safeGroups: readonly string[];
}

export interface SecondFactorInput {
  stage: SecondFactorStage;
  outcome: SecondFactorOutcome;
  /** The section's failmode. */
  failmode: Failmode;
  /** Absent: the section's failmode applies to everyone. */
  groupFailmode?: GroupFailmode | undefined;
  // Later: emergency state joins this input.
}

/** Why the effective failmode is what it is. */
export const EFFECTIVE_FAILMODE_REASONS = [
  'section-failmode',
  'group-failmode-secure',
  'group-failmode-safe',
] as const;
export type EffectiveFailmodeReason = (typeof EFFECTIVE_FAILMODE_REASONS)[number];

export interface EffectiveFailmode {
  failmode: Failmode;
  reason: EffectiveFailmodeReason;
  /** The configured group DN (as written in the config) that changed the failmode. */
  group?: string;
}

export const SECOND_FACTOR_ACTIONS = ['allow', 'deny', 'proceed'] as const;
export type SecondFactorAction = (typeof SECOND_FACTOR_ACTIONS)[number];

/** Stable reason codes, for auth events and metrics labels. */
export const SECOND_FACTOR_DECISION_REASONS = [
  'service-answered',
  'failmode-safe',
  'failmode-secure',
  'primary-only-safe',
  'primary-only-secure',
  'auth-timeout',
  'auth-network-failure',
  'service-rejected',
  'invalid-response',
] as const;
export type SecondFactorDecisionReason = (typeof SECOND_FACTOR_DECISION_REASONS)[number];

export interface SecondFactorDecision {
  /** `proceed`: the service answered; the caller acts on its `result`. */
  action: SecondFactorAction;
  /** The section's failmode decided the outcome (whether it allowed or denied). */
  failmodeInvoked: boolean;
  /**
   * The service answered, so its result governs the login. Always false when the action is
   * `allow`: an allow from failmode or primary-only mode never checked a second factor.
   */
  secondFactorChecked: boolean;
  /** The log line, worded exactly as the Duo Authentication Proxy writes it where one exists. */
  logMessage: string;
  reason: SecondFactorDecisionReason;
  /** The failmode this user gets: the section's, unless a failmode group changed it. */
  effectiveFailmode: Failmode;
  effectiveFailmodeReason: EffectiveFailmodeReason;
  /** Set when a failmode group changed the failmode: the configured DN that matched. */
  failmodeGroup?: string;
}

/**
 * Log lines of docs/design/auth-api.md §3.9 and §3.10, verbatim: SIEM rules match on these strings.
 */
export const FAILMODE_LOG_MESSAGES = {
  failmodeSafe: 'Failmode Safe - Allowed Duo login on preauth failure',
  failmodeSecure: 'Failmode Secure - Denied Duo login on preauth failure',
  primaryOnlySafe: 'Primary Only Mode - Secondary authentication bypassed',
  authTimeout: 'Denied Duo login due to timeout',
  authFailure: 'Denied Duo login on auth failure',
} as const;

// docs/design/auth-api.md §3.9, auth column: a network failure during /auth always denies (the
// proxy's force_fail_closed): the user may already have been asked to approve, and a retry is
// cheap.
const AUTH_FORCED_CLOSED: ReadonlySet<UnreachableReason> = new Set([
  'dns',
  'connect',
  'tls',
  'timeout',
]);

/**
 * docs/design/auth-api.md §3.9: fail open iff the user's effective failmode (`resolveFailmode`) is
 * `safe` AND (the failure is fail-open-class OR primary-only mode is on). A rejection (4xx) or an
 * invalid answer never allows, in any failmode.
 *
 * @example
 * decideSecondFactor({ stage: 'preauth', outcome: { kind: 'unreachable', reason: 'timeout' }, failmode: 'secure' })
 * // => { action: 'deny', failmodeInvoked: true, secondFactorChecked: false,
 * //      logMessage: 'Failmode Secure - Denied Duo login on preauth failure', reason: 'failmode-secure',
 * //      effectiveFailmode: 'secure', effectiveFailmodeReason: 'section-failmode' }
 */
export function decideSecondFactor(input: SecondFactorInput): SecondFactorDecision {
  const effective = resolveFailmode(input.failmode, input.groupFailmode);
  return {
    ...decideAt(input.stage, input.outcome, effective.failmode),
    effectiveFailmode: effective.failmode,
    effectiveFailmodeReason: effective.reason,
    ...(effective.group === undefined ? {} : { failmodeGroup: effective.group }),
  };
}

/**
 * The failmode one user gets (the guide's "restrictive" level, which Duo can only approximate
 * with bypass groups): a member of a `failmode_secure_groups` group fails secure in a safe
 * section; a member of a `failmode_safe_groups` group fails safe in a secure section unless
 * also in a secure group — a tie never turns a deny into an allow. DNs compare as `normalizeDn`.
 *
 * @example
 * resolveFailmode('safe', { groups: ['CN=Contractors,OU=Groups,DC=example,DC=org'],
 *   secureGroups: ['cn=contractors,ou=groups,dc=example,dc=org'], safeGroups: [] })
 * // => { failmode: 'secure', reason: 'group-failmode-secure', group: 'cn=contractors,ou=groups,dc=example,dc=org' }
 */
export function resolveFailmode(
  failmode: Failmode,
  groupFailmode: GroupFailmode | undefined,
): EffectiveFailmode {
  if (groupFailmode === undefined || groupFailmode.groups.length === 0) {
    return { failmode, reason: 'section-failmode' };
  }
  const member = new Set(groupFailmode.groups.map(normalizeDn));
  const find = (list: readonly string[]) => list.find((dn) => member.has(normalizeDn(dn)));
  const secureGroup = find(groupFailmode.secureGroups);
  if (failmode === 'safe' && secureGroup !== undefined) {
    return { failmode: 'secure', reason: 'group-failmode-secure', group: secureGroup };
  }
  const safeGroup = find(groupFailmode.safeGroups);
  if (failmode === 'secure' && secureGroup === undefined && safeGroup !== undefined) {
    return { failmode: 'safe', reason: 'group-failmode-safe', group: safeGroup };
  }
  return { failmode, reason: 'section-failmode' };
}

type StageDecision = Omit<
  SecondFactorDecision,
  'effectiveFailmode' | 'effectiveFailmodeReason' | 'failmodeGroup'
>;

function decideAt(
  stage: SecondFactorStage,
  outcome: SecondFactorOutcome,
  failmode: Failmode,
): StageDecision {
  switch (outcome.kind) {
    case 'ok':
      return {
        action: 'proceed',
        failmodeInvoked: false,
        secondFactorChecked: true,
        logMessage: `Duo ${stage} answered`,
        reason: 'service-answered',
      };
    case 'primary-only':
      // §3.10: no network call at either stage; safe skips the second factor, secure denies.
      return failmode === 'safe'
        ? failOpen(FAILMODE_LOG_MESSAGES.primaryOnlySafe, 'primary-only-safe')
        : failClosed('primary-only-secure');
    case 'unreachable':
      if (stage === 'auth' && AUTH_FORCED_CLOSED.has(outcome.reason)) {
        return outcome.reason === 'timeout'
          ? deny(FAILMODE_LOG_MESSAGES.authTimeout, 'auth-timeout')
          : deny(FAILMODE_LOG_MESSAGES.authFailure, 'auth-network-failure');
      }
      // Fail-open-class: every reason at preauth; server-error and malformed at auth. The Duo
      // proxy logs the same two lines at both stages, and SIEM rules key on them.
      return failmode === 'safe'
        ? failOpen(FAILMODE_LOG_MESSAGES.failmodeSafe, 'failmode-safe')
        : failClosed('failmode-secure');
    case 'rejected': {
      const code = outcome.code === undefined ? '' : `${outcome.code} `;
      return deny(`Duo ${stage} rejected: ${code}${outcome.message}`, 'service-rejected');
    }
    case 'invalid':
      return deny(
        `Duo ${stage} returned an invalid response (HTTP ${outcome.httpStatus})`,
        'invalid-response',
      );
    default:
      // Unreachable for typed callers; an unknown outcome from an untyped one must not allow.
      return deny(`Duo ${stage}: unknown outcome`, 'invalid-response');
  }
}

function failOpen(logMessage: string, reason: SecondFactorDecisionReason): StageDecision {
  return { action: 'allow', failmodeInvoked: true, secondFactorChecked: false, logMessage, reason };
}

function failClosed(reason: SecondFactorDecisionReason): StageDecision {
  return {
    action: 'deny',
    failmodeInvoked: true,
    secondFactorChecked: false,
    logMessage: FAILMODE_LOG_MESSAGES.failmodeSecure,
    reason,
  };
}

function deny(logMessage: string, reason: SecondFactorDecisionReason): StageDecision {
  return { action: 'deny', failmodeInvoked: false, secondFactorChecked: false, logMessage, reason };
}
