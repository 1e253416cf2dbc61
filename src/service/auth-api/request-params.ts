// Reads an Auth API request's parameters the way its signature covers them (form, query or JSON).
import type { FastifyRequest } from 'fastify';
import { AirlockError } from '../../core/error-registry.ts';

/**
 * Parameters as Duo clients sign them: every key maps to its values, in arrival order. Always a
 * null-prototype object: a client may name a parameter `constructor`, `toString` or `__proto__`,
 * and it must stay an ordinary parameter (which the signature then covers), never reach
 * Object.prototype.
 */
export type ParamMap = Record<string, string[]>;

export interface RequestParams {
  /** What the signature's params line covers (form body, or query string). */
  signed: ParamMap;
  /** The parameters the endpoint reads (signed params, or the JSON body for signature v5). */
  values: ParamMap;
  /** The raw body bytes (signature v4/v5 hash them as received). */
  rawBody: Buffer;
  /** Request path without the query string. */
  path: string;
  /** The endpoint's parameters came from a JSON body: only a v4/v5 signature (body hash) covers them. */
  jsonBody: boolean;
}

const EMPTY = Buffer.alloc(0);

export function readRequestParams(req: FastifyRequest): RequestParams {
  const url = req.raw.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? emptyParams() : decodeForm(url.slice(q + 1));
  const rawBody = Buffer.isBuffer(req.body) ? req.body : EMPTY;
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();

  if (rawBody.length > 0 && contentType === 'application/json') {
    return {
      signed: query,
      values: Object.assign(emptyParams(), query, decodeJson(rawBody)),
      rawBody,
      path,
      jsonBody: true,
    };
  }
  if (rawBody.length > 0) {
    const form = decodeForm(rawBody.toString('utf8'));
    return {
      signed: mergeParams(query, form),
      values: mergeParams(query, form),
      rawBody,
      path,
      jsonBody: false,
    };
  }
  return { signed: query, values: query, rawBody, path, jsonBody: false };
}

/** The single value of a parameter; undefined when absent. */
export function param(params: ParamMap, name: string): string | undefined {
  return Object.hasOwn(params, name) ? params[name]?.[0] : undefined;
}

export function requireParam(params: ParamMap, name: string): string {
  const value = param(params, name);
  if (value === undefined || value === '') throw new AirlockError('AUTH_MISSING_PARAMETERS', name);
  return value;
}

/** Decodes `a=1&b=2` (query string or form body) into a null-prototype ParamMap. */
export function decodeForm(text: string): ParamMap {
  const out = emptyParams();
  for (const [key, value] of new URLSearchParams(text)) (out[key] ??= []).push(value);
  return out;
}

/**
 * The prototype of every ParamMap: empty, with no prototype of its own, so no parameter name
 * (`constructor`, `__proto__`, `toString`) finds anything inherited. Made with `new` rather than
 * `Object.create(null)`, which V8 keeps in slow dictionary mode: this is the hot path of every
 * request.
 */
class ParamRecord {}
Reflect.deleteProperty(ParamRecord.prototype, 'constructor');
Object.setPrototypeOf(ParamRecord.prototype, null);

function emptyParams(): ParamMap {
  return new ParamRecord() as ParamMap;
}

/** A ParamMap of single values (the in-process transport's parameters), like a decoded form. */
export function paramsOf(values: Readonly<Record<string, string>>): ParamMap {
  const out = emptyParams();
  for (const [key, value] of Object.entries(values)) out[key] = [value];
  return out;
}

function decodeJson(body: Buffer): ParamMap {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AirlockError('AUTH_INVALID_PARAMETERS', 'body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AirlockError('AUTH_INVALID_PARAMETERS', 'body must be a JSON object');
  }
  const out = emptyParams();
  for (const [key, value] of Object.entries(parsed)) {
    if (Array.isArray(value)) out[key] = value.map(scalarToString);
    else out[key] = [scalarToString(value)];
  }
  return out;
}

function scalarToString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return '';
  throw new AirlockError('AUTH_INVALID_PARAMETERS', 'nested JSON values are not accepted');
}

function mergeParams(a: ParamMap, b: ParamMap): ParamMap {
  const out = Object.assign(emptyParams(), a);
  for (const [key, values] of Object.entries(b)) out[key] = [...(out[key] ?? []), ...values];
  return out;
}

/**
 * Airlock extension `login_key` (docs/auth-api.md): one login's key, the same from every proxy
 * of a pair, so that the login gets one push. Refused unless 16-128 URL-safe characters.
 */
export function loginKeyParam(params: ParamMap): string | undefined {
  const key = param(params, 'login_key');
  if (key === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(key)) {
    throw new AirlockError(
      'AUTH_INVALID_PARAMETERS',
      'login_key must be 16-128 characters of A-Z, a-z, 0-9, _ and -',
    );
  }
  return key;
}

/**
 * Airlock extension `push_timeout` (docs/auth-api.md): how long the caller waits for the user's
 * answer, so that the push leaves the phone when nobody waits for it any more. Shortens the
 * service's own push timeout, never extends it. Refused unless a whole number from 1 to 3600.
 */
export function pushTimeoutParam(params: ParamMap): number | undefined {
  const value = param(params, 'push_timeout');
  if (value === undefined) return undefined;
  const seconds = /^[0-9]{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(seconds >= 1 && seconds <= 3600)) {
    throw new AirlockError(
      'AUTH_INVALID_PARAMETERS',
      'push_timeout must be a whole number of seconds from 1 to 3600',
    );
  }
  return seconds;
}
