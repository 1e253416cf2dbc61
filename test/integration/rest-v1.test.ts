// /rest/v1 end to end, as Duo's Authentication Proxy calls it: `airlock serve`, applications made
// with the built CLI, a signature-v1 client written from the spec (HTTP/1.0, no Date), a passcode
// from a TOTP token, a push approved by the command-line authenticator.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Secret, TOTP } from 'otpauth';
import { duoClient, routeDuoClients } from './duo-client.ts';
import {
  airlock,
  airlockJson,
  startServe,
  stopServe,
  type RunningService,
} from './airlock-process.ts';
import {
  restV1Call,
  v1Authorization,
  type V1Credentials,
  type V1Response,
} from './rest-v1-client.ts';

const HOST = 'localhost';
const LOCKOUT_THRESHOLD = 3;

/** docs/auth-api.md (Duo Authentication Proxy): the keys of each /rest/v1 answer, exactly. */
const FIELDS = {
  preauthAuth: ['factors', 'prompt', 'result'],
  preauthFinal: ['result', 'status'],
  auth: ['result', 'status'],
  authAsync: ['txid'],
  statusFinal: ['result', 'status'],
};

interface AppKeys extends V1Credentials {
  type: string;
  allow_v1_signature: boolean;
}

describe('/rest/v1 for Duo Authentication Proxy against airlock serve', () => {
  let dir: string;
  let service: RunningService;
  let caPem: string;
  let proxyApp: AppKeys;
  let plainApp: AppKeys;
  let totp: TOTP;
  const data = () => ['--data-dir', dir];
  const state = () => ['--state', join(dir, 'authenticator.json')];
  const call = (
    keys: V1Credentials,
    method: 'GET' | 'POST',
    path: string,
    params: Record<string, string>,
    options?: Parameters<typeof restV1Call>[5],
  ) => restV1Call({ port: service.port, caPem, host: HOST }, keys, method, path, params, options);
  /**
   * `/rest/v1/check` with the application's keys until it answers `status` (a cached application
   * setting changes within a second or so), every 100 ms — a tight loop would meet the
   * application's rate limit (429) — for at most 10 s.
   */
  const checkUntil = async (
    keys: V1Credentials,
    status: number,
    what: string,
  ): Promise<V1Response> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const answer = await call(keys, 'GET', '/rest/v1/check', {});
      if (answer.status === status) return answer;
      assert.ok(Date.now() < deadline, `${what}: still HTTP ${answer.status}`);
      await sleep(100);
    }
  };
  const ok = (r: V1Response) => {
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.stat, 'OK');
    return r.body.response as Record<string, unknown>;
  };
  /**
   * A TOTP code not used yet: each step's code is accepted once, so when this step's code is spent
   * take the next step's, which the service accepts (the default window is one step either side)
   * instead of waiting up to 30 s for it.
   */
  let lastCode = '';
  const freshCode = () => {
    const now = Date.now();
    const code = totp.generate({ timestamp: now });
    return (lastCode = code !== lastCode ? code : totp.generate({ timestamp: now + 30_000 }));
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-restv1-'));
    service = await startServe([
      ...data(),
      '--listen',
      '127.0.0.1:0',
      '--lockout-threshold',
      String(LOCKOUT_THRESHOLD),
    ]);
    caPem = readFileSync(join(dir, 'tls', 'ca.pem'), 'utf8');
    proxyApp = await airlockJson<AppKeys>([
      'app',
      'create',
      'duo-proxy',
      '--type',
      'authproxy',
      ...data(),
    ]);
    plainApp = await airlockJson<AppKeys>(['app', 'create', 'vpn', ...data()]);
    await airlock(['user', 'create', 'alice', ...data()]);
    await airlock(['user', 'create', 'bob', ...data()]);
    const token = await airlockJson<{ secret: string }>(['token', 'add-totp', 'alice', ...data()]);
    totp = new TOTP({ secret: Secret.fromBase32(token.secret), digits: 6, period: 30 });
    const bobToken = await airlockJson<{ secret: string }>(['token', 'add-totp', 'bob', ...data()]);
    assert.ok(bobToken.secret);
    const enrolled = await airlockJson<{ activation_code: string }>([
      'device',
      'enroll',
      'alice',
      ...data(),
    ]);
    await airlockJson([
      'authenticator',
      'activate',
      enrolled.activation_code,
      '--ca',
      join(dir, 'tls', 'ca.pem'),
      '--name',
      'laptop',
      ...state(),
    ]);
  });
  after(async () => {
    if (service) await stopServe(service);
    rmSync(dir, { recursive: true, force: true });
  });

  it('app create --type authproxy allows signature v1; other types do not', () => {
    assert.equal(proxyApp.type, 'authproxy');
    assert.equal(proxyApp.allow_v1_signature, true);
    assert.equal(plainApp.type, 'auth-api');
    assert.equal(plainApp.allow_v1_signature, false);
  });

  it('answers preauth over HTTP/1.0 with the menu the proxy reads: factors and prompt', async () => {
    const r = await call(proxyApp, 'POST', '/rest/v1/preauth', {
      user: 'alice',
      ipaddr: '198.51.100.7',
      failmode: 'secure',
    });
    assert.match(r.httpVersion, /^HTTP\/1\.[01]$/);
    const response = ok(r);
    assert.deepEqual(Object.keys(response).sort(), FIELDS.preauthAuth);
    assert.equal(response.result, 'auth');
    assert.deepEqual(response.factors, { '1': 'push1', default: 'push1' });
    assert.equal(typeof response.prompt, 'string');
    assert.match(response.prompt as string, /1\. Push to laptop/);
    assert.match(response.prompt as string, /Passcode or option \(1-1\): $/);
  });

  it('answers preauth allow, deny and enroll with result and status only', async () => {
    const enroll = ok(await call(proxyApp, 'POST', '/rest/v1/preauth', { user: 'nobody' }));
    assert.deepEqual(Object.keys(enroll).sort(), FIELDS.preauthFinal);
    assert.deepEqual(enroll, {
      result: 'enroll',
      status: 'Enroll an authentication device to proceed',
    });
    await airlock(['user', 'create', 'carol', '--status', 'bypass', ...data()]);
    const allow = ok(await call(proxyApp, 'POST', '/rest/v1/preauth', { user: 'carol' }));
    assert.deepEqual(allow, { result: 'allow', status: 'Allowing user in bypass status.' });
    await airlock(['user', 'create', 'dave', '--status', 'disabled', ...data()]);
    const deny = ok(await call(proxyApp, 'POST', '/rest/v1/preauth', { user: 'dave' }));
    assert.deepEqual(deny, { result: 'deny', status: 'Your account is disabled.' });
  });

  it('a TOTP user without a device gets an empty factors menu and a passcode prompt', async () => {
    const response = ok(await call(proxyApp, 'POST', '/rest/v1/preauth', { user: 'bob' }));
    assert.deepEqual(Object.keys(response).sort(), FIELDS.preauthAuth);
    assert.deepEqual(response.factors, {});
    assert.match(response.prompt as string, /Enter a passcode/);
  });

  it('allows a passcode sent as factor=auto&auto=<passcode>, once', async () => {
    const code = freshCode();
    const params = { user: 'alice', factor: 'auto', auto: code, ipaddr: '198.51.100.7' };
    const allowed = ok(await call(proxyApp, 'POST', '/rest/v1/auth', params));
    assert.deepEqual(Object.keys(allowed).sort(), FIELDS.auth);
    assert.deepEqual(allowed, { result: 'allow', status: 'Success. Logging you in...' });
    // The same request again (v1 signs no date, so it verifies again): the code is spent.
    const replayed = ok(await call(proxyApp, 'POST', '/rest/v1/auth', params));
    assert.equal(replayed.result, 'deny');
  });

  it('allows a passcode sent as factor=passcode&code=<passcode>', async () => {
    const response = ok(
      await call(proxyApp, 'POST', '/rest/v1/auth', {
        user: 'alice',
        factor: 'passcode',
        code: freshCode(),
      }),
    );
    assert.deepEqual(response, { result: 'allow', status: 'Success. Logging you in...' });
  });

  it('allows a push (auto=push1) once the command-line authenticator approves it', async () => {
    const answer = call(proxyApp, 'POST', '/rest/v1/auth', {
      user: 'alice',
      factor: 'auto',
      auto: 'push1',
      ipaddr: '198.51.100.7',
    });
    const pending = await airlockJson<{ txid: string; application: string; ipaddr: string }[]>([
      'authenticator',
      'pending',
      '--wait',
      '10',
      ...state(),
    ]);
    assert.equal(pending.length, 1);
    assert.equal(pending[0]?.application, 'duo-proxy');
    assert.equal(pending[0]?.ipaddr, '198.51.100.7');
    await airlockJson(['authenticator', 'approve', pending[0].txid, ...state()]);
    const response = ok(await answer);
    assert.deepEqual(Object.keys(response).sort(), FIELDS.auth);
    assert.equal(response.result, 'allow');
    assert.equal(typeof response.status, 'string');
  });

  it('async=1 answers a txid; /rest/v1/status answers the approved push', async () => {
    const started = ok(
      await call(proxyApp, 'POST', '/rest/v1/auth', {
        user: 'alice',
        factor: 'push',
        phone: 'phone1',
        async: '1',
      }),
    );
    assert.deepEqual(Object.keys(started), FIELDS.authAsync);
    const txid = started.txid as string;
    const pending = await airlockJson<{ txid: string }[]>([
      'authenticator',
      'pending',
      '--wait',
      '10',
      ...state(),
    ]);
    assert.equal(pending[0]?.txid, txid);
    await airlockJson(['authenticator', 'deny', txid, ...state()]);
    const status = ok(await call(proxyApp, 'GET', '/rest/v1/status', { txid }));
    assert.deepEqual(Object.keys(status).sort(), FIELDS.statusFinal);
    assert.equal(status.result, 'deny');
  });

  it('refuses signature v1 on an application that does not allow it, with a clear error', async () => {
    const r = await call(plainApp, 'POST', '/rest/v1/preauth', { user: 'alice' });
    assert.equal(r.status, 403);
    assert.equal(r.body.stat, 'FAIL');
    assert.equal(r.body.code, 40301);
    assert.match(r.body.message_detail ?? '', /signature v1 is not allowed for this application/);
    assert.match(r.body.message_detail ?? '', /--allow-v1-signature/);
  });

  it('refuses a wrong v1 signature, and a v1 signature for another path', async () => {
    const wrongKey = await call({ ...proxyApp, skey: 'x'.repeat(40) }, 'POST', '/rest/v1/preauth', {
      user: 'alice',
    });
    assert.equal(wrongKey.status, 401);
    assert.equal(wrongKey.body.code, 40103);
    const forPreauth = v1Authorization(proxyApp, 'POST', HOST, '/rest/v1/preauth', {
      user: 'alice',
      factor: 'auto',
      auto: 'push1',
    });
    const moved = await call(
      proxyApp,
      'POST',
      '/rest/v1/auth',
      { user: 'alice', factor: 'auto', auto: 'push1' },
      { authorization: forPreauth },
    );
    assert.equal(moved.status, 401);
    assert.equal(moved.body.code, 40103);
  });

  it('app set --no-allow-v1-signature turns it off, --allow-v1-signature on again', async () => {
    const off = await airlockJson<AppKeys>([
      'app',
      'set',
      'duo-proxy',
      '--no-allow-v1-signature',
      ...data(),
    ]);
    assert.equal(off.allow_v1_signature, false);
    const on = await airlockJson<AppKeys>(['app', 'set', 'vpn', '--allow-v1-signature', ...data()]);
    assert.equal(on.allow_v1_signature, true);
    // The service caches each application for a second: wait for both changes rather than guess
    // (each entry expires on its own, so seeing one change does not mean the other is seen).
    const refused = await checkUntil(proxyApp, 403, 'v1 refused for duo-proxy');
    assert.equal(refused.status, 403);
    const allowed = await checkUntil(plainApp, 200, 'v1 allowed for vpn');
    assert.deepEqual(ok(allowed), 'valid');
    await airlock(['app', 'set', 'duo-proxy', '--allow-v1-signature', ...data()]);
    await airlock(['app', 'set', 'vpn', '--no-allow-v1-signature', ...data()]);
  });

  it('decides with the same lockout and audit as /auth/v2', async () => {
    // Wait out the application cache after the previous test's changes.
    await checkUntil(proxyApp, 200, 'signature v1 allowed again for duo-proxy');
    await checkUntil(plainApp, 403, 'signature v1 refused again for vpn');
    let last: Record<string, unknown> = {};
    for (let n = 0; n < LOCKOUT_THRESHOLD; n++) {
      last = ok(
        await call(proxyApp, 'POST', '/rest/v1/auth', {
          user: 'bob',
          factor: 'auto',
          auto: '000000',
          ipaddr: '192.0.2.44',
        }),
      );
      assert.equal(last.result, 'deny');
    }
    assert.equal(last.status, 'Too many failed attempts. Your account is locked out.');
    const preauth = ok(await call(proxyApp, 'POST', '/rest/v1/preauth', { user: 'bob' }));
    assert.deepEqual(preauth, { result: 'deny', status: 'Your account is locked out.' });
    const events = await airlockJson<
      { action: string; username: string; ip: string; result: string }[]
    >(['audit', '--user', 'bob', ...data()]);
    const lockout = events.find((e) => e.action === 'user.lockout');
    assert.ok(lockout, JSON.stringify(events));
    assert.equal(lockout.ip, '192.0.2.44');
    assert.ok(events.some((e) => e.action === 'auth.preauth' && e.result === 'deny'));
  });

  it('accepts signature v2 (with a date) on /rest/v1 for any application, and v1 with a Date header', async () => {
    // Duo's Node client signs v2, as Duo's Auth API v1 client library does.
    const routing = routeDuoClients(service.port, caPem);
    try {
      const r = await duoClient(plainApp)('POST', '/rest/v1/preauth', { user: 'alice' });
      assert.equal(r.stat, 'OK', JSON.stringify(r));
      assert.equal((r.response as { result: string }).result, 'auth');
    } finally {
      routing.close();
    }
    // duo_client_python sends a Date header with any signature version, v1 too.
    const withDate = await call(
      proxyApp,
      'POST',
      '/rest/v1/preauth',
      { user: 'alice' },
      { extraHeaders: { Date: new Date().toUTCString() } },
    );
    assert.equal(withDate.status, 200, JSON.stringify(withDate.body));
    const refused = await call(
      plainApp,
      'POST',
      '/rest/v1/preauth',
      { user: 'alice' },
      { extraHeaders: { Date: new Date().toUTCString() } },
    );
    assert.equal(refused.status, 403);
  });

  it("spends the application's rate limit like /auth/v2", async () => {
    const limited = await airlockJson<AppKeys>([
      'app',
      'create',
      'limited-proxy',
      '--type',
      'authproxy',
      '--rate-limit',
      '1',
      ...data(),
    ]);
    const statuses: number[] = [];
    for (let n = 0; n < 4; n++) {
      const r = await call(limited, 'POST', '/rest/v1/preauth', { user: 'alice' });
      statuses.push(r.status);
      if (r.status === 429) assert.equal(r.body.code, 42901);
    }
    assert.ok(statuses.includes(429), `no 429 in ${statuses.join(',')}`);
  });

  it('answers ping (unsigned) and check', async () => {
    assert.equal(
      ok(await call(proxyApp, 'GET', '/rest/v1/ping', {}, { authorization: '' })),
      'pong',
    );
    assert.equal(ok(await call(proxyApp, 'GET', '/rest/v1/check', {})), 'valid');
  });
});
