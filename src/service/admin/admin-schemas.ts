// JSON Schemas of the Admin API's objects, for the OpenAPI document (components.schemas).
import { USERNAME_NORMALIZATIONS } from '../../core/username.ts';
import {
  APPLICATION_TYPES,
  DEVICE_PLATFORMS,
  GROUP_STATUSES,
  NEW_USER_POLICIES,
  OTP_ALGORITHMS,
  RESTRICTION_LEVELS,
  TOKEN_TYPES,
  USER_STATUSES,
} from '../../core/model.ts';
import type { JsonSchema } from './admin-route.ts';

const str = { type: 'string' };
const nullableStr = { type: ['string', 'null'] };
const int = { type: 'integer' };
const nullableInt = { type: ['integer', 'null'] };
const time = { type: 'integer', description: 'seconds since the Unix epoch' };

export const ADMIN_SCHEMAS: Record<string, JsonSchema> = {
  Group: {
    type: 'object',
    required: ['group_id', 'name', 'desc', 'status'],
    properties: {
      group_id: str,
      name: str,
      desc: nullableStr,
      status: { type: 'string', enum: [...GROUP_STATUSES] },
      created: time,
      updated: time,
    },
  },
  User: {
    type: 'object',
    required: ['user_id', 'username', 'status', 'aliases'],
    properties: {
      user_id: str,
      username: str,
      realname: nullableStr,
      email: nullableStr,
      status: { type: 'string', enum: [...USER_STATUSES] },
      aliases: { type: 'array', items: str },
      groups: { type: 'array', items: ref('Group') },
      failed_attempts: int,
      locked_until: {
        type: ['integer', 'null'],
        description:
          'seconds since the Unix epoch when a `locked out` status ends by itself; null = when an administrator unlocks (or not locked out)',
      },
      created: time,
      updated: time,
    },
  },
  Application: {
    type: 'object',
    required: ['app_id', 'name', 'ikey', 'type'],
    properties: {
      app_id: str,
      name: str,
      ikey: str,
      type: { type: 'string', enum: [...APPLICATION_TYPES] },
      new_user_policy: { type: 'string', enum: [...NEW_USER_POLICIES] },
      restriction_level: { type: 'string', enum: [...RESTRICTION_LEVELS] },
      rate_limit: int,
      verified_push: { type: 'boolean' },
      username_normalization: { type: 'string', enum: [...USERNAME_NORMALIZATIONS] },
      allow_v1_signature: {
        type: 'boolean',
        description: '/rest/v1 accepts signature v1 (Duo Authentication Proxy)',
      },
      groups: { type: 'array', items: str, description: 'group ids; empty = every user' },
      redirect_uris: {
        type: 'array',
        items: str,
        description: 'web-sdk: the redirect URIs an authorize request may name',
      },
      remember_device_hours: int,
      created: time,
      updated: time,
    },
  },
  ApplicationWithSecret: {
    allOf: [
      ref('Application'),
      {
        type: 'object',
        required: ['skey'],
        properties: { skey: { type: 'string', description: 'shown only in this answer' } },
      },
    ],
  },
  Token: {
    type: 'object',
    required: ['token_id', 'type'],
    properties: {
      token_id: str,
      type: { type: 'string', enum: [...TOKEN_TYPES] },
      name: nullableStr,
      algorithm: { type: 'string', enum: [...OTP_ALGORITHMS] },
      digits: int,
      period: nullableInt,
      created: time,
    },
  },
  NewTotpToken: {
    allOf: [
      ref('Token'),
      {
        type: 'object',
        required: ['secret', 'uri'],
        properties: {
          secret: { type: 'string', description: 'base32; shown only in this answer' },
          uri: { type: 'string', description: 'otpauth:// URI for a QR code' },
        },
      },
    ],
  },
  BypassCode: {
    type: 'object',
    required: ['bypass_code_id'],
    properties: {
      bypass_code_id: str,
      reuse_count: { type: ['integer', 'null'], description: 'uses left; null = unlimited' },
      expiration: { type: ['integer', 'null'] },
      created: time,
    },
  },
  Device: {
    type: 'object',
    required: ['device_id', 'name', 'platform'],
    properties: {
      device_id: str,
      name: str,
      platform: { type: 'string', enum: [...DEVICE_PLATFORMS] },
      number: str,
      capabilities: { type: 'array', items: str },
      created: time,
      last_seen: { type: ['integer', 'null'] },
    },
  },
  Activation: {
    type: 'object',
    required: ['activation_code', 'activation_url', 'expiration'],
    properties: {
      activation_code: str,
      activation_url: str,
      activation_barcode: str,
      expiration: time,
    },
  },
  AuditEvent: {
    type: 'object',
    required: ['id', 'timestamp_ms', 'actor', 'action'],
    properties: {
      id: int,
      timestamp_ms: { type: 'integer', description: 'milliseconds since the Unix epoch' },
      actor: {
        type: 'string',
        description: 'admin:<username>, adminkey:<ikey>, cli:<user>, app:<ikey>, system',
      },
      action: str,
      target_type: nullableStr,
      target_id: nullableStr,
      app_id: nullableStr,
      username: nullableStr,
      result: nullableStr,
      ip: nullableStr,
      detail: { type: 'object' },
    },
  },
  Finding: {
    type: 'object',
    required: ['code', 'severity', 'message'],
    properties: {
      code: str,
      severity: { type: 'string', enum: ['warning', 'error'] },
      message: str,
    },
  },
  Policy: { type: 'object', description: 'see docs/policies.md' },
  EmergencyControl: { type: 'object', description: 'see docs/policies.md (emergency controls)' },
  Deleted: {
    type: 'object',
    required: ['deleted'],
    properties: { deleted: { type: 'boolean' } },
  },
};

export function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

export function listOf(name: string): JsonSchema {
  return { type: 'array', items: ref(name) };
}
