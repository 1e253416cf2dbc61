// The resilient client against the real service and fault servers: the breaker opens and answers at
// once, failover, /auth's no-failover-after-sending rule, recovery through the half-open probe, and a
// slow host reported degraded (docs/outage-engine.md).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { AuthApiClient } from '../../src/client/auth-api-client.ts';
import {
  createResilientAuthApiClient,
  type ResilienceEvent,
  type ResilientAuthApiClient,
  type ResilientAuthApiClientOptions,
} from '../../src/client/resilient-auth-api-client.ts';
import { createAuthApiClient } from '../../src/client/auth-api-client.ts';
import type { Application } from '../../src/core/model.ts';
import { SystemClock } from '../../src/runtime/clock.ts';
import {
  closedPort,
  startFaultServer,
  testTlsMaterial,
  type FaultServer,
  type TestTlsMaterial,
} from './fault-servers.ts';
import { API_HOST, startService, totpAt, type Harness } from './service-harness.ts';

/** Short enough to keep the suite quick, long enough for a loaded CI machine to answer. */
const TIMEOUT_MS = 1_000;

let h: Harness;
let tls: TestTlsMaterial;
let app: Application;
let totp: NonNullable<Awaited<ReturnType<Harness['createUser']>>['totp']>;
const clients: ResilientAuthApiClient[] = [];
const servers: Array<{ close(): Promise<void> }> = [];

before(async () => {
  [h, tls] = await Promise.all([startService(), testTlsMaterial()]);
  app = await h.createApp();
  const user = await h.createUser('alice', { totp: true });
  assert.ok(user.totp);
  totp = user.totp;
});

after(async () => {
  for (const client of clients) client.close();
  for (const server of servers) await server.close();
  await h?.close();
});

/** Calls each host's client made, by `host:port`. */
type CallLog = Map<string, string[]>;

function resilientClient(
  hosts: ResilientAuthApiClientOptions['hosts'],
  o: Partial<ResilientAuthApiClientOptions> = {},
): { api: ResilientAuthApiClient; events: ResilienceEvent[]; calls: CallLog } {
  const events: ResilienceEvent[] = [];
  const calls: CallLog = new Map();
  const api = createResilientAuthApiClient({
    hosts,
    ikey: app.ikey,
    skey: app.skey,
    // The service's CA and the fault servers' CA: one bundle for every host.
    caPem: `${h.caPem}\n${tls.caPem}`,
    timeoutMs: TIMEOUT_MS,
    clock: h.clock,
    breaker: { failureThreshold: 2, openMs: 5_000 },
    onEvent: (e) => events.push(e),
    // The real client, with every call logged per host: "no connection attempt" is checked here.
    createClient: (options) => {
      const real = createAuthApiClient(options);
      const log: string[] = [];
      calls.set(`${options.apiHost}:${options.apiPort}`, log);
      return countingClient(real, log);
    },
    ...o,
  });
  clients.push(api);
  return { api, events, calls };
}

function countingClient(real: AuthApiClient, log: string[]): AuthApiClient {
  return {
    ping: () => (log.push('ping'), real.ping()),
    check: () => (log.push('check'), real.check()),
    preauth: (p) => (log.push('preauth'), real.preauth(p)),
    auth: ((p: Parameters<AuthApiClient['auth']>[0]) => (
      log.push('auth'),
      real.auth(p)
    )) as AuthApiClient['auth'],
    authStatus: (txid) => (log.push('authStatus'), real.authStatus(txid)),
    close: () => real.close(),
  };
}

async function fault(mode: 'blackhole' | 'slow', delayMs?: number): Promise<FaultServer> {
  const server = await startFaultServer(mode, {
    certPem: tls.certPem,
    keyPem: tls.keyPem,
    ...(delayMs === undefined ? {} : { delayMs }),
  });
  servers.push(server);
  return server;
}

/**
 * A TCP front for the real service that can be switched off: `down` resets every connection at
 * once (the host is gone), `up` relays bytes to the service (TLS stays end to end).
 */
async function switchableFront(targetPort: number): Promise<{
  port: number;
  up: boolean;
  readonly connections: number;
  close(): Promise<void>;
}> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const front = {
    port: 0,
    up: false,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (!front.up) {
      socket.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  front.port = typeof address === 'object' && address ? address.port : 0;
  servers.push(front);
  return front;
}

const PREAUTH = { username: 'alice' } as const;

describe('resilient client: the breaker in front of a blackholed host', () => {
  it('pays the deadline twice, then answers at once without connecting (breakerOpen)', async () => {
    const blackhole = await fault('blackhole');
    const { api, events } = resilientClient([{ apiHost: '127.0.0.1', apiPort: blackhole.port }]);

    for (let i = 0; i < 2; i++) {
      const out = await api.preauth(PREAUTH);
      assert.ok(out.kind === 'unreachable', JSON.stringify(out));
      assert.equal(out.reason, 'timeout');
      assert.equal(out.breakerOpen, undefined);
    }
    const connections = blackhole.connections;
    assert.ok(connections >= 2, `the blackhole saw ${connections} connections`);

    const third = await api.preauth(PREAUTH);
    assert.ok(third.kind === 'unreachable', JSON.stringify(third));
    assert.equal(third.breakerOpen, true);
    assert.equal(third.reason, 'connect');
    assert.match(third.detail, /^circuit open since /);
    assert.equal(blackhole.connections, connections, 'no connection while the breaker is open');

    assert.deepEqual(
      events.filter((e) => e.type === 'breaker').map((e) => `${e.from}→${e.to}`),
      ['closed→open'],
    );
    const [health] = api.health();
    assert.equal(health?.status, 'unreachable');
    assert.equal(health?.breaker, 'open');
  });
});

describe('resilient client: failover to api_host_2', () => {
  it('answers from host 2 while host 1 refuses, and stops trying host 1 once its breaker opens', async () => {
    const dead = await closedPort();
    const { api, calls } = resilientClient([
      { apiHost: API_HOST, apiPort: dead },
      { apiHost: API_HOST, apiPort: h.port },
    ]);
    for (let i = 0; i < 5; i++) {
      const out = await api.preauth(PREAUTH);
      assert.equal(out.kind, 'ok', JSON.stringify(out));
      assert.equal(out.host, `${API_HOST}:${h.port}`);
      assert.ok(out.kind === 'ok' && out.response.result === 'auth');
    }
    assert.deepEqual(calls.get(`${API_HOST}:${dead}`), ['preauth', 'preauth']);
    assert.equal(calls.get(`${API_HOST}:${h.port}`)?.length, 5);
    assert.deepEqual(
      api.health().map((x) => [x.status, x.breaker]),
      [
        ['unreachable', 'open'],
        ['reachable', 'closed'],
      ],
    );
  });

  it('fails /auth over when host 1 refuses the connection (nothing was sent)', async () => {
    const dead = await closedPort();
    const { api, calls } = resilientClient([
      { apiHost: API_HOST, apiPort: dead },
      { apiHost: API_HOST, apiPort: h.port },
    ]);
    const out = await api.auth({
      username: 'alice',
      factor: 'passcode',
      passcode: totpAt(totp, h.clock),
    });
    assert.ok(out.kind === 'ok', JSON.stringify(out));
    assert.equal(out.response.result, 'allow');
    assert.deepEqual(calls.get(`${API_HOST}:${dead}`), ['auth']);
  });

  it('does not fail /auth over after a timeout: the request may have reached the service', async () => {
    const blackhole = await fault('blackhole');
    const { api, calls } = resilientClient([
      { apiHost: '127.0.0.1', apiPort: blackhole.port },
      { apiHost: API_HOST, apiPort: h.port },
    ]);
    const out = await api.auth({ username: 'alice', factor: 'passcode', passcode: '000000' });
    assert.ok(out.kind === 'unreachable', JSON.stringify(out));
    assert.equal(out.reason, 'timeout');
    assert.deepEqual(calls.get(`${API_HOST}:${h.port}`), []);
    // preauth has no side effect: it does fail over after the same timeout.
    const pre = await api.preauth(PREAUTH);
    assert.equal(pre.kind, 'ok');
    assert.deepEqual(calls.get(`${API_HOST}:${h.port}`), ['preauth']);
  });
});

describe('resilient client: recovery through the half-open probe', () => {
  it('closes the breaker with ping then check once the host is back and openMs has passed', async () => {
    const front = await switchableFront(h.port);
    const { api, events, calls } = resilientClient([{ apiHost: API_HOST, apiPort: front.port }]);
    const log = () => calls.get(`${API_HOST}:${front.port}`) ?? [];

    for (let i = 0; i < 2; i++) {
      const out = await api.preauth(PREAUTH);
      assert.ok(out.kind === 'unreachable', JSON.stringify(out));
      assert.notEqual(out.reason, 'timeout');
    }
    assert.equal((await api.preauth(PREAUTH)).breakerOpen, true);

    front.up = true;
    const before = front.connections;
    let health = await api.runHealthCheckOnce();
    assert.equal(health[0]?.breaker, 'open', 'no probe before openMs has passed');
    assert.equal(front.connections, before);

    h.clock.advance(5_000);
    const callsBefore = log().length;
    health = await api.runHealthCheckOnce();
    assert.deepEqual(log().slice(callsBefore), ['ping', 'check']);
    assert.equal(health[0]?.breaker, 'closed');
    assert.equal(health[0]?.status, 'reachable');
    assert.equal(health[0]?.lastCheck?.kind, 'ok');
    assert.deepEqual(
      events.filter((e) => e.type === 'breaker').map((e) => `${e.from}→${e.to}`),
      ['closed→open', 'open→half-open', 'half-open→closed'],
    );
    assert.deepEqual(
      events.filter((e) => e.type === 'health').map((e) => `${e.from}→${e.to}`),
      ['reachable→unreachable', 'unreachable→reachable'],
    );

    const out = await api.preauth(PREAUTH);
    assert.equal(out.kind, 'ok', JSON.stringify(out));
  });
});

describe('resilient client: a slow host', () => {
  const SLOW = { degradedLatencyMs: 150, minSamples: 3, latencyWindow: 10 };

  it('is reported degraded (not unreachable) and still answers when it is the only host', async () => {
    const slow = await fault('slow', 400);
    const { api } = resilientClient([{ apiHost: '127.0.0.1', apiPort: slow.port }], {
      clock: new SystemClock(),
      breaker: { ...SLOW, failureThreshold: 2, openMs: 5_000 },
    });
    for (let i = 0; i < 3; i++) assert.equal((await api.preauth(PREAUTH)).kind, 'ok');
    const [health] = api.health();
    assert.equal(health?.status, 'degraded', health?.reason);
    assert.match(health?.reason ?? '', /p95 \d+ ms > 150 ms/);
    assert.ok((health?.p95Ms ?? 0) >= 400);

    // Slow is not down: failmode is not invoked, the host is still asked.
    const out = await api.preauth(PREAUTH);
    assert.equal(out.kind, 'ok', JSON.stringify(out));
    assert.equal(out.breakerOpen, undefined);
  });

  it('is tried after a fast host once it is degraded', async () => {
    const slow = await fault('slow', 400);
    const { api, calls } = resilientClient(
      [
        { apiHost: '127.0.0.1', apiPort: slow.port },
        { apiHost: API_HOST, apiPort: h.port },
      ],
      { clock: new SystemClock(), breaker: { ...SLOW, failureThreshold: 2, openMs: 60_000 } },
    );
    for (let i = 0; i < 3; i++) {
      assert.equal((await api.preauth(PREAUTH)).host, `127.0.0.1:${slow.port}`);
    }
    const out = await api.preauth(PREAUTH);
    assert.equal(out.kind, 'ok');
    assert.equal(out.host, `${API_HOST}:${h.port}`);
    assert.equal(calls.get(`127.0.0.1:${slow.port}`)?.length, 3);
    assert.deepEqual(
      api.health().map((x) => x.status),
      ['degraded', 'reachable'],
    );
  });
});
