// The Auth API's answers (docs/design/auth-api.md §1), one TypeBox declaration each: the handlers'
// return types, Fastify's serializers and the service's OpenAPI document all come from them.
import Type, { type Static } from 'typebox';
import { AUTH_RESULTS, DEVICE_CAPABILITIES, ENROLLMENT_STATES } from '../../core/model.ts';
import { POLICY_RESULTS } from '../../core/policy.ts';
import {
  closedSet,
  envelopeResponses,
  EpochSeconds,
  type ApiOperation,
  type RouteResponses,
} from '../api-schema.ts';

/** Errors every signed endpoint can answer (the 4xx/5xx classes cover the rest). */
const SIGNED_ERRORS = {
  '400': 'Missing or invalid parameters (40001, 40002)',
  '401': 'No, unknown or badly signed credentials, or a Date outside the window (401xx)',
  '429': "The application's request rate is exceeded (42901; Retry-After)",
} as const;

export const TimeResponse = Type.Object({ time: EpochSeconds });
export type TimeResponse = Static<typeof TimeResponse>;

export const EnrollResponse = Type.Object({
  activation_barcode: Type.String(),
  activation_code: Type.String(),
  activation_url: Type.String(),
  expiration: EpochSeconds,
  user_id: Type.String(),
  username: Type.String(),
});
export type EnrollResponse = Static<typeof EnrollResponse>;

export const EnrollStatusResponse = closedSet([...ENROLLMENT_STATES, 'invalid'] as const);

export const PreauthDevice = Type.Object({
  device: Type.String(),
  type: Type.Literal('phone'),
  number: Type.String({ description: 'masked: XXX-XXX-0100; empty without a number' }),
  name: Type.String(),
  display_name: Type.String(),
  capabilities: Type.Array(closedSet(DEVICE_CAPABILITIES)),
  sms_nextcode: Type.Optional(Type.String()),
});
export type PreauthDevice = Static<typeof PreauthDevice>;

export const PreauthResponse = Type.Object({
  result: closedSet(POLICY_RESULTS),
  status_msg: Type.String(),
  enroll_portal_url: Type.Optional(Type.String()),
  devices: Type.Optional(Type.Array(PreauthDevice)),
  /** Duo Unix's text prompt (text_prompt=1): the menu and what each key means. */
  prompt: Type.Optional(
    Type.Object({
      text: Type.String(),
      factors: Type.Record(Type.String(), Type.String()),
    }),
  ),
});
export type PreauthResponse = Static<typeof PreauthResponse>;

/**
 * /auth's answer: the outcome, or with async=1 only the txid. One object with optional fields
 * rather than a union: the serializer then writes it without trying each branch.
 */
export const AuthResponse = Type.Object({
  result: Type.Optional(closedSet(['allow', 'deny'] as const)),
  status: Type.Optional(Type.String()),
  status_msg: Type.Optional(Type.String()),
  txid: Type.Optional(Type.String()),
});
export type AuthResponse = Static<typeof AuthResponse>;

export const AuthStatusResponse = Type.Object({
  result: closedSet(AUTH_RESULTS),
  status: Type.String(),
  status_msg: Type.String(),
  auth_delayed: Type.Boolean(),
});
export type AuthStatusResponse = Static<typeof AuthStatusResponse>;

/**
 * Airlock extension `/auth/v2/preauth_auth` (docs/auth-api.md): preauth's answer, and when it is
 * `auth` the passcode's, in one call.
 */
export const PreauthAuthResponse = Type.Object({
  preauth: Type.Object({
    result: closedSet(POLICY_RESULTS),
    status_msg: Type.String(),
    enroll_portal_url: Type.Optional(Type.String()),
  }),
  auth: Type.Optional(
    Type.Object({
      result: closedSet(['allow', 'deny'] as const),
      status: Type.String(),
      status_msg: Type.String(),
    }),
  ),
});
export type PreauthAuthResponse = Static<typeof PreauthAuthResponse>;

const signedJson = (response: Parameters<typeof envelopeResponses>[0]): RouteResponses =>
  envelopeResponses(response, SIGNED_ERRORS);

/** Every Auth API route, in registration order. */
export const AUTH_API_OPERATIONS = {
  ping: {
    method: 'GET',
    path: '/auth/v2/ping',
    tag: 'auth api',
    summary: 'Liveness and the server time (unsigned)',
    responses: envelopeResponses(TimeResponse),
  },
  check: {
    method: 'GET',
    path: '/auth/v2/check',
    tag: 'auth api',
    summary: "Checks the caller's ikey, skey and clock",
    security: 'duoSignature',
    responses: signedJson(TimeResponse),
  },
  healthReport: {
    method: 'POST',
    path: '/auth/v2/health_report',
    tag: 'auth api',
    summary:
      'Airlock extension: a proxy or gateway reports its health for the status page (kind, name, status, detail)',
    security: 'duoSignature',
    responses: envelopeResponses(TimeResponse, {
      ...SIGNED_ERRORS,
      '403': 'The name belongs to another application: the first to report it (40301)',
    }),
  },
  logo: {
    method: 'GET',
    path: '/auth/v2/logo',
    tag: 'auth api',
    summary: 'The logo configured for the service (PNG)',
    security: 'duoSignature',
    responses: {
      ...signedJson(Type.Null()),
      '200': {
        description: 'The logo',
        mediaType: 'image/png',
        schema: Type.String({ contentEncoding: 'binary' }),
      },
    },
  },
  enroll: {
    method: 'POST',
    path: '/auth/v2/enroll',
    tag: 'auth api',
    summary: 'Creates a user and an activation code for the authenticator',
    security: 'duoSignature',
    responses: signedJson(EnrollResponse),
  },
  enrollStatus: {
    method: 'POST',
    path: '/auth/v2/enroll_status',
    tag: 'auth api',
    summary: 'Whether an activation code was used',
    security: 'duoSignature',
    responses: signedJson(EnrollStatusResponse),
  },
  preauth: {
    method: 'POST',
    path: '/auth/v2/preauth',
    tag: 'auth api',
    summary: 'Whether the user may, must or cannot log in, and with which devices',
    security: 'duoSignature',
    responses: signedJson(PreauthResponse),
  },
  auth: {
    method: 'POST',
    path: '/auth/v2/auth',
    tag: 'auth api',
    summary: 'Second factor: passcode, push, phone call or SMS passcodes',
    security: 'duoSignature',
    responses: signedJson(AuthResponse),
  },
  authStatus: {
    method: 'GET',
    path: '/auth/v2/auth_status',
    tag: 'auth api',
    summary: 'The outcome of an async=1 login (long poll)',
    security: 'duoSignature',
    responses: signedJson(AuthStatusResponse),
  },
  authResults: {
    method: 'GET',
    path: '/auth/v2/auth_results',
    tag: 'auth api',
    summary:
      "Airlock extension: a server-sent event stream of the application's final push results",
    security: 'duoSignature',
    responses: {
      ...signedJson(Type.Null()),
      '200': {
        description: 'text/event-stream; each event `data:` is {txid, result, status, status_msg}',
        mediaType: 'text/event-stream',
        schema: Type.String(),
      },
    },
  },
  preauthAuth: {
    method: 'POST',
    path: '/auth/v2/preauth_auth',
    tag: 'auth api',
    summary:
      "Airlock extension: preauth then a passcode's /auth in one call (username or user_id, passcode, ipaddr, hostname)",
    security: 'duoSignature',
    responses: signedJson(PreauthAuthResponse),
  },
} as const satisfies Record<string, ApiOperation>;
