// Two service nodes on one PostgreSQL (docs/multi-node.md): a push started on node A and answered
// through node B completes on A — for a blocking /auth, for auth_status, and for the proxy's
// result stream (the proxy's own PushWaiter on Airlock's Auth API client). Node A then restarts
// while the stream is connected to it: the stream resumes after its last event, and no result
// is lost or delivered twice. PostgreSQL only: one SQLite file has one node.
import assert from 'node:assert/strict';
import { hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { DeviceClient, newDeviceKey } from '../../src/authenticator/device-client.ts';
import { parseFactorsConfig, type FactorsConfig } from '../../src/factors/factors-config.ts';
import { startProviderStandin, type ProviderStandin } from '../support/provider-standin.ts';
import { createAuthApiClient, type AuthApiClient } from '../../src/client/auth-api-client.ts';
import type { Application } from '../../src/core/model.ts';
import { PushWaiter } from '../../src/proxy/push-waiter.ts';
import { FixedClock, SystemClock } from '../../src/runtime/clock.ts';
import { CryptoRandom, generateId, generateSecretKey } from '../../src/runtime/random.ts';
import { ensureTlsMaterial, type TlsMaterial } from '../../src/runtime/tls-material.ts';
import {
  buildService,
  DEFAULT_SERVICE_OPTIONS,
  type Service,
} from '../../src/service/build-service.ts';
import { OobHub, type HubStore } from '../../src/service/push/oob-hub.ts';
import { openStore } from '../../src/store/open-store.ts';
import { createSecretBox } from '../../src/store/secret-box.ts';
import type { Store } from '../../src/store/store.ts';
import { API_HOST, duoClient, routeDuoClients } from './duo-client.ts';

// The test's own database, whatever AIRLOCK_IT_BACKEND says: several nodes need PostgreSQL.
process.env.AIRLOCK_IT_BACKEND = 'postgres';
const { itDatabase } = await import('./service-harness.ts');

const PUSH_BURST = 8;
const ACCOUNT = 'AC00000000000000000000000000000017';
const TOKEN = 'standin-auth-token-nodes-0123456789';

interface Node {
  name: string;
  store: Store;
  service: Service;
  port: number;
}

describe('two service nodes on one PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-nodes-'));
  const key = randomBytes(32);
  const pepper = Buffer.from(hkdfSync('sha256', key, '', 'pepper', 32));
  const clock = new FixedClock(Date.now());
  const random = new CryptoRandom();
  let database: { url: string; drop(): Promise<void> };
  let tls: TlsMaterial;
  let nodeA: Node;
  let nodeB: Node;
  let app: Application;
  let devices: DeviceClient;
  let phone: { deviceId: string; privateKey: KeyObject };
  let routing: { close(): void } | undefined;
  let streamClient: AuthApiClient;
  let waiter: PushWaiter;
  /** Every result the proxy's stream received, with its event id, in order. */
  const streamed: { txid: string; id: string | undefined }[] = [];
  const streamEvents: string[] = [];

  /** A node as `airlock serve` builds it: its own store (connections, LISTEN) on the database. */
  async function startNode(name: string, port = 0): Promise<Node> {
    const store = await openStore({
      dataDir: dir,
      databaseUrl: database.url,
      secretBox: createSecretBox(key),
      clock,
    });
    const service = buildService(
      { store, clock, random, logger: pino({ level: 'warn' }), bypassPepper: pepper },
      {
        ...DEFAULT_SERVICE_OPTIONS,
        apiHost: API_HOST,
        // The long poll outlasts the test's waits: an answer must wake it, not its window.
        authStatusWaitSeconds: 20,
        // No periodic look: only the wake-ups between the nodes may deliver the answers.
        sweepIntervalMs: 0,
        // The push budget is shared: alice's six pushes fit, bob spends his (the last test).
        pushRatePerMinute: 1,
        pushBurst: PUSH_BURST,
        https: { cert: tls.certPem, key: tls.keyPem },
        logoPng: undefined,
        factors: phoneFactors,
        // The phone provider's callbacks reach node B, whichever node placed the call (read per
        // call: set once B listens).
        get callbackHost() {
          return nodeB === undefined ? undefined : `localhost:${nodeB.port}`;
        },
      },
    );
    await service.server.listen({ host: '127.0.0.1', port });
    const address = service.server.server.address();
    return {
      name,
      store,
      service,
      port: typeof address === 'object' && address ? address.port : port,
    };
  }

  async function stopNode(node: Node): Promise<void> {
    await node.service.server.close();
    await node.store.close();
  }

  /** Duo's own client, its connections routed to `node`. */
  function duoVia(node: Node) {
    routing?.close();
    routing = routeDuoClients(node.port, tls.caCertPem);
    return duoClient(app);
  }

  const deviceVia = (node: Node) =>
    new DeviceClient({ apiHost: `localhost:${node.port}`, caPem: tls.caCertPem });

  /** The one pending request of the phone, asked through `node` (a long poll). */
  async function pendingVia(node: Node): Promise<string> {
    const client = deviceVia(node);
    try {
      const requests = await client.requests(phone, 10);
      assert.equal(requests.length, 1, `one pending request via ${node.name}`);
      return requests[0]!.txid;
    } finally {
      client.close();
    }
  }

  /** A user with one authenticator, activated through node B. */
  async function userWithPhone(
    username: string,
  ): Promise<{ deviceId: string; privateKey: KeyObject }> {
    const user = await nodeA.store.createUser({ id: generateId(random, 'DU'), username });
    const code = generateId(random, '', 20);
    await nodeA.store.createDeviceActivation({
      activationCode: code,
      userId: user.id,
      expiresAtMs: clock.nowMs() + 60_000,
    });
    const deviceKey = newDeviceKey();
    const activated = await devices.activate({
      activationCode: code,
      publicJwk: deviceKey.publicJwk,
      name: 'phone',
      platform: 'cli',
    });
    return { deviceId: activated.deviceId, privateKey: deviceKey.privateKey };
  }

  async function rawQuery(text: string): Promise<Record<string, unknown>[]> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query(text)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  }

  async function approveVia(node: Node, txid: string): Promise<void> {
    const client = deviceVia(node);
    try {
      assert.deepEqual(await client.answer(phone, txid, 'approve'), {
        result: 'allow',
        status: 'allow',
      });
    } finally {
      client.close();
    }
  }

  // A missing PostgreSQL fails every test (a failing before hook would only cancel them).
  let setupError: Error | undefined;
  const nodeTest = (name: string, fn: () => Promise<void>) =>
    it(name, async () => {
      if (setupError) throw setupError;
      await fn();
    });

  let carrier: ProviderStandin;
  let phoneFactors: FactorsConfig;

  before(async () => {
    try {
      await setUp();
    } catch (err) {
      setupError = err instanceof Error ? err : new Error(String(err));
    }
  });

  async function setUp(): Promise<void> {
    carrier = await startProviderStandin({ accountSid: ACCOUNT, authToken: TOKEN });
    const twilio = {
      provider: 'twilio',
      accountSid: ACCOUNT,
      authToken: TOKEN,
      from: '+15555550100',
      baseUrl: carrier.baseUrl,
      timeoutMs: 2000,
    };
    const parsed = parseFactorsConfig({ sms: twilio, phone: twilio });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    phoneFactors = parsed.config;
    database = (await itDatabase())!;
    tls = await ensureTlsMaterial({
      dataDir: dir,
      hostname: 'localhost',
      extraSans: [],
      nowMs: Date.now(),
    });
    nodeA = await startNode('A');
    nodeB = await startNode('B');
    app = await nodeA.store.createApplication({
      name: 'nodes app',
      type: 'auth-api',
      newUserPolicy: 'deny',
      restrictionLevel: 'restrictive',
      rateLimitPerSecond: 0,
      ikey: generateId(random, 'DI'),
      skey: generateSecretKey(random),
    });
    devices = deviceVia(nodeB);
    phone = await userWithPhone('alice');

    // The proxy's side: its result stream to node A, resuming after its last event id.
    streamClient = createAuthApiClient({
      apiHost: API_HOST,
      apiPort: nodeA.port,
      ikey: app.ikey,
      skey: app.skey,
      caPem: tls.caCertPem,
      timeoutMs: 5_000,
      clock: new SystemClock(),
    });
    waiter = new PushWaiter({
      clock: new SystemClock(),
      openStream: (_host, handlers) =>
        streamClient.streamResults!({
          ...handlers,
          onResult: (result, id) => {
            streamed.push({ txid: result.txid, id });
            handlers.onResult(result, id);
          },
        }),
      authStatus: (txid) => streamClient.authStatus(txid),
      onStreamEvent: (_host, what) => streamEvents.push(what),
    });
    waiter.prepare('A');
    await until(() => streamEvents.includes('result stream open'), 'the stream opens');
  }

  after(async () => {
    waiter?.close();
    streamClient?.close();
    devices?.close();
    routing?.close();
    for (const node of [nodeA, nodeB]) if (node) await stopNode(node);
    await database?.drop();
    await carrier?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  void nodeTest('a blocking /auth on A completes when the push is approved through B', async () => {
    const started = Date.now();
    const login = duoVia(nodeA)('POST', '/auth/v2/auth', {
      username: 'alice',
      factor: 'push',
      device: 'auto',
    });
    // B's device long poll is woken by A's push (it waits up to 10 s otherwise).
    const txid = await pendingVia(nodeB);
    await approveVia(nodeB, txid);
    const answer = await login;
    assert.equal(answer.stat, 'OK');
    assert.deepEqual(answer.response, {
      result: 'allow',
      status: 'allow',
      status_msg: 'Success. Logging you in...',
    });
    // Woken by B's signal, not by the push's 60-second expiry nor a long poll's window.
    assert.ok(Date.now() - started < 8_000, `took ${Date.now() - started} ms`);
    // The proxy's stream on A carried it too.
    const wait = await waiter.wait(txid, 'A', 5_000);
    assert.equal(wait.kind, 'result');
  });

  void nodeTest(
    'a blocking /auth on A completes when the nodes lost their listening connections meanwhile',
    async () => {
      const login = duoVia(nodeA)('POST', '/auth/v2/auth', {
        username: 'alice',
        factor: 'push',
        device: 'auto',
      });
      const txid = await pendingVia(nodeB);
      // Every node's LISTEN connection is cut (a database failover, a proxy's idle timeout).
      const cut = await rawQuery(
        `SELECT pg_terminate_backend(pid) AS cut FROM pg_stat_activity
          WHERE application_name = 'airlock signals' AND datname = current_database()`,
      );
      assert.equal(cut.length, 2, 'both nodes listen');
      const begun = Date.now();
      await approveVia(nodeB, txid);
      // A reconnects within a second and looks again at what waits (or hears B's late signal).
      const answer = await login;
      assert.equal((answer.response as { result: string }).result, 'allow');
      assert.ok(Date.now() - begun < 8_000, `took ${Date.now() - begun} ms`);
    },
  );

  void nodeTest(
    "a blocking /auth on A with a phone call completes when the provider's callback reaches B",
    async () => {
      const user = await nodeA.store.createUser({
        id: generateId(random, 'DU'),
        username: 'carol',
      });
      await nodeA.store.createDevice({
        id: generateId(random, 'DP'),
        userId: user.id,
        name: 'mobile',
        platform: 'phone',
        phoneNumber: '+15551230117',
      });
      const begun = Date.now();
      const nextCall = carrier.nextCall();
      const login = duoVia(nodeA)('POST', '/auth/v2/auth', { username: 'carol', factor: 'phone' });
      const call = await nextCall;
      const callback = await carrier.answerCall(call.sid, { digits: '1', caPem: tls.caCertPem });
      assert.equal(callback.status, 200, callback.bodyText);
      assert.ok(callback.url.includes(`:${nodeB.port}/`), `the callback went to ${callback.url}`);
      assert.equal((await login).stat, 'OK');
      assert.equal(((await login).response as { result: string }).result, 'allow');
      assert.ok(Date.now() - begun < 8_000, `took ${Date.now() - begun} ms`);
    },
  );

  void nodeTest(
    'auth_status on A and the proxy waiting on A answer when the push is approved through B',
    async () => {
      const duoA = duoVia(nodeA);
      const started = await duoA('POST', '/auth/v2/auth', {
        username: 'alice',
        factor: 'push',
        device: 'auto',
        async: '1',
      });
      const txid = (started.response as { txid: string }).txid;
      const begun = Date.now();
      const status = duoA('GET', '/auth/v2/auth_status', { txid });
      const proxyWait = waiter.wait(txid, 'A', 10_000);
      await approveVia(nodeB, await pendingVia(nodeB));
      assert.deepEqual((await status).response, {
        result: 'allow',
        status: 'allow',
        status_msg: 'Success. Logging you in...',
        auth_delayed: false,
      });
      const waited = await proxyWait;
      assert.equal(waited.kind, 'result');
      assert.equal(waited.kind === 'result' && waited.result.result, 'allow');
      // Far inside the 20-second long poll: B's answer woke A.
      assert.ok(Date.now() - begun < 8_000, `took ${Date.now() - begun} ms`);
    },
  );

  void nodeTest(
    'the stream resumes after node A restarts: nothing lost, nothing delivered twice',
    async () => {
      const port = nodeA.port;
      await stopNode(nodeA);
      // While A is down: two logins through B, answered through B, one final at once (a deny).
      const duoB = duoVia(nodeB);
      const missed: string[] = [];
      for (let i = 0; i < 2; i++) {
        const started = await duoB('POST', '/auth/v2/auth', {
          username: 'alice',
          factor: 'push',
          device: 'auto',
          async: '1',
        });
        const txid = (started.response as { txid: string }).txid;
        await approveVia(nodeB, await pendingVia(nodeB));
        missed.push(txid);
      }
      const refused = await duoB('POST', '/auth/v2/auth', {
        username: 'nobody',
        factor: 'push',
        device: 'auto',
        async: '1',
      });
      missed.push((refused.response as { txid: string }).txid);
      nodeA = await startNode('A', port);
      // The proxy's stream reconnects to A (after its backoff) and catches up from its last id.
      const results = await Promise.all(missed.map((txid) => waiter.wait(txid, 'A', 15_000)));
      assert.deepEqual(
        results.map((r) => (r.kind === 'result' ? r.result.result : r.kind)),
        ['allow', 'allow', 'deny'],
      );
      // One more after the restart, approved through B, arrives live.
      const duoA = duoVia(nodeA);
      const started = await duoA('POST', '/auth/v2/auth', {
        username: 'alice',
        factor: 'push',
        device: 'auto',
        async: '1',
      });
      const txid = (started.response as { txid: string }).txid;
      const live = waiter.wait(txid, 'A', 10_000);
      await approveVia(nodeB, await pendingVia(nodeB));
      assert.equal((await live).kind, 'result');

      assert.ok(
        streamEvents.some((e) => e.startsWith('result stream ended')),
        'the stream did end with the restart',
      );
      // The waits may also have been answered by auth_status (the proxy polls while its stream is
      // down): the stream itself must still bring every result, once.
      await until(
        () => [...missed, txid].every((t) => streamed.some((x) => x.txid === t)),
        'every result arrived on the stream',
      );
      const txids = streamed.map((x) => x.txid);
      assert.deepEqual([...new Set(txids)], txids, 'no result delivered twice');
      // Event ids come from the database: in order, and the same on every node.
      const ids = streamed.map((s) => s.id!);
      const keys = ids.map((id) => id.split('.').map(Number) as [number, number]);
      for (let i = 1; i < keys.length; i++) {
        const [a, b] = [keys[i - 1]!, keys[i]!];
        assert.ok(a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]), `${ids[i - 1]} before ${ids[i]}`);
      }
      const fromB: string[] = [];
      const bStream = createAuthApiClient({
        apiHost: API_HOST,
        apiPort: nodeB.port,
        ikey: app.ikey,
        skey: app.skey,
        caPem: tls.caCertPem,
        timeoutMs: 5_000,
        clock: new SystemClock(),
      });
      const replay = bStream.streamResults!({
        afterId: ids[0],
        onOpen: () => {},
        onResult: (_r, id) => fromB.push(id!),
        onEnd: () => {},
      });
      try {
        await until(() => fromB.length >= ids.length - 1, 'node B replays the same events');
        assert.deepEqual(fromB, ids.slice(1));
      } finally {
        replay.close();
        bStream.close();
      }
    },
  );

  void nodeTest(
    'the push budget holds across nodes: pushes alternating over A and B spend one budget',
    async () => {
      await userWithPhone('bob');
      const answers: string[] = [];
      for (let i = 0; i <= PUSH_BURST; i++) {
        const r = await duoVia(i % 2 === 0 ? nodeA : nodeB)('POST', '/auth/v2/auth', {
          username: 'bob',
          factor: 'push',
          device: 'auto',
          async: '1',
        });
        assert.equal(r.stat, 'OK');
        const { txid } = r.response as { txid: string };
        // Read from the database: auth_status would long-poll on the pending ones.
        answers.push((await nodeA.store.getAuthTransaction(txid))!.status);
      }
      // Per node it would have been PUSH_BURST on each: 2 × as many pushes.
      assert.deepEqual(answers, [...Array<string>(PUSH_BURST).fill('pushed'), 'deny']);
    },
  );

  void nodeTest(
    'a long open transaction holds results back: the hub backs off its re-query and warns once per hold',
    async () => {
      let queries = 0;
      const store: HubStore = {
        signals: nodeA.store.signals,
        getOobRequest: (txid) => nodeA.store.getOobRequest(txid),
        latestResultEventKey: () => nodeA.store.latestResultEventKey(),
        listResultEvents: (query) => {
          queries += 1;
          return nodeA.store.listResultEvents(query);
        },
      };
      const holds: number[] = [];
      const hub = new OobHub({
        clock: new SystemClock(),
        store,
        onHeld: (heldMs) => holds.push(heldMs),
      });
      await hub.start();
      const delivered: string[] = [];
      const unsubscribe = hub.subscribe(app.id, (r) => delivered.push(r.txid));
      // A transaction with an id, left open (a manual BEGIN in psql): later results wait for it.
      const open = new pg.Client({ connectionString: database.url });
      await open.connect();
      const hold = async (txid: string) => {
        await open.query('BEGIN');
        await open.query('SELECT txid_current()');
        await nodeA.store.appendResultEvent({
          appId: app.id,
          txid,
          result: 'allow',
          status: 'allow',
          statusMsg: 'Success',
          createdAtMs: clock.nowMs(),
        });
        queries = 0;
        await hub.pollResults();
        await new Promise((r) => setTimeout(r, 1_500));
        assert.equal(delivered.length, 0, 'held back while the older transaction is open');
        await open.query('COMMIT');
        await until(() => delivered.includes(txid), `${txid} delivered once the hold ends`, 3_000);
        delivered.length = 0;
      };
      try {
        await hold('HELD-1');
        // Every 15 ms for 1.5 s would be 100 queries.
        assert.ok(queries <= 15, `${queries} queries while held`);
        assert.equal(holds.length, 1, 'one warning for the hold, not one per query');
        assert.ok(holds[0]! >= 1_000, `warned after ${holds[0]} ms`);
        await hold('HELD-2');
        assert.equal(holds.length, 2, 'a new hold warns again');
      } finally {
        unsubscribe();
        hub.stop();
        await open.end();
      }
    },
  );
});

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
