// The JSON shapes of the Admin API (Duo Admin API field names where Duo has the concept), typed
// by their declarations in admin-schemas.ts.
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
import type {
  ApplicationView,
  AuditEventView,
  BypassCodeView,
  DeviceView,
  FindingView,
  GroupView,
  TokenView,
  UserView,
} from './admin-schemas.ts';

/** Seconds since the epoch, as Duo's Admin API gives times. */
function seconds(ms: number): number;
function seconds(ms: number | null): number | null;
function seconds(ms: number | null): number | null {
  return ms === null ? null : Math.floor(ms / 1000);
}

export function groupView(g: Group): GroupView {
  return {
    group_id: g.id,
    name: g.name,
    desc: g.description,
    status: g.status,
    created: seconds(g.createdAtMs),
    updated: seconds(g.updatedAtMs),
  };
}

export function userView(u: User, groups?: Group[]): UserView {
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

export function applicationView(a: Application): ApplicationView {
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

export function tokenView(t: OtpToken): TokenView {
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

export function bypassCodeView(c: BypassCode): BypassCodeView {
  return {
    bypass_code_id: c.id,
    reuse_count: c.remainingUses,
    expiration: seconds(c.expiresAtMs),
    created: seconds(c.createdAtMs),
  };
}

export function deviceView(d: Device): DeviceView {
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

export function auditView(e: AuditEvent): AuditEventView {
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

export function findingView(f: Finding): FindingView {
  return { code: f.code, severity: f.severity, message: f.message };
}
