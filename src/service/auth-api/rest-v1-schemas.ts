// The answers of the legacy /rest/v1 endpoints Duo's Authentication Proxy calls (docs/auth-api.md,
// Duo Authentication Proxy), one TypeBox declaration each, like auth-api-schemas.ts.
import Type, { type Static } from 'typebox';
import { POLICY_RESULTS } from '../../core/policy.ts';
import {
  closedSet,
  envelopeResponses,
  type ApiOperation,
  type RouteResponses,
} from '../api-schema.ts';

const V1_ERRORS = {
  '400': 'Missing or invalid parameters (40001, 40002)',
  '401': 'No, unknown or badly signed credentials (401xx)',
  '403': 'A good signature v1 for an application that does not allow it (40301)',
  '429': "The application's request rate is exceeded (42901; Retry-After)",
} as const;

const v1Json = (response: Parameters<typeof envelopeResponses>[0]): RouteResponses =>
  envelopeResponses(response, V1_ERRORS);

/** preauth: `auth` with the menu, or allow/deny/enroll with the message as `status`. */
export const V1PreauthResponse = Type.Object({
  result: closedSet(POLICY_RESULTS),
  status: Type.Optional(Type.String()),
  factors: Type.Optional(
    Type.Record(Type.String(), Type.String(), {
      description: '"1", "2", … and "default" → push1, phone1, sms1',
    }),
  ),
  prompt: Type.Optional(Type.String()),
});
export type V1PreauthResponse = Static<typeof V1PreauthResponse>;

/** auth: the outcome with the message as `status`, or with async=1 only the txid. */
export const V1AuthResponse = Type.Object({
  result: Type.Optional(closedSet(['allow', 'deny'] as const)),
  status: Type.Optional(Type.String()),
  txid: Type.Optional(Type.String()),
});

/** status: `status` while waiting, then `result` and `status`. */
export const V1StatusResponse = Type.Object({
  result: Type.Optional(closedSet(['allow', 'deny'] as const)),
  status: Type.String(),
});

export const REST_V1_OPERATIONS = {
  ping: {
    method: 'GET',
    path: '/rest/v1/ping',
    tag: 'rest v1',
    summary: 'Liveness (unsigned), as Duo\'s Auth API v1: "pong"',
    responses: envelopeResponses(Type.Literal('pong')),
  },
  check: {
    method: 'GET',
    path: '/rest/v1/check',
    tag: 'rest v1',
    summary: 'Checks the caller\'s ikey and skey: "valid"',
    security: 'duoSignature',
    responses: v1Json(Type.Literal('valid')),
  },
  preauth: {
    method: 'POST',
    path: '/rest/v1/preauth',
    tag: 'rest v1',
    summary: "Duo Authentication Proxy's preauth (user, ipaddr), decided as /auth/v2/preauth",
    security: 'duoSignature',
    responses: v1Json(V1PreauthResponse),
  },
  auth: {
    method: 'POST',
    path: '/rest/v1/auth',
    tag: 'rest v1',
    summary: "Duo Authentication Proxy's auth (factor=auto&auto=…), decided as /auth/v2/auth",
    security: 'duoSignature',
    responses: v1Json(V1AuthResponse),
  },
  status: {
    method: 'GET',
    path: '/rest/v1/status',
    tag: 'rest v1',
    summary: 'The answer of an async=1 auth (long poll), as /auth/v2/auth_status',
    security: 'duoSignature',
    responses: v1Json(V1StatusResponse),
  },
} as const satisfies Record<string, ApiOperation>;
