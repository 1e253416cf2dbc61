// The Web SDK v4 (Duo OIDC Auth API) endpoints, declared as data: health_check, authorize and
// token, as Duo's clients call them (docs/web-sdk.md). Each handler is a list of named steps.
import { routeSchema } from '../api-schema.ts';
import { OAUTH_OPERATIONS } from './oauth-schemas.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SignJWT } from 'jose';
import { ERRORS, type ErrorCode } from '../../core/error-registry.ts';
import {
  CLIENT_ASSERTION_TYPE,
  isRegisteredRedirectUri,
  idTokenClaims,
  PROMPT_LOGIN_TTL_SECONDS,
  STATE_MAX_LENGTH,
  STATE_MIN_LENGTH,
  type PromptOutcome,
} from '../../core/web-sdk.ts';
import { readRequestParams, param, type ParamMap } from '../auth-api/request-params.ts';
import { claimAssertionJti, sha256, verifyClientJwt } from './client-assertion.ts';
import {
  calledHost,
  endpointAudiences,
  loadWebSdkApp,
  type PromptContext,
} from './prompt-context.ts';
import { chooseLanguage } from './prompt-messages.ts';
import { errorPage } from './prompt-pages.ts';
import { sendPromptPage } from './prompt-headers.ts';

/** A plain JSON Schema object (converted to TypeBox at merge time, like the Admin API's). */
export type JsonSchema = Record<string, unknown>;

export interface OAuthCall {
  ctx: PromptContext;
  req: FastifyRequest;
  reply: FastifyReply;
  params: ParamMap;
  nowMs: number;
}

export interface OAuthRoute {
  method: 'GET' | 'POST';
  path: string;
  summary: string;
  /** Parameters as one object, from the query string and the form body alike. */
  params: JsonSchema;
  /** What a successful call answers (a redirect for authorize). */
  response: JsonSchema;
  handler(call: OAuthCall): Promise<unknown>;
}

export const HEALTH_CHECK_PATH = '/oauth/v1/health_check';
export const AUTHORIZE_PATH = '/oauth/v1/authorize';
export const TOKEN_PATH = '/oauth/v1/token';
/** Lifetime of the id_token and access token the token endpoint issues. */
const TOKEN_TTL_SECONDS = 300;

const str = { type: 'string' };
const clientAssertion = {
  client_id: { type: 'string', minLength: 1, maxLength: 100 },
  client_assertion: { type: 'string', minLength: 1, maxLength: 8192 },
};

export const OAUTH_ROUTES: readonly OAuthRoute[] = [
  {
    method: 'POST',
    path: HEALTH_CHECK_PATH,
    summary: 'Whether the service answers for this client; degraded factors as an extension',
    params: {
      type: 'object',
      required: ['client_id', 'client_assertion'],
      properties: clientAssertion,
    },
    response: {
      type: 'object',
      required: ['stat', 'response'],
      properties: {
        stat: { const: 'OK' },
        response: {
          type: 'object',
          required: ['timestamp'],
          properties: {
            timestamp: { type: 'integer' },
            airlock: {
              type: 'object',
              properties: {
                status: { enum: ['ok', 'degraded'] },
                degraded_factors: { type: 'array', items: str },
              },
            },
          },
        },
      },
    },
    handler: healthCheck,
  },
  {
    method: 'GET',
    path: AUTHORIZE_PATH,
    summary: 'Start a hosted-prompt login (a browser redirect from the application)',
    params: {
      type: 'object',
      required: ['response_type', 'client_id', 'request'],
      properties: {
        response_type: { const: 'code' },
        client_id: clientAssertion.client_id,
        request: { type: 'string', minLength: 1, maxLength: 16384 },
        redirect_uri: str,
        scope: str,
        nonce: { type: 'string', minLength: STATE_MIN_LENGTH, maxLength: STATE_MAX_LENGTH },
      },
    },
    response: { description: '303 to the prompt' },
    handler: authorize,
  },
  {
    method: 'POST',
    path: TOKEN_PATH,
    summary: 'Exchange an authorization code for the id_token (form body or query string)',
    params: {
      type: 'object',
      required: [
        'grant_type',
        'code',
        'redirect_uri',
        'client_id',
        'client_assertion_type',
        'client_assertion',
      ],
      properties: {
        grant_type: { const: 'authorization_code' },
        code: { type: 'string', minLength: 1, maxLength: 200 },
        redirect_uri: str,
        client_assertion_type: { const: CLIENT_ASSERTION_TYPE },
        ...clientAssertion,
      },
    },
    response: {
      type: 'object',
      required: ['id_token', 'access_token', 'expires_in', 'token_type'],
      properties: {
        id_token: str,
        access_token: str,
        expires_in: { type: 'integer' },
        token_type: { const: 'Bearer' },
      },
    },
    handler: token,
  },
];

export function registerOAuthRoutes(server: FastifyInstance, ctx: PromptContext): void {
  for (const route of OAUTH_ROUTES) {
    const op = Object.values(OAUTH_OPERATIONS).find(
      (o) => o.method === route.method && o.path === route.path,
    );
    server.route({
      method: route.method,
      url: route.path,
      // JSON answers serialize with their declaration (oauth-schemas.ts); authorize redirects.
      ...(op ? { schema: routeSchema(op) } : {}),
      handler: async (req, reply) => {
        const params = readRequestParams(req).values;
        const result = await route.handler({ ctx, req, reply, params, nowMs: ctx.clock.nowMs() });
        return reply.sent ? reply : result;
      },
    });
  }
}

// ---- health_check ----

async function healthCheck({ ctx, req, reply, params, nowMs }: OAuthCall): Promise<unknown> {
  const timestamp = Math.floor(nowMs / 1000);
  const fail = (detail: string) => {
    ctx.logger.warn({ code: 'WEBSDK_INVALID_CLIENT', why: detail }, 'health check refused');
    const spec = ERRORS.WEBSDK_INVALID_CLIENT;
    return reply.code(spec.status).send({
      stat: 'FAIL',
      code: spec.duoCode,
      message: spec.message,
      message_detail: detail,
      timestamp,
    });
  };
  const client = await authenticateClient(ctx, req, params, HEALTH_CHECK_PATH, nowMs);
  if (!client.ok) return fail(client.why);
  const degraded = ctx.factorHealth.degradedFactors(nowMs);
  return {
    stat: 'OK',
    response: {
      timestamp,
      // Airlock's extension (Duo's clients ignore it): a factor down is "degraded", not down.
      airlock: { status: degraded.length > 0 ? 'degraded' : 'ok', degraded_factors: degraded },
    },
  };
}

// ---- authorize ----

async function authorize({ ctx, req, reply, params, nowMs }: OAuthCall): Promise<unknown> {
  const lang = chooseLanguage(req.headers['accept-language']);
  const refuse = (message: Parameters<typeof errorPage>[1], why: string, status = 400) => {
    ctx.logger.warn(
      { code: 'WEBSDK_AUTHORIZE_REFUSED' satisfies ErrorCode, why },
      'authorize refused',
    );
    return sendPromptPage(reply.code(status), errorPage(lang, message));
  };
  const app = await loadWebSdkApp(ctx, param(params, 'client_id'));
  if (!app) return refuse('errorUnknownClient', 'unknown client_id');
  if (param(params, 'response_type') !== 'code') {
    return refuse('errorBadRequest', 'response_type must be code');
  }
  const verified = await verifyClientJwt(app, param(params, 'request') ?? '', {
    audiences: [...new Set([calledHost(ctx, req), ctx.options.apiHost()])].map(
      (h) => `https://${h}`,
    ),
    nowMs,
    requireJti: false,
  });
  if (!verified.ok) return refuse('errorBadRequest', `request JWT: ${verified.why}`);
  const request = readAuthorizeRequest(verified.claims, params, app.ikey);
  if (typeof request === 'string') return refuse('errorBadRequest', request);
  // Never a redirect to a URI the application did not register (no open redirect).
  if (!isRegisteredRedirectUri(app.redirectUris, request.redirectUri)) {
    return refuse('errorRedirectUri', 'redirect_uri not registered');
  }
  const expiresAtMs = ((verified.claims.exp ?? 0) + 60) * 1000;
  const fresh = await ctx.store.claimSingleUse(
    `state:${app.ikey}:${sha256(request.state)}`,
    Math.max(expiresAtMs, nowMs + 1000),
    nowMs,
  );
  if (!fresh) return refuse('errorReplayed', 'state used before');
  const loginId = ctx.random.bytes(32).toString('base64url');
  await ctx.store.createPromptLogin({
    idHash: sha256(loginId),
    appId: app.id,
    username: request.username,
    redirectUri: request.redirectUri,
    state: request.state,
    nonce: request.nonce,
    useDuoCode: request.useDuoCode,
    expiresAtMs: nowMs + PROMPT_LOGIN_TTL_SECONDS * 1000,
  });
  return reply
    .code(303)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .redirect(`/frame/v4/${loginId}`, 303);
}

interface AuthorizeRequest {
  username: string;
  redirectUri: string;
  state: string;
  nonce: string | null;
  useDuoCode: boolean;
}

/** The `request` object's claims (docs/web-sdk.md), or why they are not acceptable. */
function readAuthorizeRequest(
  claims: Record<string, unknown>,
  params: ParamMap,
  clientId: string,
): AuthorizeRequest | string {
  const text = (name: string) => (typeof claims[name] === 'string' ? claims[name] : undefined);
  if (text('client_id') !== clientId) return 'client_id claim differs from client_id';
  if (text('response_type') !== 'code') return 'response_type claim must be code';
  const scope = text('scope') ?? '';
  if (!scope.split(' ').includes('openid')) return 'scope must include openid';
  const redirectUri = text('redirect_uri');
  if (redirectUri === undefined) return 'redirect_uri claim missing';
  // Duo's Node client repeats redirect_uri in the query: it must be the signed one.
  const queryRedirect = param(params, 'redirect_uri');
  if (queryRedirect !== undefined && queryRedirect !== redirectUri) {
    return 'redirect_uri differs from the signed one';
  }
  const state = text('state');
  if (state === undefined || state.length < STATE_MIN_LENGTH || state.length > STATE_MAX_LENGTH) {
    return 'state must be 16 to 1024 characters';
  }
  const username = text('duo_uname');
  if (username === undefined || username.trim() === '' || username.length > 200) {
    return 'duo_uname missing';
  }
  // Python's client sends the nonce beside the request object; it may be in the claims too.
  const signedNonce = text('nonce');
  const queryNonce = param(params, 'nonce');
  if (signedNonce !== undefined && queryNonce !== undefined && signedNonce !== queryNonce) {
    return 'nonce differs from the signed one';
  }
  const nonce = signedNonce ?? queryNonce ?? null;
  if (nonce !== null && (nonce.length < STATE_MIN_LENGTH || nonce.length > STATE_MAX_LENGTH)) {
    return 'nonce must be 16 to 1024 characters';
  }
  return {
    username,
    redirectUri,
    state,
    nonce,
    useDuoCode: claims.use_duo_code_attribute !== false,
  };
}

// ---- token ----

async function token({ ctx, req, reply, params, nowMs }: OAuthCall): Promise<unknown> {
  const oauthError = (code: ErrorCode & `WEBSDK_${string}`, description: string) => {
    ctx.logger.warn({ code, why: description }, 'token refused');
    const spec = ERRORS[code];
    return reply
      .code(spec.status)
      .header('cache-control', 'no-store')
      .send({ error: spec.message, error_description: description });
  };
  if (param(params, 'grant_type') !== 'authorization_code') {
    return oauthError('WEBSDK_UNSUPPORTED_GRANT_TYPE', 'grant_type must be authorization_code');
  }
  if (param(params, 'client_assertion_type') !== CLIENT_ASSERTION_TYPE) {
    return oauthError('WEBSDK_INVALID_CLIENT', 'client_assertion_type must be jwt-bearer');
  }
  const client = await authenticateClient(ctx, req, params, TOKEN_PATH, nowMs);
  if (!client.ok) return oauthError('WEBSDK_INVALID_CLIENT', client.why);
  const app = client.app;
  const code = param(params, 'code') ?? '';
  const login = code === '' ? undefined : await ctx.store.claimAuthorizationCode(sha256(code));
  // Unknown, used before, another client's, another redirect URI, or expired: all one answer.
  if (
    login === undefined ||
    login.appId !== app.id ||
    login.redirectUri !== param(params, 'redirect_uri') ||
    login.codeExpiresAtMs === null ||
    login.codeExpiresAtMs <= nowMs ||
    login.outcome === null
  ) {
    return oauthError('WEBSDK_INVALID_GRANT', 'the code is invalid, expired or used');
  }
  const outcome = JSON.parse(login.outcome) as PromptOutcome;
  const nowSeconds = Math.floor(nowMs / 1000);
  const claims = idTokenClaims({
    issuer: `https://${calledHost(ctx, req)}${TOKEN_PATH}`,
    clientId: app.ikey,
    username: login.username,
    nonce: login.nonce,
    outcome,
    nowSeconds,
    ttlSeconds: TOKEN_TTL_SECONDS,
  });
  const idToken = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS512', typ: 'JWT' })
    .sign(new TextEncoder().encode(app.skey));
  return reply
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .send({
      id_token: idToken,
      access_token: ctx.random.bytes(32).toString('base64url'),
      expires_in: TOKEN_TTL_SECONDS,
      token_type: 'Bearer',
    });
}

// ---- shared steps ----

/** client_id + client_assertion: a web-sdk client, its assertion for this endpoint, unused jti. */
async function authenticateClient(
  ctx: PromptContext,
  req: FastifyRequest,
  params: ParamMap,
  path: string,
  nowMs: number,
): Promise<
  | { ok: true; app: NonNullable<Awaited<ReturnType<typeof loadWebSdkApp>>> }
  | { ok: false; why: string }
> {
  const app = await loadWebSdkApp(ctx, param(params, 'client_id'));
  if (!app) return { ok: false, why: 'unknown client_id' };
  const assertion = param(params, 'client_assertion');
  if (assertion === undefined) return { ok: false, why: 'client_assertion missing' };
  const verified = await verifyClientJwt(app, assertion, {
    audiences: endpointAudiences(ctx, req, path),
    nowMs,
    requireJti: true,
  });
  if (!verified.ok) return { ok: false, why: `client_assertion: ${verified.why}` };
  if (!(await claimAssertionJti(ctx.store, app, verified.claims, nowMs))) {
    return { ok: false, why: 'client_assertion: jti used before' };
  }
  return { ok: true, app };
}
