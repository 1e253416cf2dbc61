// The answers of the Web SDK v4 endpoints (docs/web-sdk.md), one TypeBox declaration each: the
// serializer of each route and the service's OpenAPI document come from them. authorize answers
// with a redirect or an HTML error page, so it has no JSON answer to declare.
import Type from 'typebox';
import {
  closedSet,
  FAIL_CLASSES,
  FailEnvelope,
  okEnvelope,
  type ApiOperation,
} from '../api-schema.ts';

export const HealthCheckResponse = okEnvelope(
  Type.Object({
    timestamp: Type.Integer(),
    airlock: Type.Optional(
      Type.Object(
        {
          status: closedSet(['ok', 'degraded'] as const),
          degraded_factors: Type.Array(Type.String()),
        },
        { description: 'Airlock extension: factors whose provider is failing' },
      ),
    ),
  }),
);

/** Duo's FAIL envelope with the server time, as Duo's health check answers a refused client. */
export const HealthCheckFail = Type.Object({
  ...FailEnvelope.properties,
  timestamp: Type.Optional(Type.Integer()),
});

export const TokenResponse = Type.Object({
  id_token: Type.String(),
  access_token: Type.String(),
  expires_in: Type.Integer(),
  token_type: Type.Literal('Bearer'),
});

/**
 * The token endpoint's refusal: OAuth's `{error, error_description}` (RFC 6749 §5.2), or Duo's
 * FAIL envelope when the request could not be read at all. One object of optional fields, so
 * the serializer writes either.
 */
export const TokenError = Type.Object({
  error: Type.Optional(Type.String()),
  error_description: Type.Optional(Type.String()),
  stat: Type.Optional(Type.Literal('FAIL')),
  code: Type.Optional(Type.Integer()),
  message: Type.Optional(Type.String()),
  message_detail: Type.Optional(Type.String()),
});

/** The prompt page's live status of a push or call (its own script polls it). */
export const PromptStatus = Type.Object({
  done: Type.Boolean(),
  result: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
});

/** The prompt's JSON route; its pages and forms answer HTML. */
export const PROMPT_OPERATIONS = {
  status: {
    method: 'GET',
    path: '/frame/v4/:id/status',
    tag: 'web sdk',
    summary:
      "The prompt page's live status of its push or call (an HTML page when the login is gone)",
    responses: {
      '200': { description: 'The status, localised', schema: PromptStatus },
      '404': { description: "Not this login's push: denied", schema: PromptStatus },
      '503': { description: 'The service did not answer: still waiting', schema: PromptStatus },
      ...FAIL_CLASSES,
    },
  },
} as const satisfies Record<string, ApiOperation>;

export const OAUTH_OPERATIONS = {
  healthCheck: {
    method: 'POST',
    path: '/oauth/v1/health_check',
    tag: 'web sdk',
    summary: 'Whether the service answers for this client; degraded factors as an extension',
    responses: {
      '200': { description: 'OK', schema: HealthCheckResponse },
      '400': {
        description: 'invalid_client (40002), with the server time',
        schema: HealthCheckFail,
      },
      ...FAIL_CLASSES,
    },
  },
  token: {
    method: 'POST',
    path: '/oauth/v1/token',
    tag: 'web sdk',
    summary: 'Exchange an authorization code for the id_token (form body or query string)',
    responses: {
      '200': { description: 'The id_token (HS512 with the client secret)', schema: TokenResponse },
      '4xx': {
        description: 'invalid_client, invalid_grant, unsupported_grant_type (OAuth errors)',
        schema: TokenError,
      },
      '5xx': FAIL_CLASSES['5xx']!,
    },
  },
} as const satisfies Record<string, ApiOperation>;
