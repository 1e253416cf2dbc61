// The legacy /rest/v1 endpoints Duo's Authentication Proxy calls (docs/auth-api.md, Duo
// Authentication Proxy): signature v1 where the application allows it, then the very steps of
// /auth/v2 (policy, lockout, audit, limits) with the parameters and answers translated.
import type { FastifyInstance } from 'fastify';
import type { AuthApiContext } from './auth-api-context.ts';
import type { AuthApiSteps, SignedCall, SignedHandler, StepHandler } from './auth-api-routes.ts';
import { sendOk } from './envelope.ts';
import { readRequestParams } from './request-params.ts';
import {
  authParamsFromV1,
  authResponseToV1,
  preauthParamsFromV1,
  preauthResponseToV1,
  statusParamsFromV1,
  statusResponseToV1,
} from './rest-v1-shapes.ts';
import { REST_V1_OPERATIONS as OPS } from './rest-v1-schemas.ts';
import { verifyRestV1Request } from './verify-request.ts';
import { routeSchema, type ApiOperation } from '../api-schema.ts';

export function registerRestV1Routes(
  server: FastifyInstance,
  ctx: AuthApiContext,
  steps: AuthApiSteps,
): void {
  // Each route serializes its answers with the schemas of its declaration (rest-v1-schemas.ts).
  const v1 = (op: ApiOperation, handler: SignedHandler): void => {
    server.route({
      method: op.method,
      url: op.path,
      schema: routeSchema(op),
      handler: async (req, reply) => {
        const nowMs = ctx.clock.nowMs();
        const request = readRequestParams(req);
        const verified = await verifyRestV1Request(req, request, {
          applications: ctx.applications,
          nowMs,
          dateWindowSeconds: ctx.options.dateWindowSeconds,
          allowedHosts: ctx.options.allowedHosts,
        });
        steps.admit(verified.application, nowMs);
        const response = await handler({
          req,
          reply,
          app: verified.application,
          params: request.values,
          nowMs,
          clientIp: req.ip,
        });
        if (reply.sent) return reply;
        return sendOk(reply, response);
      },
    });
  };

  /** The /auth/v2 step `step`, called with translated parameters, its answer translated back. */
  const translated =
    (
      step: StepHandler,
      toV2: (params: SignedCall['params']) => SignedCall['params'],
      toV1: (response: unknown) => unknown,
    ): SignedHandler =>
    async (call) =>
      toV1(await step({ ...call, params: toV2(call.params) }));

  // Unsigned, like /auth/v2/ping (Duo's Auth API v1 answered "pong").
  server.route({
    method: OPS.ping.method,
    url: OPS.ping.path,
    schema: routeSchema(OPS.ping),
    handler: async (_req, reply) => sendOk(reply, 'pong'),
  });
  v1(OPS.check, () => 'valid');
  v1(OPS.preauth, translated(steps.preauth, preauthParamsFromV1, preauthResponseToV1));
  v1(OPS.auth, translated(steps.auth, authParamsFromV1, authResponseToV1));
  v1(OPS.status, translated(steps.authStatus, statusParamsFromV1, statusResponseToV1));
}
