// The device API's answers (docs/device-api.md) and the factor status report, one TypeBox
// declaration each: handler types, Fastify's serializers and the service's OpenAPI document.
import Type, { type Static } from 'typebox';
import { AUTH_FACTORS, FACTOR_HEALTH_STATES } from '../../core/factor-health.ts';
import { DEVICE_ANSWERS } from './push-flow.ts';
import {
  DEVICE_CAPABILITIES,
  DEVICE_PLATFORMS,
  OOB_FACTORS,
  OTP_ALGORITHMS,
} from '../../core/model.ts';
import {
  closedSet,
  envelopeResponses,
  EpochSeconds,
  nullable,
  type ApiOperation,
} from '../api-schema.ts';

const DEVICE_ERRORS = {
  '400': 'Missing or invalid parameters (40001, 40002)',
  '401': 'Missing or bad device signature, or a Date outside the window (401xx)',
} as const;

const Capabilities = Type.Array(closedSet(DEVICE_CAPABILITIES));

export const ActivatedDevice = Type.Object({
  device_id: Type.String(),
  user_id: Type.String(),
  username: Type.String(),
  capabilities: Capabilities,
  totp: Type.Object({
    secret: Type.String({ description: 'base32; shown only in this answer' }),
    algorithm: closedSet(OTP_ALGORITHMS),
    digits: Type.Integer(),
    period: Type.Integer(),
  }),
});
export type ActivatedDevice = Static<typeof ActivatedDevice>;

export const DeviceInfo = Type.Object({
  device_id: Type.String(),
  user_id: Type.String(),
  username: Type.String(),
  name: Type.String(),
  platform: closedSet(DEVICE_PLATFORMS),
  capabilities: Capabilities,
  created: EpochSeconds,
});
export type DeviceInfo = Static<typeof DeviceInfo>;

export const LoginRequest = Type.Object({
  txid: Type.String(),
  factor: closedSet(OOB_FACTORS),
  application: Type.String(),
  username: Type.String(),
  display_username: Type.String(),
  type: Type.String(),
  ipaddr: nullable(Type.String()),
  hostname: nullable(Type.String()),
  pushinfo: Type.Array(Type.Array(Type.String(), { minItems: 2, maxItems: 2 }), {
    description: '[name, value] pairs from the login request',
  }),
  time: EpochSeconds,
  expires: EpochSeconds,
  verification: Type.Boolean({ description: 'the answer needs the code the login shows' }),
});
export type LoginRequest = Static<typeof LoginRequest>;

export const PendingRequests = Type.Object({ requests: Type.Array(LoginRequest) });

export const AnswerResult = Type.Object({
  result: closedSet(['allow', 'deny'] as const),
  status: Type.String(),
});

export const FactorHealth = Type.Object({
  factor: closedSet(AUTH_FACTORS),
  provider: Type.String(),
  state: closedSet(FACTOR_HEALTH_STATES),
  reason: Type.String(),
  failureRate: Type.Optional(Type.Number({ description: 'failed share of the window, 0–1' })),
  p95LatencyMs: Type.Optional(Type.Number()),
  samples: Type.Integer(),
  sinceMs: Type.Optional(Type.Integer({ description: 'when the current state began' })),
});

export const FactorStatus = Type.Object({ factors: Type.Array(FactorHealth) });

/** `GET /device/v1/requests?wait=N`: a long poll of up to N seconds (the maximum is checked too). */
export const RequestsQuery = Type.Object({
  wait: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
});
export type RequestsQuery = Static<typeof RequestsQuery>;

export const TxidParams = Type.Object({ txid: Type.String({ maxLength: 100 }) });
export type TxidParams = Static<typeof TxidParams>;

/** The phone provider's callback: the call's secret in the URL it was given. */
export const CallbackQuery = Type.Object({ token: Type.Optional(Type.String()) });
export type CallbackQuery = Static<typeof CallbackQuery>;

/** `POST /device/v1/activate`'s JSON body. */
export const ActivateBody = Type.Object({
  activation_code: Type.String({ maxLength: 200 }),
  name: Type.String({ maxLength: 100, description: 'shown to the user; not empty' }),
  // A phone-number "device" is made by an administrator, never activated.
  platform: closedSet(DEVICE_PLATFORMS.filter((p) => p !== 'phone')),
  public_key: Type.Object({}, { description: 'the device key as a public JWK (P-256 or Ed25519)' }),
});

/** `POST /device/v1/requests/:txid`'s JSON body. */
export const AnswerBody = Type.Object({
  answer: closedSet(DEVICE_ANSWERS),
  verification_code: Type.Optional(
    Type.String({ maxLength: 12, description: 'the code the login shows (verified push)' }),
  ),
});

export const DEVICE_OPERATIONS = {
  activate: {
    method: 'POST',
    path: '/device/v1/activate',
    tag: 'device api',
    summary: 'Activates an authenticator with an activation code and its public key',
    body: ActivateBody,
    responses: envelopeResponses(ActivatedDevice, { '400': DEVICE_ERRORS['400'] }),
  },
  device: {
    method: 'GET',
    path: '/device/v1/device',
    tag: 'device api',
    summary: 'The calling device',
    security: 'deviceSignature',
    responses: envelopeResponses(DeviceInfo, DEVICE_ERRORS),
  },
  requests: {
    method: 'GET',
    path: '/device/v1/requests',
    tag: 'device api',
    summary: "The device's pending login requests (long poll with wait=)",
    security: 'deviceSignature',
    query: RequestsQuery,
    responses: envelopeResponses(PendingRequests, DEVICE_ERRORS),
  },
  answer: {
    method: 'POST',
    path: '/device/v1/requests/:txid',
    tag: 'device api',
    summary: 'Approves or denies a login request (or reports it as fraud)',
    security: 'deviceSignature',
    body: AnswerBody,
    params: TxidParams,
    responses: envelopeResponses(AnswerResult, DEVICE_ERRORS),
  },
} as const satisfies Record<string, ApiOperation>;

export const STATUS_OPERATIONS = {
  factors: {
    method: 'GET',
    path: '/status/v1/factors',
    tag: 'status',
    summary: 'Delivery health per factor and provider (no secrets; unauthenticated)',
    responses: envelopeResponses(FactorStatus),
  },
  providerCall: {
    method: 'POST',
    path: '/provider/v1/calls/:txid',
    tag: 'provider callbacks',
    summary: "The phone provider's key-pressed callback (TwiML answer)",
    security: 'providerToken',
    params: TxidParams,
    query: CallbackQuery,
    responses: {
      ...envelopeResponses(Type.Null()),
      '200': {
        description: 'TwiML: what the caller hears before the call ends',
        mediaType: 'text/xml',
        schema: Type.String(),
      },
    },
  },
} as const satisfies Record<string, ApiOperation>;
