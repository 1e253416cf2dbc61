// airlock/sdk against the real service: health check ok, degraded (a factor down) and unreachable
// (stopped, blackholed, 5xx), an invalid client, and a whole login through the prompt's forms.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpsServer } from 'node:https';
import https from 'node:https';
import { createServer as createTcpServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TOTP } from 'otpauth';
import type { Application } from '../../src/core/model.ts';
import { HttpSendError, type HttpSend } from '../../src/runtime/http-send.ts';
import {
  createWebSdkClient,
  decideFailmode,
  isSameState,
  isWebSdkError,
  type WebSdkClient,
} from '../../src/sdk/index.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';
import { createWebSdkApp } from './web-sdk-helpers.ts';

const REDIRECT = 'https://portal.example/duo-callback';

/** HttpSend over node:https trusting `ca` (Node's fetch takes no CA; NODE_EXTRA_CA_CERTS does). */
function httpsSend(ca: string): HttpSend {
  return (request) =>
    new Promise((resolve, reject) => {
      const req = https.request(
        request.url,
        {
          method: 'POST',
          headers: request.headers,
          ca,
          timeout: request.timeoutMs,
          // Its own agent: the harness routes https.globalAgent (and agent: false, which
          // builds one of the global agent's class) to the service (duo-client.ts).
          agent: new https.Agent(),
          // The services here listen on 127.0.0.1; "localhost" may resolve to ::1 first.
          family: 4,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, bodyText: text }));
        },
      );
      req.on('timeout', () => req.destroy(new HttpSendError('timeout')));
      req.on('error', (e) =>
        reject(
          e instanceof HttpSendError
            ? e
            : new HttpSendError('unreachable', (e as { code?: string }).code),
        ),
      );
      req.end(request.body);
    });
}

describe('airlock/sdk against the service', () => {
  let h: Harness;
  let app: Application;
  let totp: TOTP;
  let client: WebSdkClient;

  const clientFor = (apiHost: string, secret = app.skey, timeoutMs = 2000) =>
    createWebSdkClient({
      clientId: app.ikey,
      clientSecret: secret,
      apiHost,
      redirectUri: REDIRECT,
      timeoutMs,
      send: httpsSend(h.caPem),
    });

  before(async () => {
    h = await startService();
    app = await createWebSdkApp(h, [REDIRECT]);
    totp = (await h.createUser('frank', { totp: true })).totp!;
    client = clientFor(`localhost:${h.port}`);
  });
  after(async () => {
    await h?.close();
  });

  it('health check: ok, then degraded while push is failing', async () => {
    assert.deepEqual(
      { ...(await client.healthCheck()), timestamp: 0 },
      {
        status: 'ok',
        degradedFactors: [],
        timestamp: 0,
      },
    );
    for (let i = 0; i < 10; i++) {
      h.service.factorHealth.record('push', 'authenticator', 'failed', 0, h.clock.nowMs());
    }
    const degraded = await client.healthCheck();
    assert.equal(degraded.status, 'degraded');
    assert.deepEqual(degraded.degradedFactors, ['push']);
  });

  it('a wrong secret is invalid_client, which no failmode lets through', async () => {
    const error = await clientFor(`localhost:${h.port}`, 'q'.repeat(40))
      .healthCheck()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isWebSdkError(error, 'invalid_client'), String(error));
    assert.equal(decideFailmode({ failmode: 'safe', error }).allowed, false);
  });

  it('unreachable: refused port, silent port (timeout), 5xx — safe lets in, secure does not', async () => {
    const closed = createTcpServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as { port: number }).port;
    closed.close();
    // A peer that accepts and never answers: the deadline ends it.
    const silent: Server = createTcpServer(() => undefined);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const failing = createHttpsServer({ key: h.tlsKeyPem, cert: h.tlsCertPem }, (_req, res) => {
      res.writeHead(503).end('{}');
    });
    failing.listen(0, '127.0.0.1');
    await once(failing, 'listening');
    try {
      const cases = [
        [`127.0.0.1:${closedPort}`, 'unreachable'],
        [`localhost:${(silent.address() as { port: number }).port}`, 'timeout'],
        [`localhost:${(failing.address() as { port: number }).port}`, 'server_error'],
      ] as const;
      for (const [host, kind] of cases) {
        const error = await clientFor(host, app.skey, 500)
          .healthCheck()
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        assert.ok(isWebSdkError(error, kind), `${host}: ${String(error)}`);
        assert.deepEqual(decideFailmode({ failmode: 'safe', error }), {
          allowed: true,
          secondFactorChecked: false,
          reason: `failmode-safe-${kind}`,
        });
        assert.equal(decideFailmode({ failmode: 'secure', error }).allowed, false);
      }
    } finally {
      silent.close();
      failing.close();
    }
  });

  it('a whole login: state, authorize URL, the prompt, the code exchange; a replayed code is invalid_grant', async () => {
    const state = client.createState();
    assert.match(state, /^[A-Za-z0-9]{36}$/);
    const url = new URL(await client.createAuthUrl('frank', state));
    assert.equal(url.pathname, '/oauth/v1/authorize');
    const frame = await get(url.pathname + url.search);
    assert.equal(frame.status, 303);
    h.clock.advance(30_000);
    const done = await post(`${frame.location}/passcode`, { passcode: totpAt(totp, h.clock) });
    assert.equal(done.status, 303);
    const back = new URL(done.location);
    assert.ok(isSameState(state, back.searchParams.get('state') ?? undefined));
    assert.equal(isSameState(state, `${state}x`), false);
    const code = back.searchParams.get('duo_code') ?? '';
    const result = await client.exchangeAuthorizationCodeFor2FAResult(code, 'frank');
    assert.equal(result.allowed, true);
    assert.equal(result.authResult.result, 'allow');
    const replay = await client.exchangeAuthorizationCodeFor2FAResult(code, 'frank').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isWebSdkError(replay, 'invalid_grant'));
    assert.equal(decideFailmode({ failmode: 'safe', error: replay }).allowed, false);
  });

  function get(path: string) {
    return request('GET', path);
  }
  function post(path: string, form: Record<string, string>) {
    return request('POST', path, new URLSearchParams(form).toString());
  }
  function request(
    method: string,
    path: string,
    body?: string,
  ): Promise<{ status: number; location: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: h.port,
          servername: 'localhost',
          ca: h.caPem,
          method,
          path,
          headers: {
            host: `localhost:${h.port}`,
            ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, location: String(res.headers.location) }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
});
