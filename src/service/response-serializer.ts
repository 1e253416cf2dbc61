// Fastify's response serializer for the service: fast-json-stringify compiled from each route's
// declared schema (api-schema.ts), with a safety net — an answer the schema cannot write is
// written by JSON.stringify and logged, never turned into a 500 (a login must not fail on a shape).
import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify';

/** What the safety net reports: which route's answer did not fit its schema, and why. */
export interface SchemaMismatch {
  method: string;
  url: string;
  httpStatus: string;
  error: Error;
}

export function createSerializerCompiler(
  onMismatch: (mismatch: SchemaMismatch) => void,
): FastifySerializerCompiler<unknown> {
  return ({ schema, method, url, httpStatus }) => {
    const serialize = fastJson(schema as Parameters<typeof fastJson>[0]);
    return (data: unknown) => {
      try {
        return serialize(data);
      } catch (err) {
        // A required field missing or a value of the wrong type: a bug of the route, caught by
        // test/integration/response-schemas.test.ts; in production the answer still goes out.
        onMismatch({ method, url, httpStatus: httpStatus ?? '', error: err as Error });
        return JSON.stringify(data) ?? 'null';
      }
    };
  };
}
