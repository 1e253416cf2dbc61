// The forward-auth endpoints reverse proxies ask on every request: 200 with the user's identity
// headers for a session that opens the application, else 401 (nginx) or a redirect to the portal.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { groupNames, matchApp, sessionOpensApp } from './access-rules.ts';
import { currentSession, type Gate } from './portal-gate.ts';
import type { GatewaySession } from './session-store.ts';

/**
 * `GET /authz/auth-request` (nginx `auth_request`: 401 plus a Location for `error_page`) and
 * `GET /authz/forward-auth` (Traefik ForwardAuth, Caddy forward_auth: a 302 to the portal). The
 * original request comes as `X-Original-URL` (nginx) or `X-Forwarded-Proto/Host/Uri`.
 */
export async function forwardAuth(
  gate: Gate,
  request: FastifyRequest,
  reply: FastifyReply,
  mode: 'auth-request' | 'forward-auth',
) {
  void reply.type('text/plain; charset=utf-8');
  const original = originalUrl(request);
  if (!original) return reply.code(400).send('no X-Original-URL or X-Forwarded-Host/Uri');
  const app = matchApp(gate.deps.config.apps, original.host, original.pathname);
  // A host or path no app claims is refused: the gateway never lets through what it was not told of.
  if (!app) return reply.code(403).send('no application for this address');
  const session = currentSession(gate, request);
  if (app.restriction === 'deny') {
    gate.deps.events.forwardAuth(app.name, 'deny');
    return reply.code(403).send('forbidden');
  }
  if (sessionOpensApp(app, session)) {
    gate.deps.events.forwardAuth(app.name, 'allow');
    identityHeaders(reply, session);
    return reply.code(200).send('ok');
  }
  gate.deps.events.forwardAuth(app.name, 'login');
  const login = new URL(`${gate.base}login`, gate.deps.config.gateway.portalUrl);
  login.searchParams.set('rd', original.href);
  void reply.header('Location', login.href);
  return reply.code(mode === 'auth-request' ? 401 : 302).send('login required');
}

function originalUrl(request: FastifyRequest): URL | undefined {
  const header = (name: string) => {
    const v = request.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const direct = header('x-original-url');
  const host = header('x-forwarded-host');
  const text =
    direct ??
    (host === undefined
      ? undefined
      : `${header('x-forwarded-proto') ?? 'https'}://${host}${header('x-forwarded-uri') ?? '/'}`);
  if (text === undefined) return undefined;
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `Remote-User`, `Remote-Groups`, `Remote-Email`, `Remote-2FA` of a session; all four empty without
 * one (an app open without login), never absent: a reverse proxy copying a header the answer
 * lacks may forward the client's own (Caddy 2.6's copy_headers forwards its placeholder text).
 */
function identityHeaders(reply: FastifyReply, session: GatewaySession | undefined): void {
  void reply.header('Remote-User', session?.user.username ?? '');
  void reply.header('Remote-Groups', session ? groupNames(session.user.groups).join(',') : '');
  void reply.header('Remote-Email', session?.user.email ?? '');
  void reply.header('Remote-2FA', session?.secondFactor ?? '');
}
