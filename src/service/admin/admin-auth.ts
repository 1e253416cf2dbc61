// Who is calling the Admin API or the console: an Admin API key (HMAC-signed like the Auth API)
// or a console session (cookie + CSRF token); one step every admin route runs first.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Admin, AdminApiKey, AdminSession } from '../../core/admin-model.ts';
import { AirlockError } from '../../core/error-registry.ts';
import { parseAuthorization, parseDuoDate, verifySignature } from '../../protocol/duo-signature.ts';
import { ProtocolError } from '../../protocol/protocol-error.ts';
import type { Clock } from '../../runtime/clock.ts';
import { isStoreError } from '../../store/store-error.ts';
import type { Store } from '../../store/store.ts';
import type { RequestParams } from '../auth-api/request-params.ts';
import { checkRequestHost } from '../auth-api/verify-request.ts';

/** `__Host-`: the browser only keeps it when Secure, Path=/ and without Domain (RFC 6265bis §4.1.3.2). */
export const SESSION_COOKIE = '__Host-airlock_session';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = 'csrf_token';

export interface AdminSessionOptions {
  /** A session unused this long is over (OWASP: 15 minutes for high-value applications). */
  sessionIdleSeconds: number;
  /** A session is over this long after login, used or not. */
  sessionMaxSeconds: number;
}

export type AdminActor =
  | { kind: 'key'; actor: string; key: AdminApiKey }
  | { kind: 'session'; actor: string; admin: Admin; session: AdminSession; csrfToken: string };

export interface AdminAuthDeps {
  store: Store;
  clock: Clock;
  dateWindowSeconds: number;
  /** Strict host mode for API keys' signed requests; undefined = any Host. */
  allowedHosts?: readonly string[] | undefined;
  options: AdminSessionOptions;
}

/** SHA-256 hex of a token: what the store keeps instead of the token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The session's CSRF token, derived from the session token: the page can show it again on every
 * request without the store keeping it in the clear, and it is useless without the cookie.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('airlock console csrf v1').digest('base64url');
}

export function sessionCookie(token: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${token}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/** The value of cookie `name`, or undefined. */
export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Authenticates an Admin API call: an `Authorization` header means an API key, else the session
 * cookie. `write` marks a state-changing request: a session must then present its CSRF token
 * (header `X-CSRF-Token` or form field `csrf_token`). API keys need none: a browser never adds
 * an HMAC signature on its own.
 */
export async function authenticateAdmin(
  req: FastifyRequest,
  params: RequestParams,
  deps: AdminAuthDeps,
  write: boolean,
): Promise<AdminActor> {
  if (req.headers.authorization !== undefined) return verifyAdminKey(req, params, deps);
  const actor = await loadSession(req, deps);
  if (actor === undefined) throw new AirlockError('ADMIN_MISSING_CREDENTIALS');
  if (write) checkCsrf(actor, submittedCsrfToken(req, params));
  return actor;
}

/** Verifies an Admin API key's request signature; the same canonical forms as the Auth API. */
export async function verifyAdminKey(
  req: FastifyRequest,
  params: RequestParams,
  deps: AdminAuthDeps,
): Promise<AdminActor> {
  let credentials: { ikey: string; signature: string };
  try {
    credentials = parseAuthorization(req.headers.authorization);
  } catch (e) {
    if (e instanceof ProtocolError) throw new AirlockError('ADMIN_MISSING_CREDENTIALS', e.message);
    throw e;
  }
  const key = await loadAdminApiKey(req, deps.store, credentials.ikey);
  if (!key) throw new AirlockError('ADMIN_UNKNOWN_IKEY');
  const nowMs = deps.clock.nowMs();
  const dateHeader = header(req, 'x-duo-date') ?? header(req, 'date');
  const date = parseDuoDate(dateHeader, nowMs, deps.dateWindowSeconds);
  if (!date.ok) throw new AirlockError('ADMIN_BAD_DATE', date.reason);
  const result = verifySignature({
    skey: key.skey,
    signature: credentials.signature,
    method: req.method,
    host: header(req, 'host') ?? '',
    path: params.path,
    params: params.signed,
    body: params.rawBody,
    headers: req.headers,
    date: dateHeader ?? '',
  });
  if (!result.ok) throw new AirlockError('ADMIN_BAD_SIGNATURE');
  checkRequestHost(req, deps.allowedHosts, 'ADMIN_WRONG_HOST');
  // New API, no legacy clients: HMAC-SHA1 is not accepted for administrator keys.
  if (result.version === 'v2-sha1') {
    throw new AirlockError('ADMIN_BAD_SIGNATURE', 'HMAC-SHA1 signatures are not accepted');
  }
  // As in the Auth API: a v2 signature does not cover a JSON body.
  if (params.jsonBody && result.version.startsWith('v2')) {
    throw new AirlockError('ADMIN_BAD_SIGNATURE', 'a JSON body must be signed with v4 or v5');
  }
  // last-used is informational; one write a minute per key is enough.
  if (key.lastUsedAtMs === null || nowMs - key.lastUsedAtMs > 60_000) {
    await deps.store.touchAdminApiKey(key.ikey, nowMs);
  }
  return { kind: 'key', actor: `adminkey:${key.ikey}`, key };
}

/**
 * The console session of this request; undefined without a cookie. Throws ADMIN_SESSION_EXPIRED
 * when the cookie names no live session (unknown, idle too long, past its absolute expiry, or
 * its administrator is disabled).
 */
export async function loadSession(
  req: FastifyRequest,
  deps: AdminAuthDeps,
): Promise<Extract<AdminActor, { kind: 'session' }> | undefined> {
  const token = readCookie(req, SESSION_COOKIE);
  if (token === undefined || token === '') return undefined;
  const idHash = hashToken(token);
  const session = await deps.store.getAdminSession(idHash);
  const nowMs = deps.clock.nowMs();
  if (!session) throw new AirlockError('ADMIN_SESSION_EXPIRED');
  const idleLimitMs = deps.options.sessionIdleSeconds * 1000;
  if (nowMs >= session.expiresAtMs || nowMs - session.lastSeenAtMs >= idleLimitMs) {
    await deps.store.deleteAdminSession(idHash);
    throw new AirlockError('ADMIN_SESSION_EXPIRED');
  }
  const admin = await deps.store.getAdmin(session.adminId);
  if (!admin || admin.disabled) {
    await deps.store.deleteAdminSession(idHash);
    throw new AirlockError('ADMIN_SESSION_EXPIRED');
  }
  // Sliding idle expiry; a write every few seconds at most.
  if (nowMs - session.lastSeenAtMs >= 5_000) await deps.store.touchAdminSession(idHash, nowMs);
  return {
    kind: 'session',
    actor: `admin:${admin.username}`,
    admin,
    session: { ...session, lastSeenAtMs: nowMs },
    csrfToken: csrfTokenFor(token),
  };
}

/** Throws ADMIN_CSRF unless `submitted` is the session's CSRF token (constant-time compare). */
export function checkCsrf(
  actor: Extract<AdminActor, { kind: 'session' }>,
  submitted: string | undefined,
): void {
  if (submitted === undefined || submitted === '') throw new AirlockError('ADMIN_CSRF');
  const expected = Buffer.from(actor.session.csrfTokenHash, 'hex');
  const given = Buffer.from(hashToken(submitted), 'hex');
  // Both are SHA-256 digests: equal length, so timingSafeEqual never throws here.
  if (!timingSafeEqual(expected, given)) throw new AirlockError('ADMIN_CSRF');
}

export function submittedCsrfToken(req: FastifyRequest, params: RequestParams): string | undefined {
  return header(req, CSRF_HEADER) ?? params.values[CSRF_FIELD]?.[0];
}

/** An Admin API key whose stored skey does not open (finding 9) is refused as badly signed. */
async function loadAdminApiKey(
  req: FastifyRequest,
  store: Store,
  ikey: string,
): Promise<AdminApiKey | undefined> {
  try {
    return await store.getAdminApiKey(ikey);
  } catch (err) {
    if (!isStoreError(err, 'STORE_SECRET_UNREADABLE')) throw err;
    req.log.error({ code: err.code, ikey }, `Admin API key refused: ${err.message}`);
    throw new AirlockError('ADMIN_BAD_SIGNATURE', undefined, { cause: err });
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
