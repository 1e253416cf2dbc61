// The Auth API client's in-process transport: for a proxy in the service's own process (`airlock
// start`), calls go to the service's named steps with no TLS, HTTP or signing, and every answer
// and failure is classified by the HTTPS client's own rules (auth-api-response.ts).
import type { Clock } from '../runtime/clock.ts';
import {
  authWireParams,
  classifyNetworkError,
  formatHostHeader,
  preauthAuthWireParams,
  preauthWireParams,
  toStreamedResult,
  type AuthApiClient,
  type AuthParams,
  type PreauthAuthParams,
  type PreauthParams,
  type ResultStream,
  type ResultStreamHandlers,
} from './auth-api-client.ts';
import {
  classifyParsedAnswer,
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
  type PreauthAuthResponse,
  type PreauthResponse,
  type ResponseGuard,
  type TimeResponse,
} from './auth-api-response.ts';

/** One call as the HTTPS client would send it, minus the signature: the keys stand for it. */
export interface InProcessRequest {
  method: 'GET' | 'POST';
  path: string;
  params: Readonly<Record<string, string>>;
  ikey: string;
  skey: string;
  /** The `Host` the HTTPS client would send. */
  host: string;
  /** The address the service records for the caller. */
  clientIp: string;
}

/** The status and the (unserialized) JSON envelope the HTTPS route would have answered. */
export interface InProcessAnswer {
  status: number;
  body: unknown;
  retryAfter?: string;
}

/**
 * The service's side (src/service/auth-api/local-auth-api.ts implements it; `cli/` wires the two
 * together, so the proxy never imports the service).
 */
export interface InProcessAuthApi {
  /** Rejects only as a stopped server would (e.g. an `ECONNREFUSED` error once it is closed). */
  call(request: InProcessRequest): Promise<InProcessAnswer>;
  /** `onEnd`: the stream ended (service closed…), as an HTTPS stream's end; subscribe again. */
  subscribe(
    request: Pick<InProcessRequest, 'ikey' | 'skey' | 'host'> & { afterId?: string | undefined },
    onResult: (result: unknown, id: string) => void,
    onEnd: (reason: string) => void,
  ): Promise<{ unsubscribe(): void } | { refused: InProcessAnswer }>;
}

export interface InProcessAuthApiClientOptions {
  api: InProcessAuthApi;
  /** As configured (`api_host`): the Host checked in strict host mode, and the client address. */
  apiHost: string;
  apiPort: number;
  ikey: string;
  skey: string;
  /** The same deadline as over HTTPS: a step that takes longer is a `timeout`. */
  timeoutMs: number;
  clock: Clock;
}

/**
 * An `AuthApiClient` over the in-process transport, with `preauthAuth` (the service is known to
 * be Airlock's own).
 *
 * @example
 * const client = createInProcessAuthApiClient({ api: service.localAuthApi, apiHost: '127.0.0.1',
 *   apiPort: 8443, ikey, skey, timeoutMs: 10_000, clock });
 * const pre = await client.preauth({ username: 'alice' }); // same outcome as over HTTPS
 */
export function createInProcessAuthApiClient(
  options: InProcessAuthApiClientOptions,
): AuthApiClient & Required<Pick<AuthApiClient, 'preauthAuth' | 'streamResults'>> {
  const { api, clock, timeoutMs } = options;
  const host = formatHostHeader(options.apiHost, options.apiPort);
  const clientIp = loopbackAddress(options.apiHost);
  const keys = { ikey: options.ikey, skey: options.skey, host };

  async function call<T>(
    method: 'GET' | 'POST',
    path: string,
    params: Record<string, string>,
    guard: ResponseGuard<T>,
  ): Promise<ApiOutcome<T>> {
    const startMs = clock.nowMs();
    const classified = await exchange(method, path, params, guard);
    // As the HTTPS client's #call: Object.assign, not a spread literal that adds a key (V8 cost).
    return Object.assign({}, classified, { latencyMs: Math.max(0, clock.nowMs() - startMs) });
  }

  async function exchange<T>(
    method: 'GET' | 'POST',
    path: string,
    params: Record<string, string>,
    guard: ResponseGuard<T>,
  ): Promise<ClassifiedResponse<T>> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const answered = await Promise.race([
        api.call({ method, path, params, ...keys, clientIp }).then(
          (answer) => ({ answer }),
          (error: unknown) => ({ error }),
        ),
        deadline,
      ]);
      if (answered === 'timeout') {
        return {
          kind: 'unreachable',
          reason: 'timeout',
          detail: `no complete answer within ${timeoutMs} ms (in-process)`,
        };
      }
      if ('error' in answered) {
        return {
          kind: 'unreachable',
          reason: classifyNetworkError(answered.error),
          // The service rejects only before it reads a request (closed): nothing was processed,
          // so the phase is `connect`, which lets the resilient client fail over even for /auth.
          detail: `${describe(answered.error)} (connect)`,
        };
      }
      const { status, body, retryAfter } = answered.answer;
      return classifyParsedAnswer(
        {
          status,
          json: { ok: true, value: body },
          truncated: false,
          ...(retryAfter === undefined ? {} : { retryAfter }),
        },
        guard,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  function auth(params: AuthParams & { async?: false }): Promise<ApiOutcome<AuthResponse>>;
  function auth(params: AuthParams & { async: true }): Promise<ApiOutcome<AuthTxidResponse>>;
  function auth(
    params: AuthParams & { async?: boolean },
  ): Promise<ApiOutcome<AuthResponse> | ApiOutcome<AuthTxidResponse>> {
    const wire = authWireParams(params);
    return params.async === true
      ? call('POST', '/auth/v2/auth', { ...wire, async: '1' }, guardAuthTxidResponse)
      : call('POST', '/auth/v2/auth', wire, guardAuthResponse);
  }

  return {
    ping: (): Promise<ApiOutcome<TimeResponse>> =>
      call('GET', '/auth/v2/ping', {}, guardTimeResponse),
    check: (): Promise<ApiOutcome<TimeResponse>> =>
      call('GET', '/auth/v2/check', {}, guardTimeResponse),
    preauth: (params: PreauthParams): Promise<ApiOutcome<PreauthResponse>> =>
      call('POST', '/auth/v2/preauth', preauthWireParams(params), guardPreauthResponse),
    auth,
    authStatus: (txid: string): Promise<ApiOutcome<AuthStatusResponse>> =>
      call('GET', '/auth/v2/auth_status', { txid }, guardAuthStatusResponse),
    preauthAuth: (params: PreauthAuthParams): Promise<ApiOutcome<PreauthAuthResponse>> =>
      call(
        'POST',
        '/auth/v2/preauth_auth',
        preauthAuthWireParams(params),
        guardPreauthAuthResponse,
      ),
    streamResults: (handlers) => streamResults(api, keys, handlers),
    close: () => undefined,
  };
}

/** The auth_results stream in-process: the same events, checked the same way, no socket. */
function streamResults(
  api: InProcessAuthApi,
  keys: Pick<InProcessRequest, 'ikey' | 'skey' | 'host'>,
  handlers: ResultStreamHandlers,
): ResultStream {
  let closed = false;
  let ended = false;
  let unsubscribe: (() => void) | undefined;
  // Once, and never after close(): as the HTTPS client's stream.
  const end = (reason: string) => {
    if (closed || ended) return;
    ended = true;
    handlers.onEnd(reason);
  };
  api
    .subscribe(
      { ...keys, afterId: handlers.afterId },
      (data, id) => {
        const result = toStreamedResult(data);
        if (result && !closed && !ended) handlers.onResult(result, id);
      },
      end,
    )
    .then(
      (subscribed) => {
        if ('refused' in subscribed) return end(`HTTP ${subscribed.refused.status}`);
        if (closed || ended) {
          subscribed.unsubscribe();
          return;
        }
        unsubscribe = () => subscribed.unsubscribe();
        handlers.onOpen();
      },
      (error: unknown) => end(describe(error)),
    );
  return {
    close: () => {
      closed = true;
      unsubscribe?.();
    },
  };
}

/** The address a loopback connection to `apiHost` comes from, as the service would record it. */
function loopbackAddress(apiHost: string): string {
  return apiHost === '::1' || apiHost === '[::1]' ? '::1' : '127.0.0.1';
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
