// Drives every Auth API v2 endpoint of the real service with Duo's official Node client (v2 and v5).
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { signRequest } from '../../src/protocol/duo-signature.ts';
import { API_HOST, IT_BACKEND, startService, totpAt, type Harness } from './service-harness.ts';

let h: Harness;
before(async () => {
  h = await startService();
});
after(async () => {
  await h?.close();
});

for (const sig of [2, 5] as const) {
  describe(`Auth API with Duo's client, signature v${sig}, on ${IT_BACKEND}`, () => {
    it('answers ping without credentials', async () => {
      const app = await h.createApp();
      const res = await h.duo(app, sig)('GET', '/auth/v2/ping');
      assert.equal(res.stat, 'OK');
      assert.equal((res.response as { time: number }).time, Math.floor(h.clock.nowMs() / 1000));
    });

    it('answers check with the server time for good credentials', async () => {
      const app = await h.createApp();
      const res = await h.duo(app, sig)('GET', '/auth/v2/check');
      assert.deepEqual(res, { stat: 'OK', response: { time: Math.floor(h.clock.nowMs() / 1000) } });
    });

    it('rejects a bad signature with 40103', async () => {
      const app = await h.createApp();
      const res = await h.duo({ ...app, skey: 'x'.repeat(40) }, sig)('GET', '/auth/v2/check');
      assert.equal(res.stat, 'FAIL');
      assert.equal(res.code, 40103);
    });

    it('rejects an unknown ikey with 40102', async () => {
      const app = await h.createApp();
      const res = await h.duo({ ...app, ikey: 'DIXXXXXXXXXXXXXXXXXX' }, sig)(
        'POST',
        '/auth/v2/preauth',
        { username: 'x' },
      );
      assert.equal(res.code, 40102);
    });

    it('rejects a date outside the 300 s window with 40105', async () => {
      const app = await h.createApp();
      const real = h.clock.nowMs();
      // Duo's client dates its request by the wall clock, which has moved on since the harness
      // fixed the service clock: measure the window from the wall clock.
      h.clock.set(Date.now() + 301_000);
      try {
        const res = await h.duo(app, sig)('GET', '/auth/v2/check');
        assert.equal(res.code, 40105);
      } finally {
        h.clock.set(real);
      }
    });

    it('answers logo with 40002 when no logo is configured', async () => {
      const app = await h.createApp();
      const res = await h.duo(app, sig)('GET', '/auth/v2/logo');
      assert.equal(res.stat, 'FAIL');
      assert.equal(res.code, 40002);
    });

    it('requires authentication of an enrolled user and accepts a TOTP code once', async () => {
      const app = await h.createApp();
      const user = await h.createUser(`alice-v${sig}`, { totp: true });
      const call = h.duo(app, sig);
      const pre = await call('POST', '/auth/v2/preauth', { username: `alice-v${sig}` });
      assert.equal(pre.stat, 'OK');
      assert.equal((pre.response as { result: string }).result, 'auth');
      const code = totpAt(user.totp!, h.clock);
      const ok = await call('POST', '/auth/v2/auth', {
        username: `alice-v${sig}`,
        factor: 'passcode',
        passcode: code,
      });
      assert.deepEqual(ok.response, {
        result: 'allow',
        status: 'allow',
        status_msg: 'Success. Logging you in...',
      });
      const replay = await call('POST', '/auth/v2/auth', {
        username: `alice-v${sig}`,
        factor: 'passcode',
        passcode: code,
      });
      assert.equal(
        (replay.response as { result: string }).result,
        'deny',
        'a replayed TOTP code must be refused',
      );
      const events = await h.store.listAudit({
        username: `alice-v${sig}`,
        action: 'auth.passcode',
      });
      assert.deepEqual(
        events.map((e) => [e.result, e.detail.reason ?? e.detail.method]),
        [
          ['allow', 'totp'],
          ['deny', 'replayed'],
        ],
      );
    });

    it('runs an async passcode authentication and reports it through auth_status', async () => {
      const app = await h.createApp();
      const user = await h.createUser(`async-v${sig}`, { totp: true });
      const call = h.duo(app, sig);
      const started = await call('POST', '/auth/v2/auth', {
        username: `async-v${sig}`,
        factor: 'passcode',
        passcode: totpAt(user.totp!, h.clock),
        async: '1',
      });
      const txid = (started.response as { txid: string }).txid;
      assert.match(txid, /^[0-9a-f-]{36}$/);
      const status = await call('GET', '/auth/v2/auth_status', { txid });
      assert.deepEqual(status.response, {
        result: 'allow',
        status: 'allow',
        status_msg: 'Success. Logging you in...',
        auth_delayed: false,
      });
      const other = await h.createApp();
      const foreign = await h.duo(other, sig)('GET', '/auth/v2/auth_status', { txid });
      assert.equal(foreign.code, 40002, "another application's txid is unknown");
    });

    it('accepts a bypass code for its number of uses', async () => {
      const app = await h.createApp();
      await h.createUser(`bypass-code-v${sig}`);
      await h.addBypassCodes(`bypass-code-v${sig}`, ['123456789'], 1);
      const call = h.duo(app, sig);
      const pre = await call('POST', '/auth/v2/preauth', { username: `bypass-code-v${sig}` });
      assert.equal(
        (pre.response as { result: string }).result,
        'auth',
        'a user with bypass codes is enrolled',
      );
      const first = await call('POST', '/auth/v2/auth', {
        username: `bypass-code-v${sig}`,
        factor: 'passcode',
        passcode: '123456789',
      });
      assert.equal((first.response as { result: string }).result, 'allow');
      const second = await call('POST', '/auth/v2/auth', {
        username: `bypass-code-v${sig}`,
        factor: 'prompt',
        prompt: '123456789',
      });
      assert.equal((second.response as { result: string }).result, 'deny');
    });
  });
}

describe(`Auth API decisions on ${IT_BACKEND}`, () => {
  it('locks a user out after 10 failed second factors and audits it', async () => {
    const app = await h.createApp();
    const user = await h.createUser('lockme', { totp: true });
    const call = h.duo(app);
    const statuses: string[] = [];
    for (let i = 0; i < 10; i++) {
      // Two addresses: one alone is refused past its budget of 5 before it can lock the user out
      // (test/integration/lockout.test.ts).
      const res = await call('POST', '/auth/v2/auth', {
        username: 'lockme',
        factor: 'passcode',
        passcode: '000000',
        ipaddr: `198.51.100.${i % 2}`,
      });
      statuses.push((res.response as { status: string }).status);
    }
    assert.deepEqual(statuses, [...Array<string>(9).fill('deny'), 'locked_out']);
    // Even the right code is refused now.
    const after = await call('POST', '/auth/v2/auth', {
      username: 'lockme',
      factor: 'passcode',
      passcode: totpAt(user.totp!, h.clock),
    });
    assert.deepEqual(after.response, {
      result: 'deny',
      status: 'locked_out',
      status_msg: 'Your account is locked out.',
    });
    const pre = await call('POST', '/auth/v2/preauth', { username: 'lockme' });
    assert.equal((pre.response as { result: string }).result, 'deny');
    assert.equal((await h.store.findUser('lockme'))!.status, 'locked out');
    assert.equal(
      (await h.store.listAudit({ username: 'lockme', action: 'user.lockout' })).length,
      1,
    );
    assert.equal(
      (await h.store.listAudit({ username: 'lockme', action: 'auth.passcode' })).length,
      10,
    );
  });

  it('checks at most 10 guesses from a burst of concurrent ones before the lockout stops the rest', async () => {
    const app = await h.createApp();
    await h.createUser('burst', { totp: true });
    const call = h.duo(app);
    const answers = await Promise.all(
      // From six addresses, each within its budget of 5 failures, so the lockout stops them.
      Array.from({ length: 30 }, (_, i) =>
        call('POST', '/auth/v2/auth', {
          username: 'burst',
          factor: 'passcode',
          passcode: '000000',
          ipaddr: `198.51.100.${i % 6}`,
        }),
      ),
    );
    assert.ok(answers.every((a) => (a.response as { result: string }).result === 'deny'));
    const events = await h.store.listAudit({ username: 'burst', limit: 100 });
    const checked = events.filter(
      (e) => e.action === 'auth.passcode' && e.detail.reason === 'mismatch',
    );
    assert.equal(checked.length, 10, 'only 10 codes were checked');
    // The other 20 were refused for the lockout: inside the write (the status as the transaction
    // saw it) or, when they arrived later, by policy.
    const refused = events.filter(
      (e) =>
        (e.action === 'auth.passcode' && e.detail.reason === 'user-locked out') ||
        (e.action === 'auth.policy' && e.detail.reason === 'user-locked-out'),
    );
    assert.equal(refused.length, 20);
    assert.equal((await h.store.findUser('burst'))!.status, 'locked out');
  });

  it('resets the failure count after a success', async () => {
    const app = await h.createApp();
    const user = await h.createUser('resets', { totp: true });
    const call = h.duo(app);
    for (let i = 0; i < 9; i++)
      await call('POST', '/auth/v2/auth', {
        username: 'resets',
        factor: 'passcode',
        passcode: '000000',
        ipaddr: `198.51.100.${i % 2}`,
      });
    const ok = await call('POST', '/auth/v2/auth', {
      username: 'resets',
      factor: 'passcode',
      passcode: totpAt(user.totp!, h.clock),
    });
    assert.equal((ok.response as { result: string }).result, 'allow');
    const miss = await call('POST', '/auth/v2/auth', {
      username: 'resets',
      factor: 'passcode',
      passcode: '000000',
    });
    assert.equal((miss.response as { status: string }).status, 'deny');
    assert.equal((await h.store.findUser('resets'))!.status, 'active');
  });

  it('allows a bypass user without a second factor, in preauth and auth', async () => {
    const app = await h.createApp();
    await h.createUser('bypassed', { status: 'bypass' });
    const call = h.duo(app);
    const pre = await call('POST', '/auth/v2/preauth', { username: 'bypassed' });
    assert.equal((pre.response as { result: string }).result, 'allow');
    const auth = await call('POST', '/auth/v2/auth', { username: 'bypassed', factor: 'auto' });
    assert.equal((auth.response as { result: string; status: string }).status, 'bypass');
    const events = await h.store.listAudit({ username: 'bypassed' });
    assert.deepEqual(
      events.map((e) => [e.action, e.result, e.detail.reason]),
      [
        ['auth.preauth', 'allow', 'user-bypass'],
        ['auth.policy', 'allow', 'user-bypass'],
      ],
    );
  });

  it('denies a member of a disabled group even when the user is in bypass', async () => {
    await h.createGroup('contractors', 'disabled');
    const app = await h.createApp();
    await h.createUser('carl', { status: 'bypass', totp: true, groups: ['contractors'] });
    const pre = await h.duo(app)('POST', '/auth/v2/preauth', { username: 'carl' });
    assert.equal((pre.response as { result: string }).result, 'deny');
  });

  it('denies a user outside the groups an application is restricted to', async () => {
    await h.createGroup('vpn-users');
    const app = await h.createApp({ groups: ['vpn-users'] });
    await h.createUser('outsider', { totp: true });
    await h.createUser('insider', { totp: true, groups: ['vpn-users'] });
    const call = h.duo(app);
    assert.equal(
      (
        (await call('POST', '/auth/v2/preauth', { username: 'outsider' })).response as {
          result: string;
        }
      ).result,
      'deny',
    );
    assert.equal(
      (
        (await call('POST', '/auth/v2/preauth', { username: 'insider' })).response as {
          result: string;
        }
      ).result,
      'auth',
    );
  });

  for (const policy of ['enroll', 'allow', 'deny'] as const) {
    it(`answers an unknown user with the new-user policy "${policy}"`, async () => {
      const app = await h.createApp({ newUserPolicy: policy });
      const res = await h.duo(app)('POST', '/auth/v2/preauth', { username: `nobody-${policy}` });
      const response = res.response as { result: string; enroll_portal_url?: string };
      assert.equal(response.result, policy);
      if (policy === 'enroll') assert.match(response.enroll_portal_url ?? '', /^https:\/\//);
    });
  }

  it('returns a Duo Unix text prompt and accepts factor=prompt with a passcode', async () => {
    const app = await h.createApp();
    const user = await h.createUser('unixuser', { totp: true });
    const call = h.duo(app);
    const pre = await call('POST', '/auth/v2/preauth', {
      username: 'unixuser',
      text_prompt: '1',
      hostname: 'box.example',
      ipaddr: '192.0.2.7',
    });
    const prompt = (pre.response as { prompt: { text: string; factors: Record<string, string> } })
      .prompt;
    assert.match(prompt.text, /unixuser/);
    assert.deepEqual(prompt.factors, {});
    const auth = await call('POST', '/auth/v2/auth', {
      username: 'unixuser',
      factor: 'prompt',
      prompt: totpAt(user.totp!, h.clock),
      ipaddr: '192.0.2.7',
    });
    assert.equal((auth.response as { result: string }).result, 'allow');
    const push = await call('POST', '/auth/v2/auth', {
      username: 'unixuser',
      factor: 'prompt',
      prompt: 'push1',
    });
    assert.deepEqual([push.code, push.message_detail], [40002, 'no capable device']);
  });

  for (const factor of ['push', 'sms', 'phone', 'auto']) {
    it(`answers factor=${factor} with 40002 "no capable device" until that factor exists`, async () => {
      const app = await h.createApp();
      await h.createUser(`f-${factor}`, { totp: true });
      const res = await h.duo(app)('POST', '/auth/v2/auth', {
        username: `f-${factor}`,
        factor,
        device: 'auto',
      });
      assert.deepEqual(
        [res.stat, res.code, res.message_detail],
        ['FAIL', 40002, 'no capable device'],
      );
    });
  }

  it('rejects missing parameters with 40001 naming the parameter', async () => {
    const app = await h.createApp();
    const res = await h.duo(app)('POST', '/auth/v2/preauth', {});
    assert.deepEqual([res.code, res.message_detail], [40001, 'username']);
  });

  it('enrolls a new user, reports waiting, and refuses a taken username', async () => {
    const app = await h.createApp();
    const call = h.duo(app, 5);
    const res = await call('POST', '/auth/v2/enroll', { username: 'newbie', valid_secs: 600 });
    const r = res.response as Record<string, string | number>;
    assert.equal(r.username, 'newbie');
    assert.match(String(r.activation_code), /^duo:\/\/[A-Z0-9]{20}-/);
    assert.equal(r.expiration, Math.floor(h.clock.nowMs() / 1000) + 600);
    assert.match(String(r.activation_barcode), /^https:\/\/localhost\/frame\/qr\?value=/);
    const status = await call('POST', '/auth/v2/enroll_status', {
      user_id: r.user_id,
      activation_code: r.activation_code,
    });
    assert.deepEqual(status, { stat: 'OK', response: 'waiting' });
    const wrongUser = await call('POST', '/auth/v2/enroll_status', {
      user_id: 'DUXXXXXXXXXXXXXXXXXX',
      activation_code: r.activation_code,
    });
    assert.equal(wrongUser.response, 'invalid');
    const again = await call('POST', '/auth/v2/enroll', { username: 'newbie' });
    assert.deepEqual([again.code, again.message_detail], [40002, 'username']);
  });

  it("answers 429 with Retry-After and Duo's envelope when an application exceeds its rate", async () => {
    const app = await h.createApp({ rateLimitPerSecond: 1 });
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    let body = '';
    for (let i = 0; i < 3; i++) {
      const res = await rawRequest(h, 'GET', '/auth/v2/check', { ikey: app.ikey, skey: app.skey });
      statuses.push(res.status);
      if (res.status === 429)
        ({ retryAfter, body } = {
          retryAfter: res.headers['retry-after'] as string,
          body: res.body,
        });
    }
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.equal(retryAfter, '1');
    assert.deepEqual(JSON.parse(body), {
      stat: 'FAIL',
      code: 42901,
      message: 'Too many requests; retry after 1s',
    });
  });

  it('rejects a request without credentials with 40101, and counts rejections', async () => {
    const res = await rawRequest(h, 'GET', '/auth/v2/check', undefined);
    assert.equal(res.status, 401);
    assert.equal((JSON.parse(res.body) as { code: number }).code, 40101);
    const metrics = await h.service.metrics.getSingleMetricAsString(
      'airlock_authapi_rejections_total',
    );
    assert.match(metrics, /reason="AUTH_MISSING_CREDENTIALS"\} [1-9]/);
  });

  it('refuses parameters in a JSON body under a v2 signature, which does not cover the body', async () => {
    const app = await h.createApp({ newUserPolicy: 'allow' });
    // A v2 signature over no parameters, as for an enroll without a username ...
    const date = new Date(h.clock.nowMs()).toUTCString();
    const authorization = signRequest({
      ikey: app.ikey,
      skey: app.skey,
      version: 2,
      digest: 'sha512',
      method: 'POST',
      host: API_HOST,
      path: '/auth/v2/enroll',
      params: {},
      date,
    });
    // ... replayed with a JSON body the signature never saw.
    const body = JSON.stringify({ username: 'chosen-by-attacker' });
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: h.port,
          method: 'POST',
          path: '/auth/v2/enroll',
          headers: {
            Host: API_HOST,
            Date: date,
            Authorization: authorization,
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
          },
          ca: h.caPem,
          servername: API_HOST,
          agent: new https.Agent(),
        },
        (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (d: string) => (text += d));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(res.status, 401);
    assert.equal((JSON.parse(res.body) as { code: number }).code, 40103);
    assert.equal(await h.store.findUser('chosen-by-attacker'), undefined);
  });

  it("answers unknown paths with 404 40401 in Duo's envelope", async () => {
    const res = await rawRequest(h, 'GET', '/auth/v2/nope', undefined);
    assert.equal(res.status, 404);
    assert.deepEqual(JSON.parse(res.body), {
      stat: 'FAIL',
      code: 40401,
      message: 'Resource not found',
    });
  });
});

async function rawRequest(
  harness: Harness,
  method: string,
  path: string,
  credentials: { ikey: string; skey: string } | undefined,
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  const date = new Date(harness.clock.nowMs()).toUTCString();
  const headers: Record<string, string> = { Host: API_HOST, Date: date };
  if (credentials) {
    headers.Authorization = signRequest({
      ikey: credentials.ikey,
      skey: credentials.skey,
      version: 2,
      digest: 'sha512',
      method,
      host: API_HOST,
      path,
      params: {},
      date,
    });
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: harness.port,
        method,
        path,
        headers,
        ca: harness.caPem,
        servername: API_HOST,
        agent: new https.Agent(),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
