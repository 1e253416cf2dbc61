// The login flow's per-group failmode and fail-open attributes, with stub primary and Auth API:
// the paths the integration tests cannot reach cheaply (a challenge answered while /auth fails).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthApiClient, AuthParams, StreamedResult } from '../client/auth-api-client.ts';
import type { ApiOutcome, PreauthResponse } from '../client/auth-api-response.ts';
import { parseAuthProxyConfig, type ServerConfig } from '../config/authproxy-config.ts';
import { FixedClock } from '../runtime/clock.ts';
import { CryptoRandom } from '../runtime/random.ts';
import { ChallengeStore } from './challenge-store.ts';
import { createLoginFlow, type LoginAnswer, type LoginInput } from './login-flow.ts';
import type { PrimaryAuthenticator } from './primary/primary-authenticator.ts';
import type { PushWait } from './push-waiter.ts';
import type { AuthEvent, ProxyLogs } from './proxy-logs.ts';

const CONTRACTORS = 'cn=contractors,ou=groups,dc=example,dc=org';
const GROUPS: Record<string, string[]> = {
  alice: ['cn=vpn-users,ou=groups,dc=example,dc=org'],
  carol: ['CN=Contractors,OU=Groups,DC=example,DC=org'],
  svc: [],
};
const FILTER_ID = 11;
const CLASS = 25;

function section(kind: 'auto' | 'challenge', extra: string): ServerConfig {
  const text = `[ad_client]
host=127.0.0.1
auth_type=plain
bind_dn=cn=svc,dc=example,dc=org
service_account_password=svc-password
search_dn=ou=people,dc=example,dc=org
[radius_server_${kind}]
ikey=DIABCDEFGHIJKLMNOPQR
skey=SKEYsecretSKEYsecretSKEYsecretSKEYsecre
api_host=airlock.example.org
client=ad_client
failmode=safe
failmode_secure_groups=${CONTRACTORS}
fail_open_attributes=Filter-Id=no-2fa;Class=restricted
pass_through_all=true
exempt_username_1=svc
radius_ip_1=127.0.0.1
radius_secret_1=radius-secret-long-enough
${extra}
`;
  const r = parseAuthProxyConfig(text, { configDir: '/tmp', readFile: () => '' });
  if (!r.ok) assert.fail(r.errors.join('\n'));
  return r.config.servers[0]!;
}

const primary: PrimaryAuthenticator = {
  authenticate: ({ username }) =>
    Promise.resolve({
      kind: 'accept',
      groups: GROUPS[username] ?? [],
      // The directory's reply would give the full profile; fail-open attributes must replace it.
      attributes: [
        { type: FILTER_ID, value: Buffer.from('full-access') },
        { type: 27, value: Buffer.from([0, 0, 0, 60]) },
      ],
    }),
  close: () => Promise.resolve(),
};

const unreachable = { kind: 'unreachable', reason: 'timeout', detail: 't', latencyMs: 1 } as const;
const http500 = {
  kind: 'unreachable',
  reason: 'server-error',
  detail: '500',
  httpStatus: 500,
  latencyMs: 1,
} as const;
const preauthAuth: ApiOutcome<PreauthResponse> = {
  kind: 'ok',
  response: { result: 'auth', status_msg: 'Account is active', devices: [] },
  latencyMs: 1,
};

function harness(
  server: ServerConfig,
  answers: {
    preauth: ApiOutcome<PreauthResponse>;
    auth?: ApiOutcome<unknown>;
    /** What a push's wait ends with; by default a timeout. */
    waited?: PushWait;
  },
) {
  const events: AuthEvent[] = [];
  const sent: AuthParams[] = [];
  const logs: ProxyLogs = {
    request: () => undefined,
    line: () => undefined,
    event: (e) => events.push(e),
    systemEvent: () => undefined,
    close: () => Promise.resolve(),
  };
  const api = {
    preauth: () => Promise.resolve(answers.preauth),
    auth: (params: AuthParams) => {
      sent.push(params);
      return Promise.resolve(answers.auth ?? http500);
    },
  } as unknown as AuthApiClient;
  const flow = createLoginFlow({
    section: server,
    primary,
    api,
    logs,
    primaryOnly: { state: () => ({ active: false, expiredRecord: undefined }) },
    challenges: new ChallengeStore(new FixedClock(0)),
    pushes: { wait: () => Promise.resolve(answers.waited ?? { kind: 'timeout' as const }) },
    random: new CryptoRandom(),
  });
  const login = (
    username: string,
    password: string,
    state?: Buffer,
    nasIp = '127.0.0.1',
  ): Promise<LoginAnswer> => {
    const input: LoginInput = {
      username,
      password,
      oversizedPasswordOctets: undefined,
      state,
      clientIp: '192.0.2.10',
      nasIp,
      ref: { section: server.section, ip: nasIp, port: 1, username, identifier: 1 },
    };
    return flow(input);
  };
  return { login, events, sent };
}

const text = (answer: LoginAnswer, type: number) =>
  answer.attributes.filter((a) => a.type === type).map((a) => a.value.toString());

describe('login flow: per-group failmode', () => {
  it('keeps the user’s groups across an Access-Challenge: a secure-group member is denied when /auth fails open-class', async () => {
    const { login, events } = harness(section('challenge', ''), { preauth: preauthAuth });
    for (const [user, code] of [
      ['carol', 'Access-Reject'],
      ['alice', 'Access-Accept'],
    ] as const) {
      const challenge = await login(user, `${user}pw`);
      assert.equal(challenge.code, 'Access-Challenge');
      const answer = await login(user, '123456', challenge.state);
      assert.equal(answer.code, code, user);
    }
    const carol = events.find((e) => e.username === 'carol' && e.status === 'Reject')!;
    assert.equal(carol.effective_failmode, 'secure');
    assert.equal(carol.failmode_group, CONTRACTORS);
    assert.equal(carol.failmode, 'safe');
    assert.equal(carol.fail_open_attributes, undefined);
  });

  it('denies a secure-group member at preauth when the service is unreachable, and allows the others', async () => {
    const { login, events } = harness(section('auto', ''), { preauth: unreachable });
    assert.equal((await login('carol', 'carolpw')).code, 'Access-Reject');
    assert.equal((await login('alice', 'alicepw')).code, 'Access-Accept');
    assert.equal(events[0]?.effective_failmode_reason, 'group-failmode-secure');
    assert.equal(events[1]?.effective_failmode, undefined);
  });
});

describe('login flow: challenge State', () => {
  const authAllow: ApiOutcome<unknown> = {
    kind: 'ok',
    response: { result: 'allow', status: 'allow', status_msg: 'Success' },
    latencyMs: 1,
  };

  it('is bound to the RADIUS client it was sent to: an answer from another NAS is rejected', async () => {
    const { login, events } = harness(section('challenge', ''), {
      preauth: preauthAuth,
      auth: authAllow,
    });
    const challenge = await login('alice', 'alicepw', undefined, '10.0.0.1');
    assert.equal(challenge.code, 'Access-Challenge');
    const stolen = await login('alice', '123456', challenge.state, '10.0.0.2');
    assert.equal(stolen.code, 'Access-Reject');
    assert.equal(events.at(-1)?.reason, 'state-other-client');
    assert.equal(events.at(-1)?.second_factor_checked, false);
    // One answer per State: the NAS it was sent to cannot use it after the attempt either.
    const late = await login('alice', '123456', challenge.state, '10.0.0.1');
    assert.equal(late.code, 'Access-Reject');
    assert.equal(events.at(-1)?.reason, 'unknown-state');

    const again = await login('alice', 'alicepw', undefined, '10.0.0.1');
    const answered = await login('alice', '123456', again.state, '10.0.0.1');
    assert.equal(answered.code, 'Access-Accept', 'answered from the same NAS');
  });
});

describe('login flow: fail-open attributes', () => {
  it('replace passed-through attributes of the same type on a failmode allow', async () => {
    const { login, events } = harness(section('auto', ''), { preauth: unreachable });
    const answer = await login('alice', 'alicepw');
    assert.equal(answer.code, 'Access-Accept');
    assert.deepEqual(text(answer, FILTER_ID), ['no-2fa']);
    assert.deepEqual(text(answer, CLASS), ['restricted']);
    assert.equal(answer.attributes.filter((a) => a.type === 27).length, 1); // others kept
    assert.deepEqual(events[0]?.fail_open_attributes, ['Filter-Id', 'Class']);
    assert.equal(events[0]?.second_factor_checked, false);
    assert.equal(events[0]?.reason, 'failmode-safe');
  });

  it('are added for an exempt user and for the service’s preauth allow', async () => {
    const exempt = harness(section('auto', ''), { preauth: preauthAuth });
    const svc = await exempt.login('svc', 'svcpw');
    assert.equal(svc.code, 'Access-Accept');
    assert.deepEqual(text(svc, FILTER_ID), ['no-2fa']);
    assert.equal(exempt.events[0]?.reason, 'exempt');
    assert.deepEqual(exempt.events[0]?.fail_open_attributes, ['Filter-Id', 'Class']);

    const bypass = harness(section('auto', ''), {
      preauth: { kind: 'ok', response: { result: 'allow', status_msg: 'Bypass' }, latencyMs: 1 },
    });
    const alice = await bypass.login('alice', 'alicepw');
    assert.equal(alice.code, 'Access-Accept');
    assert.deepEqual(text(alice, CLASS), ['restricted']);
    assert.equal(bypass.events[0]?.reason, 'preauth-allow');
  });

  it('are never added after a checked second factor', async () => {
    const { login, events } = harness(section('auto', ''), {
      preauth: preauthAuth,
      auth: {
        kind: 'ok',
        response: { result: 'allow', status: 'allow', status_msg: 'Success' },
        latencyMs: 1,
      },
    });
    const answer = await login('alice', 'alicepw,123456');
    assert.equal(answer.code, 'Access-Accept');
    assert.deepEqual(text(answer, FILTER_ID), ['full-access']);
    assert.deepEqual(text(answer, CLASS), []);
    assert.equal(events[0]?.second_factor_checked, true);
    assert.equal(events[0]?.fail_open_attributes, undefined);
  });
});

// send_push_timeout: which pushes carry the proxy's push_timeout, and the service's own timeout of
// such a push ending the login as the proxy's timeout does (the two expire within a round trip of
// each other; either may reach the proxy first).
describe('login flow: send_push_timeout', () => {
  const preauthPush: ApiOutcome<PreauthResponse> = {
    kind: 'ok',
    response: {
      result: 'auth',
      status_msg: 'Account is active',
      devices: [{ device: 'D1', type: 'phone', capabilities: ['auto', 'push'] }],
    },
    latencyMs: 1,
  };
  const started = { kind: 'ok', response: { txid: 'tx-1' }, latencyMs: 1 } as const;
  const result = (r: Omit<StreamedResult, 'txid'>): PushWait => ({
    kind: 'result',
    result: { txid: 'tx-1', ...r },
  });
  const serviceTimeout = result({
    result: 'deny',
    status: 'timeout',
    status_msg: 'Login timed out.',
  });

  it('sends push_timeout with a push the proxy waits for, and ends the service’s timeout as its own', async () => {
    const { login, sent, events } = harness(
      section('auto', 'push_timeout=5\nsend_push_timeout=true'),
      { preauth: preauthPush, auth: started, waited: serviceTimeout },
    );
    const answer = await login('alice', 'alicepw');
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.pushTimeoutSeconds, 5);
    assert.equal(answer.code, 'Access-Reject');
    assert.equal(answer.replyMessage, 'Login timed out: no answer to the auto within 5 s');
    assert.equal(events.at(-1)?.reason, 'push-timeout');
  });

  it('without it, sends no push_timeout and keeps the service’s answer', async () => {
    const { login, sent } = harness(section('auto', 'push_timeout=5'), {
      preauth: preauthPush,
      auth: started,
      waited: serviceTimeout,
    });
    const answer = await login('alice', 'alicepw');
    assert.equal(sent[0]!.pushTimeoutSeconds, undefined);
    assert.equal(answer.code, 'Access-Reject');
    assert.equal(answer.replyMessage, 'Login timed out.');
  });

  it('sends none with challenge_push’s push, whose wait starts at Enter', async () => {
    const { login, sent } = harness(
      section('challenge', 'push_timeout=5\nsend_push_timeout=true\nchallenge_push=true'),
      {
        preauth: preauthPush,
        auth: started,
        waited: result({
          result: 'allow',
          status: 'allow',
          status_msg: 'Success. Logging you in...',
        }),
      },
    );
    const challenge = await login('alice', 'alicepw');
    assert.equal(challenge.code, 'Access-Challenge');
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.pushTimeoutSeconds, undefined);
    assert.equal((await login('alice', '', challenge.state)).code, 'Access-Accept');
  });
});
