// Push logins end to end: Duo's own client starts them, our device client (the authenticator's
// core) receives and answers them over the signed device API.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TOTP } from 'otpauth';
import {
  DeviceApiError,
  DeviceClient,
  newDeviceKey,
  type LoginRequest,
} from '../../src/authenticator/device-client.ts';
import type { Application } from '../../src/core/model.ts';
import { CryptoRandom, generateId } from '../../src/runtime/random.ts';
import { startService, type Harness } from './service-harness.ts';

interface Phone {
  deviceId: string;
  userId: string;
  privateKey: KeyObject;
  totp: { secret: string; digits: number; period: number; algorithm: string };
}

describe('push to the Airlock authenticator', () => {
  let h: Harness;
  let devices: DeviceClient;
  let app: Application;

  before(async () => {
    h = await startService({ authStatusWaitSeconds: 1 });
    devices = new DeviceClient({ apiHost: `localhost:${h.port}`, caPem: h.caPem });
    app = await h.createApp();
  });
  after(async () => {
    devices.close();
    await h.close();
  });

  /** A user with one activated authenticator (activation made as `airlock device enroll` does). */
  async function userWithPhone(username: string): Promise<Phone> {
    const { id } = await h.createUser(username);
    const code = generateId(new CryptoRandom(), '', 20);
    await h.store.createDeviceActivation({
      activationCode: code,
      userId: id,
      expiresAtMs: h.clock.nowMs() + 60_000,
    });
    const key = newDeviceKey();
    const activated = await devices.activate({
      activationCode: code,
      publicJwk: key.publicJwk,
      name: `${username}'s phone`,
      platform: 'cli',
    });
    assert.equal(activated.userId, id);
    return {
      deviceId: activated.deviceId,
      userId: id,
      privateKey: key.privateKey,
      totp: activated.totp,
    };
  }

  async function nextRequest(phone: Phone): Promise<LoginRequest> {
    const requests = await devices.requests(phone, 10);
    assert.equal(requests.length, 1, 'one pending request');
    return requests[0]!;
  }

  it('lists the activated device in preauth with push and mobile_otp, and offers push1 to Duo Unix', async () => {
    const phone = await userWithPhone('pre-alice');
    const r = await h.duo(app)('POST', '/auth/v2/preauth', {
      username: 'pre-alice',
      text_prompt: '1',
    });
    const response = r.response as {
      result: string;
      devices: { device: string; capabilities: string[]; name: string }[];
      prompt: { text: string; factors: Record<string, string> };
    };
    assert.equal(response.result, 'auth');
    assert.deepEqual(response.devices, [
      {
        device: phone.deviceId,
        type: 'phone',
        number: '',
        name: "pre-alice's phone",
        display_name: "pre-alice's phone",
        capabilities: ['auto', 'push', 'mobile_otp'],
      },
    ]);
    assert.deepEqual(response.prompt.factors, { '1': 'push1', default: 'push1' });
    assert.match(response.prompt.text, /1\. Push to pre-alice's phone/);
  });

  it('allows a sync push the device approves, after showing it the login context', async () => {
    const phone = await userWithPhone('sync-bob');
    const login = h.duo(app)('POST', '/auth/v2/auth', {
      username: 'sync-bob',
      factor: 'push',
      device: 'auto',
      ipaddr: '198.51.100.7',
      hostname: 'vpn-gw-1',
      pushinfo: 'Server=vpn1&Command=ssh+login',
    });
    const request = await nextRequest(phone);
    assert.equal(request.application, app.name);
    assert.equal(request.username, 'sync-bob');
    assert.equal(request.ipaddr, '198.51.100.7');
    assert.equal(request.hostname, 'vpn-gw-1');
    assert.deepEqual(request.pushinfo, [
      ['Server', 'vpn1'],
      ['Command', 'ssh login'],
    ]);
    assert.equal(request.verification, false);
    assert.equal(request.expires - request.time, 60);
    assert.deepEqual(await devices.answer(phone, request.txid, 'approve'), {
      result: 'allow',
      status: 'allow',
    });
    const r = await login;
    assert.deepEqual(r.response, {
      result: 'allow',
      status: 'allow',
      status_msg: 'Success. Logging you in...',
    });
    const audit = await h.store.listAudit({ username: 'sync-bob' });
    assert.deepEqual(
      audit.map((e) => [e.action, e.result, e.actor]),
      [
        ['device.activate', 'success', `device:${phone.deviceId}`],
        ['auth.push.sent', 'pushed', `app:${app.ikey}`],
        ['auth.push', 'allow', `device:${phone.deviceId}`],
      ],
    );
  });

  it('denies a push approved after the user was disabled: blocking /auth, auth_status, the device and the audit agree', async () => {
    const phone = await userWithPhone('sync-dave');
    const login = h.duo(app)('POST', '/auth/v2/auth', { username: 'sync-dave', factor: 'push' });
    const request = await nextRequest(phone);
    await h.store.setUserStatus(phone.userId, 'disabled');
    const denied = { result: 'deny', status: 'deny', status_msg: 'Your account is disabled.' };
    assert.deepEqual(await devices.answer(phone, request.txid, 'approve'), {
      result: 'deny',
      status: 'deny',
    });
    assert.deepEqual((await login).response, denied);
    const status = await h.duo(app)('GET', '/auth/v2/auth_status', { txid: request.txid });
    assert.deepEqual(status.response, { ...denied, auth_delayed: false });
    const audit = await h.store.listAudit({ username: 'sync-dave', action: 'auth.push' });
    assert.deepEqual(
      audit.map((e) => [e.result, e.detail.reason]),
      [['deny', 'user-disabled']],
    );
  });

  it('answers async pushes through auth_status: denied, and reported as fraud', async () => {
    const phone = await userWithPhone('async-carol');
    for (const [answer, status, msg] of [
      ['deny', 'deny', 'Login request denied.'],
      ['fraud', 'fraud', 'Login request reported as fraudulent.'],
    ] as const) {
      const started = await h.duo(app)('POST', '/auth/v2/auth', {
        username: 'async-carol',
        factor: 'auto',
        async: '1',
      });
      const { txid } = started.response as { txid: string };
      const request = await nextRequest(phone);
      assert.equal(request.txid, txid);
      const poll = h.duo(app)('GET', '/auth/v2/auth_status', { txid });
      await devices.answer(phone, txid, answer);
      assert.deepEqual((await poll).response, {
        result: 'deny',
        status,
        status_msg: msg,
        auth_delayed: false,
      });
    }
    const fraud = await h.store.listAudit({ username: 'async-carol', action: 'auth.push.fraud' });
    assert.equal(fraud.length, 1);
  });

  it('a long poll gets a push offered while it read the store, without waiting out its wait', async () => {
    const phone = await userWithPhone('race-erin');
    const store = h.store;
    const read = store.listPendingOobRequests.bind(store);
    let txid: string | undefined;
    let readThroughWrapper = false;
    // The poll's first read finds nothing; the push is started and offered right after that read,
    // before the poll waits (a push arriving in that gap waited out the whole long poll).
    store.listPendingOobRequests = async (deviceId, nowMs) => {
      store.listPendingOobRequests = read;
      readThroughWrapper = true;
      const nothingYet = await read(deviceId, nowMs);
      const started = await h.duo(app)('POST', '/auth/v2/auth', {
        username: 'race-erin',
        factor: 'push',
        async: '1',
      });
      ({ txid } = started.response as { txid: string });
      return nothingYet;
    };
    const pollStarted = performance.now();
    const requests = await devices.requests(phone, 5);
    const pollMs = performance.now() - pollStarted;
    assert.ok(readThroughWrapper, 'the poll read through the wrapper');
    assert.deepEqual(
      requests.map((r) => r.txid),
      [txid],
    );
    assert.ok(pollMs < 2_500, `the poll took ${Math.round(pollMs)} ms of its 5 s wait`);
    await devices.answer(phone, txid!, 'deny');
  });

  it('says "pushed" while waiting, then "Login timed out." after 60 s; a late answer is refused', async () => {
    const phone = await userWithPhone('late-dave');
    const started = await h.duo(app)('POST', '/auth/v2/auth', {
      username: 'late-dave',
      factor: 'push',
      async: '1',
    });
    const { txid } = started.response as { txid: string };
    const waiting = await h.duo(app)('GET', '/auth/v2/auth_status', { txid });
    assert.deepEqual(waiting.response, {
      result: 'waiting',
      status: 'pushed',
      status_msg: 'Pushed a login request to your device...',
      auth_delayed: false,
    });
    const request = await nextRequest(phone);
    h.clock.advance(60_000);
    assert.equal(await h.service.push.sweep(h.clock.nowMs()), 1);
    const timedOut = await h.duo(app)('GET', '/auth/v2/auth_status', { txid });
    assert.deepEqual(timedOut.response, {
      result: 'deny',
      status: 'timeout',
      status_msg: 'Login timed out.',
      auth_delayed: false,
    });
    await assert.rejects(devices.answer(phone, request.txid, 'approve'), isBadTxid);
    assert.deepEqual(await devices.requests(phone), []);
  });

  it('rejects forged answers: another key, another device, a replay, a skewed date', async () => {
    const victim = await userWithPhone('forge-erin');
    const attacker = await userWithPhone('forge-mallory');
    const login = h.duo(app)('POST', '/auth/v2/auth', {
      username: 'forge-erin',
      factor: 'push',
      async: '1',
    });
    const { txid } = (await login).response as { txid: string };
    // The victim's device id, signed with a key that is not the victim's.
    const wrongKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await assert.rejects(
      devices.answer({ deviceId: victim.deviceId, privateKey: wrongKey }, txid, 'approve'),
      (err: unknown) => err instanceof DeviceApiError && err.httpStatus === 401,
    );
    // A genuine device of another user: the transaction is not theirs.
    await assert.rejects(devices.answer(attacker, txid, 'approve'), isBadTxid);
    // An unknown device id.
    await assert.rejects(
      devices.answer({ deviceId: 'DVAAAAAAAAAAAAAAAAAA', privateKey: wrongKey }, txid, 'approve'),
      (err: unknown) => err instanceof DeviceApiError && err.httpStatus === 401,
    );
    // The real answer works once; the same answer again is refused.
    await devices.answer(victim, txid, 'deny');
    await assert.rejects(devices.answer(victim, txid, 'approve'), isBadTxid);
    const status = await h.duo(app)('GET', '/auth/v2/auth_status', { txid });
    assert.equal((status.response as { status: string }).status, 'deny');
    // A signature made with a date outside the window.
    h.clock.advance(400_000);
    try {
      await assert.rejects(
        devices.requests(victim),
        (err: unknown) => err instanceof DeviceApiError && err.code === 40105,
      );
    } finally {
      h.clock.advance(-400_000);
    }
  });

  it('verified push: the prompt shows a code; approving without it denies, with it allows', async () => {
    const verifiedApp = await h.createApp({ verifiedPush: true });
    const phone = await userWithPhone('verified-frank');
    const sync = await h.duo(verifiedApp)('POST', '/auth/v2/auth', {
      username: 'verified-frank',
      factor: 'push',
    });
    assert.equal(sync.stat, 'FAIL');
    assert.equal(sync.message_detail, 'verified push needs async=1');

    const tryWith = async (code: (shown: string) => string | undefined) => {
      const started = await h.duo(verifiedApp)('POST', '/auth/v2/auth', {
        username: 'verified-frank',
        factor: 'push',
        async: '1',
      });
      const { txid } = started.response as { txid: string };
      const pending = await h.duo(verifiedApp)('GET', '/auth/v2/auth_status', { txid });
      const msg = (pending.response as { status_msg: string }).status_msg;
      const shown = /verification code ([0-9]{3})/.exec(msg)?.[1];
      assert.ok(shown, `status_msg shows the code: ${msg}`);
      const request = await nextRequest(phone);
      assert.equal(request.verification, true);
      return devices.answer(phone, txid, 'approve', code(shown));
    };
    assert.equal((await tryWith(() => undefined)).result, 'deny');
    assert.equal(
      (await tryWith((c) => String((Number(c) + 1) % 1000).padStart(3, '0'))).result,
      'deny',
    );
    assert.equal((await tryWith((c) => c)).result, 'allow');
    const wrong = await h.store.listAudit({ username: 'verified-frank', action: 'auth.push' });
    assert.equal(wrong.filter((e) => e.detail.reason === 'wrong-verification-code').length, 2);
  });

  it('accepts the passcode the authenticator shows (mobile_otp), once', async () => {
    const phone = await userWithPhone('otp-grace');
    const passcode = new TOTP({
      secret: phone.totp.secret,
      digits: phone.totp.digits,
      period: phone.totp.period,
      algorithm: phone.totp.algorithm,
    }).generate({ timestamp: h.clock.nowMs() });
    const first = await h.duo(app)('POST', '/auth/v2/auth', {
      username: 'otp-grace',
      factor: 'passcode',
      passcode,
    });
    assert.equal((first.response as { result: string }).result, 'allow');
    const again = await h.duo(app)('POST', '/auth/v2/auth', {
      username: 'otp-grace',
      factor: 'passcode',
      passcode,
    });
    assert.equal((again.response as { result: string }).result, 'deny');
  });

  it('an activation code works once; an unknown one gets the same answer', async () => {
    const { id } = await h.createUser('once-heidi');
    await h.store.createDeviceActivation({
      activationCode: 'ONCEHEIDI00000000000',
      userId: id,
      expiresAtMs: h.clock.nowMs() + 60_000,
    });
    const key = newDeviceKey();
    const activate = () =>
      devices.activate({
        activationCode: 'duo://ONCEHEIDI00000000000-bG9jYWxob3N0',
        publicJwk: key.publicJwk,
        name: 'p',
        platform: 'web',
      });
    await activate();
    for (const attempt of [
      activate,
      () =>
        devices.activate({
          activationCode: 'NOSUCHCODE0000000000',
          publicJwk: key.publicJwk,
          name: 'p',
          platform: 'web',
        }),
    ]) {
      await assert.rejects(
        attempt(),
        (err: unknown) => err instanceof DeviceApiError && err.detail === 'activation_code',
      );
    }
    await assert.rejects(
      devices.activate({
        activationCode: 'NOSUCHCODE0000000000',
        publicJwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'BB' },
        name: 'p',
        platform: 'web',
      }),
      (err: unknown) => err instanceof DeviceApiError && err.detail === 'public_key',
    );
  });

  it('/enroll then activation turns enroll_status to success', async () => {
    const enrolled = await h.duo(app)('POST', '/auth/v2/enroll', { username: 'enroll-ivan' });
    const e = enrolled.response as { activation_code: string; user_id: string };
    const before = await h.duo(app)('POST', '/auth/v2/enroll_status', {
      user_id: e.user_id,
      activation_code: e.activation_code,
    });
    assert.equal(before.response, 'waiting');
    await devices.activate({
      activationCode: e.activation_code,
      publicJwk: newDeviceKey().publicJwk,
      name: 'p',
      platform: 'cli',
    });
    const afterward = await h.duo(app)('POST', '/auth/v2/enroll_status', {
      user_id: e.user_id,
      activation_code: e.activation_code,
    });
    assert.equal(afterward.response, 'success');
  });

  it('ends a push at the push_timeout its caller sent (Airlock extension), never later than its own', async () => {
    const phone = await userWithPhone('ttl-erin');
    for (const [sent, lives, loginKey] of [
      ['7', 7, undefined],
      ['3600', 60, undefined],
      // A proxy of a pair may join a keyed push later and wait from then: the service's timeout.
      ['7', 60, 'ttl-erin-login-key-0001'],
    ] as const) {
      const started = await h.duo(app)('POST', '/auth/v2/auth', {
        username: 'ttl-erin',
        factor: 'push',
        device: 'auto',
        async: '1',
        push_timeout: sent,
        ...(loginKey ? { login_key: loginKey } : {}),
      });
      assert.equal(started.stat, 'OK', JSON.stringify(started));
      const request = await nextRequest(phone);
      assert.equal(request.expires - request.time, lives, `push_timeout=${sent}`);
      await devices.answer(phone, request.txid, 'deny');
    }
  });

  it('refuses a push_timeout that is not a whole number of seconds from 1 to 3600', async () => {
    await userWithPhone('ttl-frank');
    for (const value of ['0', '3601', '1.5', 'soon', '']) {
      const r = await h.duo(app)('POST', '/auth/v2/auth', {
        username: 'ttl-frank',
        factor: 'push',
        device: 'auto',
        async: '1',
        push_timeout: value,
      });
      assert.equal(r.stat, 'FAIL', `push_timeout=${value}`);
      assert.equal(r.code, 40002);
      assert.match(String(r.message_detail), /push_timeout must be a whole number/);
    }
  });

  it('no device: push answers "no capable device"', async () => {
    await h.createUser('nodevice-judy', { totp: true });
    const r = await h.duo(app)('POST', '/auth/v2/auth', {
      username: 'nodevice-judy',
      factor: 'push',
    });
    assert.equal(r.stat, 'FAIL');
    assert.equal(r.code, 40002);
    assert.equal(r.message_detail, 'no capable device');
  });
});

describe('push fatigue: the per-user push budget', () => {
  it('denies pushes beyond the burst and says when to retry', async () => {
    const h = await startService({ pushBurst: 2, pushRatePerMinute: 1, authStatusWaitSeconds: 1 });
    const devices = new DeviceClient({ apiHost: `localhost:${h.port}`, caPem: h.caPem });
    try {
      const app = await h.createApp();
      const { id } = await h.createUser('tired-kim');
      await h.store.createDeviceActivation({
        activationCode: 'TIREDKIM000000000000',
        userId: id,
        expiresAtMs: h.clock.nowMs() + 60_000,
      });
      await devices.activate({
        activationCode: 'TIREDKIM000000000000',
        publicJwk: newDeviceKey().publicJwk,
        name: 'p',
        platform: 'cli',
      });
      const push = () =>
        h.duo(app)('POST', '/auth/v2/auth', { username: 'tired-kim', factor: 'push', async: '1' });
      for (let i = 0; i < 2; i++) assert.equal((await push()).stat, 'OK');
      const third = await push();
      const { txid } = third.response as { txid: string };
      const status = (await h.duo(app)('GET', '/auth/v2/auth_status', { txid })).response as {
        result: string;
        status_msg: string;
      };
      assert.equal(status.result, 'deny');
      assert.match(status.status_msg, /Too many login requests\. Wait [0-9]+ seconds/);
      h.clock.advance(60_000);
      const later = await push();
      const laterStatus = await h.duo(app)('GET', '/auth/v2/auth_status', {
        txid: (later.response as { txid: string }).txid,
      });
      assert.equal((laterStatus.response as { status: string }).status, 'pushed');
    } finally {
      devices.close();
      await h.close();
    }
  });
});

function isBadTxid(err: unknown): boolean {
  return err instanceof DeviceApiError && err.code === 40002 && err.detail === 'txid';
}
