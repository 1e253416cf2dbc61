// SMS passcodes and phone calls through the Twilio-compatible provider, against a local stand-in
// of the carrier (a real HTTP server); a failing provider turns its factor degraded.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeviceClient, newDeviceKey } from '../../src/authenticator/device-client.ts';
import type { Application } from '../../src/core/model.ts';
import { parseFactorsConfig } from '../../src/factors/factors-config.ts';
import { generateId, CryptoRandom } from '../../src/runtime/random.ts';
import { startProviderStandin, type ProviderStandin } from '../support/provider-standin.ts';
import { startService, type Harness } from './service-harness.ts';

const ACCOUNT = 'AC00000000000000000000000000000001';
const TOKEN = 'standin-auth-token-0123456789';

describe('SMS and phone factors through a Twilio-compatible provider', () => {
  let carrier: ProviderStandin;
  let h: Harness;
  let app: Application;

  before(async () => {
    carrier = await startProviderStandin({ accountSid: ACCOUNT, authToken: TOKEN });
    const twilio = {
      provider: 'twilio',
      accountSid: ACCOUNT,
      authToken: TOKEN,
      from: '+15555550100',
      baseUrl: carrier.baseUrl,
      timeoutMs: 1000,
    };
    const parsed = parseFactorsConfig({
      sms: twilio,
      phone: twilio,
      health: { minSamples: 3, windowSize: 10, maxFailureRate: 0.5, recoverySeconds: 60 },
      smsPasscodes: { count: 3, validSeconds: 600 },
    });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    h = await startService({ authStatusWaitSeconds: 1, factors: parsed.config });
    app = await h.createApp();
  });
  after(async () => {
    await h?.close();
    await carrier?.close();
  });

  async function userWithPhone(username: string, number: string): Promise<string> {
    const { id } = await h.createUser(username);
    const device = await h.store.createDevice({
      id: generateId(new CryptoRandom(), 'DP'),
      userId: id,
      name: 'mobile',
      platform: 'phone',
      phoneNumber: number,
    });
    return device.id;
  }

  it('lists a phone number with sms and phone, masked, and counts it as enrolled', async () => {
    const deviceId = await userWithPhone('pia', '+15551230100');
    const r = await h.duo(app)('POST', '/auth/v2/preauth', { username: 'pia' });
    const response = r.response as { result: string; devices: Record<string, unknown>[] };
    assert.equal(response.result, 'auth');
    assert.deepEqual(response.devices, [
      {
        device: deviceId,
        type: 'phone',
        number: 'XXX-XXX-0100',
        name: 'mobile',
        display_name: 'mobile (XXX-XXX-0100)',
        capabilities: ['auto', 'sms', 'phone'],
      },
    ]);
  });

  it('sends SMS passcodes ("sent"), names the next one in preauth, and accepts each once', async () => {
    await userWithPhone('sam', '+15551230101');
    const before = carrier.messages.length;
    const sent = await h.duo(app)('POST', '/auth/v2/auth', { username: 'sam', factor: 'sms' });
    assert.deepEqual(sent.response, {
      result: 'deny',
      status: 'sent',
      status_msg: 'New SMS passcodes sent.',
    });
    const message = carrier.messages[before];
    assert.ok(message, 'the carrier got the SMS');
    assert.equal(message.to, '+15551230101');
    assert.equal(message.from, '+15555550100');
    const codes = [...message.body.matchAll(/[1-3]\. ([0-9]{7})/g)].map((m) => m[1]!);
    assert.equal(codes.length, 3);
    const pre = await h.duo(app)('POST', '/auth/v2/preauth', { username: 'sam' });
    const device = (pre.response as { devices: { sms_nextcode?: string }[] }).devices[0];
    assert.equal(device?.sms_nextcode, codes[0]!.charAt(0));
    const use = (passcode: string) =>
      h.duo(app)('POST', '/auth/v2/auth', { username: 'sam', factor: 'passcode', passcode });
    assert.equal(((await use(codes[0]!)).response as { result: string }).result, 'allow');
    assert.equal(((await use(codes[0]!)).response as { result: string }).result, 'deny');
    assert.equal(((await use(codes[2]!)).response as { result: string }).result, 'allow');
    // A new batch replaces the rest of the old one.
    await h.duo(app)('POST', '/auth/v2/auth', { username: 'sam', factor: 'sms' });
    assert.equal(((await use(codes[1]!)).response as { result: string }).result, 'deny');
  });

  it('calls the user; key 1 approves, 9 reports fraud, no key denies', async () => {
    await userWithPhone('paul', '+15551230102');
    for (const [digits, result, status] of [
      ['1', 'allow', 'allow'],
      ['9', 'deny', 'fraud'],
      [undefined, 'deny', 'deny'],
    ] as const) {
      const started = await h.duo(app)('POST', '/auth/v2/auth', {
        username: 'paul',
        factor: 'phone',
        async: '1',
      });
      const { txid } = started.response as { txid: string };
      const calling = await h.duo(app)('GET', '/auth/v2/auth_status', { txid });
      assert.deepEqual(calling.response, {
        result: 'waiting',
        status: 'calling',
        status_msg: 'Dialing XXX-XXX-0102...',
        auth_delayed: false,
      });
      const call = carrier.calls.at(-1)!;
      assert.equal(call.to, '+15551230102');
      assert.match(call.twiml ?? '', /Press 1 to approve/);
      const callback = await carrier.answerCall(call.sid, {
        ...(digits === undefined ? {} : { digits }),
        caPem: h.caPem,
      });
      assert.equal(callback.status, 200, callback.bodyText);
      assert.match(callback.bodyText, /<Response><Say>/);
      const done = await h.duo(app)('GET', '/auth/v2/auth_status', { txid });
      assert.deepEqual(
        [
          (done.response as { result: string }).result,
          (done.response as { status: string }).status,
        ],
        [result, status],
      );
      // The callback is single use.
      const again = await carrier.answerCall(call.sid, { digits: '1', caPem: h.caPem });
      assert.equal(again.status, 400);
    }
  });

  for (const blocked of ['disabled', 'locked out'] as const) {
    it(`denies an approved call when the user was ${blocked} during it: blocking /auth and auth_status agree`, async () => {
      const username = blocked === 'disabled' ? 'dina' : 'lou';
      const user = await h.createUser(username);
      await h.store.createDevice({
        id: generateId(new CryptoRandom(), 'DP'),
        userId: user.id,
        name: 'mobile',
        platform: 'phone',
        phoneNumber: '+15551230105',
      });
      const placed = carrier.nextCall();
      // A blocking login: it waits for the key press.
      const login = h.duo(app)('POST', '/auth/v2/auth', { username, factor: 'phone' });
      const call = await placed;
      await h.store.setUserStatus(user.id, blocked);
      const callback = await carrier.answerCall(call.sid, { digits: '1', caPem: h.caPem });
      assert.equal(callback.status, 200, callback.bodyText);
      assert.match(callback.bodyText, /The login was denied\./);
      const answer = (await login).response as {
        result: string;
        status: string;
        status_msg: string;
      };
      assert.equal(answer.result, 'deny', JSON.stringify(answer));
      const audit = await h.store.listAudit({ action: 'auth.phone', username, limit: 10 });
      const txid = audit[0]?.detail.txid;
      assert.equal(typeof txid, 'string');
      assert.equal(audit[0]?.result, 'deny');
      assert.equal(audit[0]?.detail.reason, `user-${blocked}`);
      const status = await h.duo(app)('GET', '/auth/v2/auth_status', { txid });
      assert.deepEqual(status.response, { ...answer, auth_delayed: false });
    });
  }

  it('refuses a callback with a bad signature or a wrong token', async () => {
    await userWithPhone('pete', '+15551230103');
    const started = await h.duo(app)('POST', '/auth/v2/auth', {
      username: 'pete',
      factor: 'phone',
      async: '1',
    });
    const { txid } = started.response as { txid: string };
    const call = carrier.calls.at(-1)!;
    const good = /action="([^"]+)"/.exec(call.twiml ?? '')?.[1]?.replace(/&amp;/g, '&');
    assert.ok(good);
    const post = async (url: string, signature: string) => {
      const res = await fetchWithCa(url, signature, 'Digits=1', h.caPem);
      return res.status;
    };
    assert.equal(await post(good, 'bm90LWEtc2lnbmF0dXJl'), 400);
    assert.equal(await post(good.replace(/token=[^&]+/, 'token=forged'), 'x'), 400);
    const status = await h.duo(app)('GET', '/auth/v2/auth_status', { txid });
    assert.equal((status.response as { result: string }).result, 'waiting');
  });

  it('a failing SMS provider turns sms degraded: preauth says so and auto picks push', async () => {
    const { id } = await h.createUser('dora');
    await h.store.createDevice({
      id: generateId(new CryptoRandom(), 'DP'),
      userId: id,
      name: 'mobile',
      platform: 'phone',
      phoneNumber: '+15551230104',
    });
    // dora also has an authenticator, activated after the phone number.
    await h.store.createDeviceActivation({
      activationCode: 'DORA0000000000000000',
      userId: id,
      expiresAtMs: h.clock.nowMs() + 60_000,
    });
    const devices = new DeviceClient({ apiHost: `localhost:${h.port}`, caPem: h.caPem });
    try {
      await devices.activate({
        activationCode: 'DORA0000000000000000',
        publicJwk: newDeviceKey().publicJwk,
        name: 'authenticator',
        platform: 'cli',
      });
      carrier.failAll('http-500');
      for (let i = 0; i < 3; i++) {
        const r = await h.duo(app)('POST', '/auth/v2/auth', { username: 'dora', factor: 'sms' });
        assert.equal((r.response as { status: string }).status, 'deny');
      }
      carrier.failAll(undefined);
      const health = await fetchJson(`https://localhost:${h.port}/status/v1/factors`, h.caPem);
      const sms = (
        health.response as { factors: { factor: string; state: string }[] }
      ).factors.find((f) => f.factor === 'sms');
      assert.equal(sms?.state, 'degraded');
      const pre = await h.duo(app)('POST', '/auth/v2/preauth', { username: 'dora' });
      const response = pre.response as {
        status_msg: string;
        devices: { capabilities: string[] }[];
      };
      assert.equal(
        response.status_msg,
        'SMS is having problems — use push, a phone call or a passcode.',
      );
      assert.deepEqual(response.devices[0]?.capabilities, ['auto', 'phone', 'sms']);
      // factor=auto: the phone number is the first device, but push (healthy) is preferred.
      const auto = await h.duo(app)('POST', '/auth/v2/auth', {
        username: 'dora',
        factor: 'auto',
        async: '1',
      });
      const { txid } = auto.response as { txid: string };
      const status = await h.duo(app)('GET', '/auth/v2/auth_status', { txid });
      assert.equal((status.response as { status: string }).status, 'pushed');
      const metrics = await h.service.metrics.metrics();
      assert.match(metrics, /airlock_factor_degraded\{factor="sms",provider="twilio"\} 1/);
    } finally {
      devices.close();
    }
  });
});

async function fetchWithCa(url: string, signature: string, body: string, caPem: string) {
  const { request } = await import('node:https');
  return new Promise<{ status: number }>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: caPem,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function fetchJson(url: string, caPem: string): Promise<{ response: unknown }> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: caPem }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(JSON.parse(text) as { response: unknown }));
    });
    req.on('error', reject);
    req.end();
  });
}
