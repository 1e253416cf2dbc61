// The Admin API under /admin/v1: every route of the table, behind admin authentication, in
// Duo's {stat, response} envelope; and the console under /admin/ in the same encapsulation.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AirlockError, isAirlockError } from '../../core/error-registry.ts';
import { isStoreError } from '../../store/store-error.ts';
import { sendFail } from '../auth-api/envelope.ts';
import { readRequestParams } from '../auth-api/request-params.ts';
import { authenticateAdmin } from './admin-auth.ts';
import type { AdminContext } from './admin-context.ts';
import { fastifyResponseSchema } from '../api-schema.ts';
import { adminResponses, parseParams, type AdminRoute } from './admin-route.ts';
import { registerConsole, sendConsoleError } from './console/console-routes.ts';
import { buildOpenApiDocument, OPENAPI_PATH } from './openapi.ts';
import { ADMIN_ROUTES } from './routes/all-routes.ts';

export { ADMIN_ROUTES };

const PREFIX = '/admin';

export function registerAdmin(server: FastifyInstance, ctx: AdminContext): void {
  void server.register(
    (admin, _options, done) => {
      admin.setErrorHandler((error: FastifyError | Error, req, reply) =>
        handleError(ctx, error, req, reply),
      );
      admin.setNotFoundHandler((req, reply) =>
        handleError(ctx, new AirlockError('ADMIN_NOT_FOUND'), req, reply),
      );
      // Nothing an administrator sees may be kept by a cache or guessed into another type.
      admin.addHook('onSend', async (_req, reply) => {
        void reply.header('Cache-Control', 'no-store');
        void reply.header('X-Content-Type-Options', 'nosniff');
      });

      const openApi = JSON.stringify(buildOpenApiDocument(ADMIN_ROUTES));
      admin.get(OPENAPI_PATH.slice(PREFIX.length), async (_req, reply) =>
        reply.type('application/json').send(openApi),
      );
      for (const route of ADMIN_ROUTES) registerRoute(admin, ctx, route);
      if (ctx.options.consoleEnabled) registerConsole(admin, ctx);
      done();
    },
    { prefix: PREFIX },
  );
}

function registerRoute(admin: FastifyInstance, ctx: AdminContext, route: AdminRoute): void {
  admin.route({
    method: route.method,
    url: route.path.slice(PREFIX.length),
    // The answers are serialized with the route's declared schemas, the ones OpenAPI shows.
    schema: { response: fastifyResponseSchema(adminResponses(route)) },
    handler: async (req, reply) => {
      const raw = readRequestParams(req);
      const actor = await authenticateAdmin(
        req,
        raw,
        {
          store: ctx.store,
          clock: ctx.clock,
          dateWindowSeconds: ctx.dateWindowSeconds,
          allowedHosts: ctx.allowedHosts,
          options: ctx.options,
        },
        route.method !== 'GET',
      );
      const params = parseParams(route.params, raw.values, req.params as Record<string, string>);
      const result = await route.handler({ ctx, actor, params, ip: req.ip });
      return reply
        .code(200)
        .type('application/json')
        .send({
          stat: 'OK',
          response: result.response,
          ...(result.metadata ? { metadata: result.metadata } : {}),
        });
    },
  });
}

function handleError(
  ctx: AdminContext,
  error: FastifyError | Error,
  req: FastifyRequest,
  reply: FastifyReply,
) {
  const airlockError = toAdminError(error);
  if (airlockError.status >= 500 && airlockError.code !== 'ADMIN_NOT_AVAILABLE') {
    req.log.error({ err: error }, 'admin request failed');
  } else {
    req.log.warn(
      { code: airlockError.code, detail: airlockError.detail, path: req.url.split('?')[0] },
      'admin request rejected',
    );
  }
  const cause = airlockError.cause as { retryAfterSeconds?: unknown } | undefined;
  if (typeof cause?.retryAfterSeconds === 'number') {
    void reply.header('Retry-After', String(cause.retryAfterSeconds));
  }
  // /admin/v1/… and /admin/v2/… (Duo's authentication log) answer JSON; the rest is the console.
  if (!/^\/admin\/v[0-9]+\//.test(req.url) && ctx.options.consoleEnabled) {
    return sendConsoleError(ctx, req, reply, airlockError);
  }
  return sendFail(reply, airlockError);
}

/** Every failure as an ADMIN_* error: the Admin API has its own codes, whatever raised it. */
export function toAdminError(error: FastifyError | Error): AirlockError {
  if (isAirlockError(error)) {
    if (error.code.startsWith('ADMIN_')) return error;
    // readRequestParams (shared with the Auth API) speaks AUTH_*.
    if (error.status === 400) {
      return new AirlockError('ADMIN_INVALID_PARAMETERS', error.detail, { cause: error });
    }
    return new AirlockError('ADMIN_INTERNAL', undefined, { cause: error });
  }
  if (isStoreError(error, 'STORE_NOT_FOUND')) {
    return new AirlockError('ADMIN_NOT_FOUND', error.message, { cause: error });
  }
  if (isStoreError(error, 'STORE_CONFLICT')) {
    return new AirlockError('ADMIN_CONFLICT', error.message, { cause: error });
  }
  const code = (error as FastifyError).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AirlockError('ADMIN_BODY_TOO_LARGE');
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new AirlockError('ADMIN_UNSUPPORTED_MEDIA_TYPE');
  }
  const statusCode = (error as FastifyError).statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return new AirlockError('ADMIN_INVALID_PARAMETERS', error.message);
  }
  return new AirlockError('ADMIN_INTERNAL', undefined, { cause: error });
}
