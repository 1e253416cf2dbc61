// HTTP send port for message providers (status + bounded body text), and its real implementation over Node's global fetch.
//
// `http-post.ts` answers with the status only; providers also need the answer's body (Twilio's
// `sid`) and a caller's AbortSignal, and must tell a timeout from a refused connection.

export const HTTP_SEND_FAILURES = ['timeout', 'unreachable', 'aborted'] as const;
/** `aborted`: the caller's signal fired (not the provider's fault); `unreachable`: DNS, connect, reset, TLS. */
export type HttpSendFailure = (typeof HTTP_SEND_FAILURES)[number];

export interface HttpSendRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Deadline for the whole exchange, body included. */
  readonly timeoutMs: number;
  /** The caller's cancellation (a login abandoned); optional. */
  readonly signal?: AbortSignal | undefined;
}

export interface HttpSendResponse {
  readonly status: number;
  /** The answer's body as UTF-8, cut at `MAX_RESPONSE_BYTES`. */
  readonly bodyText: string;
}

/** A POST that never got an HTTP answer. `detail` is an error code (`ECONNREFUSED`), never a URL. */
export class HttpSendError extends Error {
  readonly failure: HttpSendFailure;
  readonly detail: string | undefined;

  constructor(failure: HttpSendFailure, detail?: string) {
    super(detail === undefined ? failure : `${failure} (${detail})`);
    this.name = 'HttpSendError';
    this.failure = failure;
    this.detail = detail;
  }
}

/** POSTs `body`; resolves with any HTTP answer, rejects with `HttpSendError` when there is none. */
export type HttpSend = (request: HttpSendRequest) => Promise<HttpSendResponse>;

/** Provider answers are small JSON objects; never buffer more than this from a misbehaving peer. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export const httpSend: HttpSend = async (request) => {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal =
    request.signal === undefined ? timeout : AbortSignal.any([timeout, request.signal]);
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      body: request.body,
      headers: request.headers,
      signal,
      // A redirect would resend credentials elsewhere; the provider sees the 3xx instead.
      redirect: 'manual',
    });
    const bodyText = await readBounded(response);
    return { status: response.status, bodyText };
  } catch (e) {
    if (request.signal?.aborted === true) throw new HttpSendError('aborted');
    if (timeout.aborted) throw new HttpSendError('timeout');
    throw new HttpSendError('unreachable', networkErrorCode(e));
  }
};

async function readBounded(response: Response): Promise<string> {
  if (response.body === null) return '';
  // Typed as ReadableStream<any> by @types/node 20; fetch bodies are byte streams.
  const body = response.body as unknown as AsyncIterable<Uint8Array>;
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early cancels the stream, so an oversized answer is not read to its end.
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.byteLength;
    if (size >= MAX_RESPONSE_BYTES) break;
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString('utf8');
}

/** undici wraps the socket error as `cause`; keep only its code (no address, no URL). */
function networkErrorCode(e: unknown): string | undefined {
  let current: unknown = e;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}
