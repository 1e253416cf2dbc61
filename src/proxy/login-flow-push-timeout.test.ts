// send_push_timeout in the login flow, with a stub primary and Auth API: which pushes carry the
// proxy's push_timeout, and that the service's own timeout of such a push ends the login as the
// proxy's timeout does (the two expire within a round trip of each other; either may come first).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthApiClient, AuthParams, StreamedResult } from '../client/auth-api-client.ts';
import { parseAuthProxyConfig, type ServerConfig } from '../config/authproxy-config.ts';
import { FixedClock } from '../runtime/clock.ts';
import { CryptoRandom } from '../runtime/random.ts';
import { ChallengeStore } from './challenge-store.ts';
import { createLoginFlow, type LoginAnswer } from './login-flow.ts';
import type { PushWait } from './push-waiter.ts';
import type { AuthEvent, ProxyLogs } from './proxy-logs.ts';

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
failmode=secure
push_timeout=5
radius_ip_1=127.0.0.1
radius_secret_1=radius-secret-long-enough
${extra}
`;
  const r = parseAuthProxyConfig(text, { configDir: '/tmp', readFile: () => '' });
  if (!r.ok) assert.fail(r.errors.join('\n'));
  return r.config.servers[0]!;
}

const SERVICE_TIMEOUT: PushWait = {
  kind: 'result',
  result: { txid: 'tx-1', result: 'deny', status: 'timeout', status_msg: 'Login timed out.' },
};

function harness(server: ServerConfig, waited: PushWait) {
  const sent: AuthParams[] = [];
  const events: AuthEvent[] = [];
  const logs: ProxyLogs = {
    request: () => undefined,
    line: () => undefined,
    event: (e) => events.push(e),
    systemEvent: () => undefined,
    close: () => Promise.resolve(),
  };
  const api = {
    preauth: () =>
      Promise.resolve({
        kind: 'ok',
        response: {
          result: 'auth',
          status_msg: 'Account is active',
          devices: [{ device: 'D1', type: 'phone', capabilities: ['auto', 'push'] }],
        },
        latencyMs: 1,
      }),
    auth: (params: AuthParams) => {
      sent.push(params);
      return Promise.resolve({ kind: 'ok', response: { txid: 'tx-1' }, latencyMs: 1 });
    },
  } as unknown as AuthApiClient;
  const flow = createLoginFlow({
    section: server,
    primary: {
      authenticate: () => Promise.resolve({ kind: 'accept', groups: [], attributes: [] }),
      close: () => Promise.resolve(),
    },
    api,
    logs,
    primaryOnly: { state: () => ({ active: false, expiredRecord: undefined }) },
    challenges: new ChallengeStore(new FixedClock(0)),
    pushes: { wait: () => Promise.resolve(waited) },
    random: new CryptoRandom(),
  });
  const login = (password: string, state?: Buffer): Promise<LoginAnswer> =>
    flow({
      username: 'alice',
      password,
      oversizedPasswordOctets: undefined,
      state,
      clientIp: undefined,
      nasIp: '127.0.0.1',
      ref: { section: server.section, ip: '127.0.0.1', port: 1, username: 'alice', identifier: 1 },
    });
  return { login, sent, events };
}

describe('send_push_timeout in the login flow', () => {
  it('sends push_timeout with a push the proxy waits for, and ends the service’s timeout as its own', async () => {
    const { login, sent, events } = harness(
      section('auto', 'send_push_timeout=true'),
      SERVICE_TIMEOUT,
    );
    const answer = await login('alicepw');
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.pushTimeoutSeconds, 5);
    assert.equal(answer.code, 'Access-Reject');
    assert.equal(answer.replyMessage, 'Login timed out: no answer to the auto within 5 s');
    assert.equal(events.at(-1)?.reason, 'push-timeout');
  });

  it('without it, sends no push_timeout and keeps the service’s answer', async () => {
    const { login, sent } = harness(section('auto', ''), SERVICE_TIMEOUT);
    const answer = await login('alicepw');
    assert.equal(sent[0]!.pushTimeoutSeconds, undefined);
    assert.equal(answer.code, 'Access-Reject');
    assert.equal(answer.replyMessage, 'Login timed out.');
  });

  it('sends none with challenge_push’s push, whose wait starts at Enter', async () => {
    const approved: StreamedResult = {
      txid: 'tx-1',
      result: 'allow',
      status: 'allow',
      status_msg: 'Success. Logging you in...',
    };
    const { login, sent } = harness(
      section('challenge', 'send_push_timeout=true\nchallenge_push=true'),
      { kind: 'result', result: approved },
    );
    const challenge = await login('alicepw');
    assert.equal(challenge.code, 'Access-Challenge');
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.pushTimeoutSeconds, undefined);
    assert.equal((await login('', challenge.state)).code, 'Access-Accept');
  });
});
