// The OpenAPI 3.1 document of the Admin API, built from the same route table the router uses.
import { FailEnvelope, openApiResponses } from '../api-schema.ts';
import { adminResponses, type AdminRoute, type JsonSchema, type ParamSpec } from './admin-route.ts';
import { ADMIN_SCHEMAS } from './admin-schemas.ts';

export const OPENAPI_PATH = '/admin/v1/openapi.json';

/** `/admin/v1/users/:user_id` → `/admin/v1/users/{user_id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, '{$1}');
}

export function paramSchema(spec: ParamSpec): JsonSchema {
  switch (spec.type) {
    case 'string':
      return {
        type: 'string',
        ...(spec.enum ? { enum: [...spec.enum] } : {}),
        ...(spec.max !== undefined ? { maxLength: spec.max } : {}),
      };
    case 'integer':
      return {
        type: 'integer',
        ...(spec.min !== undefined ? { minimum: spec.min } : {}),
        ...(spec.max !== undefined ? { maximum: spec.max } : {}),
      };
    case 'boolean':
      return { type: 'boolean' };
    case 'string[]':
      return {
        type: 'array',
        items: { type: 'string' },
        ...(spec.max !== undefined ? { maxItems: spec.max } : {}),
      };
  }
}

export function buildOpenApiDocument(routes: readonly AdminRoute[]): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const pathItem = (paths[openApiPath(route.path)] ??= {});
    const body = route.params.filter((p) => p.in === 'body');
    const bodySchema = {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(
        body.map((p) => [p.name, { ...paramSchema(p), description: p.description }]),
      ),
      ...(body.some((p) => p.required)
        ? { required: body.filter((p) => p.required).map((p) => p.name) }
        : {}),
    };
    pathItem[route.method.toLowerCase()] = {
      operationId: operationId(route),
      tags: [route.tag],
      summary: route.summary,
      parameters: route.params
        .filter((p) => p.in !== 'body')
        .map((p) => ({
          name: p.name,
          in: p.in,
          required: p.in === 'path' ? true : p.required === true,
          description: p.description,
          schema: paramSchema(p),
        })),
      ...(body.length > 0
        ? {
            requestBody: {
              required: body.some((p) => p.required),
              content: {
                'application/x-www-form-urlencoded': { schema: bodySchema },
                'application/json': { schema: bodySchema },
              },
            },
          }
        : {}),
      responses: openApiResponses(adminResponses(route)),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Airlock Admin API',
      version: '1',
      description:
        'Administration of users, groups, applications, tokens, bypass codes, devices, policies, ' +
        'emergency controls and the audit log. Every answer is `{"stat":"OK","response":…}` or ' +
        '`{"stat":"FAIL","code":…,"message":…,"message_detail":…}` as in Duo\'s Admin API. See docs/admin-api.md.',
    },
    security: [{ adminKey: [] }, { consoleSession: [], csrfToken: [] }],
    paths,
    components: {
      securitySchemes: {
        adminKey: {
          type: 'http',
          scheme: 'basic',
          description:
            'Basic base64(ikey:hex HMAC signature) with X-Duo-Date or Date, signed like the Auth API (v2 HMAC-SHA512, v4, v5)',
        },
        consoleSession: { type: 'apiKey', in: 'cookie', name: '__Host-airlock_session' },
        csrfToken: {
          type: 'apiKey',
          in: 'header',
          name: 'X-CSRF-Token',
          description:
            "the session's CSRF token; required on POST and DELETE with a console session",
        },
      },
      schemas: {
        ...ADMIN_SCHEMAS,
        Failure: FailEnvelope,
      },
    },
  };
}

function operationId(route: AdminRoute): string {
  const words = route.path
    // /admin/v1/x -> x; /admin/v2/logs/authentication -> v2_logs_authentication.
    .replace(/^\/admin\/(v1\/)?/, '')
    .split('/')
    .map((w) => (w.startsWith(':') ? 'by_' + w.slice(1) : w));
  return `${route.method.toLowerCase()}_${words.join('_')}`.replace(/[^A-Za-z0-9_]/g, '_');
}
