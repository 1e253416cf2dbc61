// Failmode decision (AUTH-API.md §3.9, §3.10): what an unanswered secondary authentication means.

export const FAILMODES = ['safe', 'secure'] as const;
/** `safe` = fail open, `secure` = fail closed (BRIEF.md); Airlock's default is `secure`. */
export type Failmode = (typeof FAILMODES)[number];
export const isFailmode = (v: unknown): v is Failmode =>
  typeof v === 'string' && (FAILMODES as readonly string[]).includes(v);

/** The Auth API call the outcome belongs to. */
export const SECOND_FACTOR_STAGES = ['preauth', 'auth'] as const;
export type SecondFactorStage = (typeof SECOND_FACTOR_STAGES)[number];

/**
 * Why the service counts as unreachable (AUTH-API.md §3.9). The first four are network failures;
 * `server-error` is an HTTP 5xx; `malformed` is an HTTP 200 without the fields the endpoint needs.
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

export interface SecondFactorInput {
  stage: SecondFactorStage;
  outcome: SecondFactorOutcome;
  failmode: Failmode;
  // Later: a per-group failmode override and emergency state join this input.
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
}

/** Log lines of AUTH-API.md §3.9 and §3.10, verbatim: SIEM rules match on these strings. */
export const FAILMODE_LOG_MESSAGES = {
  failmodeSafe: 'Failmode Safe - Allowed Duo login on preauth failure',
  failmodeSecure: 'Failmode Secure - Denied Duo login on preauth failure',
  primaryOnlySafe: 'Primary Only Mode - Secondary authentication bypassed',
  authTimeout: 'Denied Duo login due to timeout',
  authFailure: 'Denied Duo login on auth failure',
} as const;

// AUTH-API.md §3.9, auth column: a network failure during /auth always denies (the proxy's
// force_fail_closed): the user may already have been asked to approve, and a retry is cheap.
const AUTH_FORCED_CLOSED: ReadonlySet<UnreachableReason> = new Set([
  'dns',
  'connect',
  'tls',
  'timeout',
]);

/**
 * AUTH-API.md §3.9: fail open iff failmode is `safe` AND (the failure is fail-open-class OR
 * primary-only mode is on). A rejection (4xx) or an invalid answer never allows, in any failmode.
 *
 * @example
 * decideSecondFactor({ stage: 'preauth', outcome: { kind: 'unreachable', reason: 'timeout' }, failmode: 'secure' })
 * // => { action: 'deny', failmodeInvoked: true, secondFactorChecked: false,
 * //      logMessage: 'Failmode Secure - Denied Duo login on preauth failure', reason: 'failmode-secure' }
 */
export function decideSecondFactor(input: SecondFactorInput): SecondFactorDecision {
  const { stage, outcome, failmode } = input;
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

function failOpen(logMessage: string, reason: SecondFactorDecisionReason): SecondFactorDecision {
  return { action: 'allow', failmodeInvoked: true, secondFactorChecked: false, logMessage, reason };
}

function failClosed(reason: SecondFactorDecisionReason): SecondFactorDecision {
  return {
    action: 'deny',
    failmodeInvoked: true,
    secondFactorChecked: false,
    logMessage: FAILMODE_LOG_MESSAGES.failmodeSecure,
    reason,
  };
}

function deny(logMessage: string, reason: SecondFactorDecisionReason): SecondFactorDecision {
  return { action: 'deny', failmodeInvoked: false, secondFactorChecked: false, logMessage, reason };
}
