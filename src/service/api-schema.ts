// The shapes every HTTP surface of the service shares, declared once with TypeBox: Duo's
// `{stat, response}` envelope and its FAIL twin, nullable values and closed sets, and the route
// responses the router serializes with (fast-json-stringify) and the OpenAPI documents list.
import Type, { type Static, type TObject, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { AirlockError } from '../core/error-registry.ts';

// The building blocks live in src/core so the proxy's status endpoint shares them.
export { closedSet, nullable, OpenObject } from '../core/schema-types.ts';

/** A JSON Schema fragment (OpenAPI 3.1 uses JSON Schema 2020-12). */
export type JsonSchema = Record<string, unknown>;

/** Seconds since the Unix epoch, as Duo gives times. */
export const EpochSeconds = Type.Integer({ description: 'seconds since the Unix epoch' });

/** Duo's failure envelope, for every 4xx and 5xx of every JSON route (core/error-registry.ts). */
export const FailEnvelope = Type.Object({
  stat: Type.Literal('FAIL'),
  code: Type.Integer({ description: "Duo's five-digit code (docs/errors.md)" }),
  message: Type.String(),
  message_detail: Type.Optional(Type.String()),
});
export type FailEnvelope = Static<typeof FailEnvelope>;

/** Duo's success envelope around `response`. */
export function okEnvelope<T extends TSchema>(response: T) {
  return Type.Object({ stat: Type.Literal('OK'), response });
}

/** One answer of a route: what it means and its JSON schema (the body Fastify serializes). */
export interface ResponseSpec {
  description: string;
  schema: TSchema;
  /** Media type of the answer; default application/json. */
  mediaType?: string;
}

/**
 * A route's answers by status. Keys are Fastify's: `200`, `404`, or a class `4xx` / `5xx`
 * (written `4XX` / `5XX` in OpenAPI).
 */
export type RouteResponses = Record<string, ResponseSpec>;

/** The failure classes every JSON route declares, so no error envelope is left unserialized. */
export const FAIL_CLASSES: RouteResponses = {
  '4xx': {
    description: 'Refused: `{"stat":"FAIL","code","message","message_detail"}`',
    schema: FailEnvelope,
  },
  '5xx': { description: 'Internal error (`message` is generic)', schema: FailEnvelope },
};

/**
 * The answers of a route in Duo's envelope: 200 with `response`, the named error statuses it
 * documents (each the FAIL envelope), and the 4xx/5xx classes for every other failure.
 */
export function envelopeResponses(
  response: TSchema,
  errors: Readonly<Record<string, string>> = {},
): RouteResponses {
  return {
    '200': { description: 'OK', schema: okEnvelope(response) },
    ...Object.fromEntries(
      Object.entries(errors).map(([status, description]) => [
        status,
        { description, schema: FailEnvelope },
      ]),
    ),
    ...FAIL_CLASSES,
  };
}

/** Fastify's `schema.response` of a route: what it serializes each status with. */
export function fastifyResponseSchema(responses: RouteResponses): Record<string, TSchema> {
  return Object.fromEntries(
    Object.entries(responses)
      .filter(([, spec]) => (spec.mediaType ?? 'application/json') === 'application/json')
      .map(([status, spec]) => [status, spec.schema]),
  );
}

/** OpenAPI's `responses` of an operation from the same declarations. */
export function openApiResponses(responses: RouteResponses): JsonSchema {
  return Object.fromEntries(
    Object.entries(responses).map(([status, spec]) => [
      status.toUpperCase(),
      {
        description: spec.description,
        content: { [spec.mediaType ?? 'application/json']: { schema: spec.schema } },
      },
    ]),
  );
}

/**
 * One HTTP route of the service that is not an Admin API route (those are `AdminRoute`s): the
 * router registers it with `routeSchema(op)`, the service's OpenAPI document lists it with
 * `openApiResponses(op.responses)` and its parameters.
 */
export interface ApiOperation {
  method: 'GET' | 'POST';
  /** Fastify syntax: `/device/v1/requests/:txid`. */
  path: string;
  tag: string;
  summary: string;
  /** How the caller proves who it is (an OpenAPI security scheme name), or none. */
  security?: 'duoSignature' | 'deviceSignature' | 'providerToken';
  /** Path parameters and query string, checked by Fastify (TypeBox's validator) before the handler. */
  params?: TObject;
  query?: TObject;
  /**
   * The JSON body, for the document; the handler checks it with `bodyChecker` (bodies reach it
   * as raw bytes, which request signatures cover).
   */
  body?: TObject;
  responses: RouteResponses;
}

/** Fastify's `schema` of an operation: its request checks and its answers' serializers. */
export function routeSchema(op: ApiOperation): {
  params?: TObject;
  querystring?: TObject;
  response: Record<string, TSchema>;
} {
  return {
    ...(op.params ? { params: op.params } : {}),
    ...(op.query ? { querystring: op.query } : {}),
    response: fastifyResponseSchema(op.responses),
  };
}

/**
 * A checker of a JSON request body against its TypeBox declaration (compiled once). A refusal is
 * Duo's `40001` naming the first missing field, or `40002` naming the first invalid one.
 */
export function bodyChecker<T extends TObject>(schema: T): (value: unknown) => Static<T> {
  const compiled = Compile(schema);
  return (value) => {
    if (compiled.Check(value)) return value;
    const first = compiled.Errors(value)[0];
    if (first?.keyword === 'required') {
      const missing = (first.params as { requiredProperties?: string[] }).requiredProperties;
      throw new AirlockError('AUTH_MISSING_PARAMETERS', missing?.[0]);
    }
    throw new AirlockError('AUTH_INVALID_PARAMETERS', first?.instancePath.split('/')[1] || 'body');
  };
}
