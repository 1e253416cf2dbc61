// The Auth API in-process (docs/architecture.md, Co-located fast path): a proxy in the same
// process (`airlock start`) calls the Auth API's named steps without TLS, HTTP or a signature,
// and gets the status and envelope the HTTPS route would have answered.
import { hash, timingSafeEqual } from 'node:crypto';
import { AirlockError, isAirlockError } from '../../core/error-registry.ts';
import type { Application } from '../../core/model.ts';
import { isAllowedHost } from '../../protocol/request-host.ts';
import { isStoreError } from '../../store/store-error.ts';
import type { AuthApiContext } from './auth-api-context.ts';
import { RESULT_EVENT_ID, type AuthApiSteps, type StepHandler } from './auth-api-routes.ts';
import { failEnvelope } from './envelope.ts';
import { paramsOf } from './request-params.ts';

/** One call, as the HTTPS client would have signed and sent it. */
export interface LocalAuthApiRequest {
  method: 'GET' | 'POST';
  path: string;
  params: Readonly<Record<string, string>>;
  /** The application's keys: the skey is compared (constant time) instead of a signature. */
  ikey: string;
  skey: string;
  /** The `Host` the client would have sent; checked in strict host mode as over HTTPS. */
  host: string;
  /** The address audit events record as `clientIp` (the loopback address the proxy would use). */
  clientIp: string;
}

/** The HTTP status, the JSON envelope (not serialized), and `Retry-After` of a 429. */
export interface LocalAuthApiAnswer {
  status: number;
  body: unknown;
  retryAfter?: string;
}

/** A final async result as the auth_results stream carries it. */
export interface LocalStreamedResult {
  txid: string;
  result: string;
  status: string;
  status_msg: string;
}

export interface LocalAuthApi {
  /**
   * Answers as the HTTPS route would: every error becomes its status and FAIL envelope (500 for
   * an unexpected one). Rejects only once the service is closed, with an `ECONNREFUSED` error —
   * what a client of a stopped HTTPS service sees.
   */
  call(request: LocalAuthApiRequest): Promise<LocalAuthApiAnswer>;
  /**
   * The application's final async results from now on (after `afterId`'s catch-up): the in-process
   * auth_results stream. Resolves to the answer of a refused subscription instead (unknown ikey…).
   * `onEnd` says that the stream ended as the HTTPS one does (the service closed, the catch-up
   * could not be read): the subscriber must subscribe again, with its last event id.
   */
  subscribe(
    request: Pick<LocalAuthApiRequest, 'ikey' | 'skey' | 'host'> & { afterId?: string | undefined },
    onResult: (result: LocalStreamedResult, id: string) => void,
    onEnd: (reason: string) => void,
  ): Promise<{ unsubscribe(): void } | { refused: LocalAuthApiAnswer }>;
  /** Later calls reject as refused connections; open subscriptions end (their `onEnd`). */
  close(): void;
}

type Route =
  { signed: false; answer: (nowMs: number) => unknown } | { signed: true; step: StepHandler };

export function createLocalAuthApi(
  ctx: AuthApiContext,
  steps: AuthApiSteps,
  preauthAuth: StepHandler,
): LocalAuthApi {
  const time = (nowMs: number) => ({ time: Math.floor(nowMs / 1000) });
  const routes = new Map<string, Route>([
    ['GET /auth/v2/ping', { signed: false, answer: time }],
    ['GET /auth/v2/check', { signed: true, step: ({ nowMs }) => Promise.resolve(time(nowMs)) }],
    ['POST /auth/v2/preauth', { signed: true, step: steps.preauth }],
    ['POST /auth/v2/auth', { signed: true, step: steps.auth }],
    ['GET /auth/v2/auth_status', { signed: true, step: steps.authStatus }],
    ['POST /auth/v2/preauth_auth', { signed: true, step: preauthAuth }],
  ]);
  let closed = false;
  /** Open subscriptions: their unsubscribe, and their end as close() reports it. */
  const subscriptions = new Map<() => void, (reason: string) => void>();
  /**
   * The skey digest of each cached application object (the cache hands out the same one until
   * it expires), kept with the skey it was made from: both sides are the stored secret.
   */
  const skeyDigests = new WeakMap<Application, { skey: string; digest: Buffer }>();
  const skeyDigestOf = (app: Application): Buffer => {
    let known = skeyDigests.get(app);
    if (known?.skey !== app.skey)
      skeyDigests.set(app, (known = { skey: app.skey, digest: sha256(app.skey) }));
    return known.digest;
  };

  async function authenticate(request: Pick<LocalAuthApiRequest, 'ikey' | 'skey' | 'host'>) {
    const app = await loadApplication(ctx, request.ikey);
    if (!app) throw new AirlockError('AUTH_UNKNOWN_IKEY');
    // Constant time whatever the lengths: digests of both are compared.
    if (!timingSafeEqual(skeyDigestOf(app), sha256(request.skey))) {
      throw new AirlockError('AUTH_BAD_SIGNATURE');
    }
    const allowed = ctx.options.allowedHosts;
    if (allowed !== undefined && !isAllowedHost(request.host, allowed)) {
      throw new AirlockError('AUTH_WRONG_HOST', 'host');
    }
    return app;
  }

  async function answer(request: LocalAuthApiRequest): Promise<LocalAuthApiAnswer> {
    const nowMs = ctx.clock.nowMs();
    try {
      const route = routes.get(`${request.method} ${request.path}`);
      if (!route) throw new AirlockError('AUTH_NOT_FOUND');
      if (!route.signed) return ok(route.answer(nowMs));
      const app = await authenticate(request);
      steps.admit(app, nowMs);
      const params = paramsOf(request.params);
      return ok(await route.step({ app, params, nowMs, clientIp: request.clientIp }));
    } catch (error) {
      return fail(ctx, error, request.path);
    }
  }

  return {
    call: async (request) => {
      if (closed) throw refusedConnection();
      return answer(request);
    },
    subscribe: async (request, onResult, onEnd) => {
      if (closed) throw refusedConnection();
      let app: Application;
      try {
        app = await authenticate(request);
        if (request.afterId !== undefined && !RESULT_EVENT_ID.test(request.afterId)) {
          throw new AirlockError('AUTH_INVALID_PARAMETERS', 'after');
        }
      } catch (error) {
        return { refused: fail(ctx, error, '/auth/v2/auth_results') };
      }
      // Closed while it was being authenticated: close() has ended the others already.
      if (closed) throw refusedConnection();
      const send = (result: LocalStreamedResult, id: string) => onResult(result, id);
      // With afterId, the events after it come first (from the store: across restarts and nodes).
      const stop = ctx.push.subscribe(app.id, send, request.afterId, (reason) => {
        subscriptions.delete(stop);
        onEnd(reason);
      });
      subscriptions.set(stop, onEnd);
      return {
        unsubscribe: () => {
          subscriptions.delete(stop);
          stop();
        },
      };
    },
    close: () => {
      closed = true;
      const open = [...subscriptions];
      subscriptions.clear();
      // As the HTTPS server ends its open streams when it closes: the subscriber reconnects.
      for (const [stop, onEnd] of open) {
        stop();
        onEnd('stream ended');
      }
    },
  };
}

function ok(response: unknown): LocalAuthApiAnswer {
  return { status: 200, body: { stat: 'OK', response } };
}

/** The error handler's answer (build-service.ts): counted, logged, the FAIL envelope. */
function fail(ctx: AuthApiContext, error: unknown, path: string): LocalAuthApiAnswer {
  const airlockError = isAirlockError(error)
    ? error
    : new AirlockError('AUTH_INTERNAL', undefined, { cause: error });
  ctx.metrics.rejections.inc({ reason: airlockError.code });
  if (airlockError.status >= 500) ctx.logger.error({ err: error }, 'request failed');
  else
    ctx.logger.warn(
      { code: airlockError.code, detail: airlockError.detail, path },
      'request rejected',
    );
  const cause = airlockError.cause as { retryAfterSeconds?: unknown } | undefined;
  return {
    status: airlockError.status,
    body: failEnvelope(airlockError),
    ...(typeof cause?.retryAfterSeconds === 'number'
      ? { retryAfter: String(cause.retryAfterSeconds) }
      : {}),
  };
}

/** As verify-request.ts: an skey that does not open is a bad signature, never a 500. */
async function loadApplication(ctx: AuthApiContext, ikey: string) {
  try {
    return await ctx.applications.getByIkey(ikey);
  } catch (err) {
    if (!isStoreError(err, 'STORE_SECRET_UNREADABLE')) throw err;
    ctx.logger.error({ code: err.code, ikey }, `application refused: ${err.message}`);
    throw new AirlockError('AUTH_BAD_SIGNATURE', undefined, { cause: err });
  }
}

function sha256(text: string): Buffer {
  return hash('sha256', text, 'buffer');
}

function refusedConnection(): Error {
  return Object.assign(new Error('connect ECONNREFUSED (in-process service closed)'), {
    code: 'ECONNREFUSED',
  });
}
