// A local stand-in for the carrier: a real HTTP server speaking Twilio's REST subset, plus a generic webhook receiver.
//
// Only the carrier is simulated; Airlock's providers talk to it over real loopback HTTP exactly as
// they would to api.twilio.com. It can fail on demand (HTTP 500/401/400, garbage, hang, reset) and
// "answer" a call by POSTing Twilio's signed callback. The signature here is computed from the
// published algorithm independently of src/factors/twilio-signature.ts, so tests cross-check both.
import { request as httpsRequest } from 'node:https';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const STANDIN_FAILURES = [
  'http-500',
  'http-401',
  'http-400',
  'garbage',
  'hang',
  'close',
] as const;
/** `garbage`: HTTP 200 with a body that is not JSON; `hang`: never answers; `close`: resets the connection. */
export type StandinFailure = (typeof STANDIN_FAILURES)[number];

export interface RecordedMessage {
  readonly sid: string;
  readonly to: string;
  readonly from: string;
  readonly body: string;
}

export interface RecordedCall {
  readonly sid: string;
  readonly to: string;
  readonly from: string;
  readonly url: string | undefined;
  readonly twiml: string | undefined;
}

export interface RecordedWebhook {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface StandinCallback {
  readonly url: string;
  readonly params: Readonly<Record<string, string>>;
  readonly signature: string;
  readonly status: number;
  readonly bodyText: string;
}

export interface ProviderStandin {
  /** `http://127.0.0.1:<port>`: the Twilio provider's `baseUrl`. */
  readonly baseUrl: string;
  /** `http://127.0.0.1:<port>/webhook`: any path under it is recorded as a webhook delivery. */
  readonly webhookUrl: string;
  readonly messages: readonly RecordedMessage[];
  readonly calls: readonly RecordedCall[];
  readonly webhooks: readonly RecordedWebhook[];
  /** Every request that reached the server, failed or not. */
  readonly requestCount: number;
  /** The next `count` requests fail this way (queued after earlier `failNext` calls). */
  failNext(failure: StandinFailure, count?: number): void;
  /** Every request fails this way until called with `undefined`. */
  failAll(failure: StandinFailure | undefined): void;
  /** The webhook receiver's answer (default 200 `{"id":"WH<n>"}`). */
  setWebhookAnswer(status: number, body: string): void;
  /**
   * Plays the callee: POSTs Twilio's signed callback for call `sid` to its Gather `action` (TwiML
   * calls) or to its `Url`, with `Digits` when a key was pressed.
   */
  answerCall(sid: string, options?: { digits?: string; caPem?: string }): Promise<StandinCallback>;
  /** Resolves with the next call placed from now on (a test waiting for a blocking login's call). */
  nextCall(): Promise<RecordedCall>;
  close(): Promise<void>;
}

export interface ProviderStandinOptions {
  readonly accountSid: string;
  readonly authToken: string;
}

export async function startProviderStandin(
  options: ProviderStandinOptions,
): Promise<ProviderStandin> {
  const messages: RecordedMessage[] = [];
  const calls: RecordedCall[] = [];
  const callWaiters: ((call: RecordedCall) => void)[] = [];
  const webhooks: RecordedWebhook[] = [];
  const queued: StandinFailure[] = [];
  let always: StandinFailure | undefined;
  let webhookAnswer: { status: number; body: string } | undefined;
  let requestCount = 0;
  let nextSid = 1;
  const expectedAuth = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  const accountPath = `/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}`;

  const server = createServer((req, res) => {
    requestCount++;
    void readBody(req).then((body) => {
      const failure = queued.shift() ?? always;
      if (failure !== undefined) return fail(req, res, failure);
      const path = new URL(req.url ?? '/', 'http://standin').pathname;
      if (path === '/webhook' || path.startsWith('/webhook/')) {
        const id = `WH${nextSid++}`;
        webhooks.push({
          path,
          contentType: req.headers['content-type'],
          headers: { ...req.headers },
          body,
        });
        const answer = webhookAnswer ?? { status: 200, body: JSON.stringify({ id }) };
        return send(res, answer.status, answer.body);
      }
      if (req.method !== 'POST' || !path.startsWith(`${accountPath}/`)) {
        return twilioError(res, 404, 20404, 'The requested resource was not found');
      }
      if (req.headers.authorization !== expectedAuth) {
        return twilioError(res, 401, 20003, 'Authenticate');
      }
      if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
        return twilioError(res, 400, 21000, 'Expected a form body');
      }
      const form = new URLSearchParams(body);
      const to = form.get('To');
      const from = form.get('From');
      if (to === null) return twilioError(res, 400, 21604, "A 'To' phone number is required.");
      if (from === null) return twilioError(res, 400, 21603, "A 'From' phone number is required.");
      if (path === `${accountPath}/Messages.json`) {
        const text = form.get('Body');
        if (text === null) return twilioError(res, 400, 21602, 'Message body is required.');
        const sid = `SM${hex32(nextSid++)}`;
        messages.push({ sid, to, from, body: text });
        return sendJson(
          res,
          201,
          twilioResource(sid, options.accountSid, { to, from, body: text }),
        );
      }
      if (path === `${accountPath}/Calls.json`) {
        const url = form.get('Url') ?? undefined;
        const twiml = form.get('Twiml') ?? undefined;
        if (url === undefined && twiml === undefined) {
          return twilioError(res, 400, 21205, 'Url or Twiml is required.');
        }
        const sid = `CA${hex32(nextSid++)}`;
        const call = { sid, to, from, url, twiml };
        calls.push(call);
        for (const wake of callWaiters.splice(0)) wake(call);
        return sendJson(res, 201, twilioResource(sid, options.accountSid, { to, from }));
      }
      return twilioError(res, 404, 20404, 'The requested resource was not found');
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    webhookUrl: `${baseUrl}/webhook`,
    messages,
    calls,
    webhooks,
    get requestCount() {
      return requestCount;
    },
    failNext(failure, count = 1) {
      for (let i = 0; i < count; i++) queued.push(failure);
    },
    failAll(failure) {
      always = failure;
    },
    setWebhookAnswer(status, body) {
      webhookAnswer = { status, body };
    },
    async answerCall(sid, answer = {}) {
      const call = calls.find((c) => c.sid === sid);
      if (call === undefined) throw new Error(`stand-in: no call ${sid}`);
      const url = call.twiml !== undefined ? gatherAction(call.twiml) : call.url;
      if (url === undefined) throw new Error(`stand-in: call ${sid} has no callback URL`);
      const params: Record<string, string> = {
        AccountSid: options.accountSid,
        CallSid: sid,
        CallStatus: 'in-progress',
        Direction: 'outbound-api',
        From: call.from,
        To: call.to,
        ...(answer.digits === undefined ? {} : { Digits: answer.digits }),
      };
      const signature = twilioSignature(options.authToken, url, params);
      const headers = {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signature,
      };
      const body = new URLSearchParams(params).toString();
      if (answer.caPem !== undefined) {
        // A service with a private CA (tests): node:https, since fetch cannot take a CA.
        const { status, text } = await postWithCa(url, headers, body, answer.caPem);
        return { url, params, signature, status, bodyText: text };
      }
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(5000),
      });
      return { url, params, signature, status: response.status, bodyText: await response.text() };
    },
    nextCall() {
      return new Promise((resolve) => callWaiters.push(resolve));
    },
    async close() {
      // Hanging requests are held open on purpose; end them so close() returns.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((e) => (e === undefined ? resolve() : reject(e))),
      );
    },
  };
}

function postWithCa(
  url: string,
  headers: Record<string, string>,
  body: string,
  caPem: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'POST', headers, ca: caPem, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('callback timed out')));
    req.end(body);
  });
}

function fail(req: IncomingMessage, res: ServerResponse, failure: StandinFailure): void {
  switch (failure) {
    case 'http-500':
      return twilioError(res, 500, 20500, 'Internal Server Error');
    case 'http-401':
      return twilioError(res, 401, 20003, 'Authenticate');
    case 'http-400':
      return twilioError(res, 400, 21211, "The 'To' number is not a valid phone number.");
    case 'garbage':
      return send(res, 200, '<html>upstream proxy error</html>');
    case 'hang':
      return; // never answers; close() ends the socket
    case 'close':
      req.socket.destroy();
      return;
  }
}

/** Twilio's published signing algorithm, written out here on purpose (see the module comment). */
function twilioSignature(token: string, url: string, params: Record<string, string>): string {
  const data =
    url +
    Object.keys(params)
      .sort()
      .map((k) => k + params[k])
      .join('');
  return createHmac('sha1', token).update(data).digest('base64');
}

function gatherAction(twiml: string): string | undefined {
  const match = /<Gather\b[^>]*\baction="([^"]*)"/.exec(twiml);
  if (match?.[1] === undefined) return undefined;
  return match[1]
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

function twilioResource(
  sid: string,
  accountSid: string,
  fields: Record<string, string>,
): Record<string, unknown> {
  return { sid, account_sid: accountSid, status: 'queued', ...fields };
}

function twilioError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, {
    code,
    message,
    more_info: `https://www.twilio.com/docs/errors/${code}`,
    status,
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  res.setHeader('content-type', 'application/json');
  send(res, status, JSON.stringify(value));
}

function send(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function hex32(n: number): string {
  return n.toString(16).padStart(32, '0');
}
