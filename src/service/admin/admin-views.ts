// The JSON shapes of the Admin API (Duo Admin API field names where Duo has the concept).
import type { Finding } from '../../core/advisor.ts';
import type {
  Application,
  AuditEvent,
  BypassCode,
  Device,
  Group,
  OtpToken,
  User,
} from '../../core/model.ts';
import { deviceCapabilities, maskPhoneNumber } from '../../core/device-capabilities.ts';

/** Seconds since the epoch, as Duo's Admin API gives times. */
const seconds = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));

export function groupView(g: Group) {
  return {
    group_id: g.id,
    name: g.name,
    desc: g.description,
    status: g.status,
    created: seconds(g.createdAtMs),
    updated: seconds(g.updatedAtMs),
  };
}

export function userView(u: User, groups?: Group[]) {
  return {
    user_id: u.id,
    username: u.username,
    realname: u.realName,
    email: u.email,
    status: u.status,
    aliases: u.aliases,
    ...(groups ? { groups: groups.map(groupView) } : {}),
    failed_attempts: u.failedAttempts,
    // With `locked out`: when it ends by itself; null = when an administrator unlocks.
    locked_until: seconds(u.lockedUntilMs),
    created: seconds(u.createdAtMs),
    updated: seconds(u.updatedAtMs),
  };
}

export function applicationView(a: Application) {
  // Never the skey: it is shown once, when made or rotated.
  return {
    app_id: a.id,
    name: a.name,
    ikey: a.ikey,
    type: a.type,
    new_user_policy: a.newUserPolicy,
    restriction_level: a.restrictionLevel,
    rate_limit: a.rateLimitPerSecond,
    verified_push: a.verifiedPush,
    username_normalization: a.usernameNormalization,
    allow_v1_signature: a.allowV1Signature,
    groups: a.allowedGroupIds,
    redirect_uris: a.redirectUris,
    remember_device_hours: a.rememberDeviceHours,
    created: seconds(a.createdAtMs),
    updated: seconds(a.updatedAtMs),
  };
}

export function tokenView(t: OtpToken) {
  // Never the secret.
  return {
    token_id: t.id,
    type: t.type,
    name: t.name,
    algorithm: t.algorithm,
    digits: t.digits,
    period: t.type === 'totp' ? t.periodSeconds : null,
    created: seconds(t.createdAtMs),
  };
}

export function bypassCodeView(c: BypassCode) {
  return {
    bypass_code_id: c.id,
    reuse_count: c.remainingUses,
    expiration: seconds(c.expiresAtMs),
    created: seconds(c.createdAtMs),
  };
}

export function deviceView(d: Device) {
  return {
    device_id: d.id,
    name: d.name,
    platform: d.platform,
    number: maskPhoneNumber(d.phoneNumber),
    capabilities: deviceCapabilities(d, { sms: true, phone: true }),
    created: seconds(d.createdAtMs),
    last_seen: seconds(d.lastSeenAtMs),
  };
}

export function auditView(e: AuditEvent) {
  return {
    id: e.id,
    timestamp_ms: e.tsMs,
    actor: e.actor,
    action: e.action,
    target_type: e.targetType,
    target_id: e.targetId,
    app_id: e.appId,
    username: e.username,
    result: e.result,
    ip: e.ip,
    detail: e.detail,
  };
}

export function findingView(f: Finding) {
  return { code: f.code, severity: f.severity, message: f.message };
}
