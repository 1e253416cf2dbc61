// Test helpers for the Admin API: signed calls (v2 form/query, v5 JSON) and console sessions,
// through Fastify's inject (no sockets).
import { TOTP, Secret } from 'otpauth';
import { signRequest } from '../../src/protocol/duo-signature.ts';
import type { FixedClock } from '../../src/runtime/clock.ts';
import { hashPassword } from '../../src/runtime/password-hash.ts';
import { csrfTokenFor, SESSION_COOKIE } from '../../src/service/admin/admin-auth.ts';
import type { Service } from '../../src/service/build-service.ts';
import type { Store } from '../../src/store/store.ts';

export interface AdminResponse {
  status: number;
  body: {
    stat: 'OK' | 'FAIL';
    response?: unknown;
    metadata?: Record<string, unknown>;
    code?: number;
    message?: string;
    message_detail?: string;
  };
  headers: Record<string, unknown>;
}

export type Params = Record<string, string | number | boolean | string[]>;

export interface KeyCredentials {
  ikey: string;
  skey: string;
}

const HOST = 'localhost';

/** A request signed with an Admin API key. */
export async function signedCall(
  service: Service,
  clock: FixedClock,
  key: KeyCredentials,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  params: Params = {},
  options: {
    version?: 2 | 5;
    digest?: 'sha1' | 'sha512';
    date?: string;
    skey?: string;
    /** The host signed and sent as Host (default `localhost`). */
    host?: string;
  } = {},
): Promise<AdminResponse> {
  const date = options.date ?? new Date(clock.nowMs()).toUTCString();
  const version = options.version ?? 2;
  const form = toForm(params);
  let url = path;
  let payload: string | undefined;
  let contentType: string | undefined;
  let signedParams: Record<string, string[]> = {};
  if (version === 5 && method === 'POST') {
    payload = JSON.stringify(params);
    contentType = 'application/json';
  } else if (method === 'POST') {
    payload = form.toString();
    contentType = 'application/x-www-form-urlencoded';
    signedParams = toParamMap(form);
  } else {
    const query = form.toString();
    if (query) url += `?${query}`;
    signedParams = toParamMap(form);
  }
  const authorization = signRequest({
    ikey: key.ikey,
    skey: options.skey ?? key.skey,
    version,
    digest: options.digest ?? 'sha512',
    date,
    method,
    host: options.host ?? HOST,
    path,
    params: signedParams,
    ...(payload !== undefined && version === 5 ? { body: payload } : {}),
  });
  const res = await service.server.inject({
    method,
    url,
    headers: {
      host: options.host ?? HOST,
      date,
      authorization,
      ...(contentType ? { 'content-type': contentType } : {}),
    },
    ...(payload !== undefined ? { payload } : {}),
  });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

/** A request with a console session cookie (and a CSRF header when given). */
export async function sessionCall(
  service: Service,
  session: { token: string } | undefined,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  params: Params = {},
  /** null: send no CSRF header. */
  csrf: string | null = session ? csrfTokenFor(session.token) : null,
): Promise<AdminResponse> {
  const form = toForm(params);
  const res = await service.server.inject({
    method,
    url: method === 'POST' ? path : `${path}${form.size ? `?${form.toString()}` : ''}`,
    headers: {
      host: HOST,
      ...(session ? { cookie: `${SESSION_COOKIE}=${session.token}` } : {}),
      ...(csrf !== null ? { 'x-csrf-token': csrf } : {}),
      ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    ...(method === 'POST' ? { payload: form.toString() } : {}),
  });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

export interface TestAdmin {
  username: string;
  password: string;
  totp: TOTP;
}

export async function createTestAdmin(
  store: Store,
  username: string,
  password: string,
): Promise<TestAdmin> {
  const secret = new Secret({ size: 20 });
  await store.createAdmin({
    id: `AD${username.toUpperCase()}`.slice(0, 20),
    username,
    passwordHash: await hashPassword(password),
    totpSecret: secret.base32,
  });
  return {
    username,
    password,
    totp: new TOTP({ secret, digits: 6, period: 30, algorithm: 'SHA1' }),
  };
}

/** Logs in through the console form; returns the session token from the cookie, or the failure. */
export async function consoleLogin(
  service: Service,
  fields: { username: string; password: string; code: string },
  ip = '127.0.0.1',
): Promise<{
  status: number;
  token: string | undefined;
  location: string | undefined;
  body: string;
}> {
  const res = await service.server.inject({
    method: 'POST',
    url: '/admin/login',
    remoteAddress: ip,
    headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });
  const cookie = String(res.headers['set-cookie'] ?? '');
  const match = new RegExp(`${SESSION_COOKIE}=([^;]+)`).exec(cookie);
  return {
    status: res.statusCode,
    token: match?.[1],
    location: res.headers.location,
    body: res.body,
  };
}

function toForm(params: Params): URLSearchParams {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) for (const item of v) form.append(k, item);
    else form.append(k, String(v));
  }
  return form;
}

function toParamMap(form: URLSearchParams): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of form) (out[k] ??= []).push(v);
  return out;
}
