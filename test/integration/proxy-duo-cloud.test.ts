// `airlock proxy` in front of Duo's cloud: radclient -> the Airlock proxy -> a Duo-shaped stand-in
// (signature v2 checked, recorded Duo bodies, no Airlock endpoint). The proxy needs nothing Duo
// lacks: passcodes, pushes (auth_status when the result stream answers 404) and denials work.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startDuoStandin, STANDIN_PASSCODE, type DuoStandin } from '../support/duo-standin.ts';
import { radclient } from './external-servers.ts';
import { RADIUS_SECRET, startTestProxy, type TestProxy } from './proxy-harness.ts';

/** What Duo's cloud offers to a proxy (docs/design/auth-api.md §1.2). */
const DUO_ENDPOINTS = new Set([
  'GET /auth/v2/ping',
  'GET /auth/v2/check',
  'POST /auth/v2/preauth',
  'POST /auth/v2/auth',
  'GET /auth/v2/auth_status',
]);

describe('airlock proxy in front of a Duo-shaped Auth API', () => {
  let duo: DuoStandin;
  let proxy: TestProxy;

  before(async () => {
    duo = await startDuoStandin();
    proxy = await startTestProxy({
      ikey: duo.ikey,
      skey: duo.skey,
      apiPort: duo.port,
      caPem: duo.caPem,
      failmode: 'secure',
      extra: ['push_timeout=15'],
    });
  });
  after(async () => {
    await proxy?.close();
    await duo?.close();
  });

  const login = (username: string, password: string) =>
    radclient(
      proxy.port,
      RADIUS_SECRET,
      `User-Name = "${username}", User-Password = "${password}", Message-Authenticator = 0x00`,
      { timeoutSeconds: 20 },
    );

  /** The txid of the next async push the proxy starts (the `after`-th push on). */
  async function nextPush(after: number): Promise<string> {
    const deadline = Date.now() + 10_000;
    while (duo.pushes.length <= after) {
      assert.ok(Date.now() < deadline, 'the proxy started no push');
      await new Promise((r) => setTimeout(r, 50));
    }
    return duo.pushes[after]!;
  }

  it('accepts a good passcode and rejects a wrong one with Duo’s message', async () => {
    const accepted = await login('alice', STANDIN_PASSCODE);
    assert.equal(accepted.code, 'Access-Accept', accepted.output);
    const rejected = await login('alice', '000000');
    assert.equal(rejected.code, 'Access-Reject', rejected.output);
    assert.equal(rejected.replyMessage, 'Incorrect passcode. Please try again.');
    const auth = duo.requests.filter((r) => r.path === '/auth/v2/auth');
    assert.deepEqual(
      auth.map((r) => [r.params.username, r.params.factor, r.params.passcode, r.signed]),
      [
        ['alice', 'passcode', STANDIN_PASSCODE, true],
        ['alice', 'passcode', '000000', true],
      ],
    );
  });

  it('rejects a user Duo denies at preauth, without asking for a second factor', async () => {
    const before = duo.requests.length;
    const res = await login('disabled-user', STANDIN_PASSCODE);
    assert.equal(res.code, 'Access-Reject', res.output);
    assert.equal(res.replyMessage, 'Your account is disabled.');
    assert.ok(!duo.requests.slice(before).some((r) => r.path === '/auth/v2/auth'));
  });

  it('waits for a push with auth_status, the result stream being a 404 at Duo', async () => {
    const before = duo.requests.length;
    const answer = login('alice', 'push');
    duo.answerPush(await nextPush(duo.pushes.length), 'allow');
    const res = await answer;
    assert.equal(res.code, 'Access-Accept', res.output);
    assert.ok(
      duo.requests.slice(before).some((r) => r.path === '/auth/v2/auth_status' && r.signed),
      'polled auth_status',
    );
  });

  it('rejects a denied push with Duo’s message', async () => {
    const answer = login('alice', 'push');
    duo.answerPush(await nextPush(duo.pushes.length), 'deny');
    const res = await answer;
    assert.equal(res.code, 'Access-Reject', res.output);
    assert.equal(res.replyMessage, 'Login request denied.');
  });

  it('calls nothing but Duo’s endpoints, every one signed, and gives up the 404 stream', () => {
    const used = new Set(duo.requests.map((r) => `${r.method} ${r.path}`));
    const stream = 'GET /auth/v2/auth_results';
    assert.deepEqual(
      [...used].filter((e) => !DUO_ENDPOINTS.has(e) && e !== stream),
      [],
    );
    assert.ok(
      duo.requests.every((r) => r.signed || r.path === '/auth/v2/ping'),
      'every request signed',
    );
    // The result stream is optional: asked once, answered 404, not asked again every few
    // seconds for the rest of the proxy's life.
    const streamRequests = duo.requests.filter((r) => r.path === '/auth/v2/auth_results');
    assert.equal(streamRequests.length, 1, `result stream asked ${streamRequests.length} times`);
    const log = readFileSync(proxy.authproxyLog, 'utf8');
    assert.equal(log.match(/no result stream/g)?.length, 1, log);
  });
});
