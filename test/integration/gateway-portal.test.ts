// The gateway's portal over HTTP (no nginx, no browser: the forms as a browser posts them) against
// slapd and the real service: SMS passcodes and a phone call through the carrier's stand-in, push
// through the device API's client, and steering away from a degraded push provider.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeviceClient, newDeviceKey } from '../../src/authenticator/device-client.ts';
import { parseGatewayConfig } from '../../src/config/gateway-config.ts';
import type { Application } from '../../src/core/model.ts';
import { parseFactorsConfig } from '../../src/factors/factors-config.ts';
import { CryptoRandom, generateId } from '../../src/runtime/random.ts';
import { SystemClock } from '../../src/runtime/clock.ts';
import { startGateway, type RunningGateway } from '../../src/gateway/start-gateway.ts';
import { startProviderStandin, type ProviderStandin } from '../support/provider-standin.ts';
import { startSlapd, type ExternalServer } from './external-servers.ts';
import { adClientSection } from './proxy-harness.ts';
import { startService, type Harness } from './service-harness.ts';

const PORTAL = 'https://auth.example.org';
const ACCOUNT = 'AC00000000000000000000000000000013';
const TOKEN = 'standin-auth-token-gateway-0123456789';

/** A browser's cookie jar and form posts against the gateway's plain-HTTP listener. */
class PortalBrowser {
  readonly #cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  get cookieHeader(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string, headers: Record<string, string> = {}) {
    return this.#send(path, { method: 'GET', headers });
  }

  async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    return this.#send(path, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: PORTAL,
        ...headers,
      },
      body: new URLSearchParams(form).toString(),
    });
  }

  async #send(
    path: string,
    init: { method: string; headers: Record<string, string>; body?: string },
  ) {
    const res = await fetch(`${this.base}${path}`, {
      ...init,
      headers: { ...init.headers, cookie: this.cookieHeader },
      redirect: 'manual',
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      if (/Max-Age=0/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, pair.slice(pair.indexOf('=') + 1));
    }
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  }
}

const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';

describe('gateway portal: phone, SMS and degraded factors', () => {
  let slapd: ExternalServer;
  let carrier: ProviderStandin;
  let h: Harness;
  let gateway: RunningGateway;
  let devices: DeviceClient;
  let gatewayUrl: string;
  const dirs: string[] = [];

  before(async () => {
    slapd = await startSlapd();
    carrier = await startProviderStandin({ accountSid: ACCOUNT, authToken: TOKEN });
    const twilio = {
      provider: 'twilio',
      accountSid: ACCOUNT,
      authToken: TOKEN,
      from: '+15555550100',
      baseUrl: carrier.baseUrl,
      timeoutMs: 1000,
    };
    const factors = parseFactorsConfig({
      sms: twilio,
      phone: twilio,
      smsPasscodes: { count: 3, validSeconds: 600 },
    });
    assert.ok(factors.ok, JSON.stringify(factors));
    h = await startService({ authStatusWaitSeconds: 1, factors: factors.config });
    const app: Application = await h.createApp();
    // carol has a phone number (calls, SMS) and, activated later, an authenticator (push).
    const carol = await h.createUser('carol');
    await h.store.createDevice({
      id: generateId(new CryptoRandom(), 'DP'),
      userId: carol.id,
      name: 'mobile',
      platform: 'phone',
      phoneNumber: '+15551230113',
    });
    devices = new DeviceClient({ apiHost: `localhost:${h.port}`, caPem: h.caPem });
    await h.store.createDeviceActivation({
      activationCode: 'CAROL'.padEnd(20, '0'),
      userId: carol.id,
      expiresAtMs: h.clock.nowMs() + 600_000,
    });
    await devices.activate({
      activationCode: 'CAROL'.padEnd(20, '0'),
      publicJwk: newDeviceKey().publicJwk,
      name: 'authenticator',
      platform: 'cli',
    });

    const dir = mkdtempSync(join(tmpdir(), 'airlock-gateway-portal-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'api-ca.pem'), h.caPem);
    const text = [
      '[main]',
      'log_dir=log',
      'admin_listen=127.0.0.1:0',
      '[gateway]',
      'listen=127.0.0.1:0',
      `portal_url=${PORTAL}/`,
      'cookie_domain=example.org',
      `session_secret=${'p0rt4l-'.repeat(8)}`,
      adClientSection(slapd.port),
      '[service]',
      `ikey=${app.ikey}`,
      `skey=${app.skey}`,
      'api_host=localhost',
      `api_port=${h.port}`,
      'api_ca_file=api-ca.pem',
      'api_timeout=3',
      '[app:wiki]',
      'hosts=wiki.example.org',
      'failmode=secure',
      '',
    ].join('\n');
    const parsed = parseGatewayConfig(text, {
      configDir: dir,
      readFile: (p) => readFileSync(p, 'utf8'),
    });
    if (!parsed.ok) throw new Error(`gateway.cfg is invalid:\n${parsed.errors.join('\n')}`);
    gateway = await startGateway(parsed.config, {
      clock: new SystemClock(),
      random: new CryptoRandom(),
      version: 'test',
    });
    gatewayUrl = `http://127.0.0.1:${gateway.address.port}`;
  });

  after(async () => {
    const steps: Array<() => Promise<unknown> | undefined> = [
      () => gateway?.close(),
      () => {
        devices?.close();
        return undefined;
      },
      () => h?.close(),
      () => carrier?.close(),
      () => slapd?.stop(),
    ];
    for (const step of steps) await Promise.resolve(step()).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** Opens the portal for the wiki and passes the directory password: the factor page. */
  async function toFactorPage() {
    const browser = new PortalBrowser(gatewayUrl);
    const signIn = await browser.get(
      `/login?rd=${encodeURIComponent('https://wiki.example.org/')}`,
    );
    assert.equal(signIn.status, 200);
    const factors = await browser.post('/login', {
      csrf: csrfOf(signIn.body),
      username: 'carol',
      password: 'carolpw',
    });
    assert.equal(factors.status, 200, factors.body);
    return { browser, page: factors.body, csrf: csrfOf(signIn.body) };
  }

  async function remote2fa(browser: PortalBrowser): Promise<string | null> {
    const res = await fetch(`${gatewayUrl}/authz/auth-request`, {
      headers: { 'x-original-url': 'https://wiki.example.org/', cookie: browser.cookieHeader },
    });
    assert.equal(res.status, 200);
    return res.headers.get('remote-2fa');
  }

  it('offers push, a call and SMS passcodes for the user’s devices', async () => {
    const { page } = await toFactorPage();
    const actions = [...page.matchAll(/action="\/login\/(\w+)"/g)].map((m) => m[1]);
    assert.deepEqual(actions, ['passcode', 'push', 'phone', 'sms']);
    assert.match(page, /Call mobile \(XXX-XXX-0113\)/);
    assert.match(page, /Text passcodes to mobile \(XXX-XXX-0113\)/);
    assert.doesNotMatch(page, /having problems/);
  });

  it('texts SMS passcodes; one of them logs in (Remote-2FA otp)', async () => {
    const { browser, csrf } = await toFactorPage();
    const sentBefore = carrier.messages.length;
    const sent = await browser.post('/login/sms', { csrf });
    assert.equal(sent.status, 200);
    assert.match(sent.body, /SMS passcodes sent/);
    const message = carrier.messages[sentBefore];
    assert.equal(message?.to, '+15551230113');
    const code = /1\. ([0-9]{7})/.exec(message?.body ?? '')?.[1] ?? '';
    const done = await browser.post('/login/passcode', { csrf, passcode: code });
    assert.equal(done.status, 303, done.body);
    assert.equal(done.location, 'https://wiki.example.org/');
    assert.equal(await remote2fa(browser), 'otp');
  });

  it('calls the phone; pressing 1 approves and the login completes (Remote-2FA phone)', async () => {
    const { browser, csrf } = await toFactorPage();
    const placed = carrier.nextCall();
    const calling = await browser.post('/login/phone', { csrf });
    assert.equal(calling.status, 200);
    assert.match(calling.body, /Calling mobile \(XXX-XXX-0113\)/);
    const call = await placed;
    assert.equal(call.to, '+15551230113');
    // Not answered yet: Continue shows the waiting page again.
    const early = await browser.post('/login/push/complete', { csrf });
    assert.equal(early.status, 200);
    assert.match(early.body, /Calling mobile/);
    const answered = await carrier.answerCall(call.sid, { digits: '1', caPem: h.caPem });
    assert.equal(answered.status, 200, answered.bodyText);
    const done = await browser.post('/login/push/complete', { csrf });
    assert.equal(done.status, 303, done.body);
    assert.equal(await remote2fa(browser), 'phone');
  });

  it('a call declined on the phone (a key other than 1) ends the login, no session', async () => {
    const { browser, csrf } = await toFactorPage();
    const placed = carrier.nextCall();
    await browser.post('/login/phone', { csrf });
    const call = await placed;
    await carrier.answerCall(call.sid, { digits: '9', caPem: h.caPem });
    const done = await browser.post('/login/push/complete', { csrf });
    assert.equal(done.status, 403, done.body);
    assert.doesNotMatch(browser.cookieHeader, /airlock_session/);
  });

  it('steers away from a degraded push provider: a notice names the alternatives, push comes last', async () => {
    for (let i = 0; i < 10; i++) {
      h.service.factorHealth.record('push', 'authenticator', 'failed', 0, h.clock.nowMs());
    }
    const { page } = await toFactorPage();
    assert.match(
      page,
      /id="factor-health">Push is having problems\. Use Phone call or SMS or a passcode instead\.</,
    );
    const actions = [...page.matchAll(/action="\/login\/(\w+)"/g)].map((m) => m[1]);
    // Degraded is advice, never a ban: push is still there, last.
    assert.deepEqual(actions, ['passcode', 'phone', 'sms', 'push']);
  });
});
