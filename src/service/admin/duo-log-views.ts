// Airlock's audit events in the shapes of Duo's Admin API logs (authentication v2, administrator
// v1, telephony v1), so SIEM connectors written for Duo read them unchanged (docs/admin-api.md).
import type { Application, AuditEvent } from '../../core/model.ts';

/** The audit actions that end a login: one entry each in the authentication log. */
export const AUTH_LOG_ACTIONS = [
  'auth.preauth',
  'auth.policy',
  'auth.passcode',
  'auth.push',
  'auth.push.fraud',
  'auth.phone',
  'auth.phone.fraud',
] as const;

/** The audit actions of a text message or call sent: the telephony log. */
export const TELEPHONY_LOG_ACTIONS = ['auth.sms', 'auth.phone.call'] as const;

/** Actors of administrator changes: the console or an Admin API key, and the `airlock` commands. */
export const ADMINISTRATOR_ACTOR_PREFIXES = ['admin:', 'adminkey:', 'cli:'] as const;

/** Duo's authentication log `result` values. */
export const AUTH_LOG_RESULTS = ['success', 'denied', 'failure', 'error', 'fraud'] as const;
type AuthLogResult = (typeof AUTH_LOG_RESULTS)[number];

/**
 * Airlock's reasons (policy reasons, passcode check results, out-of-band refusals) as Duo's
 * authentication log reasons. `airlock_reason` keeps Airlock's own word, which says more (an
 * emergency control's bypass, a source past its budget).
 */
const REASONS: Record<string, string> = {
  'user-disabled': 'user_disabled',
  'user-locked-out': 'locked_out',
  'user-locked out': 'locked_out',
  'user-deleted': 'user_disabled',
  'group-disabled': 'user_disabled',
  'not-in-allowed-group': 'user_not_in_permitted_group',
  'group-denied': 'user_not_in_permitted_group',
  'user-bypass': 'bypass_user',
  'group-bypass': 'bypass_user',
  'policy-bypass-group': 'bypass_user',
  'emergency-bypass-group': 'bypass_user',
  'new-user-enroll': 'deny_unenrolled_user',
  'new-user-deny': 'deny_unenrolled_user',
  'new-user-allow': 'allow_unenrolled_user',
  'network-allow': 'trusted_network',
  'network-deny': 'denied_by_policy',
  'invalid-network-rule': 'denied_by_policy',
  'no-allowed-factors': 'factor_restricted',
  'factor-not-allowed': 'factor_restricted',
  mismatch: 'invalid_passcode',
  replayed: 'invalid_passcode',
  malformed: 'invalid_passcode',
  'source-limited': 'denied_by_policy',
  'login-budget-spent': 'denied_by_policy',
  'wrong-verification-code': 'verification_code_incorrect',
};

const PASSCODE_FACTORS: Record<string, string> = {
  totp: 'passcode',
  hotp: 'hardware_token',
  bypass: 'bypass_code',
  sms: 'sms_passcode',
};

const seconds = (ms: number) => Math.floor(ms / 1000);
const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const NO_LOCATION = { city: '', country: '', state: '' };

/** The Duo result of an authentication event. */
export function authLogResult(e: AuditEvent): AuthLogResult {
  if (e.action.endsWith('.fraud')) return 'fraud';
  if (e.result === 'allow') return 'success';
  if (e.result === 'push_failed') return 'error';
  return 'denied';
}

/** The Duo reason of an authentication event. */
export function authLogReason(e: AuditEvent): string {
  const own = text(e.detail.reason);
  if (own !== null) return REASONS[own] ?? 'denied_by_policy';
  if (e.action.endsWith('.fraud')) return 'user_marked_fraud';
  if (e.action === 'auth.passcode') return e.result === 'allow' ? 'valid_passcode' : 'error';
  if (e.action === 'auth.push' || e.action === 'auth.phone') {
    if (e.result === 'allow') return 'user_approved';
    if (e.result === 'push_failed') return 'error';
    return 'user_denied';
  }
  return e.result === 'allow' ? 'allowed_by_policy' : 'denied_by_policy';
}

/** The Duo factor of an authentication event. */
export function authLogFactor(e: AuditEvent): string {
  switch (e.action) {
    case 'auth.passcode':
      return PASSCODE_FACTORS[String(e.detail.method)] ?? 'passcode';
    case 'auth.push':
    case 'auth.push.fraud':
      return 'duo_push';
    case 'auth.phone':
    case 'auth.phone.fraud':
      return 'phone_call';
    default:
      return e.detail.reason === 'network-allow' ? 'trusted_network' : 'not_available';
  }
}

/** One entry of `GET /admin/v2/logs/authentication`, Duo's field names. */
export function authLogEntry(e: AuditEvent, apps: ReadonlyMap<string, Application>) {
  const app = e.appId === null ? undefined : apps.get(e.appId);
  return {
    access_device: {
      ip: text(e.detail.ipaddr) ?? e.ip,
      hostname: text(e.detail.hostname),
      location: NO_LOCATION,
    },
    alias: '',
    application: { key: app?.ikey ?? e.appId ?? '', name: app?.name ?? '' },
    auth_device: {
      ip: null,
      location: NO_LOCATION,
      name: text(e.detail.deviceId),
    },
    email: '',
    event_type: 'authentication',
    factor: authLogFactor(e),
    isotimestamp: new Date(e.tsMs).toISOString(),
    ood_software: null,
    reason: authLogReason(e),
    result: authLogResult(e),
    timestamp: seconds(e.tsMs),
    trusted_endpoint_status: 'unknown',
    txid: text(e.detail.txid) ?? `airlock-audit-${e.id}`,
    user: { groups: [], key: e.targetType === 'user' ? e.targetId : null, name: e.username ?? '' },
    airlock_reason: text(e.detail.reason),
  };
}

/** One entry of `GET /admin/v1/logs/administrator`: Duo's `user_create` for our `user.create`. */
export function administratorLogEntry(e: AuditEvent) {
  const actor = e.actor.replace(/^(admin|adminkey):/, '');
  const action = e.action.replace(/^application\./, 'integration.').replace(/[.-]/g, '_');
  return {
    action,
    description: JSON.stringify({ ...e.detail, ...(e.result ? { result: e.result } : {}) }),
    object: e.username ?? e.targetId,
    timestamp: seconds(e.tsMs),
    username: actor,
  };
}

/** One entry of `GET /admin/v1/logs/telephony`. */
export function telephonyLogEntry(e: AuditEvent) {
  return {
    context: 'authentication',
    credits: 1,
    phone: text(e.detail.phone) ?? '',
    timestamp: seconds(e.tsMs),
    type: e.action === 'auth.sms' ? 'sms' : 'phone',
  };
}
