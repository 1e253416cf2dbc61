// Resilient client over fake hosts and a FixedClock: failover order, the /auth rule, breaker gating, probes, monitor, health.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FixedClock } from '../runtime/clock.ts';
import type { AuthApiClient, AuthApiClientOptions } from './auth-api-client.ts';
import type { ApiOutcome } from './auth-api-response.ts';
import {
  createResilientAuthApiClient,
  mayFailOverAuth,
  type ResilienceEvent,
  type ResilientAuthApiClientOptions,
} from './resilient-auth-api-client.ts';

const T0 = 1_700_000_000_000;
type Method = 'ping' | 'check' | 'preauth' | 'auth' | 'authStatus';
type Outcome = ApiOutcome<unknown>;

const ok = (latencyMs = 20): Outcome => ({ kind: 'ok', response: {}, latencyMs });
const down = (
  reason: 'dns' | 'connect' | 'tls' | 'timeout' | 'server-error' | 'malformed' = 'connect',
  phase = reason === 'timeout' ? 'response' : 'connect',
  latencyMs = reason === 'timeout' ? 1_000 : 1,
): Outcome => ({
  kind: 'unreachable',
  reason,
  detail: reason === 'timeout' ? `no complete answer within 1000 ms (${phase})` : `boom (${phase})`,
  latencyMs,
});
const rejected = (): Outcome => ({
  kind: 'rejected',
  httpStatus: 401,
  code: 40103,
  message: 'Invalid signature',
  latencyMs: 5,
});

/** A fake host: answers by `behave`, advances the clock by the outcome's latency, logs calls. */
class FakeHost {
  readonly calls: Method[] = [];
  behave: (method: Method) => Outcome;

  constructor(behave: (method: Method) => Outcome) {
    this.behave = behave;
  }

  client(clock: FixedClock): AuthApiClient {
    const answer = (method: Method) => {
      this.calls.push(method);
      const outcome = this.behave(method);
      clock.advance(outcome.latencyMs);
      return Promise.resolve(outcome as never);
    };
    return {
      ping: () => answer('ping'),
      check: () => answer('check'),
      preauth: () => answer('preauth'),
      auth: () => answer('auth'),
      authStatus: () => answer('authStatus'),
      close: () => undefined,
    };
  }
}

function setup(
  hosts: FakeHost[],
  o: Partial<ResilientAuthApiClientOptions> = {},
): {
  api: ReturnType<typeof createResilientAuthApiClient>;
  clock: FixedClock;
  events: ResilienceEvent[];
} {
  const clock = new FixedClock(T0);
  const events: ResilienceEvent[] = [];
  const byPort = new Map(hosts.map((h, i) => [1000 + i, h]));
  const api = createResilientAuthApiClient({
    hosts: hosts.map((_, i) => ({ apiHost: 'api.example.org', apiPort: 1000 + i })),
    ikey: 'DIXXXXXXXXXXXXXXXXXX',
    skey: 's'.repeat(40),
    timeoutMs: 1_000,
    clock,
    breaker: { failureThreshold: 2, openMs: 10_000, minSamples: 3, degradedLatencyMs: 500 },
    onEvent: (e) => events.push(e),
    createClient: (options: AuthApiClientOptions) => {
      const host = byPort.get(options.apiPort ?? 443);
      assert.ok(host);
      return host.client(clock);
    },
    ...o,
  });
  return { api, clock, events };
}

const PREAUTH = { username: 'alice' } as const;
const PASSCODE = { username: 'alice', factor: 'passcode', passcode: '123456' } as const;
const PUSH = { username: 'alice', factor: 'push' } as const;

describe('resilient client: failover', () => {
  it('uses the first host while it answers', async () => {
    const [a, b] = [new FakeHost(() => ok()), new FakeHost(() => ok())];
    const { api } = setup([a, b]);
    const out = await api.preauth(PREAUTH);
    assert.equal(out.kind, 'ok');
    assert.equal(out.host, 'api.example.org:1000');
    assert.deepEqual(b.calls, []);
  });

  for (const reason of ['dns', 'connect', 'tls', 'timeout', 'server-error', 'malformed'] as const) {
    it(`fails preauth over to the next host after ${reason}`, async () => {
      const [a, b] = [new FakeHost(() => down(reason)), new FakeHost(() => ok())];
      const { api } = setup([a, b]);
      const out = await api.preauth(PREAUTH);
      assert.equal(out.kind, 'ok');
      assert.equal(out.host, 'api.example.org:1001');
      assert.equal(out.latencyMs, a.calls.length * down(reason).latencyMs + 20);
    });
  }

  for (const outcome of [
    rejected(),
    { kind: 'invalid', httpStatus: 404, detail: 'x', latencyMs: 3 },
  ]) {
    it(`does not fail over after a ${outcome.kind} answer (the host is up)`, async () => {
      const [a, b] = [new FakeHost(() => outcome as Outcome), new FakeHost(() => ok())];
      const { api } = setup([a, b]);
      const out = await api.preauth(PREAUTH);
      assert.equal(out.kind, outcome.kind);
      assert.deepEqual(b.calls, []);
    });
  }

  it('returns the last unreachable outcome when every host fails', async () => {
    const [a, b] = [new FakeHost(() => down('connect')), new FakeHost(() => down('timeout'))];
    const { api } = setup([a, b]);
    const out = await api.preauth(PREAUTH);
    assert.ok(out.kind === 'unreachable');
    assert.equal(out.reason, 'timeout');
    assert.equal(out.host, 'api.example.org:1001');
    assert.equal(out.breakerOpen, undefined);
  });
});

describe('resilient client: /auth fails over only when nothing was sent', () => {
  const CASES: Array<[string, Outcome, boolean]> = [
    ['DNS failure', down('dns', 'dns'), true],
    ['connection refused', down('connect', 'connect'), true],
    ['TLS handshake failure', down('tls', 'tls'), true],
    ['connection lost while waiting for the answer', down('connect', 'response'), false],
    ['connection lost in the body', down('connect', 'body'), false],
    ['timeout', down('timeout', 'response'), false],
    ['timeout while connecting', down('timeout', 'connect'), false],
    ['HTTP 5xx', down('server-error', 'response'), false],
    ['malformed 200', down('malformed', 'response'), false],
  ];
  for (const [name, outcome, failsOver] of CASES) {
    it(`${failsOver ? 'fails over' : 'does not fail over'} after ${name}`, async () => {
      assert.ok(outcome.kind === 'unreachable');
      assert.equal(mayFailOverAuth(outcome), failsOver);
      const [a, b] = [new FakeHost(() => outcome), new FakeHost(() => ok())];
      const { api } = setup([a, b]);
      const out = await api.auth(PASSCODE);
      assert.equal(out.kind, failsOver ? 'ok' : 'unreachable');
      assert.deepEqual(b.calls, failsOver ? ['auth'] : []);
    });
  }

  it('skips a host whose breaker is open (nothing is sent there)', async () => {
    const a = new FakeHost(() => down('connect'));
    const b = new FakeHost(() => ok());
    const { api } = setup([a, b]);
    await api.preauth(PREAUTH);
    await api.preauth(PREAUTH);
    a.calls.length = 0;
    a.behave = () => down('timeout');
    const out = await api.auth(PUSH);
    assert.equal(out.kind, 'ok');
    assert.deepEqual(a.calls, []);
  });
});

describe('resilient client: the breaker', () => {
  it('opens after failureThreshold failures and then sends nothing to that host', async () => {
    const a = new FakeHost(() => down('connect'));
    const b = new FakeHost(() => ok());
    const { api, events } = setup([a, b]);
    for (let i = 0; i < 5; i++) assert.equal((await api.preauth(PREAUTH)).kind, 'ok');
    assert.deepEqual(a.calls, ['preauth', 'preauth']);
    assert.deepEqual(
      events.filter((e) => e.type === 'breaker').map((e) => [e.host, e.from, e.to]),
      [['api.example.org:1000', 'closed', 'open']],
    );
    assert.deepEqual(
      events.filter((e) => e.type === 'health').map((e) => [e.host, e.from, e.to, e.reason]),
      [
        [
          'api.example.org:1000',
          'reachable',
          'unreachable',
          'circuit open: 2 consecutive failures (last: connect)',
        ],
      ],
    );
  });

  it('answers at once, with breakerOpen, when every breaker is open', async () => {
    const a = new FakeHost(() => down('timeout'));
    const { api, clock } = setup([a]);
    await api.preauth(PREAUTH);
    await api.preauth(PREAUTH);
    const before = clock.nowMs();
    const out = await api.preauth(PREAUTH);
    assert.ok(out.kind === 'unreachable');
    assert.equal(out.breakerOpen, true);
    assert.equal(out.reason, 'connect');
    assert.equal(out.latencyMs, 0);
    assert.equal(out.host, undefined);
    assert.match(out.detail, /^circuit open since \d{4}-\d\d-\d\dT.*api\.example\.org:1000/);
    assert.match(out.detail, /nothing sent; next probe at /);
    assert.equal(clock.nowMs(), before);
    assert.equal(a.calls.length, 2);
  });

  it('does not count a push nobody approved in time against the host', async () => {
    const a = new FakeHost(() => down('timeout'));
    const { api } = setup([a]);
    for (let i = 0; i < 5; i++) await api.auth(PUSH);
    assert.equal(api.health()[0]?.breaker, 'closed');
    assert.equal(a.calls.length, 5);
  });

  it('counts a passcode /auth timeout against the host', async () => {
    const a = new FakeHost(() => down('timeout'));
    const { api } = setup([a]);
    await api.auth(PASSCODE);
    await api.auth(PASSCODE);
    assert.equal(api.health()[0]?.breaker, 'open');
  });

  it('counts a refused connection during a push against the host', async () => {
    const a = new FakeHost(() => down('connect'));
    const { api } = setup([a]);
    await api.auth(PUSH);
    await api.auth(PUSH);
    assert.equal(api.health()[0]?.breaker, 'open');
  });

  it('never opens on rejected answers', async () => {
    const a = new FakeHost(() => rejected());
    const { api } = setup([a]);
    for (let i = 0; i < 10; i++) await api.preauth(PREAUTH);
    assert.equal(api.health()[0]?.breaker, 'closed');
  });

  it('without a monitor, the first call after openMs probes with ping then check, then proceeds', async () => {
    const a = new FakeHost(() => down('connect'));
    const { api, clock, events } = setup([a]);
    await api.preauth(PREAUTH);
    await api.preauth(PREAUTH);
    a.behave = () => ok();
    clock.advance(9_000);
    assert.equal((await api.preauth(PREAUTH)).breakerOpen, true);
    clock.advance(1_000);
    a.calls.length = 0;
    const out = await api.preauth(PREAUTH);
    assert.equal(out.kind, 'ok');
    assert.deepEqual(a.calls, ['ping', 'check', 'preauth']);
    assert.deepEqual(
      events.filter((e) => e.type === 'breaker').map((e) => `${e.from}→${e.to}`),
      ['closed→open', 'open→half-open', 'half-open→closed'],
    );
  });

  it('a failed probe re-opens for twice as long and stops at ping', async () => {
    const a = new FakeHost(() => down('connect'));
    const { api, clock } = setup([a]);
    await api.preauth(PREAUTH);
    await api.preauth(PREAUTH);
    clock.advance(10_000);
    a.calls.length = 0;
    const out = await api.preauth(PREAUTH);
    assert.equal(out.breakerOpen, true);
    assert.deepEqual(a.calls, ['ping']);
    assert.equal(api.health()[0]?.breakerRetryAtMs, clock.nowMs() + 20_000);
  });

  it('a probe whose check fails counts as failed', async () => {
    const a = new FakeHost(() => down('connect'));
    const { api, clock } = setup([a]);
    await api.preauth(PREAUTH);
    await api.preauth(PREAUTH);
    clock.advance(10_000);
    a.behave = (m) => (m === 'check' ? down('server-error', 'response', 5) : ok());
    a.calls.length = 0;
    assert.equal((await api.preauth(PREAUTH)).breakerOpen, true);
    assert.deepEqual(a.calls, ['ping', 'check']);
    assert.equal(api.health()[0]?.breaker, 'open');
  });

  it('a probe with rejected credentials closes the breaker (the host is up)', async () => {
    const a = new FakeHost(() => down('connect'));
    const { api, clock } = setup([a]);
    await api.preauth(PREAUTH);
    await api.preauth(PREAUTH);
    clock.advance(10_000);
    a.behave = (m) => (m === 'ping' ? ok() : rejected());
    const out = await api.preauth(PREAUTH);
    assert.equal(out.kind, 'rejected');
    const [health] = api.health();
    assert.equal(health?.breaker, 'closed');
    assert.equal(health?.status, 'degraded');
    assert.equal(health?.reason, 'check rejected: 40103');
  });

  it('while the monitor runs, no login waits for a probe: the monitor probes', async () => {
    const a = new FakeHost(() => down('connect'));
    const b = new FakeHost(() => ok());
    const { api, clock } = setup([a, b]);
    await api.preauth(PREAUTH);
    await api.preauth(PREAUTH);
    api.startMonitor(3_600_000);
    try {
      await api.runHealthCheckOnce();
      clock.advance(10_000);
      a.behave = () => ok();
      a.calls.length = 0;
      assert.equal((await api.preauth(PREAUTH)).host, 'api.example.org:1001');
      assert.deepEqual(a.calls, []);
      await api.runHealthCheckOnce();
      assert.deepEqual(a.calls, ['ping', 'check']);
      assert.equal((await api.preauth(PREAUTH)).host, 'api.example.org:1000');
    } finally {
      api.stopMonitor();
    }
  });
});

describe('resilient client: slow hosts (degraded, not unreachable)', () => {
  it('moves a host open for latency to the end of the order', async () => {
    const a = new FakeHost(() => ok(800));
    const b = new FakeHost(() => ok(20));
    const { api } = setup([a, b]);
    for (let i = 0; i < 3; i++) await api.preauth(PREAUTH);
    const [ha] = api.health();
    assert.equal(ha?.breaker, 'open');
    assert.equal(ha?.status, 'degraded');
    const out = await api.preauth(PREAUTH);
    assert.equal(out.host, 'api.example.org:1001');
    assert.equal(a.calls.length, 3);
  });

  it('still asks a slow host when it is the only one left: failmode is not invoked for slowness', async () => {
    const a = new FakeHost(() => ok(800));
    const { api } = setup([a]);
    for (let i = 0; i < 3; i++) await api.preauth(PREAUTH);
    const out = await api.preauth(PREAUTH);
    assert.equal(out.kind, 'ok');
    assert.equal(out.breakerOpen, undefined);
    assert.equal(api.health()[0]?.status, 'degraded');
    assert.match(api.health()[0]?.reason ?? '', /p95 800 ms > 500 ms/);
  });

  it('a slow host that then fails becomes unreachable and is skipped', async () => {
    const a = new FakeHost(() => ok(800));
    const { api } = setup([a]);
    for (let i = 0; i < 3; i++) await api.preauth(PREAUTH);
    a.behave = () => down('timeout');
    await api.preauth(PREAUTH);
    await api.preauth(PREAUTH);
    assert.equal(api.health()[0]?.status, 'unreachable');
    assert.equal((await api.preauth(PREAUTH)).breakerOpen, true);
  });

  it('does not count push time as latency', async () => {
    const a = new FakeHost(() => ok(30_000));
    const { api } = setup([a]);
    for (let i = 0; i < 5; i++) await api.auth(PUSH);
    assert.equal(api.health()[0]?.breaker, 'closed');
    assert.equal(api.health()[0]?.status, 'reachable');
  });
});

describe('resilient client: the monitor round', () => {
  it('pings then checks each closed host, and skips check when ping fails', async () => {
    const a = new FakeHost(() => ok());
    const b = new FakeHost(() => down('connect'));
    const { api } = setup([a, b]);
    const health = await api.runHealthCheckOnce();
    assert.deepEqual(a.calls, ['ping', 'check']);
    assert.deepEqual(b.calls, ['ping']);
    assert.deepEqual(
      health.map((h) => [h.host, h.status, h.reason]),
      [
        ['api.example.org:1000', 'reachable', 'p95 20 ms; error rate 0%'],
        ['api.example.org:1001', 'unreachable', 'ping failed: connect'],
      ],
    );
  });

  it('leaves an open host alone until its probe is due', async () => {
    const a = new FakeHost(() => down('connect'));
    const { api, clock } = setup([a]);
    await api.runHealthCheckOnce();
    await api.runHealthCheckOnce();
    assert.equal(api.health()[0]?.breaker, 'open');
    a.calls.length = 0;
    await api.runHealthCheckOnce();
    clock.advance(9_999);
    await api.runHealthCheckOnce();
    assert.deepEqual(a.calls, []);
    clock.advance(1);
    a.behave = () => ok();
    await api.runHealthCheckOnce();
    assert.deepEqual(a.calls, ['ping', 'check']);
    assert.equal(api.health()[0]?.status, 'reachable');
  });

  it('emits a health event for every change of status, both ways', async () => {
    const a = new FakeHost(() => down('connect'));
    const { api, clock, events } = setup([a]);
    await api.runHealthCheckOnce();
    a.behave = () => ok();
    for (let i = 0; i < 3; i++) {
      clock.advance(1);
      await api.runHealthCheckOnce();
    }
    // 1 failure in 3, 5 and 7 observations: 33 %, 20 %, 14 % (the threshold is "over 20 %").
    assert.deepEqual(
      events.filter((e) => e.type === 'health').map((e) => `${e.from}→${e.to}: ${e.reason}`),
      [
        'reachable→unreachable: ping failed: connect',
        'unreachable→degraded: error rate 33% > 20%',
        'degraded→reachable: p95 20 ms; error rate 20%',
      ],
    );
  });

  it('a monitor started with 0 is off', () => {
    const a = new FakeHost(() => ok());
    const { api } = setup([a]);
    api.startMonitor(0);
    assert.deepEqual(a.calls, []);
    api.close();
  });
});

describe('resilient client: breaker disabled (Duo’s behaviour)', () => {
  it('tries every host on every call and pays every deadline', async () => {
    const a = new FakeHost(() => down('timeout'));
    const b = new FakeHost(() => down('timeout'));
    const { api, events } = setup([a, b], { breakerEnabled: false });
    for (let i = 0; i < 5; i++) {
      const out = await api.preauth(PREAUTH);
      assert.equal(out.latencyMs, 2_000);
      assert.equal(out.breakerOpen, undefined);
    }
    assert.equal(a.calls.length, 5);
    assert.equal(b.calls.length, 5);
    assert.equal(api.health()[0]?.breaker, 'disabled');
    assert.equal(api.health()[0]?.status, 'unreachable');
    assert.deepEqual(
      events.map((e) => e.type),
      ['health', 'health'],
    );
  });
});

describe('resilient client: options', () => {
  it('refuses no hosts and a host listed twice', () => {
    assert.throws(() => setup([]), /at least one API host/);
    const clock = new FixedClock(T0);
    assert.throws(
      () =>
        createResilientAuthApiClient({
          hosts: [{ apiHost: 'a.example.org' }, { apiHost: 'a.example.org', apiPort: 443 }],
          ikey: 'DIXXXXXXXXXXXXXXXXXX',
          skey: 's'.repeat(40),
          timeoutMs: 1_000,
          clock,
          createClient: () => new FakeHost(() => ok()).client(clock),
        }),
      /a\.example\.org:443 is listed twice/,
    );
  });

  it('ignores a listener that throws', async () => {
    const a = new FakeHost(() => down('connect'));
    const { api } = setup([a], {
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    await api.preauth(PREAUTH);
    assert.equal((await api.preauth(PREAUTH)).kind, 'unreachable');
    assert.equal(api.health()[0]?.breaker, 'open');
  });
});
