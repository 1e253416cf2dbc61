// The second factor of a portal login through the Auth API, and what the application's failmode
// makes of an unreachable service: the proxy's classification (summarizeOutcome) and decision
// (decideSecondFactor), so the gateway fails open or closed exactly where the proxy does.
import { summarizeOutcome, type AuthApiClient } from '../client/auth-api-client.ts';
import type { ApiOutcome } from '../client/auth-api-response.ts';
import type { Failmode, SecondFactorDecision } from '../core/failmode-decision.ts';
import { decideSecondFactor, type SecondFactorStage } from '../core/failmode-decision.ts';
import type { PendingDevice } from './session-store.ts';

/** What a second-factor step came to. */
export type SecondFactorStep =
  /** The service let the user in (a checked factor, or its own bypass policy). */
  | { kind: 'allow'; secondFactor: 'otp' | 'push' | 'phone' | 'bypass'; amr: string[] }
  /** The service is unreachable and the app fails safe: in, without a second factor. */
  | { kind: 'failmode-allow'; decision: SecondFactorDecision; cause: string }
  /** The service is unreachable and the app fails secure. */
  | { kind: 'failmode-deny'; decision: SecondFactorDecision; cause: string }
  /** The service said no, or answered something that never allows. */
  | { kind: 'deny'; reason: string; message: string }
  | { kind: 'enroll'; url: string | undefined }
  /** Preauth asks for a second factor: these devices can give one (`statusMsg` names degraded ones). */
  | { kind: 'choose'; devices: PendingDevice[]; statusMsg: string }
  /** The passcode was wrong (the login may try again). */
  | { kind: 'retry'; message: string }
  /** A push or phone call is on its way. */
  | { kind: 'push-sent'; txid: string }
  /** SMS passcodes are on their way (the login goes on with a passcode). */
  | { kind: 'sms-sent' }
  /** The service could not send SMS passcodes: another factor may still work. */
  | { kind: 'sms-failed'; message: string }
  /** A push or call is not answered yet. */
  | { kind: 'waiting'; message: string };

export interface SecondFactorContext {
  api: AuthApiClient;
  failmode: Failmode;
  username: string;
  ipaddr: string;
  /** Primary-only mode is on (the emergency switch): no Auth API call at all. */
  primaryOnly: boolean;
}

/** `/preauth`: who the user is to the service, and what to ask next. */
export async function startSecondFactor(ctx: SecondFactorContext): Promise<SecondFactorStep> {
  if (ctx.primaryOnly) {
    // docs/design/auth-api.md §3.10: safe skips the second factor, secure denies; nothing is sent.
    const decision = decideSecondFactor({
      stage: 'preauth',
      outcome: { kind: 'primary-only' },
      failmode: ctx.failmode,
    });
    return decision.action === 'allow'
      ? { kind: 'failmode-allow', decision, cause: 'primary-only' }
      : { kind: 'failmode-deny', decision, cause: 'primary-only' };
  }
  const outcome = await ctx.api.preauth({ username: ctx.username, ipaddr: ctx.ipaddr });
  const settled = settle(ctx, 'preauth', outcome);
  if (settled || outcome.kind !== 'ok') return settled ?? denyUnknown();
  const pre = outcome.response;
  switch (pre.result) {
    case 'allow':
      return { kind: 'allow', secondFactor: 'bypass', amr: ['pwd'] };
    case 'deny':
      return { kind: 'deny', reason: 'preauth-deny', message: pre.status_msg };
    case 'enroll':
      return { kind: 'enroll', url: pre.enroll_portal_url };
    case 'auth':
      return {
        kind: 'choose',
        statusMsg: pre.status_msg,
        devices: (pre.devices ?? []).map((d) => ({
          device: d.device,
          name: d.display_name ?? d.name ?? d.device,
          capabilities: d.capabilities,
        })),
      };
  }
}

/** `/auth` with a passcode. */
export async function checkPasscode(
  ctx: SecondFactorContext,
  passcode: string,
): Promise<SecondFactorStep> {
  const outcome = await ctx.api.auth({
    username: ctx.username,
    ipaddr: ctx.ipaddr,
    factor: 'passcode',
    passcode,
  });
  const settled = settle(ctx, 'auth', outcome);
  if (settled || outcome.kind !== 'ok') return settled ?? denyUnknown();
  return outcome.response.result === 'allow'
    ? { kind: 'allow', secondFactor: 'otp', amr: ['pwd', 'otp', 'mfa'] }
    : { kind: 'retry', message: outcome.response.status_msg };
}

/** `/auth` async push or phone call to one device; the answer is read with `outOfBandResult`. */
export async function startOutOfBand(
  ctx: SecondFactorContext,
  factor: 'push' | 'phone',
  device: string,
): Promise<SecondFactorStep> {
  const outcome = await ctx.api.auth({
    username: ctx.username,
    ipaddr: ctx.ipaddr,
    factor,
    device,
    async: true,
  });
  const settled = settle(ctx, 'auth', outcome);
  if (settled || outcome.kind !== 'ok') return settled ?? denyUnknown();
  return { kind: 'push-sent', txid: outcome.response.txid };
}

/**
 * `/auth` factor=sms: the service texts a batch of passcodes and answers `deny` with status `sent`
 * (Duo's wire protocol); the login then goes on with one of them as a passcode.
 */
export async function sendSmsPasscodes(
  ctx: SecondFactorContext,
  device: string,
): Promise<SecondFactorStep> {
  const outcome = await ctx.api.auth({
    username: ctx.username,
    ipaddr: ctx.ipaddr,
    factor: 'sms',
    device,
  });
  const settled = settle(ctx, 'auth', outcome);
  if (settled || outcome.kind !== 'ok') return settled ?? denyUnknown();
  const r = outcome.response;
  if (r.result === 'deny' && r.status === 'sent') return { kind: 'sms-sent' };
  return { kind: 'sms-failed', message: r.status_msg };
}

/** `/auth_status` of a push or call: allow, deny, or still waiting. */
export async function outOfBandResult(
  ctx: SecondFactorContext,
  txid: string,
  factor: 'push' | 'phone',
): Promise<SecondFactorStep> {
  const outcome = await ctx.api.authStatus(txid);
  // /auth_status long-polls until the answer changes: running out of time there means "no answer
  // yet", never an allow. The login itself still expires at login_timeout_seconds.
  if (outcome.kind === 'unreachable' && outcome.reason === 'timeout') {
    return { kind: 'waiting', message: '' };
  }
  const settled = settle(ctx, 'auth', outcome);
  if (settled || outcome.kind !== 'ok') return settled ?? denyUnknown();
  const r = outcome.response;
  if (r.result === 'allow') {
    // RFC 8176: `swk` (a key held by the device) for push, `tel` for a confirming phone call.
    return factor === 'push'
      ? { kind: 'allow', secondFactor: 'push', amr: ['pwd', 'swk', 'mfa'] }
      : { kind: 'allow', secondFactor: 'phone', amr: ['pwd', 'tel', 'mfa'] };
  }
  if (r.result === 'waiting') return { kind: 'waiting', message: r.status_msg };
  return { kind: 'deny', reason: `${factor}-${r.status}`, message: r.status_msg };
}

/**
 * The step when the outcome alone decides (failmode or a rejection); undefined when the service
 * answered and its result governs.
 */
function settle(
  ctx: SecondFactorContext,
  stage: SecondFactorStage,
  outcome: ApiOutcome<unknown>,
): SecondFactorStep | undefined {
  const decision = decideSecondFactor({
    stage,
    outcome: summarizeOutcome(outcome),
    failmode: ctx.failmode,
  });
  if (decision.action === 'proceed') return undefined;
  const cause = outcome.kind === 'unreachable' ? outcome.reason : outcome.kind;
  if (decision.failmodeInvoked) {
    return decision.action === 'allow'
      ? { kind: 'failmode-allow', decision, cause }
      : { kind: 'failmode-deny', decision, cause };
  }
  // A deny that is not failmode's: a rejection, an invalid answer, a network failure at /auth.
  return { kind: 'deny', reason: decision.reason, message: decision.logMessage };
}

function denyUnknown(): SecondFactorStep {
  return { kind: 'deny', reason: 'invalid-response', message: 'unexpected answer' };
}
