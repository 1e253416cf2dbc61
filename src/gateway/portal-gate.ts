// What the portal's steps share: the gateway's dependencies, the session and pending-login cookies
// (sealed), the CSRF and origin check of every form, and page rendering.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthApiClient } from '../client/auth-api-client.ts';
import type { GatewayConfig } from '../config/gateway-config-model.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Random } from '../runtime/random.ts';
import type { PrimaryAuthenticator } from '../proxy/primary/primary-authenticator.ts';
import type { GatewayEvents } from './gateway-events.ts';
import { parseCookies, serializeCookie } from './http-cookies.ts';
import type { GatewayOidc } from './oidc-provider.ts';
import { chooseLanguage, t, type MessageKey } from './portal-messages.ts';
import { messagePage, type PortalFrame } from './portal-pages.ts';
import { tokensEqual, type Sealer } from './session-seal.ts';
import type { GatewaySession, PendingLogin, SessionStore } from './session-store.ts';

export interface GatewayAppDeps {
  config: GatewayConfig;
  primary: PrimaryAuthenticator;
  api: AuthApiClient;
  sessions: SessionStore;
  events: GatewayEvents;
  clock: Clock;
  random: Random;
  /** The OpenID Connect provider, mounted at its issuer's path; absent without [oidc]. */
  oidc?: GatewayOidc | undefined;
}

/** The pending login's cookie: on the portal host only. */
export const LOGIN_COOKIE = '__Host-airlock_login';

/** What every portal step is given: the deps, the base path, the sealers, the CSP. */
export interface Gate {
  deps: GatewayAppDeps;
  base: string;
  sessionSealer: Sealer;
  loginSealer: Sealer;
  csp: string;
}

// ---------------------------------------------------------------------------------------------
// Cookies, forms, pages
// ---------------------------------------------------------------------------------------------

export function currentSession(gate: Gate, request: FastifyRequest): GatewaySession | undefined {
  const value = parseCookies(request.headers.cookie).get(gate.deps.config.gateway.cookieName);
  if (value === undefined) return undefined;
  const opened = gate.sessionSealer.open(value) as { sid?: unknown } | undefined;
  if (typeof opened?.sid !== 'string') return undefined;
  const session = gate.deps.sessions.useSession(opened.sid);
  gate.deps.events.metrics.sessions.set(gate.deps.sessions.sessionCount);
  return session;
}

export function currentLogin(gate: Gate, request: FastifyRequest): PendingLogin | undefined {
  const value = parseCookies(request.headers.cookie).get(LOGIN_COOKIE);
  if (value === undefined) return undefined;
  const opened = gate.loginSealer.open(value) as { lid?: unknown } | undefined;
  return typeof opened?.lid === 'string' ? gate.deps.sessions.getLogin(opened.lid) : undefined;
}

export type CheckedForm =
  | { error: undefined; login: PendingLogin; fields: URLSearchParams }
  | { error: MessageKey; status: number };

/** The pending login of a form POST, its CSRF token and origin checked. */
export function checkedForm(gate: Gate, request: FastifyRequest, needsUser = false): CheckedForm {
  const login = currentLogin(gate, request);
  if (!login || (needsUser && !login.user)) return { error: 'errorExpired', status: 400 };
  const fields = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
  if (!sameOrigin(gate, request) || !tokensEqual(fields.get('csrf') ?? '', login.csrf)) {
    return { error: 'errorForm', status: 403 };
  }
  return { error: undefined, login, fields };
}

/** The error page of a form `checkedForm` refused (expired login, forged or stale form). */
export function sendFormError(
  gate: Gate,
  request: FastifyRequest,
  reply: FastifyReply,
  form: { error: MessageKey; status: number },
) {
  return sendPage(
    reply,
    form.status,
    messagePageFor(gate, request, 'errorHeading', form.error, true),
  );
}

/** A browser's POST names its origin; one from elsewhere is cross-site request forgery. */
export function sameOrigin(gate: Gate, request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  return origin === undefined || origin === gate.deps.config.gateway.portalUrl.origin;
}

export function setSessionCookie(gate: Gate, reply: FastifyReply, session: GatewaySession): void {
  const { gateway } = gate.deps.config;
  const value = gate.sessionSealer.seal({ sid: session.id });
  appendCookie(
    reply,
    serializeCookie(gateway.cookieName, value, {
      domain: gateway.cookieDomain,
      maxAgeSeconds: (session.expiresAtMs - session.createdAtMs) / 1000,
    }),
  );
  gate.deps.events.metrics.sessions.set(gate.deps.sessions.sessionCount);
}

export function setLoginCookie(gate: Gate, reply: FastifyReply, login: PendingLogin): void {
  const maxAgeSeconds = gate.deps.config.gateway.loginTimeoutMs / 1000;
  appendCookie(
    reply,
    serializeCookie(LOGIN_COOKIE, gate.loginSealer.seal({ lid: login.id }), { maxAgeSeconds }),
  );
}

export function clearLogin(gate: Gate, reply: FastifyReply, login: PendingLogin): void {
  gate.deps.sessions.endLogin(login.id);
  appendCookie(reply, serializeCookie(LOGIN_COOKIE, '', { maxAgeSeconds: 0 }));
}

export function endLogin(
  gate: Gate,
  reply: FastifyReply,
  login: PendingLogin,
  status: number,
  page: string,
) {
  clearLogin(gate, reply, login);
  return sendPage(reply, status, page);
}

/** Ends the login with an error page saying `message` (placeholders filled from `values`). */
export function endLoginWithError(
  gate: Gate,
  request: FastifyRequest,
  reply: FastifyReply,
  login: PendingLogin,
  status: number,
  message: MessageKey,
  o: { again?: boolean; values?: Readonly<Record<string, string | number>> } = {},
) {
  const f = frame(gate, request);
  const text = t(f.lang, message, o.values);
  return endLogin(
    gate,
    reply,
    login,
    status,
    messagePage(f, {
      heading: 'errorHeading',
      message: text,
      kind: 'error',
      again: o.again ?? false,
    }),
  );
}

export function appendCookie(reply: FastifyReply, cookie: string): void {
  const existing = reply.getHeader('Set-Cookie');
  const list =
    existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  void reply.header('Set-Cookie', [...list.map(String), cookie]);
}

export function frame(gate: Gate, request: FastifyRequest): PortalFrame {
  return { lang: chooseLanguage(request.headers['accept-language']), base: gate.base };
}

export function messagePageFor(
  gate: Gate,
  request: FastifyRequest,
  heading: MessageKey,
  message: MessageKey,
  again = false,
): string {
  const f = frame(gate, request);
  return messagePage(f, { heading, message: t(f.lang, message), kind: 'error', again });
}

export function sendPage(reply: FastifyReply, status: number, page: string) {
  return reply.code(status).type('text/html; charset=utf-8').send(page);
}
