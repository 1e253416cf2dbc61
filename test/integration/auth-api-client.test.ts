// The Auth API client against the real service (in-process, HTTPS) and against fault servers,
// then through the failmode decision: docs/design/auth-api.md §3.9 end to end.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createAuthApiClient,
  summarizeOutcome,
  type ApiOutcome,
  type AuthApiClient,
  type AuthApiClientOptions,
} from '../../src/client/auth-api-client.ts';
import {
  decideSecondFactor,
  FAILMODES,
  SECOND_FACTOR_STAGES,
  type SecondFactorAction,
  type SecondFactorStage,
} from '../../src/core/failmode-decision.ts';
import type { Application } from '../../src/core/model.ts';
import {
  closedPort,
  startFaultServer,
  testTlsMaterial,
  type FaultMode,
  type TestTlsMaterial,
} from './fault-servers.ts';
import { API_HOST, startService, totpAt, type Harness } from './service-harness.ts';

/** Short enough to keep the suite quick, long enough for a loaded CI machine to answer. */
const TIMEOUT_MS = 1500;

let h: Harness;
let tls: TestTlsMaterial;
const clients: AuthApiClient[] = [];

before(async () => {
  [h, tls] = await Promise.all([startService(), testTlsMaterial()]);
});
after(async () => {
  for (const client of clients) client.close();
  await h?.close();
});

function clientFor(app: Pick<Application, 'ikey' | 'skey'>, o: Partial<AuthApiClientOptions> = {}) {
  const client = createAuthApiClient({
    apiHost: API_HOST,
    apiPort: h.port,
    ikey: app.ikey,
    skey: app.skey,
    caPem: h.caPem,
    timeoutMs: TIMEOUT_MS,
    clock: h.clock,
    ...o,
  });
  clients.push(client);
  return client;
}

const FAKE_APP = { ikey: 'DIXXXXXXXXXXXXXXXXXX', skey: 's'.repeat(40) };

/** A client of a fault server (its own CA, trusted). */
function faultClient(port: number, o: Partial<AuthApiClientOptions> = {}) {
  return clientFor(FAKE_APP, { apiPort: port, caPem: tls.caPem, ...o });
}

function assertKind<T, K extends ApiOutcome<T>['kind']>(
  outcome: ApiOutcome<T>,
  kind: K,
): asserts outcome is Extract<ApiOutcome<T>, { kind: K }> {
  assert.equal(outcome.kind, kind, `expected ${kind}, got ${JSON.stringify(outcome)}`);
}

describe('Auth API client against the real service', () => {
  it('pings without credentials and gets the server time', async () => {
    const outcome = await clientFor(FAKE_APP).ping();
    assertKind(outcome, 'ok');
    assert.deepEqual(outcome.response, { time: Math.floor(h.clock.nowMs() / 1000) });
    assert.ok(outcome.latencyMs >= 0);
  });

  it('passes check with the right ikey and skey', async () => {
    const outcome = await clientFor(await h.createApp()).check();
    assertKind(outcome, 'ok');
    assert.equal(outcome.response.time, Math.floor(h.clock.nowMs() / 1000));
  });

  it('gets preauth auth for an enrolled user, enroll for an unknown one, allow in bypass', async () => {
    const app = await h.createApp();
    await h.createUser('cl-alice', { totp: true });
    await h.createUser('cl-bypass', { status: 'bypass' });
    const client = clientFor(app);

    const enrolled = await client.preauth({ username: 'cl-alice', ipaddr: '192.0.2.1' });
    assertKind(enrolled, 'ok');
    assert.equal(enrolled.response.result, 'auth');
    assert.equal(enrolled.response.status_msg, 'Account is active');
    assert.deepEqual(enrolled.response.devices, []);

    const unknown = await client.preauth({ username: 'cl-nobody' });
    assertKind(unknown, 'ok');
    assert.equal(unknown.response.result, 'enroll');
    assert.match(unknown.response.enroll_portal_url ?? '', /^https:\/\//);

    const bypass = await client.preauth({ username: 'cl-bypass' });
    assertKind(bypass, 'ok');
    assert.equal(bypass.response.result, 'allow');
  });

  it('asks for a Duo Unix text prompt when told to', async () => {
    const app = await h.createApp();
    const user = await h.createUser('cl-prompt', { totp: true });
    const outcome = await clientFor(app).preauth({ userId: user.id, textPrompt: true });
    assertKind(outcome, 'ok');
    assert.match(outcome.response.prompt?.text ?? '', /passcode/);
    assert.deepEqual(outcome.response.prompt?.factors, {});
  });

  it('allows a correct TOTP passcode and denies a wrong one, both as answers', async () => {
    const app = await h.createApp();
    const user = await h.createUser('cl-bob', { totp: true });
    const client = clientFor(app);
    const good = await client.auth({
      username: 'cl-bob',
      factor: 'passcode',
      passcode: totpAt(user.totp!, h.clock),
    });
    assertKind(good, 'ok');
    assert.deepEqual(good.response, {
      result: 'allow',
      status: 'allow',
      status_msg: 'Success. Logging you in...',
    });
    const bad = await client.auth({ username: 'cl-bob', factor: 'passcode', passcode: '000000' });
    assertKind(bad, 'ok');
    assert.equal(bad.response.result, 'deny');
  });

  it('runs an async auth and reads its result through authStatus', async () => {
    const app = await h.createApp();
    const user = await h.createUser('cl-carol', { totp: true });
    const client = clientFor(app);
    const started = await client.auth({
      username: 'cl-carol',
      factor: 'passcode',
      passcode: totpAt(user.totp!, h.clock),
      async: true,
    });
    assertKind(started, 'ok');
    assert.match(started.response.txid, /^[0-9a-f-]{36}$/);
    const status = await client.authStatus(started.response.txid);
    assertKind(status, 'ok');
    assert.equal(status.response.result, 'allow');
    assert.equal(status.response.status, 'allow');
    assert.equal(status.response.auth_delayed, false);
  });

  it('is rejected with 40103 when the skey is wrong', async () => {
    const app = await h.createApp();
    const outcome = await clientFor({ ikey: app.ikey, skey: 'x'.repeat(40) }).preauth({
      username: 'anyone',
    });
    assertKind(outcome, 'rejected');
    assert.equal(outcome.httpStatus, 401);
    assert.equal(outcome.code, 40103);
    assert.match(outcome.message, /signature/i);
  });

  it('is rejected with 40102 for an unknown ikey', async () => {
    const outcome = await clientFor(FAKE_APP).check();
    assertKind(outcome, 'rejected');
    assert.equal(outcome.code, 40102);
  });

  it('is rejected with 40002 and the detail when no device can take a push', async () => {
    const app = await h.createApp();
    await h.createUser('cl-dave', { totp: true });
    const outcome = await clientFor(app).auth({ username: 'cl-dave', factor: 'push' });
    assertKind(outcome, 'rejected');
    assert.equal(outcome.httpStatus, 400);
    assert.equal(outcome.code, 40002);
    assert.equal(outcome.detail, 'no capable device');
  });

  it('is rejected with 42901 and Retry-After when rate limited, without retrying', async () => {
    const app = await h.createApp({ rateLimitPerSecond: 1 });
    const client = clientFor(app);
    // The service's clock is fixed, so the bucket (burst 2) never refills during this test.
    const outcomes = [await client.check(), await client.check(), await client.check()];
    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ['ok', 'ok', 'rejected'],
    );
    const limited = outcomes[2]!;
    assertKind(limited, 'rejected');
    assert.equal(limited.httpStatus, 429);
    assert.equal(limited.code, 42901);
    assert.ok((limited.retryAfterSeconds ?? 0) >= 1);
  });

  it('classifies a certificate from a CA it does not trust as tls', async () => {
    const outcome = await clientFor(FAKE_APP, { caPem: tls.otherCaPem }).ping();
    assertKind(outcome, 'unreachable');
    assert.equal(outcome.reason, 'tls');
  });

  it('classifies a certificate that does not name the host as tls', async () => {
    // The certificate names localhost, 127.0.0.1 and ::1, not 127.0.0.2.
    const server = await startFaultServer('slow', { ...tls, delayMs: 0, host: '127.0.0.2' });
    try {
      const outcome = await faultClient(server.port, { apiHost: '127.0.0.2' }).ping();
      assertKind(outcome, 'unreachable');
      assert.equal(outcome.reason, 'tls');
      assert.match(outcome.detail, /ERR_TLS_CERT_ALTNAME_INVALID/);
    } finally {
      await server.close();
    }
  });

  it('reuses one keep-alive connection for consecutive calls', async () => {
    const server = await startFaultServer('slow', { ...tls, delayMs: 0 });
    try {
      const client = faultClient(server.port);
      for (let i = 0; i < 3; i++) assertKind(await client.ping(), 'ok');
      assert.equal(server.requests, 3);
      assert.equal(server.connections, 1);
    } finally {
      await server.close();
    }
  });
});

describe('Auth API client when the service is unreachable or answers badly', () => {
  it('classifies a port with nothing listening as connect', async () => {
    const outcome = await faultClient(await closedPort()).preauth({ username: 'x' });
    assertKind(outcome, 'unreachable');
    assert.equal(outcome.reason, 'connect');
    assert.match(outcome.detail, /ECONNREFUSED/);
  });

  it('classifies a host name that does not resolve as dns', async () => {
    const outcome = await faultClient(443, { apiHost: 'nonexistent.invalid' }).preauth({
      username: 'x',
    });
    assertKind(outcome, 'unreachable');
    assert.equal(outcome.reason, 'dns');
  });

  const cases: [FaultMode, string, (o: ApiOutcome<unknown>) => void][] = [
    [
      'blackhole',
      'times out against a server that accepts and never answers',
      (o) => {
        assertKind(o, 'unreachable');
        assert.equal(o.reason, 'timeout');
      },
    ],
    [
      'hangup',
      'classifies a connection closed without an answer as connect',
      (o) => {
        assertKind(o, 'unreachable');
        assert.equal(o.reason, 'connect');
      },
    ],
    [
      'http500-json',
      'classifies HTTP 500 with a FAIL envelope as server-error',
      (o) => {
        assertKind(o, 'unreachable');
        assert.equal(o.reason, 'server-error');
        assert.equal(o.httpStatus, 500);
        assert.match(o.detail, /50000 Internal server error/);
      },
    ],
    [
      'http500-text',
      'classifies HTTP 500 with a text body as server-error',
      (o) => {
        assertKind(o, 'unreachable');
        assert.equal(o.reason, 'server-error');
        assert.equal(o.httpStatus, 500);
      },
    ],
    [
      'garbage200',
      'classifies HTTP 200 with JSON that is not an envelope as malformed',
      (o) => {
        assertKind(o, 'unreachable');
        assert.equal(o.reason, 'malformed');
        assert.match(o.detail, /'stat'/);
      },
    ],
    [
      'malformed200',
      'classifies HTTP 200 stat OK without result as malformed',
      (o) => {
        assertKind(o, 'unreachable');
        assert.equal(o.reason, 'malformed');
        assert.match(o.detail, /'result'/);
      },
    ],
    [
      'text200',
      'classifies HTTP 200 with a body that is not JSON as invalid (fail closed)',
      (o) => {
        assertKind(o, 'invalid');
        assert.equal(o.httpStatus, 200);
      },
    ],
    [
      'html404',
      'classifies an HTML 404 as invalid',
      (o) => {
        assertKind(o, 'invalid');
        assert.equal(o.httpStatus, 404);
      },
    ],
  ];

  for (const [mode, title, check] of cases) {
    it(title, async () => {
      const server = await startFaultServer(mode, tls);
      try {
        check(await faultClient(server.port, { timeoutMs: 300 }).preauth({ username: 'x' }));
      } finally {
        await server.close();
      }
    });
  }

  it('classifies HTTP 200 stat OK without time as malformed for ping', async () => {
    const server = await startFaultServer('malformed200', tls);
    try {
      const outcome = await faultClient(server.port).ping();
      assertKind(outcome, 'unreachable');
      assert.equal(outcome.reason, 'malformed');
      assert.match(outcome.detail, /'time'/);
    } finally {
      await server.close();
    }
  });

  it('answers from a slow service within the deadline, and times out beyond it', async () => {
    const server = await startFaultServer('slow', { ...tls, delayMs: 200 });
    try {
      const patient = await faultClient(server.port, { timeoutMs: 5000 }).preauth({
        username: 'x',
      });
      assertKind(patient, 'ok');
      assert.equal(patient.response.result, 'auth');
      const hurried = await faultClient(server.port, { timeoutMs: 50 }).preauth({ username: 'x' });
      assertKind(hurried, 'unreachable');
      assert.equal(hurried.reason, 'timeout');
    } finally {
      await server.close();
    }
  });
});

describe('failmode decision over real upstream failures', () => {
  type Upstream = FaultMode | 'stopped' | 'wrong-ca' | 'bad-signature';
  /**
   * The outcome each upstream produces, and the action per stage for failmode safe; failmode
   * secure denies everywhere.
   */
  // prettier-ignore
  const EXPECTED: [Upstream, string, Record<SecondFactorStage, SecondFactorAction>][] = [
    ['stopped',       'unreachable/connect',      { preauth: 'allow', auth: 'deny' }],
    ['blackhole',     'unreachable/timeout',      { preauth: 'allow', auth: 'deny' }],
    ['hangup',        'unreachable/connect',      { preauth: 'allow', auth: 'deny' }],
    ['wrong-ca',      'unreachable/tls',          { preauth: 'allow', auth: 'deny' }],
    ['slow',          'unreachable/timeout',      { preauth: 'allow', auth: 'deny' }], // slower than the deadline
    ['http500-json',  'unreachable/server-error', { preauth: 'allow', auth: 'allow' }],
    ['http500-text',  'unreachable/server-error', { preauth: 'allow', auth: 'allow' }],
    ['garbage200',    'unreachable/malformed',    { preauth: 'allow', auth: 'allow' }],
    ['malformed200',  'unreachable/malformed',    { preauth: 'allow', auth: 'allow' }],
    ['text200',       'invalid',                  { preauth: 'deny',  auth: 'deny' }],
    ['html404',       'invalid',                  { preauth: 'deny',  auth: 'deny' }],
    ['bad-signature', 'rejected',                 { preauth: 'deny',  auth: 'deny' }],
  ];

  async function callUpstream(upstream: Upstream, stage: SecondFactorStage) {
    const run = (client: AuthApiClient) =>
      stage === 'preauth'
        ? client.preauth({ username: 'x' })
        : client.auth({ username: 'x', factor: 'passcode', passcode: '123456' });
    switch (upstream) {
      case 'stopped':
        return run(faultClient(await closedPort()));
      case 'wrong-ca':
        return run(clientFor(FAKE_APP, { caPem: tls.otherCaPem }));
      case 'bad-signature':
        return run(clientFor({ ikey: (await h.createApp()).ikey, skey: 'y'.repeat(40) }));
      default: {
        const server = await startFaultServer(upstream, { ...tls, delayMs: 2000 });
        try {
          return await run(faultClient(server.port, { timeoutMs: 200 }));
        } finally {
          await server.close();
        }
      }
    }
  }

  for (const [upstream, outcomeName, expected] of EXPECTED) {
    for (const stage of SECOND_FACTOR_STAGES) {
      const verb = expected[stage] === 'allow' ? 'allows' : 'denies';
      it(`${verb} at ${stage} with failmode safe, denies with secure, when the upstream is ${upstream}`, async () => {
        const outcome = summarizeOutcome(await callUpstream(upstream, stage));
        const name =
          outcome.kind === 'unreachable' ? `unreachable/${outcome.reason}` : outcome.kind;
        assert.equal(name, outcomeName);
        for (const failmode of FAILMODES) {
          const decision = decideSecondFactor({ stage, outcome, failmode });
          const want = failmode === 'secure' ? 'deny' : expected[stage];
          assert.equal(decision.action, want, `${failmode}: ${JSON.stringify(outcome)}`);
          if (decision.action === 'allow') assert.equal(decision.secondFactorChecked, false);
        }
      });
    }
  }
});
