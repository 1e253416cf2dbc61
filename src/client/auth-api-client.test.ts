import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseAuthorization, verifySignature } from '../protocol/duo-signature.ts';
import { FixedClock } from '../runtime/clock.ts';
import { testTlsMaterial, type TestTlsMaterial } from '../../test/integration/fault-servers.ts';
import {
  classifyNetworkError,
  createAuthApiClient,
  formatHostHeader,
  summarizeOutcome,
  type AuthApiClient,
  type AuthApiClientOptions,
} from './auth-api-client.ts';

const IKEY = 'DIWJ8X6AEYOR5OMC6TQ1';
const SKEY = 'Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep';

interface Captured {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An HTTPS server that records each request and answers from a queue (default: a time). */
async function startRecorder(tls: TestTlsMaterial) {
  const captured: Captured[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  /** Per-connection hook: return true to hang up on this request instead of answering. */
  let hangUp: (requestOnConnection: number) => boolean = () => false;
  const perSocket = new WeakMap<Socket, number>();
  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (hangUp(n)) {
        req.socket.destroy();
        return;
      }
      captured.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ stat: 'OK', response: answerFor(req.url ?? '') }));
    });
  });
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    captured,
    get connections() {
      return connections;
    },
    setHangUp(fn: (n: number) => boolean) {
      hangUp = fn;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answerFor(url: string): unknown {
  if (url.startsWith('/auth/v2/preauth')) return { result: 'allow', status_msg: 'Bypass' };
  if (url.startsWith('/auth/v2/auth_status')) {
    return { result: 'allow', status: 'allow', status_msg: 'ok' };
  }
  if (url.startsWith('/auth/v2/auth')) {
    // Enough for both the sync guard (which drops txid) and the async one.
    return { result: 'allow', status: 'allow', status_msg: 'ok', txid: 'T1' };
  }
  return { time: 1_345_570_158 };
}

let tls: TestTlsMaterial;
let recorder: Awaited<ReturnType<typeof startRecorder>>;
const clients: AuthApiClient[] = [];
// Tue, 21 Aug 2012 17:29:18 GMT: the date of docs/design/auth-api.md §2.5's vector.
const clock = new FixedClock(Date.UTC(2012, 7, 21, 17, 29, 18));

before(async () => {
  tls = await testTlsMaterial();
  recorder = await startRecorder(tls);
});
after(async () => {
  for (const c of clients) c.close();
  await recorder?.close();
});

function client(o: Partial<AuthApiClientOptions> = {}): AuthApiClient {
  const c = createAuthApiClient({
    apiHost: 'localhost',
    apiPort: recorder.port,
    ikey: IKEY,
    skey: SKEY,
    caPem: tls.caPem,
    timeoutMs: 5000,
    clock,
    ...o,
  });
  clients.push(c);
  return c;
}

function lastRequest(): Captured {
  const last = recorder.captured.at(-1);
  assert.ok(last, 'no request was recorded');
  return last;
}

function assertSignedBy(req: Captured, params: Record<string, string>, host: string): void {
  const { ikey, signature } = parseAuthorization(req.headers.authorization);
  assert.equal(ikey, IKEY);
  assert.equal(signature.length, 128, 'HMAC-SHA512 hex');
  const path = req.url.split('?')[0] ?? '';
  const result = verifySignature({
    skey: SKEY,
    signature,
    method: req.method,
    host,
    path,
    params,
    date: String(req.headers.date),
  });
  assert.deepEqual(result, { ok: true, version: 'v2-sha512' });
}

describe('Auth API client requests', () => {
  it('signs a form-encoded POST with HMAC-SHA512 v2 over the bare host', async () => {
    const outcome = await client().preauth({ username: 'First Last', ipaddr: '192.0.2.1' });
    assert.equal(outcome.kind, 'ok');
    const req = lastRequest();
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/auth/v2/preauth');
    assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
    // docs/design/auth-api.md §2.2: the body is the canonical params string itself.
    assert.equal(req.body, 'ipaddr=192.0.2.1&username=First%20Last');
    // The signature covers the host without the port; the Host header carries it (not 443).
    assert.equal(req.headers.host, `localhost:${recorder.port}`);
    assertSignedBy(req, { username: 'First Last', ipaddr: '192.0.2.1' }, 'localhost');
  });

  it('takes the Date header from the injected clock', async () => {
    await client().check();
    assert.equal(lastRequest().headers.date, 'Tue, 21 Aug 2012 17:29:18 GMT');
  });

  it('sends a signed GET with its params in the query string', async () => {
    await client().authStatus('a b/c');
    const req = lastRequest();
    assert.equal(req.method, 'GET');
    assert.equal(req.url, '/auth/v2/auth_status?txid=a%20b%2Fc');
    assert.equal(req.body, '');
    assertSignedBy(req, { txid: 'a b/c' }, 'localhost');
  });

  it('sends ping without credentials', async () => {
    const outcome = await client().ping();
    assert.deepEqual(outcome.kind === 'ok' && outcome.response, { time: 1_345_570_158 });
    const req = lastRequest();
    assert.equal(req.url, '/auth/v2/ping');
    assert.equal(req.headers.authorization, undefined);
  });

  it('names itself in User-Agent, by default and when told', async () => {
    await client().ping();
    assert.match(String(lastRequest().headers['user-agent']), /^airlock-auth-api-client\//);
    await client({ userAgent: 'airlock-proxy/0.1' }).ping();
    assert.equal(lastRequest().headers['user-agent'], 'airlock-proxy/0.1');
  });

  it('sends the auth parameters of each factor', async () => {
    const c = client();
    await c.auth({ userId: 'DU1', factor: 'passcode', passcode: '123456', ipaddr: '192.0.2.9' });
    assert.equal(
      lastRequest().body,
      'factor=passcode&ipaddr=192.0.2.9&passcode=123456&user_id=DU1',
    );
    await c.auth({ username: 'alice', factor: 'push', type: 'VPN', pushinfo: 'from=vpn' });
    assert.equal(
      lastRequest().body,
      'device=auto&factor=push&pushinfo=from%3Dvpn&type=VPN&username=alice',
    );
    await c.auth({ username: 'alice', factor: 'prompt', prompt: '123456' });
    assert.equal(lastRequest().body, 'factor=prompt&prompt=123456&username=alice');
    const started = await c.auth({
      username: 'alice',
      factor: 'passcode',
      passcode: '1',
      async: true,
    });
    assert.equal(lastRequest().body, 'async=1&factor=passcode&passcode=1&username=alice');
    assert.deepEqual(started.kind === 'ok' && started.response, { txid: 'T1' });
  });

  it('sends the optional preauth flags as 1', async () => {
    await client().preauth({ username: 'u', textPrompt: true, clientSupportsVerifiedPush: true });
    assert.equal(lastRequest().body, 'client_supports_verified_push=1&text_prompt=1&username=u');
  });

  it('puts the port in Host only when it is not 443, and brackets IPv6', () => {
    assert.equal(formatHostHeader('api.example.com', 443), 'api.example.com');
    assert.equal(formatHostHeader('api.example.com', 8443), 'api.example.com:8443');
    assert.equal(formatHostHeader('::1', 443), '[::1]');
    assert.equal(formatHostHeader('::1', 8443), '[::1]:8443');
  });

  it('keeps a connection alive across calls', async () => {
    const before = recorder.connections;
    const c = client();
    await c.ping();
    await c.ping();
    await c.check();
    assert.equal(recorder.connections - before, 1);
  });

  it('retries once on a fresh connection when a reused keep-alive socket is dead', async () => {
    const c = client();
    recorder.setHangUp((n) => n === 2); // the second request on any connection is dropped
    try {
      const before = recorder.connections;
      assert.equal((await c.ping()).kind, 'ok');
      const second = await c.ping();
      assert.equal(second.kind, 'ok', JSON.stringify(second));
      assert.equal(recorder.connections - before, 2);
    } finally {
      recorder.setHangUp(() => false);
    }
  });

  it('does not retry when a fresh connection hangs up', async () => {
    const c = client();
    recorder.setHangUp(() => true);
    try {
      const before = recorder.connections;
      const outcome = await c.ping();
      assert.equal(outcome.kind === 'unreachable' && outcome.reason, 'connect');
      assert.equal(recorder.connections - before, 1);
    } finally {
      recorder.setHangUp(() => false);
    }
  });
});

describe('createAuthApiClient options', () => {
  const base: AuthApiClientOptions = {
    apiHost: 'api.example.com',
    ikey: IKEY,
    skey: SKEY,
    timeoutMs: 1000,
    clock,
  };

  it('rejects options that can never work', () => {
    const bad: Partial<AuthApiClientOptions>[] = [
      { apiHost: '' },
      { apiHost: 'https://api.example.com' },
      { apiHost: 'api.example.com:443' },
      { apiHost: 'api.example.com/auth' },
      { apiPort: 0 },
      { apiPort: 70_000 },
      { apiPort: 1.5 },
      { timeoutMs: 0 },
      { timeoutMs: -1 },
      { timeoutMs: Number.POSITIVE_INFINITY },
      { timeoutMs: Number.NaN },
      { ikey: '' },
      { skey: '' },
    ];
    for (const o of bad) {
      assert.throws(() => createAuthApiClient({ ...base, ...o }), RangeError, JSON.stringify(o));
    }
  });

  it('accepts a host name, an IPv4 and an IPv6 literal', () => {
    for (const apiHost of ['api.example.com', '192.0.2.1', '::1']) {
      createAuthApiClient({ ...base, apiHost }).close();
    }
  });

  it('refuses a call that names both or neither of username and userId', async () => {
    const c = createAuthApiClient(base);
    try {
      const both = { username: 'a', userId: 'b' } as unknown as { username: string };
      await assert.rejects(() => c.preauth(both), TypeError);
      await assert.rejects(() => c.preauth({} as { username: string }), TypeError);
    } finally {
      c.close();
    }
  });
});

describe('classifyNetworkError (docs/design/auth-api.md §3.9)', () => {
  const err = (code: string, extra: object = {}) =>
    Object.assign(new Error(`${code} happened`), { code, ...extra });
  // prettier-ignore
  const rows: [string, unknown, string][] = [
    ['ENOTFOUND',                        err('ENOTFOUND', { syscall: 'getaddrinfo' }), 'dns'],
    ['EAI_AGAIN',                        err('EAI_AGAIN', { syscall: 'getaddrinfo' }), 'dns'],
    ['EAI_FAIL',                         err('EAI_FAIL'),                              'dns'],
    ['any getaddrinfo failure',          err('EWHATEVER', { syscall: 'getaddrinfo' }), 'dns'],
    ['ECONNREFUSED',                     err('ECONNREFUSED', { syscall: 'connect' }),  'connect'],
    ['ECONNRESET (socket hang up)',      err('ECONNRESET'),                            'connect'],
    ['EHOSTUNREACH',                     err('EHOSTUNREACH'),                          'connect'],
    ['ENETUNREACH',                      err('ENETUNREACH'),                           'connect'],
    ['ETIMEDOUT (kernel connect timeout)', err('ETIMEDOUT'),                           'connect'],
    ['EPIPE',                            err('EPIPE'),                                 'connect'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE',  err('UNABLE_TO_VERIFY_LEAF_SIGNATURE'),       'tls'],
    ['SELF_SIGNED_CERT_IN_CHAIN',        err('SELF_SIGNED_CERT_IN_CHAIN'),             'tls'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT',      err('DEPTH_ZERO_SELF_SIGNED_CERT'),           'tls'],
    ['CERT_HAS_EXPIRED',                 err('CERT_HAS_EXPIRED'),                      'tls'],
    ['ERR_TLS_CERT_ALTNAME_INVALID',     err('ERR_TLS_CERT_ALTNAME_INVALID'),          'tls'],
    ['ERR_SSL_WRONG_VERSION_NUMBER',     err('ERR_SSL_WRONG_VERSION_NUMBER'),          'tls'],
    ['EPROTO (handshake failure)',       err('EPROTO'),                                'tls'],
    ['AggregateError of refusals',       Object.assign(new AggregateError([err('ECONNREFUSED'), err('ECONNREFUSED')]), {}), 'connect'],
    ['AggregateError of DNS failures',   new AggregateError([err('ENOTFOUND')]),       'dns'],
    ['an error without a code',          new Error('what'),                            'connect'],
    ['a thrown string',                  'what',                                       'connect'],
    ['null',                             null,                                         'connect'],
  ];
  for (const [name, error, expected] of rows) {
    it(`classifies ${name} as ${expected}`, () => {
      assert.equal(classifyNetworkError(error), expected);
    });
  }
});

describe('summarizeOutcome', () => {
  it('keeps kind and reason, and drops the response', () => {
    assert.deepEqual(summarizeOutcome({ kind: 'ok', response: { secret: 'x' }, latencyMs: 1 }), {
      kind: 'ok',
    });
    assert.deepEqual(
      summarizeOutcome({ kind: 'unreachable', reason: 'tls', detail: 'd', latencyMs: 1 }),
      { kind: 'unreachable', reason: 'tls' },
    );
    assert.deepEqual(
      summarizeOutcome({
        kind: 'rejected',
        httpStatus: 401,
        code: 40103,
        message: 'Invalid signature',
        latencyMs: 1,
      }),
      { kind: 'rejected', code: 40103, message: 'Invalid signature' },
    );
    assert.deepEqual(
      summarizeOutcome({ kind: 'invalid', httpStatus: 404, detail: 'd', latencyMs: 1 }),
      { kind: 'invalid', httpStatus: 404 },
    );
  });
});
