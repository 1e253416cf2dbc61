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
  const summary = { result: pre.response.result, status_msg: pre.response.status_msg };
  if (pre.response.result !== 'auth') return { ...pre, response: { preauth: summary } };
  if (auth.kind !== 'ok') return auth;
  return { ...auth, response: { preauth: summary, auth: auth.response } };
}

interface Run {
  answer: LoginAnswer;
  lines: string[];
  events: AuthEvent[];
  calls: string[];
}

async function run(
  server: ServerConfig,
  withPrimary: boolean,
  pre: Outcome<PreauthResponse>,
  auth: Outcome<AuthResponse>,
  oneCall: boolean,
): Promise<Run> {
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
      return Promise.resolve(pre);
    },
    auth: () => {
      calls.push('auth');
      return Promise.resolve(auth);
    },
    ...(oneCall
      ? {
          preauthAuth: (params: PreauthAuthParams) => {
            calls.push(`preauth_auth ${params.passcode}`);
            return Promise.resolve(oneCallOutcome(pre, auth));
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
            const two = await run(server, withPrimary, pre.outcome, auth.outcome, false);
            const one = await run(server, withPrimary, pre.outcome, auth.outcome, true);
            assert.deepEqual(one.answer, two.answer, `answer, ${row}`);
            assert.deepEqual(one.lines, two.lines, `request log, ${row}`);
            assert.deepEqual(one.events, two.events, `auth events, ${row}`);
            // The one call went out, with the passcode; /auth never (preauth only to find a row).
            assert.equal(one.calls[0], 'preauth_auth 123456', row);
            assert.ok(!one.calls.includes('auth'), `no /auth call, ${row}`);
            if (pre.outcome.kind === 'ok' && auth.outcome.kind === 'ok') {
              assert.deepEqual(one.calls, ['preauth_auth 123456'], `one call only, ${row}`);
            }
            rows++;
          }
        }
        assert.equal(rows, PREAUTH_ROWS.length * AUTH_ROWS.length);
      });
    }
  }

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
