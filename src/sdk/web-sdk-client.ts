// The Web SDK client: what Duo's duo_universal clients do (health check, state, authorize URL,
// code exchange with id_token checks), written for Airlock, with typed errors for the failmode.
import { timingSafeEqual } from 'node:crypto';
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { SystemClock, type Clock } from '../runtime/clock.ts';
import { httpSend, HttpSendError, type HttpSend } from '../runtime/http-send.ts';
import { CryptoRandom, type Random } from '../runtime/random.ts';
import { WebSdkError } from './web-sdk-error.ts';

const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const JWT_LIFETIME_SECONDS = 300;
const LEEWAY_SECONDS = 60;
const STATE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export interface WebSdkClientOptions {
  /** The application's client id (its ikey, 20 characters). */
  clientId: string;
  /** The application's client secret (its skey, 40 characters). */
  clientSecret: string;
  /** The service's API host, `host[:port]`, as `airlock app create` printed it. */
  apiHost: string;
  /** A redirect URI registered for the application (`--redirect-uri`). */
  redirectUri: string;
  /** Deadline of each call to the service; default 10 s. */
  timeoutMs?: number;
  /** Return the code as `duo_code` (default, like Duo) or as `code`. */
  useDuoCodeAttribute?: boolean;
  /** Injected for tests; defaults: the system clock, crypto randomness, Node's fetch. */
  clock?: Clock;
  random?: Random;
  send?: HttpSend;
}

/** The health check's answer: `degraded` when the service answers but a factor is having problems. */
export interface HealthStatus {
  status: 'ok' | 'degraded';
  degradedFactors: string[];
  /** The service's time, in seconds. */
  timestamp: number;
}

/** The verified result of a login: allowed only when the second factor allowed it. */
export interface TwoFactorResult {
  allowed: boolean;
  /** `auth_result` of the id_token: result `allow` or `deny`, status, status_msg. */
  authResult: { result: string; status: string; status_msg: string };
  /** Every claim of the verified id_token (auth_context among them). */
  claims: JWTPayload;
}

export interface WebSdkClient {
  /** Asks the service whether it answers for this client; throws WebSdkError when not. */
  healthCheck(): Promise<HealthStatus>;
  /** A random 36-character state; keep it with the username in the session before redirecting. */
  createState(): string;
  /** The prompt's URL for `username`; redirect the browser there. */
  createAuthUrl(username: string, state: string, options?: { nonce?: string }): Promise<string>;
  /** Exchanges the callback's code; throws WebSdkError unless the id_token verifies. */
  exchangeAuthorizationCodeFor2FAResult(
    code: string,
    username: string,
    options?: { nonce?: string },
  ): Promise<TwoFactorResult>;
}

/**
 * @example
 * const client = createWebSdkClient({ clientId, clientSecret, apiHost, redirectUri });
 * await client.healthCheck();
 * const state = client.createState();
 * session.set({ state, username });
 * reply.redirect(await client.createAuthUrl(username, state));
 * // in the callback, after checking the state (isSameState):
 * const result = await client.exchangeAuthorizationCodeFor2FAResult(query.duo_code, username);
 * if (result.allowed) logIn(username);
 */
export function createWebSdkClient(options: WebSdkClientOptions): WebSdkClient {
  if (options.clientId.length !== 20) throw new RangeError('clientId must be 20 characters');
  if (options.clientSecret.length !== 40)
    throw new RangeError('clientSecret must be 40 characters');
  if (options.apiHost.trim() === '') throw new RangeError('apiHost is empty');
  new URL(options.redirectUri); // throws on a relative or malformed URI
  const clock = options.clock ?? new SystemClock();
  const random = options.random ?? new CryptoRandom();
  const send = options.send ?? httpSend;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const key = new TextEncoder().encode(options.clientSecret);
  const base = `https://${options.apiHost}`;
  const url = (path: string) => `${base}${path}`;

  const randomText = (length: number) => {
    let out = '';
    for (let i = 0; i < length; i++) out += STATE_ALPHABET[random.int(STATE_ALPHABET.length)];
    return out;
  };
  const nowSeconds = () => Math.floor(clock.nowMs() / 1000);

  async function clientAssertion(audience: string): Promise<string> {
    const now = nowSeconds();
    return new SignJWT({
      iss: options.clientId,
      sub: options.clientId,
      aud: audience,
      jti: randomText(36),
      iat: now,
      exp: now + JWT_LIFETIME_SECONDS,
    })
      .setProtectedHeader({ alg: 'HS512' })
      .sign(key);
  }

  async function post(
    path: string,
    form: Record<string, string>,
  ): Promise<{ status: number; body: unknown }> {
    let answer;
    try {
      answer = await send({
        url: url(path),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
        timeoutMs,
      });
    } catch (e) {
      if (e instanceof HttpSendError && e.failure === 'timeout') {
        throw new WebSdkError('timeout', `no answer from ${options.apiHost} in ${timeoutMs} ms`, {
          cause: e,
        });
      }
      throw new WebSdkError('unreachable', `cannot reach ${options.apiHost}`, { cause: e });
    }
    if (answer.status >= 500) {
      throw new WebSdkError('server_error', `${options.apiHost} answered HTTP ${answer.status}`);
    }
    try {
      return { status: answer.status, body: JSON.parse(answer.bodyText) as unknown };
    } catch (e) {
      throw new WebSdkError('bad_response', `unreadable answer (HTTP ${answer.status})`, {
        cause: e,
      });
    }
  }

  return {
    async healthCheck() {
      const path = '/oauth/v1/health_check';
      const { body } = await post(path, {
        client_id: options.clientId,
        client_assertion: await clientAssertion(url(path)),
      });
      const b = (body ?? {}) as {
        stat?: unknown;
        message?: unknown;
        message_detail?: unknown;
        response?: {
          timestamp?: unknown;
          airlock?: { status?: unknown; degraded_factors?: unknown };
        };
      };
      if (b.stat !== 'OK') {
        const kind = b.message === 'invalid_client' ? 'invalid_client' : 'bad_response';
        throw new WebSdkError(
          kind,
          `health check failed: ${String(b.message)}: ${String(b.message_detail)}`,
        );
      }
      const degraded = Array.isArray(b.response?.airlock?.degraded_factors)
        ? b.response.airlock.degraded_factors.map(String)
        : [];
      return {
        status: degraded.length > 0 ? 'degraded' : 'ok',
        degradedFactors: degraded,
        timestamp: Number(b.response?.timestamp ?? 0),
      };
    },

    createState() {
      return randomText(36);
    },

    async createAuthUrl(username, state, extra = {}) {
      if (username === '') throw new RangeError('username is empty');
      if (state.length < 22 || state.length > 1024)
        throw new RangeError('state must be 22 to 1024 characters');
      const now = nowSeconds();
      const request = await new SignJWT({
        response_type: 'code',
        scope: 'openid',
        exp: now + JWT_LIFETIME_SECONDS,
        iat: now,
        client_id: options.clientId,
        redirect_uri: options.redirectUri,
        state,
        duo_uname: username,
        iss: options.clientId,
        aud: base,
        use_duo_code_attribute: options.useDuoCodeAttribute ?? true,
        ...(extra.nonce !== undefined ? { nonce: extra.nonce } : {}),
      })
        .setProtectedHeader({ alg: 'HS512' })
        .sign(key);
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: options.clientId,
        request,
        redirect_uri: options.redirectUri,
        scope: 'openid',
      });
      return `${url('/oauth/v1/authorize')}?${query.toString()}`;
    },

    async exchangeAuthorizationCodeFor2FAResult(code, username, extra = {}) {
      if (code === '') throw new WebSdkError('invalid_grant', 'no authorization code');
      const path = '/oauth/v1/token';
      const { status, body } = await post(path, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: options.redirectUri,
        client_id: options.clientId,
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: await clientAssertion(url(path)),
      });
      const b = (body ?? {}) as Record<string, unknown>;
      if (status !== 200) {
        const kind =
          b.error === 'invalid_client'
            ? 'invalid_client'
            : b.error === 'invalid_grant'
              ? 'invalid_grant'
              : 'bad_response';
        throw new WebSdkError(
          kind,
          `token exchange refused: ${String(b.error)}: ${String(b.error_description)}`,
        );
      }
      if (
        b.token_type !== 'Bearer' ||
        typeof b.id_token !== 'string' ||
        b.access_token === undefined ||
        b.expires_in === undefined
      ) {
        throw new WebSdkError(
          'bad_response',
          'token answer lacks id_token, access_token, expires_in or token_type',
        );
      }
      const claims = await verifyIdToken(b.id_token);
      if (claims.preferred_username !== username) {
        throw new WebSdkError('bad_token', 'the id_token is for another user');
      }
      if (extra.nonce !== undefined && claims.nonce !== extra.nonce) {
        throw new WebSdkError('bad_token', 'the id_token carries another nonce');
      }
      const r = (claims.auth_result ?? {}) as Record<string, unknown>;
      const authResult = {
        result: String(r.result),
        status: String(r.status),
        status_msg: String(r.status_msg),
      };
      return { allowed: authResult.result === 'allow', authResult, claims };
    },
  };

  async function verifyIdToken(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS512'],
        issuer: url('/oauth/v1/token'),
        audience: options.clientId,
        clockTolerance: LEEWAY_SECONDS,
        currentDate: new Date(clock.nowMs()),
        requiredClaims: ['exp', 'iat', 'iss', 'aud'],
      });
      return payload;
    } catch (e) {
      throw new WebSdkError('bad_token', 'the id_token does not verify', { cause: e });
    }
  }
}

/**
 * Compares the callback's state with the one kept in the session, in constant time; false when
 * either is missing. Destroy the session's state afterwards: a state is used once.
 */
export function isSameState(expected: string | undefined, received: string | undefined): boolean {
  if (expected === undefined || received === undefined || expected === '') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(received, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
