// The gateway's portal over HTTP (no nginx, no browser: the forms as a browser posts them) against
// slapd and the real service: SMS passcodes and a phone call through the carrier's stand-in, push
// through the device API's client, steering away from a degraded push provider, and which peer's
// X-Forwarded-For is believed (trusted_proxies: 127.0.0.2; the tests connect from 127.0.0.1 or
// from 127.0.0.2, both loopback); sessions, logouts and OpenID Connect codes across a restart.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { DeviceClient, newDeviceKey } from '../../src/authenticator/device-client.ts';
import { parseGatewayConfig, type GatewayConfig } from '../../src/config/gateway-config.ts';
import type { TOTP } from 'otpauth';
import type { Application } from '../../src/core/model.ts';
import { parseFactorsConfig } from '../../src/factors/factors-config.ts';
import { CryptoRandom, generateId } from '../../src/runtime/random.ts';
import { SystemClock } from '../../src/runtime/clock.ts';
import {
  GATEWAY_STATE_FILE,
  startGateway,
  type RunningGateway,
} from '../../src/gateway/start-gateway.ts';
import { startProviderStandin, type ProviderStandin } from '../support/provider-standin.ts';
import { startSlapd, type ExternalServer } from './external-servers.ts';
import { csrfOf, PortalBrowser, request, type Answer } from './portal-browser.ts';
import { adClientSection } from './proxy-harness.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';

const PORTAL = 'https://auth.example.org';
const ACCOUNT = 'AC00000000000000000000000000000013';
const TOKEN = 'standin-auth-token-gateway-0123456789';

const TRUSTED_PROXY = '127.0.0.2';
const run = promisify(execFile);

describe('gateway portal: phone, SMS, degraded factors, trusted proxies', () => {
  let slapd: ExternalServer;
  let carrier: ProviderStandin;
  let h: Harness;
  let gateway: RunningGateway;
  let devices: DeviceClient;
  let gatewayUrl: string;
  let gatewayLog: string;
  let gatewayConfig: GatewayConfig;
  let daveTotp: TOTP;
  const dirs: string[] = [];
  const startOurGateway = async () => {
    gateway = await startGateway(gatewayConfig, {
      clock: new SystemClock(),
      random: new CryptoRandom(),
      version: 'test',
    });
    gatewayUrl = `http://127.0.0.1:${gateway.address.port}`;
  };

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
    daveTotp = (await h.createUser('dave', { totp: true })).totp!;
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
    await run('openssl', [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      join(dir, 'oidc-key.pem'),
    ]);
    const text = [
      '[main]',
      'log_dir=log',
      'admin_listen=127.0.0.1:0',
      '[gateway]',
      'listen=127.0.0.1:0',
      `portal_url=${PORTAL}/`,
      'cookie_domain=example.org',
      `session_secret=${'p0rt4l-'.repeat(8)}`,
      `trusted_proxies=${TRUSTED_PROXY}`,
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
      '[oidc]',
      'signing_key_files=oidc-key.pem',
      '[oidc_client:rp]',
      `client_secret=${'rp-secret-'.repeat(4)}`,
      'redirect_uris=https://rp.example.org/callback',
      'failmode=secure',
      '',
    ].join('\n');
    const parsed = parseGatewayConfig(text, {
      configDir: dir,
      readFile: (p) => readFileSync(p, 'utf8'),
    });
    if (!parsed.ok) throw new Error(`gateway.cfg is invalid:\n${parsed.errors.join('\n')}`);
    gatewayConfig = parsed.config;
    await startOurGateway();
    gatewayLog = join(parsed.config.main.logDir, 'gateway.log');
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

  /** The gateway.log login events for `username`, oldest first. */
  function loginEvents(username: string): { client_ip: string; reason: string }[] {
    return readFileSync(gatewayLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as {
            event_type?: string;
            username?: string;
            client_ip: string;
            reason: string;
          },
      )
      .filter((e) => e.event_type === 'login' && e.username === username);
  }

  it('an untrusted peer’s X-Forwarded-For never sets the client address', async () => {
    const browser = new PortalBrowser(gatewayUrl, { forwardedFor: '203.0.113.66' });
    const signIn = await browser.get('/login');
    const refused = await browser.post('/login', {
      csrf: csrfOf(signIn.body),
      username: 'dave',
      password: 'wrong',
    });
    assert.equal(refused.status, 401);
    assert.equal(loginEvents('dave').at(-1)?.client_ip, '127.0.0.1');
  });

  it('a trusted proxy’s X-Forwarded-For does: the hop it appended, not a prefix the client sent, to the log and the service', async () => {
    // The client sent "X-Forwarded-For: 198.51.100.1"; the proxy appended the address it saw.
    const via = { from: TRUSTED_PROXY, forwardedFor: '198.51.100.1, 203.0.113.9' };
    const browser = new PortalBrowser(gatewayUrl, via);
    const signIn = await browser.get(
      `/login?rd=${encodeURIComponent('https://wiki.example.org/')}`,
    );
    const csrf = csrfOf(signIn.body);
    const factors = await browser.post('/login', { csrf, username: 'carol', password: 'carolpw' });
    assert.equal(factors.status, 200);
    const sent = await browser.post('/login/sms', { csrf });
    assert.equal(sent.status, 200);
    // The service was told the client's address (ipaddr, for its policies and audit).
    const sms = (await h.store.listAudit({ action: 'auth.sms' })).sort((x, y) => y.id - x.id)[0];
    assert.equal((sms?.detail as { ipaddr?: string } | undefined)?.ipaddr, '203.0.113.9');
    const wrong = await browser.post('/login/passcode', { csrf, passcode: '000000' });
    assert.equal(wrong.status, 401);
    assert.equal(loginEvents('carol').at(-1)?.client_ip, '203.0.113.9');
  });

  it('the OpenID Connect provider ignores X-Forwarded-Host/-Proto from an untrusted peer', async () => {
    const discovery = async (from: string) => {
      const res = await request(`${gatewayUrl}/oidc/.well-known/openid-configuration`, {
        method: 'GET',
        from,
        headers: {
          host: 'auth.example.org',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'evil.example.net',
        },
      });
      assert.equal(res.status, 200, res.body);
      return JSON.parse(res.body) as { authorization_endpoint: string };
    };
    const direct = await discovery('127.0.0.1');
    assert.equal(direct.authorization_endpoint, 'http://auth.example.org/oidc/auth');
    const proxied = await discovery(TRUSTED_PROXY);
    assert.equal(proxied.authorization_endpoint, 'https://evil.example.net/oidc/auth');
  });

  // ------------------------------------------------------------------------------------------
  // Across a restart: sessions, logouts and OpenID Connect codes are in the state file.
  // ------------------------------------------------------------------------------------------

  const RP_REDIRECT = 'https://rp.example.org/callback';
  const rpAuth = `Basic ${Buffer.from(`rp:${'rp-secret-'.repeat(4)}`).toString('base64')}`;
  const kept: {
    session?: PortalBrowser;
    loggedOut?: PortalBrowser;
    usedCode?: { code: string; verifier: string };
    unusedCode?: { code: string; verifier: string };
    accessToken?: string;
  } = {};

  /** dave's password and TOTP after `start` (a sign-in page); the answer to the passcode. */
  async function daveLogsIn(browser: PortalBrowser, signIn: Answer) {
    const csrf = csrfOf(signIn.body);
    const factors = await browser.post('/login', { csrf, username: 'dave', password: 'davepw' });
    assert.equal(factors.status, 200, factors.body);
    // A TOTP code is good once: each login uses the next time step.
    h.clock.advance(30_000);
    return browser.post('/login/passcode', { csrf, passcode: totpAt(daveTotp, h.clock) });
  }

  /** The relying party's authorization request, with the PKCE challenge of `verifier`. */
  const authorizeQuery = (verifier: string) =>
    new URLSearchParams({
      client_id: 'rp',
      redirect_uri: RP_REDIRECT,
      response_type: 'code',
      scope: 'openid',
      state: 'st4te',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });

  /** The code flow with PKCE up to the code at the relying party's redirect URI. */
  async function oidcCode(): Promise<{ code: string; verifier: string }> {
    const browser = new PortalBrowser(gatewayUrl);
    const verifier = randomBytes(32).toString('base64url');
    const query = authorizeQuery(verifier);
    const start = await browser.get(`/oidc/auth?${query.toString()}`);
    assert.equal(start.status, 303, start.body);
    const signIn = await browser.get(new URL(start.location!, gatewayUrl).pathname);
    assert.equal(signIn.status, 200, signIn.body);
    const resume = await daveLogsIn(browser, signIn);
    assert.equal(resume.status, 303, resume.body);
    const back = await browser.get(pathOf(resume.location!));
    assert.equal(back.status, 303, back.body);
    const callback = new URL(back.location!);
    assert.equal(`${callback.origin}${callback.pathname}`, RP_REDIRECT);
    return { code: callback.searchParams.get('code') ?? '', verifier };
  }

  const pathOf = (location: string) => {
    const u = new URL(location, gatewayUrl);
    return `${u.pathname}${u.search}`;
  };

  async function redeem(grant: { code: string; verifier: string }) {
    return request(`${gatewayUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: rpAuth },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: grant.code,
        redirect_uri: RP_REDIRECT,
        code_verifier: grant.verifier,
      }).toString(),
    });
  }

  async function opensWiki(browser: PortalBrowser) {
    return request(`${gatewayUrl}/authz/auth-request`, {
      method: 'GET',
      headers: { 'x-original-url': 'https://wiki.example.org/', cookie: browser.cookieHeader },
    });
  }

  it('before a restart: a session, a logged-out session, a used and an unused OpenID Connect code', async () => {
    kept.session = new PortalBrowser(gatewayUrl);
    const rd = `/login?rd=${encodeURIComponent('https://wiki.example.org/')}`;
    assert.equal((await daveLogsIn(kept.session, await kept.session.get(rd))).status, 303);
    assert.equal((await opensWiki(kept.session)).status, 200);

    kept.loggedOut = new PortalBrowser(gatewayUrl);
    assert.equal((await daveLogsIn(kept.loggedOut, await kept.loggedOut.get(rd))).status, 303);
    // The cookie as it was before logout: a copy an attacker kept.
    const copied = kept.loggedOut.cookieHeader;
    const portal = await kept.loggedOut.get('/');
    const out = await kept.loggedOut.post('/logout', { csrf: csrfOf(portal.body) });
    assert.equal(out.status, 200);
    kept.loggedOut = new PortalBrowser(gatewayUrl);
    for (const pair of copied.split('; ')) kept.loggedOut.setCookie(pair);
    assert.equal((await opensWiki(kept.loggedOut)).status, 401);

    kept.usedCode = await oidcCode();
    const tokens = await redeem(kept.usedCode);
    assert.equal(tokens.status, 200, tokens.body);
    assert.match(tokens.body, /"id_token"/);
    kept.accessToken = (JSON.parse(tokens.body) as { access_token: string }).access_token;
    kept.unusedCode = await oidcCode();
  });

  it('after a restart: the session still opens the page, the logged-out one stays out, a used code stays used', async () => {
    assert.ok(kept.session && kept.loggedOut && kept.usedCode && kept.unusedCode);
    await gateway.close();
    const stateFile = join(gatewayConfig.main.stateDir, GATEWAY_STATE_FILE);
    assert.equal(statSync(stateFile).mode & 0o777, 0o600);
    // A copy of the file yields no credential: codes and tokens are neither rows nor payloads.
    const bytes = [stateFile, `${stateFile}-wal`]
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'))
      .join('');
    assert.ok(kept.accessToken);
    for (const secret of [kept.usedCode.code, kept.unusedCode.code, kept.accessToken]) {
      assert.equal(bytes.includes(secret), false, 'a code or token is readable in the state file');
    }
    await startOurGateway();

    const open = await opensWiki(kept.session);
    assert.equal(open.status, 200);
    assert.equal(open.headers['remote-user'], 'dave');
    assert.equal(open.headers['remote-2fa'], 'otp');
    assert.equal((await opensWiki(kept.loggedOut)).status, 401);

    // The code issued before the restart and not yet used is good once; the used one never.
    const late = await redeem(kept.unusedCode);
    assert.equal(late.status, 200, late.body);
    const reused = await redeem(kept.usedCode);
    assert.equal(reused.status, 400, reused.body);
    assert.match(reused.body, /invalid_grant/);
    assert.equal((await redeem(kept.unusedCode)).status, 400);
  });

  it('logout also ends the OpenID Connect login: the next authorize asks for the password again', async () => {
    const browser = new PortalBrowser(gatewayUrl);
    const query = authorizeQuery('v'.repeat(43));
    const authorize = () => browser.get(`/oidc/auth?${query.toString()}`);
    const first = await authorize();
    assert.equal(first.status, 303, first.body);
    const signIn = await browser.get(new URL(first.location!, gatewayUrl).pathname);
    const resume = await daveLogsIn(browser, signIn);
    const back = await browser.get(pathOf(resume.location!));
    assert.ok(back.location?.startsWith(RP_REDIRECT), back.location);
    // Logged in: the provider's session answers the next authorize without a sign-in.
    const again = await authorize();
    assert.ok(again.location?.startsWith(RP_REDIRECT), again.location);

    const portal = await browser.get('/');
    assert.equal((await browser.post('/logout', { csrf: csrfOf(portal.body) })).status, 200);
    const afterLogout = await authorize();
    assert.equal(afterLogout.status, 303, afterLogout.body);
    assert.ok(!afterLogout.location?.startsWith(RP_REDIRECT), afterLogout.location);
    assert.match(afterLogout.location ?? '', /oidc-login\//);
  });
});
