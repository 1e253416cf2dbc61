// HTTP POST port for outgoing webhooks, and its real implementation over Node's global fetch.

/** The answer of one POST; a network failure or timeout throws instead. */
export interface HttpPostResult {
  status: number;
}

/** Sends `body` to `url`; rejects on a network error or after `timeoutMs`. */
export type HttpPost = (
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
) => Promise<HttpPostResult>;

export const httpPost: HttpPost = async (url, body, headers, timeoutMs) => {
  const response = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'manual',
  });
  // Drain the body so the connection can be reused; its content is not needed.
  await response.arrayBuffer().catch(() => undefined);
  return { status: response.status };
};

/** Waits `ms` on a timer that never keeps the process alive; the default `sleep` of senders. */
export function unrefSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
