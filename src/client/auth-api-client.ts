// Auth API v2 client: signed calls with a hard deadline whose every ending is an outcome value.
//
// Built on node:https rather than fetch/undici (undici is not a dependency, and global fetch is
// off-limits outside src/runtime): node:https gives us one timer that covers DNS, connect, TLS
// and the response together; a per-client CA (`ca`) and SNI servername without touching global
// state; a bounded keep-alive agent; and the raw error codes (ENOTFOUND, ECONNREFUSED, OpenSSL
// verify codes) that docs/design/auth-api.md §3.9 classifies.
import https from 'node:https';
import { isIP } from 'node:net';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import type { SecondFactorOutcome, UnreachableReason } from '../core/failmode-decision.ts';
import { canonicalizeParams, signRequest } from '../protocol/duo-signature.ts';
import type { Clock } from '../runtime/clock.ts';
import {
  classifyHttpAnswer,
  guardAuthResponse,
  guardAuthStatusResponse,
  guardAuthTxidResponse,
  guardPreauthAuthResponse,
  guardPreauthResponse,
  guardTimeResponse,
  type ApiOutcome,
  type AuthResponse,
  type AuthStatusResponse,
  type AuthTxidResponse,
  type ClassifiedResponse,
  type HttpAnswer,
  type PreauthAuthResponse,
  type PreauthResponse,
  type ResponseGuard,
  type TimeResponse,
} from './auth-api-response.ts';

export type {
  ApiOutcome,
  ApiOutcomeKind,
  AuthResponse,
  AuthStatusResponse,
  AuthTxidResponse,
  PreauthAuthResponse,
  PreauthDevice,
  PreauthPrompt,
  PreauthResponse,
  TimeResponse,
} from './auth-api-response.ts';

export interface AuthApiClientOptions {
  /** The API host name the service's certificate names, e.g. `api-xxxx.example.com`. */
  apiHost: string;
  /** Default 443. */
  apiPort?: number;
  ikey: string;
  skey: string;
  /** PEM CA bundle that replaces the system CAs (a private Airlock CA); absent = system CAs. */
  caPem?: string;
  /** Hard deadline per call: DNS + connect + TLS + the whole response. */
  timeoutMs: number;
  /** Source of the `Date` header and of latency. */
  clock: Clock;
  userAgent?: string;
  /** Sockets open to the service at once; further calls queue (inside their deadline). Default 16. */
  maxSockets?: number;
  /**
   * Idle keep-alive sockets kept. Default `maxSockets`: with fewer, every burst closes the sockets
   * beyond it and the next one pays a TLS handshake again (bench:radius: 500 handshakes in 8 s).
   */
  maxFreeSockets?: number;
  /** An idle keep-alive socket is closed after this long. Default 30 000. */
  idleSocketTimeoutMs?: number;
  /**
   * The service has Airlock's `/auth/v2/preauth_auth` (config `api_preauth_auth`): the client then
   * has `preauthAuth`. Never for Duo's cloud, which has no such endpoint.
   */
  preauthAuth?: boolean;
}

export type UserRef = { username: string; userId?: never } | { userId: string; username?: never };

export type PreauthParams = UserRef & {
  ipaddr?: string;
  hostname?: string;
  trustedDeviceToken?: string;
  /** Duo Unix style: ask for `prompt{text,factors}`. */
  textPrompt?: boolean;
  clientSupportsVerifiedPush?: boolean;
};

interface AuthCommon {
  ipaddr?: string;
  hostname?: string;
  /** Verified push: the txid preauth returned. */
  txid?: string;
  /** Airlock extension `login_key`: the same login through several proxies gets one push. */
  loginKey?: string;
  /** Airlock extension `push_timeout`: the push expires when the caller stops waiting. */
  pushTimeoutSeconds?: number;
}

export type AuthFactorParams =
  | { factor: 'passcode'; passcode: string }
  | { factor: 'prompt'; prompt: string }
  | {
      factor: 'auto' | 'push' | 'sms' | 'phone';
      /** A device id or `auto`. Default `auto`. */
      device?: string;
      /** Push only: label shown in the app. */
      type?: string;
      displayUsername?: string;
      /** Push only: URL-encoded `k=v&…` pairs. */
      pushinfo?: string;
    };

export type AuthParams = UserRef & AuthCommon & AuthFactorParams;

/** Airlock extension `preauth_auth`: a login whose user typed a passcode, in one call. */
export type PreauthAuthParams = UserRef & { ipaddr?: string; hostname?: string; passcode: string };

/**
 * A client of one Auth API v2 application (ikey/skey). No method throws for a network or HTTP
 * problem: each returns an `ApiOutcome`, which `summarizeOutcome` turns into the input of
 * `decideSecondFactor`.
 *
 * @example
 * const client = createAuthApiClient({ apiHost, ikey, skey, timeoutMs: 10_000, clock: new SystemClock() });
 * const pre = await client.preauth({ username: 'alice' });
 * if (pre.kind === 'ok' && pre.response.result === 'auth') {
 *   const res = await client.auth({ username: 'alice', factor: 'passcode', passcode: '123456' });
 * }
 * client.close();
 */
export interface AuthApiClient {
  /** Unsigned liveness (`GET /auth/v2/ping`). */
  ping(): Promise<ApiOutcome<TimeResponse>>;
  /** Signed readiness: ikey, skey and clock are right (`GET /auth/v2/check`). */
  check(): Promise<ApiOutcome<TimeResponse>>;
  preauth(params: PreauthParams): Promise<ApiOutcome<PreauthResponse>>;
  /** Synchronous `/auth`: blocks until the factor completes (or the deadline). */
  auth(params: AuthParams & { async?: false }): Promise<ApiOutcome<AuthResponse>>;
  /** `async=1`: answers at once with a txid to poll with `authStatus`. */
  auth(params: AuthParams & { async: true }): Promise<ApiOutcome<AuthTxidResponse>>;
  authStatus(txid: string): Promise<ApiOutcome<AuthStatusResponse>>;
  /**
   * Airlock extension (`POST /auth/v2/preauth_auth`, docs/auth-api.md): preauth, then — when it
   * answers `auth` — the passcode's /auth, in one call. Present only on a client of a service known
   * to have it (the in-process transport, or `api_preauth_auth=true`); never for Duo's cloud.
   */
  preauthAuth?(params: PreauthAuthParams): Promise<ApiOutcome<PreauthAuthResponse>>;
  /**
   * Airlock extension: one long-lived stream of the application's async results
   * (`GET /auth/v2/auth_results`, docs/auth-api.md). Services without it (Duo) end the stream at
   * once with an HTTP error; callers then poll auth_status instead.
   */
  streamResults?(handlers: ResultStreamHandlers): ResultStream;
  /**
   * Airlock extension: report this proxy's or gateway's health for the status page
   * (`POST /auth/v2/health_report`, docs/status-page.md). Duo answers 404: not an Airlock service.
   *
   * @example
   * await client.reportHealth?.({ kind: 'proxy', name: 'vpn1', status: 'operational', detail: 'ok' });
   */
  reportHealth?(report: HealthReportParams): Promise<ApiOutcome<TimeResponse>>;
  /** Closes the keep-alive sockets; calls made afterwards open new ones. */
  close(): void;
}

/** What a proxy or gateway reports about itself (`reportHealth`). */
export interface HealthReportParams {
  kind: 'proxy' | 'gateway';
  /** 1-64 characters: letters, digits, `.`, `_`, `-`. */
  name: string;
  /** Statuspage component status: `operational`, `degraded_performance`, `partial_outage`, … */
  status: string;
  detail: string;
}

/** A final async result from the stream. */
export interface StreamedResult {
  txid: string;
  result: 'allow' | 'deny';
  status: string;
  status_msg: string;
}

export interface ResultStreamHandlers {
  /** Resume after this event id (the last one seen before a reconnect). */
  afterId?: string | undefined;
  onOpen(): void;
  /** `id` is the event id to resume after, when the service gave one. */
  onResult(result: StreamedResult, id: string | undefined): void;
  /** The stream ended (error, HTTP status other than 200, server closed); not called after close(). */
  onEnd(reason: string): void;
}

export interface ResultStream {
  close(): void;
}

const DEFAULT_USER_AGENT = 'airlock-auth-api-client/1';
const DEFAULT_MAX_SOCKETS = 16;
// Shorter than common server keep-alive timeouts (Fastify 72 s) so we rarely reuse a socket the
// server is closing; Node also honours a server's `Keep-Alive: timeout=` hint.
const DEFAULT_IDLE_SOCKET_TIMEOUT_MS = 30_000;
/** Auth API answers are small JSON; anything larger is not one (and is not buffered further). */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Creates the client. Throws `RangeError` for options that can never work (configuration is
 * validated before this, so that is a programming error).
 *
 * The `Host` header carries the port only when it is not 443 (RFC 9110 §7.2); the signature
 * always covers the bare lower-case `apiHost` (docs/design/auth-api.md §2.1, like Duo Unix and
 * Duo's Node client). The Airlock service accepts the bare host whether or not the header carries a
 * port.
 */
export function createAuthApiClient(options: AuthApiClientOptions): AuthApiClient {
  return new HttpsAuthApiClient(options);
}

/**
 * The `Host` header: the port only when it is not 443 (RFC 9110 §7.2), IPv6 in brackets.
 *
 * @example
 * formatHostHeader('api.example.com', 8443); // 'api.example.com:8443'
 */
export function formatHostHeader(apiHost: string, apiPort: number): string {
  const host = isIP(apiHost) === 6 ? `[${apiHost}]` : apiHost;
  return apiPort === 443 ? host : `${host}:${apiPort}`;
}

/**
 * The TLS context of a client's connections: the given CA only, or the system CAs; TLS 1.2 or
 * later. Made once: Node otherwise builds one per new connection, parsing the CA again (about a
 * millisecond of the event loop each time, paid on every reconnect and breaker probe during an
 * outage, while logins wait for their failmode answer).
 */
function clientSecureContext(caPem: string | undefined): SecureContext {
  return createSecureContext({
    ...(caPem === undefined ? {} : { ca: caPem }),
    minVersion: 'TLSv1.2',
  });
}

class HttpsAuthApiClient implements AuthApiClient {
  readonly #options: AuthApiClientOptions & { apiPort: number };
  readonly #hostHeader: string;
  readonly #userAgent: string;
  readonly #agent: https.Agent;
  /** Shared by every connection of this client (the stream's too). */
  readonly #secureContext: SecureContext;
  /**
   * Calls waiting for one of the agent's sockets. They wait here as small closures rather than
   * in the agent as ClientRequest objects (kilobytes each): a burst of thousands of logins
   * (10,000 pushes, bench:push) then costs little memory while it queues.
   */
  readonly #slots: { free: number; waiting: (() => void)[] };
  readonly preauthAuth?: (params: PreauthAuthParams) => Promise<ApiOutcome<PreauthAuthResponse>>;

  constructor(options: AuthApiClientOptions) {
    const apiPort = options.apiPort ?? 443;
    validateOptions({ ...options, apiPort });
    this.#options = { ...options, apiPort };
    this.#hostHeader = formatHostHeader(options.apiHost, apiPort);
    this.#userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    const maxSockets = options.maxSockets ?? DEFAULT_MAX_SOCKETS;
    this.#slots = { free: maxSockets, waiting: [] };
    this.#secureContext = clientSecureContext(options.caPem);
    this.#agent = new https.Agent({
      keepAlive: true,
      maxSockets,
      maxFreeSockets: options.maxFreeSockets ?? maxSockets,
      // Only idle sockets are closed on this timer (Node's agent); a busy one is ours to abort.
      timeout: options.idleSocketTimeoutMs ?? DEFAULT_IDLE_SOCKET_TIMEOUT_MS,
      secureContext: this.#secureContext,
      rejectUnauthorized: true,
      // SNI and certificate name check against the API host (RFC 6066 §3: not for IP literals).
      ...(isIP(options.apiHost) === 0 ? { servername: options.apiHost } : {}),
    });
    if (options.preauthAuth === true) {
      this.preauthAuth = (params) =>
        this.#call(
          'POST',
          '/auth/v2/preauth_auth',
          preauthAuthWireParams(params),
          guardPreauthAuthResponse,
        );
    }
  }

  async ping(): Promise<ApiOutcome<TimeResponse>> {
    return this.#call('GET', '/auth/v2/ping', {}, guardTimeResponse, { signed: false });
  }

  async check(): Promise<ApiOutcome<TimeResponse>> {
    return this.#call('GET', '/auth/v2/check', {}, guardTimeResponse);
  }

  async preauth(params: PreauthParams): Promise<ApiOutcome<PreauthResponse>> {
    return this.#call('POST', '/auth/v2/preauth', preauthWireParams(params), guardPreauthResponse);
  }

  auth(params: AuthParams & { async?: false }): Promise<ApiOutcome<AuthResponse>>;
  auth(params: AuthParams & { async: true }): Promise<ApiOutcome<AuthTxidResponse>>;
  async auth(
    params: AuthParams & { async?: boolean },
  ): Promise<ApiOutcome<AuthResponse> | ApiOutcome<AuthTxidResponse>> {
    const wire = authWireParams(params);
    return params.async === true
      ? this.#call('POST', '/auth/v2/auth', { ...wire, async: '1' }, guardAuthTxidResponse)
      : this.#call('POST', '/auth/v2/auth', wire, guardAuthResponse);
  }

  async authStatus(txid: string): Promise<ApiOutcome<AuthStatusResponse>> {
    return this.#call('GET', '/auth/v2/auth_status', { txid }, guardAuthStatusResponse);
  }

  reportHealth(report: HealthReportParams): Promise<ApiOutcome<TimeResponse>> {
    return this.#call(
      'POST',
      '/auth/v2/health_report',
      { kind: report.kind, name: report.name, status: report.status, detail: report.detail },
      guardTimeResponse,
    );
  }

  streamResults(handlers: ResultStreamHandlers): ResultStream {
    const path = '/auth/v2/auth_results';
    const params: Record<string, string> =
      handlers.afterId === undefined ? {} : { after: handlers.afterId };
    const query = canonicalizeParams(params);
    let closed = false;
    let ended = false;
    const end = (reason: string) => {
      if (closed || ended) return;
      ended = true;
      handlers.onEnd(reason);
    };
    // Its own agent and socket: the stream lives for hours and must not take a slot of the pool
    // that preauth and auth calls need.
    const agent = new https.Agent({
      keepAlive: false,
      maxSockets: 1,
      secureContext: this.#secureContext,
      rejectUnauthorized: true,
      ...(isIP(this.#options.apiHost) === 0 ? { servername: this.#options.apiHost } : {}),
    });
    const req = https.request({
      host: this.#options.apiHost,
      port: this.#options.apiPort,
      method: 'GET',
      path: query === '' ? path : `${path}?${query}`,
      headers: this.#headers('GET', path, params),
      agent,
    });
    req.once('close', () => agent.destroy());
    // Connect and answer within the call deadline; afterwards the stream may stay quiet for long
    // (the service sends a comment every 15 s, so 45 s of silence means a dead connection).
    const connectTimer = setTimeout(
      () => req.destroy(new Error('no answer')),
      this.#options.timeoutMs,
    );
    req.on('response', (res) => {
      clearTimeout(connectTimer);
      if (res.statusCode !== 200) {
        res.resume();
        end(`HTTP ${res.statusCode ?? 0}`);
        req.destroy();
        return;
      }
      handlers.onOpen();
      res.setEncoding('utf8');
      res.socket.setTimeout(45_000, () => req.destroy(new Error('stream silent for 45 s')));
      let buffered = '';
      res.on('data', (chunk: string) => {
        buffered += chunk;
        if (buffered.length > MAX_RESPONSE_BYTES) {
          req.destroy(new Error('event too large'));
          return;
        }
        let at: number;
        while ((at = buffered.indexOf('\n\n')) >= 0) {
          const block = buffered.slice(0, at);
          buffered = buffered.slice(at + 2);
          const event = parseStreamEvent(block);
          if (event) handlers.onResult(event.result, event.id);
        }
      });
      res.on('end', () => end('stream ended'));
      res.on('error', (err) => end(describeError(err)));
    });
    req.on('error', (err) => {
      clearTimeout(connectTimer);
      end(describeError(err));
    });
    req.end();
    return {
      close: () => {
        closed = true;
        clearTimeout(connectTimer);
        req.destroy();
      },
    };
  }

  close(): void {
    this.#agent.destroy();
  }

  async #call<T>(
    method: 'GET' | 'POST',
    path: string,
    params: Record<string, string>,
    guard: ResponseGuard<T>,
    { signed = true }: { signed?: boolean } = {},
  ): Promise<ApiOutcome<T>> {
    const startMs = this.#options.clock.nowMs();
    const classified = await this.#exchange(method, path, params, signed, guard);
    // The injected clock may step backwards (NTP); a latency is never negative.
    const latencyMs = Math.max(0, this.#options.clock.nowMs() - startMs);
    // Object.assign, not `{ ...x, key }`: on Node 20's V8 a literal that starts with a spread pays
    // about 0.4 µs for each key it adds (docs/benchmarks.md, fifth session).
    return Object.assign({}, classified, { latencyMs });
  }

  /** Host, User-Agent, Accept, and the Date and Authorization of a signed request. */
  #headers(method: string, path: string, params: Record<string, string>): Record<string, string> {
    const date = new Date(this.#options.clock.nowMs()).toUTCString();
    return {
      Host: this.#hostHeader,
      'User-Agent': this.#userAgent,
      Accept: 'application/json',
      Date: date,
      Authorization: signRequest({
        ikey: this.#options.ikey,
        skey: this.#options.skey,
        date,
        method,
        host: this.#options.apiHost,
        path,
        params,
      }),
    };
  }

  async #exchange<T>(
    method: 'GET' | 'POST',
    path: string,
    params: Record<string, string>,
    signed: boolean,
    guard: ResponseGuard<T>,
  ): Promise<ClassifiedResponse<T>> {
    const { timeoutMs } = this.#options;
    const deadline = new Deadline(timeoutMs);
    // The request is signed and encoded once it has a socket: a call queued behind busy sockets
    // (thousands in a burst, bench:push) holds no headers or body meanwhile, and its Date is
    // the time it is sent.
    const gotSlot = await this.#acquireSlot(deadline);
    try {
      if (!gotSlot) {
        return {
          kind: 'unreachable',
          reason: 'timeout',
          detail: `no complete answer within ${timeoutMs} ms (queued: every socket busy)`,
        };
      }
      // docs/design/auth-api.md §2.2: the canonical params string is also the query or form body.
      const encoded = canonicalizeParams(params);
      const headers = signed
        ? this.#headers(method, path, params)
        : { Host: this.#hostHeader, 'User-Agent': this.#userAgent, Accept: 'application/json' };
      let body: Buffer | undefined;
      let requestPath = path;
      if (method === 'POST') {
        body = Buffer.from(encoded, 'utf8');
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
        headers['Content-Length'] = String(body.length);
      } else if (encoded !== '') {
        requestPath = `${path}?${encoded}`;
      }
      let attempt = await this.#send(method, requestPath, headers, body, deadline);
      // A keep-alive socket the server closed while idle fails at once with ECONNRESET/EPIPE
      // before any answer; that server never read the request, so one fresh attempt inside the
      // same deadline is Node's documented `reusedSocket` pattern. (Were it a crash after
      // reading, a replayed /auth passcode is refused as reused: a deny, never an allow.)
      // Nothing else is retried, 429 included: the caller's deadline is seconds long, shorter
      // than Duo's 1-32 s backoff, and the login is waiting on it; the caller decides.
      if (
        attempt.kind === 'error' &&
        attempt.reusedSocket &&
        !attempt.responseStarted &&
        !deadline.expired &&
        isStaleSocketError(attempt.error)
      ) {
        attempt = await this.#send(method, requestPath, headers, body, deadline);
      }
      if (attempt.kind === 'answer') return classifyHttpAnswer(attempt.answer, guard);
      return {
        kind: 'unreachable',
        reason: attempt.timedOut ? 'timeout' : classifyNetworkError(attempt.error),
        detail: attempt.timedOut
          ? `no complete answer within ${timeoutMs} ms (${attempt.phase})`
          : `${describeError(attempt.error)} (${attempt.phase})`,
        ...(attempt.httpStatus === undefined ? {} : { httpStatus: attempt.httpStatus }),
      };
    } finally {
      deadline.clear();
      if (gotSlot) this.#releaseSlot();
    }
  }

  /** Waits for a free socket slot; false when the deadline passes first. */
  #acquireSlot(deadline: Deadline): Promise<boolean> {
    if (this.#slots.free > 0) {
      this.#slots.free -= 1;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const take = () => {
        deadline.onExpire(undefined);
        resolve(true);
      };
      this.#slots.waiting.push(take);
      deadline.onExpire(() => {
        const i = this.#slots.waiting.indexOf(take);
        if (i >= 0) this.#slots.waiting.splice(i, 1);
        resolve(false);
      });
    });
  }

  #releaseSlot(): void {
    const next = this.#slots.waiting.shift();
    if (next) next();
    else this.#slots.free += 1;
  }

  #send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    deadline: Deadline,
  ): Promise<Attempt> {
    return new Promise<Attempt>((resolve) => {
      // An IP literal skips the resolver, so it starts at connect.
      let phase: Phase = isIP(this.#options.apiHost) === 0 ? 'dns' : 'connect';
      let settled = false;
      let responseStarted = false;
      let httpStatus: number | undefined;
      const req = https.request({
        host: this.#options.apiHost,
        port: this.#options.apiPort,
        method,
        path,
        headers,
        agent: this.#agent,
      });
      const fail = (error: unknown, timedOut: boolean): void => {
        if (settled) return;
        settled = true;
        deadline.onExpire(undefined);
        resolve({
          kind: 'error',
          error,
          timedOut,
          phase,
          reusedSocket: req.reusedSocket,
          responseStarted,
          ...(httpStatus === undefined ? {} : { httpStatus }),
        });
        req.destroy();
      };
      // The deadline resolves the call itself: no event of a stuck socket is waited for.
      deadline.onExpire(() => fail(new Error('deadline expired'), true));

      req.on('socket', (socket) => {
        if (req.reusedSocket) {
          phase = 'response';
          return;
        }
        // 'lookup' fires on a failed resolution too, with the error first.
        socket.once('lookup', (error: Error | null) => {
          if (!error) phase = 'connect';
        });
        socket.once('connect', () => (phase = 'tls'));
        (socket as TLSSocket).once('secureConnect', () => (phase = 'response'));
      });
      req.on('error', (error) => fail(error, false));
      req.on('response', (res) => {
        responseStarted = true;
        httpStatus = res.statusCode ?? 0;
        phase = 'body';
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        res.on('data', (chunk: Buffer) => {
          if (truncated) return;
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            truncated = true;
            finish();
            return;
          }
          chunks.push(chunk);
        });
        const finish = (): void => {
          if (settled) return;
          settled = true;
          deadline.onExpire(undefined);
          const retryAfter = res.headers['retry-after'];
          resolve({
            kind: 'answer',
            answer: {
              status: httpStatus ?? 0,
              body: Buffer.concat(chunks),
              truncated,
              ...(retryAfter === undefined ? {} : { retryAfter }),
            },
          });
          // An oversized body is not drained: drop the socket instead of reusing it.
          if (truncated) req.destroy();
        };
        res.on('end', finish);
        res.on('error', (error) => fail(error, false));
        res.on('close', () => {
          if (!res.complete)
            fail(new Error('connection closed before the response was complete'), false);
        });
      });
      req.end(body);
    });
  }
}

type Phase = 'dns' | 'connect' | 'tls' | 'response' | 'body';

type Attempt =
  | { kind: 'answer'; answer: HttpAnswer }
  | {
      kind: 'error';
      error: unknown;
      timedOut: boolean;
      /** How far the exchange got: resolving, connecting, TLS, waiting, reading the body. */
      phase: Phase;
      reusedSocket: boolean;
      responseStarted: boolean;
      httpStatus?: number;
    };

/** One timer for the whole call, retry included. */
class Deadline {
  #expired = false;
  #listener: (() => void) | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(ms: number) {
    this.#timer = setTimeout(() => {
      this.#expired = true;
      this.#listener?.();
    }, ms);
  }

  get expired(): boolean {
    return this.#expired;
  }

  onExpire(listener: (() => void) | undefined): void {
    this.#listener = listener;
    if (listener && this.#expired) listener();
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#listener = undefined;
  }
}

// getaddrinfo failures (RFC 3493 EAI_* codes as Node names them).
const DNS_ERROR_CODES: ReadonlySet<string> = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EAI_NODATA',
  'EAI_ADDRFAMILY',
  'ESERVFAIL',
  'ENODATA',
]);

// OpenSSL X509_V_ERR_* names as Node reports them on a failed certificate verification.
const TLS_VERIFY_ERROR_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Happy eyeballs (net autoSelectFamily) reports every failed address in one AggregateError.
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors)) return errorCode(errors[0]);
  return undefined;
}

/**
 * docs/design/auth-api.md §3.9 network failures: DNS → `dns`; certificate verification, handshake,
 * protocol → `tls`; refused, reset, unreachable, hang-up and anything unknown → `connect`. (The
 * deadline is classified by the caller, before this.) Unknown errors are `connect`, the class that
 * denies during `/auth`.
 */
export function classifyNetworkError(
  error: unknown,
): Exclude<UnreachableReason, 'timeout' | 'server-error' | 'malformed'> {
  const code = errorCode(error);
  const syscall = (error as { syscall?: unknown } | null)?.syscall;
  if ((code !== undefined && DNS_ERROR_CODES.has(code)) || syscall === 'getaddrinfo') return 'dns';
  if (
    code !== undefined &&
    (TLS_VERIFY_ERROR_CODES.has(code) ||
      code.startsWith('ERR_TLS_') ||
      code.startsWith('ERR_SSL_') ||
      code === 'EPROTO')
  ) {
    return 'tls';
  }
  return 'connect';
}

function isStaleSocketError(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ECONNRESET' || code === 'EPIPE';
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = errorCode(error);
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

/**
 * The failmode input for an outcome: kind and reason only, never the response.
 *
 * @example
 * decideSecondFactor({ stage: 'preauth', outcome: summarizeOutcome(await client.preauth(p)), failmode });
 */
/** One server-sent event block: its `data:` lines joined, parsed and checked; else undefined. */
export function parseStreamEvent(
  block: string,
): { result: StreamedResult; id: string | undefined } | undefined {
  const id = block
    .split('\n')
    .find((line) => line.startsWith('id:'))
    ?.slice(3)
    .trim();
  const data = block
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trimStart())
    .join('\n');
  if (data === '') return undefined;
  try {
    const result = toStreamedResult(JSON.parse(data));
    if (result) return { result, id };
  } catch {
    // not JSON: ignored like any unknown event
  }
  return undefined;
}

/** A stream event's data checked as a final result; undefined for anything else. */
export function toStreamedResult(data: unknown): StreamedResult | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const v = data as Record<string, unknown>;
  if (
    typeof v.txid === 'string' &&
    (v.result === 'allow' || v.result === 'deny') &&
    typeof v.status === 'string' &&
    typeof v.status_msg === 'string'
  ) {
    return { txid: v.txid, result: v.result, status: v.status, status_msg: v.status_msg };
  }
  return undefined;
}

export function summarizeOutcome(outcome: ApiOutcome<unknown>): SecondFactorOutcome {
  switch (outcome.kind) {
    case 'ok':
      return { kind: 'ok' };
    case 'unreachable':
      return { kind: 'unreachable', reason: outcome.reason };
    case 'rejected':
      return {
        kind: 'rejected',
        message: outcome.message,
        ...(outcome.code === undefined ? {} : { code: outcome.code }),
      };
    case 'invalid':
      return { kind: 'invalid', httpStatus: outcome.httpStatus };
  }
}

/** The form parameters of a preauth call (both transports send these). */
export function preauthWireParams(params: PreauthParams): Record<string, string> {
  return compact(userWireParams(params), {
    ipaddr: params.ipaddr,
    hostname: params.hostname,
    trusted_device_token: params.trustedDeviceToken,
    text_prompt: params.textPrompt ? '1' : undefined,
    client_supports_verified_push: params.clientSupportsVerifiedPush ? '1' : undefined,
  });
}

/** The form parameters of an /auth call, without `async`. */
export function authWireParams(params: AuthParams): Record<string, string> {
  const user = userWireParams(params);
  const common = {
    ipaddr: params.ipaddr,
    hostname: params.hostname,
    txid: params.txid,
    login_key: params.loginKey,
    push_timeout:
      params.pushTimeoutSeconds === undefined ? undefined : String(params.pushTimeoutSeconds),
    factor: params.factor,
  };
  switch (params.factor) {
    case 'passcode':
      return compact(user, common, { passcode: params.passcode });
    case 'prompt':
      return compact(user, common, { prompt: params.prompt });
    default:
      return compact(user, common, {
        device: params.device ?? 'auto',
        type: params.type,
        display_username: params.displayUsername,
        pushinfo: params.pushinfo,
      });
  }
}

/** The form parameters of a preauth_auth call. */
export function preauthAuthWireParams(params: PreauthAuthParams): Record<string, string> {
  return compact(userWireParams(params), {
    ipaddr: params.ipaddr,
    hostname: params.hostname,
    passcode: params.passcode,
  });
}

// docs/design/auth-api.md §1.5/§1.6: exactly one of username | user_id.
function userWireParams(ref: UserRef): { username?: string; user_id?: string } {
  if (ref.username !== undefined && ref.userId === undefined) return { username: ref.username };
  if (ref.userId !== undefined && ref.username === undefined) return { user_id: ref.userId };
  throw new TypeError('give exactly one of username and userId');
}

/** The parts' defined values in one record, in order (no spread: see `#call`). */
function compact(...parts: Record<string, string | undefined>[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of parts) {
    for (const [key, value] of Object.entries(part)) if (value !== undefined) out[key] = value;
  }
  return out;
}

function validateOptions(o: AuthApiClientOptions & { apiPort: number }): void {
  // A bare host name or IP literal: no scheme, port, path or whitespace.
  if (
    o.apiHost === '' ||
    /[\s/?#@]/.test(o.apiHost) ||
    (isIP(o.apiHost) === 0 && o.apiHost.includes(':'))
  ) {
    throw new RangeError(`apiHost must be a bare host name, got ${JSON.stringify(o.apiHost)}`);
  }
  if (!Number.isInteger(o.apiPort) || o.apiPort < 1 || o.apiPort > 65_535) {
    throw new RangeError(`apiPort must be 1-65535, got ${o.apiPort}`);
  }
  // Never "wait forever" (docs/design/auth-api.md, Decisions): a deadline is required.
  if (!Number.isFinite(o.timeoutMs) || o.timeoutMs <= 0) {
    throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${o.timeoutMs}`);
  }
  if (o.ikey === '' || o.skey === '') throw new RangeError('ikey and skey must not be empty');
}
