// The Admin API's objects, one TypeBox declaration each: the views' types (admin-views.ts), the
// routes' response serializers and the OpenAPI document's components all come from them.
import Type, { type Static, type TSchema } from 'typebox';
import { USERNAME_NORMALIZATIONS } from '../../core/username.ts';
import {
  APPLICATION_TYPES,
  DEVICE_CAPABILITIES,
  DEVICE_PLATFORMS,
  GROUP_STATUSES,
  NEW_USER_POLICIES,
  OTP_ALGORITHMS,
  RESTRICTION_LEVELS,
  TOKEN_TYPES,
  USER_STATUSES,
} from '../../core/model.ts';
import { closedSet, EpochSeconds, nullable, OpenObject } from '../api-schema.ts';

const str = Type.String();
const nullableStr = nullable(Type.String());

export const Group = Type.Object({
  group_id: str,
  name: str,
  desc: nullableStr,
  status: closedSet(GROUP_STATUSES),
  created: EpochSeconds,
  updated: EpochSeconds,
});

export const User = Type.Object({
  user_id: str,
  username: str,
  realname: nullableStr,
  email: nullableStr,
  status: closedSet(USER_STATUSES),
  aliases: Type.Array(str),
  groups: Type.Optional(Type.Array(Group)),
  failed_attempts: Type.Integer(),
  locked_until: nullable(Type.Integer(), {
    description:
      'seconds since the Unix epoch when a `locked out` status ends by itself; null = when an administrator unlocks (or not locked out)',
  }),
  created: EpochSeconds,
  updated: EpochSeconds,
});

const applicationFields = {
  app_id: str,
  name: str,
  ikey: str,
  type: closedSet(APPLICATION_TYPES),
  new_user_policy: closedSet(NEW_USER_POLICIES),
  restriction_level: closedSet(RESTRICTION_LEVELS),
  rate_limit: Type.Integer(),
  verified_push: Type.Boolean(),
  username_normalization: closedSet(USERNAME_NORMALIZATIONS),
  groups: Type.Array(str, { description: 'group ids; empty = every user' }),
  allow_v1_signature: Type.Boolean({
    description: '/rest/v1 accepts signature v1 (Duo Authentication Proxy)',
  }),
  redirect_uris: Type.Array(str, {
    description: 'web-sdk: the redirect URIs an authorize request may name',
  }),
  remember_device_hours: Type.Integer(),
  created: EpochSeconds,
  updated: EpochSeconds,
};
export const Application = Type.Object(applicationFields);
export const ApplicationWithSecret = Type.Object({
  ...applicationFields,
  skey: Type.String({ description: 'shown only in this answer' }),
});

const tokenFields = {
  token_id: str,
  type: closedSet(TOKEN_TYPES),
  name: nullableStr,
  algorithm: closedSet(OTP_ALGORITHMS),
  digits: Type.Integer(),
  period: nullable(Type.Integer(), { description: 'TOTP step in seconds; null for HOTP' }),
  created: EpochSeconds,
};
export const Token = Type.Object(tokenFields);
export const NewTotpToken = Type.Object({
  ...tokenFields,
  secret: Type.String({ description: 'base32; shown only in this answer' }),
  uri: Type.String({ description: 'otpauth:// URI for a QR code' }),
});

export const BypassCode = Type.Object({
  bypass_code_id: str,
  reuse_count: nullable(Type.Integer(), { description: 'uses left; null = unlimited' }),
  expiration: nullable(Type.Integer(), {
    description: 'seconds since the Unix epoch; null = never',
  }),
  created: EpochSeconds,
});

export const Device = Type.Object({
  device_id: str,
  name: str,
  platform: closedSet(DEVICE_PLATFORMS),
  number: Type.String({ description: 'masked: XXX-XXX-0100; empty without a number' }),
  capabilities: Type.Array(closedSet(DEVICE_CAPABILITIES)),
  created: EpochSeconds,
  last_seen: nullable(Type.Integer()),
});

export const Activation = Type.Object({
  activation_code: str,
  activation_url: str,
  activation_barcode: Type.Optional(str),
  expiration: EpochSeconds,
});

export const AuditEvent = Type.Object({
  id: Type.Integer(),
  timestamp_ms: Type.Integer({ description: 'milliseconds since the Unix epoch' }),
  actor: Type.String({
    description: 'admin:<username>, adminkey:<ikey>, cli:<user>, app:<ikey>, system',
  }),
  action: str,
  target_type: nullableStr,
  target_id: nullableStr,
  app_id: nullableStr,
  username: nullableStr,
  result: nullableStr,
  ip: nullableStr,
  detail: OpenObject,
});

export const Finding = Type.Object({
  code: str,
  severity: closedSet(['warning', 'error'] as const),
  message: str,
});

export const Policy = Type.Unsafe<Record<string, unknown>>({
  ...OpenObject,
  description: 'see docs/policies.md',
});
export const EmergencyControl = Type.Unsafe<Record<string, unknown>>({
  ...OpenObject,
  description: 'see docs/policies.md (emergency controls)',
});

export const Deleted = Type.Object({ deleted: Type.Boolean() });

/** The named objects, for OpenAPI's components.schemas and the routes' `ref` / `listOf`. */
export const ADMIN_SCHEMAS = {
  Group,
  User,
  Application,
  ApplicationWithSecret,
  Token,
  NewTotpToken,
  BypassCode,
  Device,
  Activation,
  AuditEvent,
  Finding,
  Policy,
  EmergencyControl,
  Deleted,
} as const satisfies Record<string, TSchema>;
export type AdminSchemaName = keyof typeof ADMIN_SCHEMAS;

export type GroupView = Static<typeof Group>;
export type UserView = Static<typeof User>;
export type ApplicationView = Static<typeof Application>;
export type TokenView = Static<typeof Token>;
export type BypassCodeView = Static<typeof BypassCode>;
export type DeviceView = Static<typeof Device>;
export type AuditEventView = Static<typeof AuditEvent>;
export type FindingView = Static<typeof Finding>;

/**
 * The schema of a named object. The route's response schema holds it itself (not a `$ref`):
 * Fastify serializes with it, and the OpenAPI document shows the same schema.
 */
export function ref<N extends AdminSchemaName>(name: N): (typeof ADMIN_SCHEMAS)[N] {
  return ADMIN_SCHEMAS[name];
}

export function listOf(name: AdminSchemaName): TSchema {
  return Type.Array(ADMIN_SCHEMAS[name]);
}
