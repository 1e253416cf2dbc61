// Duo request signing: canonical strings (v1/v2/v4/v5), HMAC signatures, Authorization and Date parsing.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from './protocol-error.ts';
import { hostWithoutPort } from './request-host.ts';

export type SignatureVersion = 2 | 4 | 5;
export type SignatureDigest = 'sha1' | 'sha512';

/** Which canonical form and digest a verified signature used. */
export const VERIFIED_SIGNATURE_VERSIONS = ['v2-sha1', 'v2-sha512', 'v4', 'v5'] as const;
export type VerifiedSignatureVersion = (typeof VERIFIED_SIGNATURE_VERSIONS)[number];

/** Request parameters as decoded from the query string or a form body; repeated keys as arrays. */
export type RequestParams = Readonly<Record<string, string | readonly string[]>>;

export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface CanonicalRequestInput {
  version: SignatureVersion;
  /** The exact `X-Duo-Date` (or `Date`) header string; line 1 of the canonical string. */
  date: string;
  method: string;
  host: string;
  /** The request path as sent, without the query string. */
  path: string;
  params: RequestParams;
  /** v4/v5 only: the body bytes exactly as sent; absent = empty body. */
  body?: Buffer | string;
  /** v5 only: the `X-Duo-*` headers that are part of the signature. */
  duoHeaders?: Readonly<Record<string, string>>;
}

export interface SignRequestInput {
  ikey: string;
  skey: string;
  /** 2 (default; form or query params) or 5 (JSON body, always HMAC-SHA512). */
  version?: 2 | 5;
  /** v2 only; default `sha512` like every current Duo client. */
  digest?: SignatureDigest;
  date: string;
  method: string;
  host: string;
  path: string;
  params: RequestParams;
  body?: Buffer | string;
  duoHeaders?: Readonly<Record<string, string>>;
}

export interface ParsedAuthorization {
  ikey: string;
  signature: string;
}

export interface VerifySignatureInput {
  /** The application's secret key. */
  skey: string;
  /** The hex signature from `parseAuthorization`. */
  signature: string;
  method: string;
  /** The Host header as received (may carry a port). */
  host: string;
  /** The raw request path as received, without the query string. */
  path: string;
  /**
   * Params for the params line: decoded form params for a form POST, query params for GET/DELETE,
   * query params only (usually none) for a JSON body.
   */
  params: RequestParams;
  /** The raw body bytes as received; absent = empty body. */
  body?: Buffer | string;
  /** All request headers (Node's `IncomingHttpHeaders` fits); the `X-Duo-*` ones feed v5. */
  headers?: RequestHeaders;
  /** The exact date header string the client sent (`X-Duo-Date` ?? `Date`). */
  date: string;
}

export type VerifySignatureResult = { ok: true; version: VerifiedSignatureVersion } | { ok: false };

export const DUO_DATE_PROBLEMS = ['missing', 'unparseable', 'skewed'] as const;
export type DuoDateProblem = (typeof DUO_DATE_PROBLEMS)[number];

export type ParseDuoDateResult =
  { ok: true; dateMs: number } | { ok: false; reason: DuoDateProblem };

/** docs/design/auth-api.md, Decisions: reject dates more than 300 s from the server clock. */
export const DEFAULT_DATE_WINDOW_SECONDS = 300;

const MAX_AUTHORIZATION_LENGTH = 4096;
const DUO_HEADER_PREFIX = 'x-duo-';

// RFC 3986 §2.3 unreserved characters; everything else is %XX-encoded (OAuth 1.0 §3.6 style).
function isUnreservedByte(b: number): boolean {
  return (
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    (b >= 0x30 && b <= 0x39) || // 0-9
    b === 0x2d || // -
    b === 0x2e || // .
    b === 0x5f || // _
    b === 0x7e // ~
  );
}

const HEX_UPPER = '0123456789ABCDEF';
/** The characters `isUnreservedByte` keeps as they are (all ASCII, so one byte each). */
const ALL_UNRESERVED = /^[A-Za-z0-9._~-]*$/;

// Encodes the UTF-8 bytes ourselves rather than via encodeURIComponent: that one leaves !'()*
// literal and throws on lone surrogates, which Buffer turns into U+FFFD like Python does.
function percentEncode(value: string): string {
  // Most values (usernames, factors, passcodes, addresses) are all unreserved: they encode to
  // themselves, with no per-byte work on every signed and every verified request.
  if (ALL_UNRESERVED.test(value)) return value;
  let out = '';
  for (const b of Buffer.from(value, 'utf8')) {
    out += isUnreservedByte(b)
      ? String.fromCharCode(b)
      : '%' + HEX_UPPER.charAt(b >> 4) + HEX_UPPER.charAt(b & 0x0f);
  }
  return out;
}

// Encoded keys and values are pure ASCII, so UTF-16 code-unit order is byte order; a prefix sorts
// first (`foo` < `foo_bar`).
function compareAscii(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** docs/design/auth-api.md §2.2: the params line shared by every signature version. */
export function canonicalizeParams(params: RequestParams): string {
  const entries = Object.entries(params).map(([key, value]): [string, string[]] => [
    percentEncode(key),
    (typeof value === 'string' ? [value] : [...value]).map(percentEncode).sort(compareAscii),
  ]);
  entries.sort((a, b) => compareAscii(a[0], b[0]));
  const pairs: string[] = [];
  for (const [key, values] of entries) {
    for (const value of values) pairs.push(`${key}=${value}`);
  }
  return pairs.join('&');
}

function sha512Hex(data: Buffer | string): string {
  return createHash('sha512').update(data).digest('hex');
}

function hashDuoHeaderPairs(pairs: ReadonlyArray<readonly [string, string]>): string {
  const sorted = [...pairs].sort((a, b) => compareAscii(a[0], b[0]));
  return sha512Hex(sorted.flatMap(([name, value]) => [name, value]).join('\0'));
}

// docs/design/auth-api.md §2.3 v5: sha512 of `name\0value\0name\0value` over lower-cased, sorted
// X-Duo-* names.
function hashDuoHeaders(headers: Readonly<Record<string, string>>): string {
  const seen = new Set<string>();
  const pairs: Array<[string, string]> = [];
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (!name.startsWith(DUO_HEADER_PREFIX)) {
      throw new ProtocolError(
        'SIG_INVALID_DUO_HEADER',
        `header ${rawName} does not start with X-Duo-`,
      );
    }
    // A NUL would make the joined string ambiguous; a repeated name would make order ambiguous.
    if (name.includes('\0') || value.includes('\0')) {
      throw new ProtocolError(
        'SIG_INVALID_DUO_HEADER',
        `header ${rawName} contains a NUL character`,
      );
    }
    if (seen.has(name)) {
      throw new ProtocolError('SIG_INVALID_DUO_HEADER', `header ${rawName} is given twice`);
    }
    seen.add(name);
    pairs.push([name, value]);
  }
  return hashDuoHeaderPairs(pairs);
}

/**
 * docs/design/auth-api.md §2.3: the canonical string (lines joined by `\n`, no trailing newline).
 */
export function canonicalRequest(input: CanonicalRequestInput): string {
  const lines = [
    input.date,
    input.method.toUpperCase(),
    input.host.toLowerCase(),
    input.path,
    canonicalizeParams(input.params),
  ];
  if (input.version === 4 || input.version === 5) lines.push(sha512Hex(input.body ?? ''));
  if (input.version === 5) lines.push(hashDuoHeaders(input.duoHeaders ?? {}));
  return lines.join('\n');
}

/** Lower-case hex HMAC of a canonical string; key = skey UTF-8, message = canonical UTF-8. */
export function computeSignature(skey: string, canonical: string, digest: SignatureDigest): string {
  return createHmac(digest, skey).update(canonical, 'utf8').digest('hex');
}

/** The `Authorization` header value (`Basic base64(ikey:hexsig)`) for a client request. */
export function signRequest(input: SignRequestInput): string {
  const version = input.version ?? 2;
  const digest = input.digest ?? 'sha512';
  if (version === 5 && digest !== 'sha512') {
    throw new RangeError('signature v5 is always HMAC-SHA512');
  }
  const canonical = canonicalRequest({ ...input, version });
  const signature = computeSignature(input.skey, canonical, digest);
  return 'Basic ' + Buffer.from(`${input.ikey}:${signature}`, 'utf8').toString('base64');
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Splits `Basic base64(ikey:signature)`; throws `ProtocolError` when missing or malformed. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization {
  if (header === undefined || header.trim() === '') {
    throw new ProtocolError('SIG_MISSING_AUTHORIZATION', 'Authorization header is missing');
  }
  const malformed = (why: string): ProtocolError =>
    new ProtocolError('SIG_MALFORMED_AUTHORIZATION', `Authorization header ${why}`);
  if (header.length > MAX_AUTHORIZATION_LENGTH) throw malformed('is too long');
  // RFC 7235 §2.1: the scheme name is case-insensitive.
  const match = /^\s*basic +([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  const token = match?.[1];
  if (token === undefined) throw malformed('is not Basic base64 credentials');
  const decoded = Buffer.from(token, 'base64');
  // Buffer skips what it cannot decode; insist on a lossless round trip instead.
  if (decoded.toString('base64').replace(/=+$/, '') !== token.replace(/=+$/, '')) {
    throw malformed('has invalid base64');
  }
  let credentials: string;
  try {
    credentials = utf8Strict.decode(decoded);
  } catch {
    throw malformed('is not UTF-8');
  }
  const colon = credentials.indexOf(':');
  if (colon < 0) throw malformed('has no ikey:signature separator');
  const ikey = credentials.slice(0, colon);
  const signature = credentials.slice(colon + 1);
  // Printable ASCII only: the ikey reaches the store and the logs.
  if (!/^[\x21-\x7e]+$/.test(ikey)) throw malformed('has an empty or non-printable ikey');
  if (!/^[\x21-\x7e]+$/.test(signature)) throw malformed('has an empty or non-printable signature');
  return { ikey, signature };
}

// Duo Unix and the Node client sign the bare host; Python signs whatever host it was given,
// which may carry the port. Try the Host header as received and without its port.
function hostCandidates(hostHeader: string): string[] {
  const host = hostHeader.trim().toLowerCase();
  const bare = hostWithoutPort(host);
  return bare !== host ? [bare, host] : [host];
}

function receivedDuoHeaderHash(headers: RequestHeaders | undefined): string {
  const values = new Map<string, string[]>();
  for (const [rawName, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    if (!name.startsWith(DUO_HEADER_PREFIX)) continue;
    const list = values.get(name) ?? [];
    list.push(...(typeof value === 'string' ? [value] : value));
    values.set(name, list);
  }
  // Node joins repeated headers with ", "; do the same for callers passing arrays.
  return hashDuoHeaderPairs([...values].map(([name, list]) => [name, list.join(', ')] as const));
}

/**
 * docs/design/auth-api.md §2.4 step 3. 40 hex chars: v2 HMAC-SHA1; 128: v2 HMAC-SHA512, then v5,
 * then v4. Every candidate is compared with `timingSafeEqual` on equal-length digests.
 */
export function verifySignature(input: VerifySignatureInput): VerifySignatureResult {
  // Length is checked on the string: Buffer.from(hex) silently drops a trailing odd digit.
  if (!/^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{128})$/.test(input.signature)) return { ok: false };
  const provided = Buffer.from(input.signature, 'hex');
  const hosts = hostCandidates(input.host);
  const paramsLine = canonicalizeParams(input.params);
  // Lines 1-5 of every version; built here rather than via canonicalRequest so the params line
  // and hashes are computed once, and because received headers may repeat or hold anything.
  const v2Lines = (host: string): string[] => [
    input.date,
    input.method.toUpperCase(),
    host,
    input.path,
    paramsLine,
  ];
  const matchesAnyHost = (digest: SignatureDigest, canonicalFor: (host: string) => string) =>
    hosts.some((host) =>
      timingSafeEqual(
        createHmac(digest, input.skey).update(canonicalFor(host), 'utf8').digest(),
        provided,
      ),
    );

  if (provided.length === 20) {
    return matchesAnyHost('sha1', (host) => v2Lines(host).join('\n'))
      ? { ok: true, version: 'v2-sha1' }
      : { ok: false };
  }
  if (provided.length !== 64) return { ok: false };

  if (matchesAnyHost('sha512', (host) => v2Lines(host).join('\n'))) {
    return { ok: true, version: 'v2-sha512' };
  }
  // docs/design/auth-api.md §2.3: hash the raw received bytes, never a re-serialization of parsed
  // JSON.
  const bodyHash = sha512Hex(input.body ?? '');
  const headerHash = receivedDuoHeaderHash(input.headers);
  if (matchesAnyHost('sha512', (host) => [...v2Lines(host), bodyHash, headerHash].join('\n'))) {
    return { ok: true, version: 'v5' };
  }
  if (matchesAnyHost('sha512', (host) => [...v2Lines(host), bodyHash].join('\n'))) {
    return { ok: true, version: 'v4' };
  }
  return { ok: false };
}

/** The legacy signature of `/rest/v1` (Duo's Authentication Proxy): no date line. */
export interface CanonicalRequestV1Input {
  method: string;
  host: string;
  /** The request path as sent, without the query string. */
  path: string;
  params: RequestParams;
}

export type VerifiedSignatureV1Version = 'v1-sha1' | 'v1-sha512';

export type VerifySignatureV1Result =
  { ok: true; version: VerifiedSignatureV1Version } | { ok: false };

/**
 * docs/design/auth-api.md §2.3 v1: METHOD (upper), host (lower), path, params — four lines, no
 * date. Nothing in it changes over time, which is why a v1 request can be replayed.
 */
export function canonicalRequestV1(input: CanonicalRequestV1Input): string {
  return [
    input.method.toUpperCase(),
    input.host.toLowerCase(),
    input.path,
    canonicalizeParams(input.params),
  ].join('\n');
}

/** The `Authorization` header of a v1 request (HMAC-SHA1 unless told otherwise). */
export function signRequestV1(
  input: CanonicalRequestV1Input & { ikey: string; skey: string; digest?: SignatureDigest },
): string {
  const signature = computeSignature(input.skey, canonicalRequestV1(input), input.digest ?? 'sha1');
  return 'Basic ' + Buffer.from(`${input.ikey}:${signature}`, 'utf8').toString('base64');
}

/**
 * Verifies a v1 signature: 40 hex chars HMAC-SHA1 (Duo's Authentication Proxy), 128 HMAC-SHA512
 * (duo_client_python's default digest with sig_version=1). The Host header is tried as received
 * and without its port, like v2; every comparison is `timingSafeEqual` on equal-length digests.
 */
export function verifySignatureV1(
  input: CanonicalRequestV1Input & { skey: string; signature: string },
): VerifySignatureV1Result {
  if (!/^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{128})$/.test(input.signature)) return { ok: false };
  const provided = Buffer.from(input.signature, 'hex');
  const digest: SignatureDigest = provided.length === 20 ? 'sha1' : 'sha512';
  const matched = hostCandidates(input.host).some((host) =>
    timingSafeEqual(
      createHmac(digest, input.skey)
        .update(canonicalRequestV1({ ...input, host }), 'utf8')
        .digest(),
      provided,
    ),
  );
  if (!matched) return { ok: false };
  return { ok: true, version: digest === 'sha1' ? 'v1-sha1' : 'v1-sha512' };
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

// RFC 5322 §3.3 date-time: `[Day, ] DD Mon YYYY HH:MM[:SS] zone`, zone = ±HHMM or GMT/UT/UTC
// (Node sends GMT, Python -0000, Go and Duo Unix +0000, Python with sig_timezone any offset).
const RFC_5322_DATE =
  /^(?:([a-z]{3}),\s*)?(\d{1,2})\s+([a-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+(?:([+-])(\d{2})(\d{2})|gmt|ut|utc)$/i;

function parseRfc5322Date(text: string): number | null {
  const m = RFC_5322_DATE.exec(text.trim());
  if (m === null) return null;
  const [, weekday, day, month, year, hour, minute, second, sign, offsetHours, offsetMinutes] = m;
  const monthIndex = MONTHS.indexOf((month ?? '').toLowerCase());
  const d = Number(day);
  const y = Number(year);
  const h = Number(hour);
  const min = Number(minute);
  const s = Number(second ?? '0');
  const offMin = Number(offsetMinutes ?? '0');
  if (monthIndex < 0 || h > 23 || min > 59 || s > 60 || offMin > 59) return null;
  const dayStart = Date.UTC(y, monthIndex, d);
  const check = new Date(dayStart);
  // Rejects 31 Feb and the like, which Date.UTC would silently roll over.
  if (check.getUTCDate() !== d || check.getUTCMonth() !== monthIndex) return null;
  // RFC 5322 §3.3: the day-of-week, if given, must be the one the date implies.
  if (weekday !== undefined && WEEKDAYS.indexOf(weekday.toLowerCase()) !== check.getUTCDay()) {
    return null;
  }
  const offsetMs = (sign === '-' ? -1 : 1) * (Number(offsetHours ?? '0') * 60 + offMin) * 60_000;
  return dayStart + ((h * 60 + min) * 60 + s) * 1000 - offsetMs;
}

/**
 * Parses the request date (`X-Duo-Date` ?? `Date`) and checks it lies within `windowSeconds`
 * of `nowMs` (inclusive).
 */
export function parseDuoDate(
  header: string | undefined,
  nowMs: number,
  windowSeconds: number = DEFAULT_DATE_WINDOW_SECONDS,
): ParseDuoDateResult {
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing' };
  const dateMs = parseRfc5322Date(header);
  if (dateMs === null) return { ok: false, reason: 'unparseable' };
  if (Math.abs(dateMs - nowMs) > windowSeconds * 1000) return { ok: false, reason: 'skewed' };
  return { ok: true, dateMs };
}
