// Auth API v2 answers: typed responses, strict shape guards, and the HTTP-level classification of
// docs/design/auth-api.md §1.1 and §3.9 (pure; the transport lives in auth-api-client.ts).
import { isOneOf } from '../core/closed-set.ts';
import type { UnreachableReason } from '../core/failmode-decision.ts';
import { AUTH_RESULTS, type AuthResult } from '../core/model.ts';
import { PREAUTH_RESULTS, type PreauthResult } from '../core/preauth-decision.ts';

/** What one Auth API call came to. Network and HTTP problems are values, never exceptions. */
export type ApiOutcome<T> =
  | { kind: 'ok'; response: T; latencyMs: number }
  | {
      kind: 'unreachable';
      reason: UnreachableReason;
      detail: string;
      httpStatus?: number;
      latencyMs: number;
    }
  /** A 4xx with `stat: FAIL` (429 included), or a 200 with `stat: FAIL`. Never fails open. */
  | {
      kind: 'rejected';
      httpStatus: number;
      code?: number;
      message: string;
      detail?: string;
      /** 429 only: the service's `Retry-After`, when it sent one in seconds. */
      retryAfterSeconds?: number;
      latencyMs: number;
    }
  /** A non-5xx answer that is not JSON, or not a Duo envelope. Never fails open (§3.9). */
  | { kind: 'invalid'; httpStatus: number; detail: string; latencyMs: number };

export type ApiOutcomeKind = ApiOutcome<unknown>['kind'];

/** An outcome before the transport adds its latency. */
export type ClassifiedResponse<T> =
  ApiOutcome<T> extends infer O
    ? O extends { latencyMs: number }
      ? Omit<O, 'latencyMs'>
      : never
    : never;

/** `/ping` and `/check`: the server's clock, Unix seconds. */
export interface TimeResponse {
  time: number;
}

export interface PreauthDevice {
  device: string;
  /** `phone` or `token` at Duo; kept open so a new type is not a malformed answer. */
  type: string;
  number?: string;
  name?: string;
  display_name?: string;
  /** A subset of `auto`, `push`, `sms`, `phone`, `mobile_otp`; tokens have none. */
  capabilities: string[];
  sms_nextcode?: string;
}

export interface PreauthPrompt {
  text: string;
  /** Menu key ("1", "2", …, "default") to factor token (`push1`, `phone1`, …). */
  factors: Record<string, string>;
}

export interface PreauthResponse {
  result: PreauthResult;
  status_msg: string;
  /** Present, possibly empty, when `result` is `auth`. */
  devices?: PreauthDevice[];
  prompt?: PreauthPrompt;
  /** Verified push: echo it on `/auth`. */
  txid?: string;
  enroll_portal_url?: string;
}

/** A synchronous `/auth` answer. */
export interface AuthResponse {
  result: AuthResult;
  status: string;
  status_msg: string;
  trusted_device_token?: string;
}

/** An `async=1` `/auth` answer: poll `/auth_status` with the txid. */
export interface AuthTxidResponse {
  txid: string;
}

export interface AuthStatusResponse extends AuthResponse {
  auth_delayed?: boolean;
}

/**
 * Airlock extension `/auth/v2/preauth_auth`: preauth's answer, and `auth` (the passcode's answer)
 * exactly when preauth's result is `auth`.
 */
export interface PreauthAuthResponse {
  preauth: { result: PreauthResult; status_msg: string; enroll_portal_url?: string };
  auth?: AuthResponse;
}

/** Checks the `response` member of a `stat: OK` envelope; `problem` names the bad field. */
export type ResponseGuard<T> = (
  response: unknown,
) => { ok: true; value: T } | { ok: false; problem: string };

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isOptional = <T>(v: unknown, guard: (x: unknown) => x is T): boolean =>
  v === undefined || guard(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isPreauthResult = (v: unknown) => isOneOf(PREAUTH_RESULTS, v);
const isAuthResult = (v: unknown) => isOneOf(AUTH_RESULTS, v);

// Duo's parse rule: a problem names the missing or invalid field, like the Auth Proxy's
// "Malformed API Response - invalid or missing 'result'".
const missing = (field: string) =>
  ({ ok: false, problem: `invalid or missing '${field}'` }) as const;

/** `/ping`, `/check`: `{time: <unix seconds>}`. */
export const guardTimeResponse: ResponseGuard<TimeResponse> = (response) => {
  if (!isObject(response)) return missing('response');
  const { time } = response;
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time <= 0) return missing('time');
  return { ok: true, value: { time } };
};

function parseDevice(v: unknown): PreauthDevice | undefined {
  if (!isObject(v) || !isString(v.device) || !isString(v.type)) return undefined;
  const capabilities = v.capabilities ?? [];
  if (!isStringArray(capabilities)) return undefined;
  for (const key of ['number', 'name', 'display_name', 'sms_nextcode'] as const) {
    if (!isOptional(v[key], isString)) return undefined;
  }
  return {
    device: v.device,
    type: v.type,
    capabilities: [...capabilities],
    ...pickStrings(v, ['number', 'name', 'display_name', 'sms_nextcode'] as const),
  };
}

function parsePrompt(v: unknown): PreauthPrompt | undefined {
  if (!isObject(v) || !isString(v.text) || !isObject(v.factors)) return undefined;
  const factors: Record<string, string> = {};
  for (const [key, value] of Object.entries(v.factors)) {
    if (!isString(value)) return undefined;
    factors[key] = value;
  }
  return { text: v.text, factors };
}

function pickStrings<K extends string>(v: Json, keys: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = v[key];
    if (isString(value)) out[key] = value;
  }
  return out;
}

/** `/preauth`: `result` ∈ auth|allow|deny|enroll, `status_msg`; `devices[]` when `auth`. */
export const guardPreauthResponse: ResponseGuard<PreauthResponse> = (response) => {
  if (!isObject(response)) return missing('response');
  if (!isPreauthResult(response.result)) return missing('result');
  if (!isString(response.status_msg)) return missing('status_msg');
  const value: PreauthResponse = { result: response.result, status_msg: response.status_msg };
  if (response.result === 'auth' || response.devices !== undefined) {
    if (!Array.isArray(response.devices)) return missing('devices');
    const devices: PreauthDevice[] = [];
    for (const item of response.devices) {
      const device = parseDevice(item);
      if (!device) return missing('devices');
      devices.push(device);
    }
    value.devices = devices;
  }
  if (response.prompt !== undefined) {
    const prompt = parsePrompt(response.prompt);
    if (!prompt) return missing('prompt');
    value.prompt = prompt;
  }
  for (const key of ['txid', 'enroll_portal_url'] as const) {
    if (!isOptional(response[key], isString)) return missing(key);
  }
  return { ok: true, value: { ...value, ...pickStrings(response, ['txid', 'enroll_portal_url']) } };
};

function parseAuthFields(response: Json): AuthResponse | { problem: string } {
  if (!isAuthResult(response.result)) return missing('result');
  if (!isString(response.status)) return missing('status');
  if (!isString(response.status_msg)) return missing('status_msg');
  if (!isOptional(response.trusted_device_token, isString)) return missing('trusted_device_token');
  return {
    result: response.result,
    status: response.status,
    status_msg: response.status_msg,
    ...pickStrings(response, ['trusted_device_token']),
  };
}

/** Synchronous `/auth`: `result` ∈ allow|deny|waiting, `status`, `status_msg`. */
export const guardAuthResponse: ResponseGuard<AuthResponse> = (response) => {
  if (!isObject(response)) return missing('response');
  const parsed = parseAuthFields(response);
  return 'problem' in parsed ? { ok: false, problem: parsed.problem } : { ok: true, value: parsed };
};

/** `/preauth_auth`: `preauth{result,status_msg}`, and `auth` as /auth's when the result is `auth`. */
export const guardPreauthAuthResponse: ResponseGuard<PreauthAuthResponse> = (response) => {
  if (!isObject(response) || !isObject(response.preauth)) return missing('preauth');
  const pre = response.preauth;
  if (!isPreauthResult(pre.result)) return missing('preauth.result');
  if (!isString(pre.status_msg)) return missing('preauth.status_msg');
  if (!isOptional(pre.enroll_portal_url, isString)) return missing('preauth.enroll_portal_url');
  const preauth = {
    result: pre.result,
    status_msg: pre.status_msg,
    ...pickStrings(pre, ['enroll_portal_url']),
  };
  if (pre.result !== 'auth') {
    return response.auth === undefined ? { ok: true, value: { preauth } } : missing('auth');
  }
  if (!isObject(response.auth)) return missing('auth');
  const auth = parseAuthFields(response.auth);
  if ('problem' in auth) return { ok: false, problem: `auth: ${auth.problem}` };
  return { ok: true, value: { preauth, auth } };
};

/** `/auth` with `async=1`: `{txid}`. */
export const guardAuthTxidResponse: ResponseGuard<AuthTxidResponse> = (response) => {
  if (!isObject(response) || !isString(response.txid) || response.txid === '') {
    return missing('txid');
  }
  return { ok: true, value: { txid: response.txid } };
};

/** `/auth_status`: like `/auth`, plus `auth_delayed`. */
export const guardAuthStatusResponse: ResponseGuard<AuthStatusResponse> = (response) => {
  if (!isObject(response)) return missing('response');
  const parsed = parseAuthFields(response);
  if ('problem' in parsed) return { ok: false, problem: parsed.problem };
  if (!isOptional(response.auth_delayed, (v): v is boolean => typeof v === 'boolean')) {
    return missing('auth_delayed');
  }
  return {
    ok: true,
    value:
      typeof response.auth_delayed === 'boolean'
        ? { ...parsed, auth_delayed: response.auth_delayed }
        : parsed,
  };
};

export interface HttpAnswer {
  status: number;
  /** The whole body, or the part read before the size cap. */
  body: Buffer;
  /** The body was longer than the cap; what was read is not parsed. */
  truncated: boolean;
  /** The `Retry-After` header, if any. */
  retryAfter?: string;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function parseJson(answer: HttpAnswer): { ok: true; value: unknown } | { ok: false } {
  if (answer.truncated) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(utf8Strict.decode(answer.body)) as unknown };
  } catch {
    return { ok: false };
  }
}

function failFields(envelope: Json): { code?: number; message: string; detail?: string } {
  const code =
    typeof envelope.code === 'number' && Number.isSafeInteger(envelope.code)
      ? envelope.code
      : undefined;
  const message = isString(envelope.message) ? envelope.message : 'no message';
  const detail = isString(envelope.message_detail) ? envelope.message_detail : undefined;
  return { ...(code === undefined ? {} : { code }), message, ...(detail ? { detail } : {}) };
}

function describeFail(fail: { code?: number; message: string; detail?: string }): string {
  const code = fail.code === undefined ? '' : `${fail.code} `;
  return `${code}${fail.message}${fail.detail ? ` (${fail.detail})` : ''}`;
}

// RFC 9110 §10.2.3: delay-seconds, or an HTTP-date (left to the caller's clock; not parsed here).
function parseRetryAfterSeconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d{1,9}\s*$/.test(value)) return undefined;
  return Number(value.trim());
}

/**
 * docs/design/auth-api.md §1.1 and §3.9 for an HTTP answer that arrived in full:
 *
 * | HTTP answer                                          | kind / reason              |
 * |------------------------------------------------------|----------------------------|
 * | 5xx, JSON or not                                     | unreachable / server-error |
 * | 200 `stat: OK` with the fields the endpoint needs    | ok                         |
 * | 200 `stat: OK` without them, or `stat` not OK/FAIL   | unreachable / malformed    |
 * | 200 or 4xx (429 too) with `stat: FAIL`               | rejected                   |
 * | any other non-5xx: not JSON, not an envelope, 3xx…   | invalid                    |
 */
export function classifyHttpAnswer<T>(
  answer: HttpAnswer,
  guard: ResponseGuard<T>,
): ClassifiedResponse<T> {
  return classifyParsedAnswer({ ...answer, json: parseJson(answer) }, guard);
}

/** An answer whose body is already parsed (or known not to be JSON). */
export interface ParsedAnswer {
  status: number;
  json: { ok: true; value: unknown } | { ok: false };
  /** The body was longer than the cap (then `json` is not ok). */
  truncated: boolean;
  retryAfter?: string;
}

/**
 * `classifyHttpAnswer`'s table for a body already parsed: the in-process transport's answers
 * (in-process-auth-api-client.ts) are classified by the very same rules.
 */
export function classifyParsedAnswer<T>(
  answer: ParsedAnswer,
  guard: ResponseGuard<T>,
): ClassifiedResponse<T> {
  const { status, json } = answer;
  const envelope = json.ok && isObject(json.value) ? json.value : undefined;

  if (status >= 500 && status <= 599) {
    const fail = envelope?.stat === 'FAIL' ? `: ${describeFail(failFields(envelope))}` : '';
    return {
      kind: 'unreachable',
      reason: 'server-error',
      httpStatus: status,
      detail: `HTTP ${status}${fail}`,
    };
  }
  if (!json.ok) {
    // Duo's own clients fail closed here too: an unparseable body is not a server error.
    const why = answer.truncated ? 'a body over the size limit' : 'a body that is not JSON';
    return { kind: 'invalid', httpStatus: status, detail: `HTTP ${status} with ${why}` };
  }
  if (envelope?.stat === 'FAIL' && (status === 200 || (status >= 400 && status <= 499))) {
    const fail = failFields(envelope);
    const retryAfterSeconds =
      status === 429 ? parseRetryAfterSeconds(answer.retryAfter) : undefined;
    return {
      kind: 'rejected',
      httpStatus: status,
      ...fail,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    };
  }
  if (status !== 200) {
    return {
      kind: 'invalid',
      httpStatus: status,
      detail: `HTTP ${status} with a body that is not a Duo error envelope`,
    };
  }
  if (envelope?.stat !== 'OK') {
    return {
      kind: 'unreachable',
      reason: 'malformed',
      httpStatus: status,
      detail: `Malformed API response - invalid or missing 'stat'`,
    };
  }
  const checked = guard(envelope.response);
  if (!checked.ok && saysDeny(envelope.response)) {
    // A deny with a malformed extra field is still a deny: treating it as "malformed" would let
    // failmode=safe turn it into an allow (docs/design/goals-and-terms.md §3: a deny never becomes
    // an allow).
    return {
      kind: 'rejected',
      httpStatus: status,
      message: `Malformed API response that says deny - ${checked.problem}`,
    };
  }
  if (!checked.ok) {
    return {
      kind: 'unreachable',
      reason: 'malformed',
      httpStatus: status,
      detail: `Malformed API response - ${checked.problem}`,
    };
  }
  return { kind: 'ok', response: checked.value };
}

/**
 * Whether a response, however malformed otherwise, carries `result: "deny"` (preauth_auth: in its
 * `preauth` or `auth` part).
 */
function saysDeny(response: unknown): boolean {
  if (!isObject(response)) return false;
  if (response.result === 'deny') return true;
  const part = (v: unknown) => isObject(v) && v.result === 'deny';
  return part(response.preauth) || part(response.auth);
}
