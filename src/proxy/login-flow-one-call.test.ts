// One call per passcode login (preauth_auth) against preauth then /auth: for every row of the
// preauth table (each result) and of the failmode table (each outcome at each stage, each
// failmode, with and without primary authentication), the same RADIUS answer, the same request
// log lines and the same auth events.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthApiClient, PreauthAuthParams } from '../client/auth-api-client.ts';
import type {
  ApiOutcome,
  AuthResponse,
  PreauthAuthResponse,
  PreauthResponse,
} from '../client/auth-api-response.ts';
import { parseAuthProxyConfig, type ServerConfig } from '../config/authproxy-config.ts';
import { UNREACHABLE_REASONS } from '../core/failmode-decision.ts';
import { PREAUTH_RESULTS } from '../core/preauth-decision.ts';
import { FixedClock } from '../runtime/clock.ts';
import { CryptoRandom } from '../runtime/random.ts';
import { ChallengeStore } from './challenge-store.ts';
import { createLoginFlow, type LoginAnswer } from './login-flow.ts';
import type { PrimaryAuthenticator } from './primary/primary-authenticator.ts';
import type { AuthEvent, ProxyLogs } from './proxy-logs.ts';

type Outcome<T> = ApiOutcome<T> & { breakerOpen?: true };

function failures<T>(): { name: string; outcome: Outcome<T> }[] {
  return [
    ...UNREACHABLE_REASONS.map((reason) => ({
      name: `unreachable ${reason}`,
      outcome: {
        kind: 'unreachable' as const,
        reason,
        detail: reason,
        latencyMs: 1,
        ...(reason === 'server-error' || reason === 'malformed' ? { httpStatus: 500 } : {}),
      },
    })),
    {
      name: 'breaker open',
      outcome: {
        kind: 'unreachable' as const,
        reason: 'connect',
        detail: 'circuit open',
        latencyMs: 0,
        breakerOpen: true,
      },
    },
    {
      name: 'rejected 429',
      outcome: {
        kind: 'rejected',
        httpStatus: 429,
        code: 42901,
        message: 'Too many requests',
        latencyMs: 1,
      },
    },
    {
      name: 'rejected 401',
      outcome: {
        kind: 'rejected',
        httpStatus: 401,
        code: 40103,
        message: 'Invalid signature',
        latencyMs: 1,
      },
    },
    {
      name: 'invalid',
      outcome: { kind: 'invalid', httpStatus: 302, detail: 'HTML', latencyMs: 1 },
    },
  ];
}

const PREAUTH_ROWS: { name: string; outcome: Outcome<PreauthResponse> }[] = [
  ...PREAUTH_RESULTS.map((result) => ({
    name: `preauth ${result}`,
    outcome: {
      kind: 'ok' as const,
      latencyMs: 1,
      response: {
        result,
        status_msg: `status of ${result}`,
        ...(result === 'auth' ? { devices: [] } : {}),
        ...(result === 'enroll' ? { enroll_portal_url: 'https://airlock.example.org/enroll' } : {}),
      },
    },
  })),
  ...failures<PreauthResponse>(),
];

const AUTH_ROWS: { name: string; outcome: Outcome<AuthResponse> }[] = [
  ...(['allow', 'deny'] as const).map((result) => ({
    name: `auth ${result}`,
    outcome: {
      kind: 'ok' as const,
      latencyMs: 1,
      response: { result, status: result, status_msg: `passcode ${result}` },
    },
  })),
  ...failures<AuthResponse>(),
];

function section(failmode: 'safe' | 'secure', withPrimary: boolean): ServerConfig {
  const client = withPrimary
    ? `[radius_client]\nhost=127.0.0.1\nsecret=primary-secret-long-enough\n`
    : `[duo_only_client]\n`;
  const text = `${client}[radius_server_auto]
ikey=DIABCDEFGHIJKLMNOPQR
skey=SKEYsecretSKEYsecretSKEYsecretSKEYsecre
api_host=airlock.example.org
client=${withPrimary ? 'radius_client' : 'duo_only_client'}
failmode=${failmode}
fail_open_attributes=Filter-Id=no-2fa
radius_ip_1=127.0.0.1
radius_secret_1=radius-secret-long-enough
`;
  const r = parseAuthProxyConfig(text, { configDir: '/tmp', readFile: () => '' });
  if (!r.ok) assert.fail(r.errors.join('\n'));
  return r.config.servers[0]!;
}

const primary: PrimaryAuthenticator = {
  authenticate: ({ password }) =>
    Promise.resolve(
      password === 'alicepw'
        ? { kind: 'accept', groups: [], attributes: [{ type: 11, value: Buffer.from('full') }] }
        : { kind: 'reject', reason: 'wrong password' },
    ),
  close: () => Promise.resolve(),
};

/**
 * What one service does at its two steps: preauth's outcome and the passcode /auth's. The one
 * call's outcome follows from them as the service computes it: preauth's failure, or its
 * answer when not `auth`, or the passcode's outcome (its failure, or both answers).
 */
function oneCallOutcome(
  pre: Outcome<PreauthResponse>,
  auth: Outcome<AuthResponse>,
): Outcome<PreauthAuthResponse> {
  if (pre.kind !== 'ok') return pre;
  // The rate limit refuses a one call at admission, before preauth's step: see twoCallTwin.
  if (auth.kind === 'rejected' && auth.httpStatus === 429) return auth;
  const summary = { result: pre.response.result, status_msg: pre.response.status_msg };
  if (pre.response.result !== 'auth') return { ...pre, response: { preauth: summary } };
  if (auth.kind !== 'ok') return auth;
  return { ...auth, response: { preauth: summary, auth: auth.response } };
}

function isRateLimited(outcome: Outcome<unknown>): boolean {
  return outcome.kind === 'rejected' && outcome.httpStatus === 429;
}

/**
 * The two calls that meet what the one call met. A one call is admitted (rate limit) once, before
 * preauth's step: where /auth alone is rate limited, the one call's 429 is the one two calls meet
 * at their first, preauth (the same 429 at preauth).
 */
function twoCallTwin(
  pre: Outcome<PreauthResponse>,
  auth: Outcome<AuthResponse>,
): Outcome<PreauthResponse> {
  if (pre.kind === 'ok' && auth.kind === 'rejected' && auth.httpStatus === 429) return auth;
  return pre;
}

interface Run {
  answer: LoginAnswer;
  lines: string[];
  events: AuthEvent[];
  calls: string[];
}

/**
 * How long the service's steps take (ms; 0 answers at once): a call answers when its steps are
 * done, or with a timeout at `api_timeout` as the client does (Infinity: a hung step).
 */
interface Timing {
  preauthMs: number;
  authMs: number;
}
const AT_ONCE: Timing = { preauthMs: 0, authMs: 0 };

function after<T>(durationMs: number, timeoutMs: number, outcome: Outcome<T>): Promise<Outcome<T>> {
  if (durationMs === 0) return Promise.resolve(outcome);
  const timedOut = durationMs >= timeoutMs;
  return new Promise((resolve) =>
    setTimeout(
      () =>
        resolve(
          timedOut
            ? { kind: 'unreachable', reason: 'timeout', detail: 'no answer', latencyMs: timeoutMs }
            : outcome,
        ),
      Math.min(durationMs, timeoutMs),
    ),
  );
}

async function run(
  server: ServerConfig,
  withPrimary: boolean,
  pre: Outcome<PreauthResponse>,
  auth: Outcome<AuthResponse>,
  oneCall: boolean,
  timing: Timing = AT_ONCE,
): Promise<Run> {
  const t = server.apiTimeoutMs;
  const passcodeChecked = pre.kind === 'ok' && pre.response.result === 'auth';
  const lines: string[] = [];
  const events: AuthEvent[] = [];
  const calls: string[] = [];
  const logs: ProxyLogs = {
    request: (_ref, msg) => lines.push(msg),
    line: (msg) => lines.push(msg),
    event: (e) => events.push(e),
    systemEvent: () => undefined,
    close: () => Promise.resolve(),
  };
  const api = {
    preauth: () => {
      calls.push('preauth');
      return after(timing.preauthMs, t, pre);
    },
    auth: () => {
      calls.push('auth');
      return after(timing.authMs, t, auth);
    },
    ...(oneCall
      ? {
          preauthAuth: (params: PreauthAuthParams) => {
            calls.push(`preauth_auth ${params.passcode}`);
            const durationMs = timing.preauthMs + (passcodeChecked ? timing.authMs : 0);
            return after(durationMs, t, oneCallOutcome(pre, auth));
          },
        }
      : {}),
  } as unknown as AuthApiClient;
  const flow = createLoginFlow({
    section: server,
    primary: withPrimary ? primary : undefined,
    api,
    logs,
    primaryOnly: { state: () => ({ active: false, expiredRecord: undefined }) },
    challenges: new ChallengeStore(new FixedClock(0)),
    pushes: { wait: () => Promise.resolve({ kind: 'timeout' as const }) },
    random: new CryptoRandom(),
  });
  const answer = await flow({
    username: 'alice',
    password: withPrimary ? 'alicepw,123456' : '123456',
    oversizedPasswordOctets: undefined,
    state: undefined,
    clientIp: '192.0.2.10',
    nasIp: '127.0.0.1',
    ref: { section: server.section, ip: '127.0.0.1', port: 1, username: 'alice', identifier: 1 },
  });
  return { answer, lines, events, calls };
}

describe('one call per passcode login equals preauth then /auth', () => {
  for (const failmode of ['safe', 'secure'] as const) {
    for (const withPrimary of [true, false]) {
      const server = section(failmode, withPrimary);
      const label = `failmode ${failmode}, ${withPrimary ? 'RADIUS primary' : 'duo-only'}`;
      it(`every preauth row × every /auth row (${label})`, async () => {
        let rows = 0;
        for (const pre of PREAUTH_ROWS) {
          for (const auth of AUTH_ROWS) {
            const row = `${label}: ${pre.name}, ${auth.name}`;
            const twin = twoCallTwin(pre.outcome, auth.outcome);
            const two = await run(server, withPrimary, twin, auth.outcome, false);
            const one = await run(server, withPrimary, pre.outcome, auth.outcome, true);
            assert.deepEqual(one.answer, two.answer, `answer, ${row}`);
            assert.deepEqual(one.lines, two.lines, `request log, ${row}`);
            assert.deepEqual(one.events, two.events, `auth events, ${row}`);
            // The one call went out, with the passcode; /auth never (preauth only to find a row).
            assert.equal(one.calls[0], 'preauth_auth 123456', row);
            assert.ok(!one.calls.includes('auth'), `no /auth call, ${row}`);
            const refusedAtAdmission = isRateLimited(twin);
            if ((pre.outcome.kind === 'ok' && auth.outcome.kind === 'ok') || refusedAtAdmission) {
              assert.deepEqual(one.calls, ['preauth_auth 123456'], `one call only, ${row}`);
            }
            rows++;
          }
        }
        assert.equal(rows, PREAUTH_ROWS.length * AUTH_ROWS.length);
      });
    }
  }

  it('answers a hung service within one and a half api_timeout, as two calls would (failmode)', async () => {
    const server = { ...section('safe', true), apiTimeoutMs: 400 };
    const hung = { preauthMs: Infinity, authMs: Infinity };
    const [pre, allow] = [PREAUTH_ROWS[0]!.outcome, AUTH_ROWS[0]!.outcome];
    assert.equal(pre.kind === 'ok' && pre.response.result, 'auth');
    const two = await run(server, true, pre, allow, false, hung);
    const startedMs = performance.now();
    const one = await run(server, true, pre, allow, true, hung);
    const tookMs = performance.now() - startedMs;
    assert.deepEqual(one.answer, two.answer);
    assert.equal(one.answer.code, 'Access-Accept', 'failmode safe lets the user in');
    assert.deepEqual(one.lines, two.lines);
    assert.deepEqual(one.events, two.events);
    // Preauth is asked beside the one call once it is late (half api_timeout), not after it.
    assert.ok(tookMs < 1.8 * 400, `took ${Math.round(tookMs)} ms (two api_timeouts: 800)`);
    assert.deepEqual(one.calls, ['preauth_auth 123456', 'preauth']);
  });

  it('still denies a hung passcode check as /auth timing out does, whatever the failmode', async () => {
    const server = { ...section('safe', true), apiTimeoutMs: 400 };
    const hungCheck = { preauthMs: 0, authMs: Infinity };
    const [pre, allow] = [PREAUTH_ROWS[0]!.outcome, AUTH_ROWS[0]!.outcome];
    const two = await run(server, true, pre, allow, false, hungCheck);
    const one = await run(server, true, pre, allow, true, hungCheck);
    assert.equal(one.answer.code, 'Access-Reject');
    assert.deepEqual(one.answer, two.answer);
    assert.deepEqual(one.lines, two.lines);
    assert.deepEqual(one.events, two.events);
  });

  it('keeps the two calls for a factor word, and without preauth_auth (Duo)', async () => {
    const server = section('secure', true);
    const pre = PREAUTH_ROWS[0]!.outcome;
    const allow = AUTH_ROWS[0]!.outcome;
    const withoutIt = await run(server, true, pre, allow, false);
    assert.deepEqual(withoutIt.calls, ['preauth', 'auth']);
    assert.equal(withoutIt.answer.code, 'Access-Accept');
  });

  it('never allows after a refused one call, even when preauth alone then fails open', async () => {
    // The one call says "deny" in a malformed answer (a rejection); preauth then times out and
    // failmode is safe: the refusal stands.
    const server = section('safe', true);
    const lines: string[] = [];
    const api = {
      preauth: () =>
        Promise.resolve({ kind: 'unreachable', reason: 'timeout', detail: 't', latencyMs: 1 }),
      auth: () => assert.fail('no /auth'),
      preauthAuth: () =>
        Promise.resolve({
          kind: 'rejected',
          httpStatus: 200,
          message: 'Malformed API response that says deny',
          latencyMs: 1,
        }),
    } as unknown as AuthApiClient;
    const flow = createLoginFlow({
      section: server,
      primary,
      api,
      logs: {
        request: (_ref, msg) => lines.push(msg),
        line: () => undefined,
        event: () => undefined,
        systemEvent: () => undefined,
        close: () => Promise.resolve(),
      },
      primaryOnly: { state: () => ({ active: false, expiredRecord: undefined }) },
      challenges: new ChallengeStore(new FixedClock(0)),
      pushes: { wait: () => Promise.resolve({ kind: 'timeout' as const }) },
      random: new CryptoRandom(),
    });
    const answer = await flow({
      username: 'alice',
      password: 'alicepw,123456',
      oversizedPasswordOctets: undefined,
      state: undefined,
      clientIp: undefined,
      nasIp: '127.0.0.1',
      ref: { section: server.section, ip: '127.0.0.1', port: 1, username: 'alice', identifier: 1 },
    });
    assert.equal(answer.code, 'Access-Reject');
    assert.match(
      lines.at(-1) ?? '',
      /^Duo preauth rejected: Malformed API response that says deny/,
    );
  });
});
