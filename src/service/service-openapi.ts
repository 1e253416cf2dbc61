// The OpenAPI 3.1 document of the service's surfaces other than the Admin API (which has its own,
// admin/openapi.ts): Auth API, device API, status and provider callbacks, built from the same
// declarations their routes register their response schemas from.
import type { TObject } from 'typebox';
import type { ApiOperation, JsonSchema } from './api-schema.ts';
import { openApiResponses } from './api-schema.ts';
import { openApiPath } from './admin/openapi.ts';
import { AUTH_API_OPERATIONS } from './auth-api/auth-api-schemas.ts';
import { REST_V1_OPERATIONS } from './auth-api/rest-v1-schemas.ts';
import { OAUTH_OPERATIONS, PROMPT_OPERATIONS } from './prompt/oauth-schemas.ts';
import { STATUS_PAGE_OPERATIONS } from './status/status-schemas.ts';
import { DEVICE_OPERATIONS, STATUS_OPERATIONS } from './push/device-schemas.ts';

export const SERVICE_OPENAPI_PATH = '/openapi.json';

/** Every declared operation of the surfaces this document covers, in a stable order. */
export const SERVICE_OPERATIONS: readonly ApiOperation[] = [
  ...Object.values(AUTH_API_OPERATIONS),
  ...Object.values(REST_V1_OPERATIONS),
  ...Object.values(OAUTH_OPERATIONS),
  ...Object.values(PROMPT_OPERATIONS),
  ...Object.values(STATUS_PAGE_OPERATIONS),
  ...Object.values(DEVICE_OPERATIONS),
  ...Object.values(STATUS_OPERATIONS),
];

export function buildServiceOpenApiDocument(
  operations: readonly ApiOperation[] = SERVICE_OPERATIONS,
): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const pathItem = (paths[openApiPath(op.path)] ??= {});
    const pathParams = [...op.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!);
    const properties = (schema: TObject | undefined): Record<string, unknown> =>
      schema?.properties ?? {};
    const required = (schema: TObject | undefined): readonly string[] =>
      (schema?.required ?? []) as readonly string[];
    pathItem[op.method.toLowerCase()] = {
      operationId: `${op.method.toLowerCase()}${op.path.replace(/[^A-Za-z0-9]+/g, '_')}`,
      tags: [op.tag],
      summary: op.summary,
      security: op.security ? [{ [op.security]: [] }] : [],
      parameters: [
        ...pathParams.map((name) => ({
          name,
          in: 'path',
          required: true,
          schema: properties(op.params)[name] ?? { type: 'string' },
        })),
        ...Object.entries(properties(op.query)).map(([name, schema]) => ({
          name,
          in: 'query',
          required: required(op.query).includes(name),
          schema,
        })),
      ],
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: op.body } },
            },
          }
        : {}),
      responses: openApiResponses(op.responses),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Airlock service API',
      version: '2',
      description:
        "The Duo-compatible Auth API (docs/auth-api.md), the authenticator's device API " +
        '(docs/device-api.md), factor status and provider callbacks. Request parameters are ' +
        "Duo's signed form parameters, described in those documents. The Admin API has its own " +
        'document at /admin/v1/openapi.json.',
    },
    paths,
    components: {
      securitySchemes: {
        duoSignature: {
          type: 'http',
          scheme: 'basic',
          description:
            'Basic base64(ikey:hex HMAC signature) with Date or X-Duo-Date (signature v2, v4, v5)',
        },
        deviceSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: "the device key's signature, with X-Airlock-Device and X-Airlock-Date",
        },
        providerToken: {
          type: 'apiKey',
          in: 'query',
          name: 'token',
          description: "the call's secret in the callback URL (and Twilio's signature)",
        },
      },
    },
  };
}
