// A real loopback HTTP server standing in for Airlock's call-callback endpoint in provider tests.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCallback {
  /** The full URL as requested: what Twilio signs. */
  readonly url: string;
  readonly params: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
}

export interface CallbackReceiver {
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  readonly received: readonly ReceivedCallback[];
  close(): Promise<void>;
}

/** Records every POST and answers 200 with an empty TwiML response. */
export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const received: ReceivedCallback[] = [];
  let baseUrl = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        url: `${baseUrl}${req.url ?? '/'}`,
        params: new URLSearchParams(Buffer.concat(chunks).toString('utf8')),
        headers: req.headers,
      });
      res.setHeader('content-type', 'text/xml');
      res.end('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    received,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e === undefined ? resolve() : reject(e)));
      }),
  };
}
