// The legacy /rest/v1 Auth API (Duo's Authentication Proxy, Auth API v1 clients) as a translation:
// its parameters into /auth/v2's, /auth/v2's answers into its shapes. No decision is made here.
import { AirlockError } from '../../core/error-registry.ts';
import { decodeForm, param, requireParam, type ParamMap } from './request-params.ts';

/** Parameters of /rest/v1 that are renamed or folded into others; the rest pass through. */
const V1_ONLY = new Set(['user', 'factor', 'auto', 'code', 'phone', 'text_prompt']);

/** v1's `phone=phoneN`: the n-th device of preauth's list. */
const DEVICE_TOKEN = /^phone([1-9][0-9]{0,2})$/;
const BARE_FACTORS = new Set(['push', 'phone', 'sms']);

/**
 * /rest/v1/preauth's `user`, `ipaddr` (and the proxy's informational `failmode`) as /auth/v2
 * preauth parameters, asking for the text prompt: its menu is v1's `factors` and `prompt`.
 */
export function preauthParamsFromV1(v1: ParamMap): ParamMap {
  const out = passThrough(v1);
  out.username = [requireParam(v1, 'user')];
  out.text_prompt = ['1'];
  return out;
}

/**
 * /rest/v1/auth's factor as /auth/v2's: `factor=auto&auto=X` (the proxy: X is a menu token such
 * as `push1`, a bare `push`/`phone`/`sms`, or a passcode), `factor=passcode&code=X`,
 * `factor=push|phone|sms&phone=phoneN` (device N).
 */
export function authParamsFromV1(v1: ParamMap): ParamMap {
  const out = passThrough(v1);
  out.username = [requireParam(v1, 'user')];
  const factor = requireParam(v1, 'factor');
  const set = (f: string, extra: Record<string, string> = {}) => {
    out.factor = [f];
    for (const [k, v] of Object.entries(extra)) out[k] = [v];
  };
  switch (factor) {
    case 'auto': {
      const auto = requireParam(v1, 'auto');
      if (auto === 'auto') set('auto');
      else if (BARE_FACTORS.has(auto)) set(auto, { device: 'auto' });
      // A menu token or a passcode: Duo Unix's factor=prompt reads both the same way.
      else set('prompt', { prompt: auto });
      break;
    }
    case 'passcode':
      set('passcode', { passcode: requireParam(v1, 'code') });
      break;
    case 'push':
    case 'phone':
    case 'sms': {
      const device = param(v1, 'phone');
      if (device === undefined) {
        set(factor, { device: 'auto' });
        break;
      }
      const n = DEVICE_TOKEN.exec(device)?.[1];
      if (n === undefined) throw new AirlockError('AUTH_INVALID_PARAMETERS', 'phone');
      set('prompt', { prompt: `${factor}${n}` });
      break;
    }
    default:
      throw new AirlockError('AUTH_INVALID_PARAMETERS', 'factor');
  }
  return out;
}

/** /rest/v1/status's `txid` as /auth/v2/auth_status's. */
export function statusParamsFromV1(v1: ParamMap): ParamMap {
  const out = decodeForm('');
  out.txid = [requireParam(v1, 'txid')];
  return out;
}

interface V2Preauth {
  result: 'auth' | 'allow' | 'deny' | 'enroll';
  status_msg: string;
  prompt?: { text: string; factors: Record<string, string> };
}

/**
 * /auth/v2 preauth's answer as v1's: `auth` carries the menu (`factors` with `default` when a push
 * or call is possible, and the `prompt` text); the others carry the message as `status`.
 */
export function preauthResponseToV1(v2: unknown) {
  const r = v2 as V2Preauth;
  if (r.result === 'auth') {
    return { result: 'auth', factors: r.prompt?.factors ?? {}, prompt: r.prompt?.text ?? '' };
  }
  return { result: r.result, status: r.status_msg };
}

interface V2Auth {
  txid?: string;
  result?: 'allow' | 'deny' | 'waiting';
  status_msg?: string;
}

/** /auth/v2 auth's answer as v1's: `{txid}` for async=1, else `result` and the message as `status`. */
export function authResponseToV1(v2: unknown) {
  const r = v2 as V2Auth;
  if (typeof r.txid === 'string' && r.result === undefined) return { txid: r.txid };
  return { result: r.result, status: r.status_msg ?? '' };
}

/** /auth/v2 auth_status's answer as v1 status's: no `result` while waiting. */
export function statusResponseToV1(v2: unknown) {
  const r = v2 as V2Auth;
  if (r.result === 'waiting') return { status: r.status_msg ?? '' };
  return { result: r.result, status: r.status_msg ?? '' };
}

/** A fresh ParamMap with every parameter v1 shares with v2 (ipaddr, async, pushinfo, …). */
function passThrough(v1: ParamMap): ParamMap {
  const out = decodeForm('');
  for (const [key, values] of Object.entries(v1)) if (!V1_ONLY.has(key)) out[key] = values;
  return out;
}
