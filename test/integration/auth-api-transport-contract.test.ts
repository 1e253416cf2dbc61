// The Auth API transport contract: the same calls over HTTPS and over the in-process transport
// (the co-located fast path, docs/architecture.md) give the same outcomes — decisions, errors,
// failmode classification — and the same audit records, against one real service.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createAuthApiClient,
  type ApiOutcome,
  type AuthApiClient,
  type StreamedResult,
} from '../../src/client/auth-api-client.ts';
import { createInProcessAuthApiClient } from '../../src/client/in-process-auth-api-client.ts';
import type { Application, AuditEvent } from '../../src/core/model.ts';
import { PushWaiter } from '../../src/proxy/push-waiter.ts';
import { API_HOST, startService, totpAt, type Harness } from './service-harness.ts';

/** Short enough to keep the suite quick, long enough for a loaded CI machine to answer. */
const TIMEOUT_MS = 2000;

let h: Harness;
const clients: AuthApiClient[] = [];

before(async () => {
  h = await startService();
});
after(async () => {
  for (const client of clients) client.close();
  await h?.close();
});

interface Transport {
  name: 'https' | 'in-process';
  client(app: Pick<Application, 'ikey' | 'skey'>, timeoutMs?: number): AuthApiClient;
}

const TRANSPORTS: Transport[] = [
  {
    name: 'https',
    client: (app, timeoutMs = TIMEOUT_MS) =>
      track(
        createAuthApiClient({
          apiHost: API_HOST,
          apiPort: h.port,
          ikey: app.ikey,
          skey: app.skey,
          caPem: h.caPem,
          timeoutMs,
          clock: h.clock,
          preauthAuth: true,
        }),
      ),
  },
  {
    name: 'in-process',
    client: (app, timeoutMs = TIMEOUT_MS) =>
      track(
        createInProcessAuthApiClient({
          api: h.service.localAuthApi,
          apiHost: API_HOST,
          apiPort: h.port,
          ikey: app.ikey,
          skey: app.skey,
          timeoutMs,
          clock: h.clock,
        }),
      ),
  },
];

function track(client: AuthApiClient): AuthApiClient {
  clients.push(client);
  return client;
}

const FAKE_APP = { ikey: 'DIXXXXXXXXXXXXXXXXXX', skey: 's'.repeat(40) };

/** An outcome without what legitimately differs per transport: latency and the detail text. */
function comparable(outcome: ApiOutcome<unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = { ...outcome };
  delete kept.latencyMs;
  if (outcome.kind === 'unreachable' || outcome.kind === 'invalid') delete kept.detail;
  return kept;
}

/** The application's audit events, in order, with what differs per run taken out. */
async function auditOf(app: Application, prefix: string): Promise<Record<string, unknown>[]> {
  const events: AuditEvent[] = await h.store.listAudit({ limit: 1000 });
  return events
    .filter((e) => e.appId === app.id)
    .sort((a, b) => a.id - b.id)
    .map((e) => ({
      action: e.action,
      result: e.result,
      username: e.username?.replace(prefix, '<user>') ?? null,
      ip: e.ip,
      detail: normalizeDetail(e.detail, prefix),
    }));
}

function normalizeDetail(detail: Record<string, unknown>, prefix: string) {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(detail)) {
    if (key === 'credentialId' || key === 'lockedUntilMs') out[key] = typeof value;
    else out[key] = typeof value === 'string' ? value.replace(prefix, '<user>') : value;
  }
  return out;
}

/** Per transport: the outcome of each named call, and the application's audit afterwards. */
const seen = new Map<string, Map<string, Record<string, unknown>>>();
const audits = new Map<string, Record<string, unknown>[]>();

for (const transport of TRANSPORTS) {
  describe(`Auth API transport contract: ${transport.name}`, () => {
    const p = `${transport.name}-`;
    const record = (name: string, outcome: ApiOutcome<unknown>) => {
      const map = seen.get(transport.name) ?? new Map<string, Record<string, unknown>>();
      map.set(name, comparable(outcome));
      seen.set(transport.name, map);
    };
    let app: Application;
    let client: AuthApiClient;

    before(async () => {
      app = await h.createApp({ newUserPolicy: 'enroll' });
      client = transport.client(app);
    });

    it('answers ping and check; refuses an unknown ikey (40102) and a wrong skey (40103)', async () => {
      const ping = await client.ping();
      assert.equal(ping.kind, 'ok');
      const check = await client.check();
      assert.deepEqual(comparable(check), {
        kind: 'ok',
        response: { time: Math.floor(h.clock.nowMs() / 1000) },
      });
      const unknown = await transport.client(FAKE_APP).check();
      assert.deepEqual(comparable(unknown), {
        kind: 'rejected',
        httpStatus: 401,
        code: 40102,
        message: 'Invalid integration key in request credentials',
      });
      const wrong = await transport.client({ ikey: app.ikey, skey: 'x'.repeat(40) }).preauth({
        username: `${p}anyone`,
      });
      assert.equal(wrong.kind, 'rejected');
      assert.equal(wrong.kind === 'rejected' && wrong.code, 40103);
      record('unknown ikey', unknown);
      record('wrong skey', wrong);
    });

    it('decides preauth as the table says: auth, enroll, allow (bypass), deny (disabled)', async () => {
      await h.createUser(`${p}alice`, { totp: true });
      await h.createUser(`${p}bypass`, { status: 'bypass' });
      await h.createUser(`${p}disabled`, { status: 'disabled', totp: true });
      const rows = [
        [`${p}alice`, 'auth'],
        [`${p}nobody`, 'enroll'],
        [`${p}bypass`, 'allow'],
        [`${p}disabled`, 'deny'],
      ] as const;
      for (const [username, result] of rows) {
        const outcome = await client.preauth({ username, ipaddr: '192.0.2.7' });
        assert.equal(outcome.kind, 'ok', username);
        assert.equal(outcome.kind === 'ok' && outcome.response.result, result, username);
        record(`preauth ${result}`, outcome);
      }
    });

    it('checks passcodes: a right one allows, a wrong one denies, a reused one denies', async () => {
      const user = await h.createUser(`${p}bob`, { totp: true });
      const code = totpAt(user.totp!, h.clock);
      const base = { username: `${p}bob`, factor: 'passcode', ipaddr: '192.0.2.7' } as const;
      const good = await client.auth({ ...base, passcode: code });
      assert.deepEqual(comparable(good), {
        kind: 'ok',
        response: { result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' },
      });
      const reused = await client.auth({ ...base, passcode: code });
      const wrong = await client.auth({ ...base, passcode: '000000' });
      for (const o of [reused, wrong]) {
        assert.equal(o.kind === 'ok' && o.response.result, 'deny');
      }
      record('passcode allow', good);
      record('passcode reused', reused);
      record('passcode wrong', wrong);
    });

    it('refuses a push without a capable device (40002, detail) and a missing passcode (40001)', async () => {
      await h.createUser(`${p}dave`, { totp: true });
      const push = await client.auth({ username: `${p}dave`, factor: 'push' });
      assert.equal(push.kind, 'rejected');
      assert.equal(push.kind === 'rejected' && push.detail, 'no capable device');
      const missing = await client.auth({ username: `${p}dave`, factor: 'passcode', passcode: '' });
      assert.equal(missing.kind === 'rejected' && missing.code, 40001);
      record('push no device', push);
      record('passcode missing', missing);
    });

    it('runs async=1: the txid, then auth_status and the result stream give the result', async () => {
      const user = await h.createUser(`${p}carol`, { totp: true });
      const results: StreamedResult[] = [];
      let opened!: () => void;
      const open = new Promise<void>((resolve) => (opened = resolve));
      let got!: () => void;
      const delivered = new Promise<void>((resolve) => (got = resolve));
      const stream = client.streamResults!({
        onOpen: () => opened(),
        onResult: (result) => {
          results.push(result);
          got();
        },
        onEnd: (reason) => assert.fail(`stream ended: ${reason}`),
      });
      try {
        await open;
        const started = await client.auth({
          username: `${p}carol`,
          factor: 'passcode',
          passcode: totpAt(user.totp!, h.clock),
          async: true,
        });
        assert.equal(started.kind, 'ok');
        const txid = started.kind === 'ok' ? started.response.txid : '';
        const status = await client.authStatus(txid);
        assert.deepEqual(comparable(status), {
          kind: 'ok',
          response: {
            result: 'allow',
            status: 'allow',
            status_msg: 'Success. Logging you in...',
            auth_delayed: false,
          },
        });
        await delivered;
        assert.deepEqual(results, [
          { txid, result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' },
        ]);
        record('auth_status', status);
      } finally {
        stream.close();
      }
    });

    it('answers preauth_auth as preauth then /auth would: each preauth result, and the passcode', async () => {
      const user = await h.createUser(`${p}erin`, { totp: true });
      await h.createUser(`${p}erin-off`, { status: 'disabled', totp: true });
      const one = client.preauthAuth!.bind(client);
      const rows = [
        [`${p}erin`, totpAt(user.totp!, h.clock), 'auth', 'allow'],
        [`${p}erin`, '000000', 'auth', 'deny'],
        [`${p}erin-off`, '000000', 'deny', undefined],
        [`${p}nobody2`, '000000', 'enroll', undefined],
      ] as const;
      for (const [username, passcode, pre, auth] of rows) {
        const outcome = await one({ username, passcode, ipaddr: '192.0.2.7' });
        assert.equal(outcome.kind, 'ok', username);
        if (outcome.kind !== 'ok') continue;
        assert.equal(outcome.response.preauth.result, pre, username);
        assert.equal(outcome.response.auth?.result, auth, username);
        record(`preauth_auth ${pre} ${auth ?? ''}`, outcome);
      }
    });

    it('writes for preauth_auth the audit records preauth then /auth write', async () => {
      const kinds = ['right', 'wrong', 'disabled', 'unknown'] as const;
      const codes = new Map<string, string>();
      for (const way of ['two', 'one'] as const) {
        for (const kind of kinds) {
          const username = `${p}${way}-${kind}`;
          let code = '000000';
          if (kind !== 'unknown') {
            const user = await h.createUser(username, {
              totp: true,
              ...(kind === 'disabled' ? { status: 'disabled' as const } : {}),
            });
            if (kind === 'right') code = totpAt(user.totp!, h.clock);
          }
          codes.set(username, code);
          const base = { username, ipaddr: '192.0.2.8' };
          if (way === 'one') {
            assert.equal((await client.preauthAuth!({ ...base, passcode: code })).kind, 'ok');
            continue;
          }
          const pre = await client.preauth(base);
          if (pre.kind === 'ok' && pre.response.result === 'auth') {
            await client.auth({ ...base, factor: 'passcode', passcode: code });
          }
        }
      }
      const events = await h.store.listAudit({ limit: 1000 });
      const of = (way: string) =>
        events
          .filter((e) => e.appId === app.id && (e.username ?? '').startsWith(`${p}${way}-`))
          .sort((a, b) => a.id - b.id)
          .map((e) => ({
            action: e.action,
            result: e.result,
            ip: e.ip,
            username: e.username?.replace(`${p}${way}-`, ''),
            detail: normalizeDetail(e.detail, `${p}${way}-`),
          }));
      const two = of('two');
      assert.deepEqual(
        two.map((e) => `${e.username} ${e.action} ${e.result}`),
        [
          'right auth.passcode allow',
          'wrong auth.passcode deny',
          'disabled auth.preauth deny',
          'unknown auth.preauth enroll',
        ],
      );
      assert.deepEqual(of('one'), two);
    });

    it('refuses past the rate limit with 42901 and Retry-After', async () => {
      const limitedApp = await h.createApp({ rateLimitPerSecond: 1 });
      const limited = transport.client(limitedApp);
      // The clock is fixed, so the bucket (burst 2) never refills during this test.
      const outcomes = [await limited.check(), await limited.check(), await limited.check()];
      assert.deepEqual(
        outcomes.map((o) => o.kind),
        ['ok', 'ok', 'rejected'],
      );
      const last = outcomes[2]!;
      assert.equal(last.kind === 'rejected' && last.httpStatus, 429);
      assert.ok(last.kind === 'rejected' && (last.retryAfterSeconds ?? 0) >= 1);
      record('rate limited', last);
    });

    it('classifies a service failure as server-error (HTTP 500) and a slow service as timeout', async () => {
      const store = h.store;
      const original = store.loadAuthSubject.bind(store);
      try {
        store.loadAuthSubject = () => Promise.reject(new Error('database went away'));
        const failed = await client.preauth({ username: `${p}alice` });
        assert.deepEqual(comparable(failed), {
          kind: 'unreachable',
          reason: 'server-error',
          httpStatus: 500,
        });
        record('server error', failed);

        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        store.loadAuthSubject = async (ref) => {
          await held;
          return original(ref);
        };
        const slow = await transport.client(app, 300).preauth({ username: `${p}alice` });
        release();
        assert.deepEqual(comparable(slow), { kind: 'unreachable', reason: 'timeout' });
        record('timeout', slow);
      } finally {
        store.loadAuthSubject = original;
      }
    });

    after(async () => {
      audits.set(transport.name, await auditOf(app, p));
    });
  });
}

describe('Auth API transport contract: both transports', () => {
  it('gave the same outcome for every call, and the same audit records', () => {
    const https = seen.get('https');
    const inProcess = seen.get('in-process');
    assert.ok(https && inProcess, 'both transports ran');
    assert.deepEqual([...inProcess.keys()], [...https.keys()]);
    for (const [name, outcome] of https) assert.deepEqual(inProcess.get(name), outcome, name);
    const httpsAudit = audits.get('https') ?? [];
    assert.ok(httpsAudit.length >= 8, `audit records written: ${httpsAudit.length}`);
    assert.deepEqual(audits.get('in-process'), httpsAudit);
  });

  it('classifies a stopped service as connect on both; their result streams end and the waiter reconnects', async () => {
    const app = await h.createApp();
    const [https, inProcess] = TRANSPORTS.map((t) => t.client(app));
    // The proxy's waiter on each transport: its stream must end when the service stops, so that
    // it reconnects (and meanwhile asks auth_status) instead of waiting on a dead stream.
    const events = new Map<string, string[]>();
    const waiters = TRANSPORTS.map((t, i) => {
      const client = [https, inProcess][i]!;
      const seen: string[] = [];
      events.set(t.name, seen);
      return new PushWaiter({
        clock: h.clock,
        openStream: (_host, handlers) => client.streamResults!(handlers),
        authStatus: (txid) => client.authStatus(txid),
        onStreamEvent: (_host, what) => seen.push(what),
      });
    });
    const shapes = () =>
      [...events.values()].map((seen) => seen.map((e) => e.replace(/\(.*\)/, '(…)')).slice(0, 3));
    try {
      for (const waiter of waiters) waiter.prepare(API_HOST);
      await waitFor(
        () => shapes().every((s) => s.length === 1),
        () => 'both streams open',
      );
      // A subscription still being authenticated when the in-process API closes is refused, not
      // registered after close (where no end would ever reach it).
      const api = h.service.localAuthApi;
      const late = api.subscribe(
        { ikey: app.ikey, skey: app.skey, host: `${API_HOST}:${h.port}` },
        () => undefined,
        () => undefined,
      );
      api.close();
      assert.equal(
        await late.then(
          () => 'subscribed',
          () => 'refused',
        ),
        'refused',
      );
      await h.service.server.close();
      await waitFor(
        () => shapes().every((s) => s.length === 3),
        () => `both streams ended twice: ${JSON.stringify([...events])}`,
        8_000,
      );
      const ended = 'result stream ended (…); reconnecting';
      for (const shape of shapes()) assert.deepEqual(shape, ['result stream open', ended, ended]);
    } finally {
      for (const waiter of waiters) waiter.close();
    }
    const outcomes = [
      await https!.preauth({ username: 'x' }),
      await inProcess!.preauth({ username: 'x' }),
    ];
    for (const o of outcomes) {
      assert.deepEqual(comparable(o), { kind: 'unreachable', reason: 'connect' });
    }
  });
});

async function waitFor(done: () => boolean, what: () => string, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) assert.fail(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
