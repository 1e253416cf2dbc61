// Web SDK (Universal Prompt) rules as pure functions: redirect URI registration, the limits of
// docs/web-sdk.md, and the claims of the id_token the token endpoint signs.
import { isLoopbackHost } from './loopback-host.ts';

/** Duo's clients generate 36; Python accepts 16..1024, Node 22..1024: the wider range here. */
export const STATE_MIN_LENGTH = 16;
export const STATE_MAX_LENGTH = 1024;
/** A client assertion or `request` JWT may live at most this long (exp - now, and exp - iat). */
export const CLIENT_JWT_MAX_LIFETIME_SECONDS = 300;
/** Leeway for the clocks of the application and the service (Duo's clients use 60 s too). */
export const JWT_LEEWAY_SECONDS = 60;
/** An authorization code is usable once, within this time. */
export const AUTHORIZATION_CODE_TTL_SECONDS = 60;
/** A hosted-prompt login must finish within this time (a push waits at most 60 s of it). */
export const PROMPT_LOGIN_TTL_SECONDS = 600;
/** Most redirect URIs one application may register. */
export const MAX_REDIRECT_URIS = 20;
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * Why a redirect URI cannot be registered, or undefined when it can: an absolute https URL
 * (http only for a loopback host, for development), without credentials or a fragment.
 */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > 2000) return 'longer than 2000 characters';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'not an absolute URL';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    return 'must be https (http only for localhost)';
  }
  if (url.username !== '' || url.password !== '') return 'must not carry credentials';
  if (url.hash !== '' || uri.includes('#')) return 'must not have a fragment';
  return undefined;
}

/**
 * Whether `uri` is registered: compared as the exact string (RFC 6749 §3.1.2.3, OAuth 2.0
 * Security BCP §4.1.3), so no prefix, case or path trick opens a redirect elsewhere.
 */
export function isRegisteredRedirectUri(registered: readonly string[], uri: string): boolean {
  return registered.includes(uri);
}

/** Where the prompt sends the browser back: the code under Duo's name (or OAuth's) and the state. */
export function callbackUrl(
  redirectUri: string,
  code: string,
  state: string,
  useDuoCode: boolean,
): string {
  const url = new URL(redirectUri);
  url.searchParams.append(useDuoCode ? 'duo_code' : 'code', code);
  url.searchParams.append('state', state);
  return url.toString();
}

export const PROMPT_RESULTS = ['allow', 'deny'] as const;
export type PromptResult = (typeof PROMPT_RESULTS)[number];

/** How a hosted-prompt login ended: what the id_token reports. */
export interface PromptOutcome {
  result: PromptResult;
  /** Auth API status (`allow`, `bypass`, `deny`, `locked_out`, `timeout`, `fraud` …). */
  status: string;
  statusMsg: string;
  /** `duo_push`, `passcode`, `phone_call`, `sms_passcode`, `remembered_device`, `bypass` … */
  factor: string;
  /** Why, in Duo's reason vocabulary (`user_approved`, `user_denied`, `deny_by_policy` …). */
  reason: string;
  txid: string;
  endedAtMs: number;
  user: { name: string; key: string | null; groups: string[] };
  application: { name: string; key: string };
  accessDevice: { ip: string | null };
  authDevice: { name: string | null };
}

export interface IdTokenInput {
  /** `https://<host the application called>/oauth/v1/token`: what the client checks `iss` against. */
  issuer: string;
  clientId: string;
  username: string;
  nonce: string | null;
  outcome: PromptOutcome;
  nowSeconds: number;
  /** Lifetime of the id_token and access token. */
  ttlSeconds: number;
}

/** The id_token's claims (docs/web-sdk.md "id_token"), in the shape Duo's clients read. */
export function idTokenClaims(input: IdTokenInput): Record<string, unknown> {
  const { outcome } = input;
  const authTime = Math.floor(outcome.endedAtMs / 1000);
  return {
    iss: input.issuer,
    aud: input.clientId,
    sub: input.username,
    iat: input.nowSeconds,
    exp: input.nowSeconds + input.ttlSeconds,
    auth_time: authTime,
    preferred_username: input.username,
    ...(input.nonce !== null ? { nonce: input.nonce } : {}),
    auth_result: {
      result: outcome.result,
      status: outcome.status,
      status_msg: outcome.statusMsg,
    },
    auth_context: {
      txid: outcome.txid,
      timestamp: authTime,
      isotimestamp: new Date(outcome.endedAtMs).toISOString(),
      event_type: 'authentication',
      result: outcome.result === 'allow' ? 'success' : 'denied',
      reason: outcome.reason,
      factor: outcome.factor,
      alias: '',
      email: '',
      ood_software: null,
      user: {
        name: outcome.user.name,
        key: outcome.user.key,
        groups: outcome.user.groups,
      },
      application: { name: outcome.application.name, key: outcome.application.key },
      access_device: { ip: outcome.accessDevice.ip, location: {}, hostname: null, epkey: null },
      auth_device: { ip: null, location: {}, name: outcome.authDevice.name },
    },
  };
}
