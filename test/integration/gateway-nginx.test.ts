// The access gateway behind real nginx (the docs/gateway.md configuration), with slapd as the
// directory, the real service for the second factor, and headless Chromium as the user.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { KeyObject } from 'node:crypto';
import type { TOTP } from 'otpauth';
import { DeviceClient, newDeviceKey } from '../../src/authenticator/device-client.ts';
import * as oidcClient from 'openid-client';
import { parseGatewayConfig } from '../../src/config/gateway-config.ts';
import type { Application } from '../../src/core/model.ts';
import type { Clock } from '../../src/runtime/clock.ts';
import { CryptoRandom } from '../../src/runtime/random.ts';
import { ACR_MFA, ACR_PASSWORD } from '../../src/gateway/oidc-provider.ts';
import { startGateway, type RunningGateway } from '../../src/gateway/start-gateway.ts';
import {
  freeTcpPort,
  startSlapd,
  waitForFileText,
  type ExternalServer,
} from './external-servers.ts';
import { adClientSection } from './proxy-harness.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.AIRLOCK_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Every *.example.org name of the nginx configuration is this machine.
  '--host-resolver-rules=MAP *.example.org 127.0.0.1',
];
const COOKIE = '__Secure-airlock_session';
const IDLE_SECONDS = 120;

/** Real time plus an offset the test moves forward to expire sessions. */
class OffsetClock implements Clock {
  offsetMs = 0;
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }
}

/** The nginx block of docs/gateway.md with this test's ports, paths and addresses. */
function nginxSiteFromDocs(replacements: Array<[string, string]>): string {
  const doc = readFileSync(join(ROOT, 'docs/gateway.md'), 'utf8');
  const block = /```nginx\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, 'docs/gateway.md has an nginx block');
  let site = block;
  for (const [from, to] of replacements) {
    assert.ok(site.includes(from), `the nginx block of docs/gateway.md contains ${from}`);
    site = site.split(from).join(to);
  }
  return site;
}

describe('access gateway behind nginx, in Chromium', () => {
  let slapd: ExternalServer;
  let h: Harness;
  let totp: TOTP;
  let browser: Browser;
  let gateway: RunningGateway;
  let upstream: http.Server;
  let devices: DeviceClient;
  let bobPhone: { deviceId: string; privateKey: KeyObject };
  let rp: http.Server;
  let rpCallback: string;
  const RP_SECRET = 'rp-client-secret-0123456789abcdef0123';
  const clock = new OffsetClock();
  const dirs: string[] = [];
  let nginxDir: string;
  let nginxPort: number;
  let gatewayPort: number;
  let gatewayLog: string;
  const url = (host: string, path = '/') => `https://${host}.example.org:${nginxPort}${path}`;
  const problems: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium`);
    }
    slapd = await startSlapd();
    // auth_status answers within a second, as the proxy's push test has it.
    h = await startService({ authStatusWaitSeconds: 1 });
    const app: Application = await h.createApp();
    totp = (await h.createUser('alice', { totp: true })).totp!;
    // bob approves logins on his phone (the device API's client stands in for the app).
    devices = new DeviceClient({ apiHost: `localhost:${h.port}`, caPem: h.caPem });
    const bob = await h.createUser('bob');
    await h.store.createDeviceActivation({
      activationCode: 'BOB'.padEnd(20, '0'),
      userId: bob.id,
      expiresAtMs: h.clock.nowMs() + 600_000,
    });
    const key = newDeviceKey();
    const activated = await devices.activate({
      activationCode: 'BOB'.padEnd(20, '0'),
      publicJwk: key.publicJwk,
      name: "bob's phone",
      platform: 'cli',
    });
    bobPhone = { deviceId: activated.deviceId, privateKey: key.privateKey };

    // The protected application: shows the request headers it received.
    upstream = http.createServer((req, res) => {
      const seen = Object.fromEntries(
        ['host', 'remote-user', 'remote-groups', 'remote-email', 'remote-2fa'].map((k) => [
          k,
          req.headers[k] ?? null,
        ]),
      );
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><title>upstream</title><pre id="headers">${JSON.stringify(seen)}</pre>`,
      );
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamPort = (upstream.address() as { port: number }).port;

    // The OpenID Connect relying party's redirect URI: it only has to answer.
    rp = http.createServer((_req, res) => res.end('callback'));
    await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve));
    rpCallback = `http://127.0.0.1:${(rp.address() as { port: number }).port}/callback`;

    nginxPort = await freeTcpPort();
    gatewayPort = await freeTcpPort();
    const dir = mkdtempSync(join(tmpdir(), 'airlock-gateway-'));
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
      '',
      '[gateway]',
      `listen=127.0.0.1:${gatewayPort}`,
      `portal_url=https://auth.example.org:${nginxPort}/`,
      'cookie_domain=example.org',
      `session_secret=${'s3cr3t-'.repeat(8)}`,
      `session_idle_seconds=${IDLE_SECONDS}`,
      // nginx, on loopback: its X-Forwarded-For and -Proto are believed (docs/gateway.md).
      'trusted_proxies=127.0.0.1',
      'failmode_session_lifetime_seconds=600',
      '',
      adClientSection(slapd.port),
      '',
      '[service]',
      `ikey=${app.ikey}`,
      `skey=${app.skey}`,
      'api_host=localhost',
      `api_port=${h.port}`,
      'api_ca_file=api-ca.pem',
      'api_timeout=2',
      '',
      '[app:wiki]',
      'hosts=wiki.example.org',
      'failmode=safe',
      '',
      '[app:hr]',
      'hosts=hr.example.org',
      'failmode=secure',
      '',
      '[oidc]',
      'signing_key_files=oidc-key.pem',
      '',
      '[oidc_client:rp]',
      `client_secret=${RP_SECRET}`,
      `redirect_uris=${rpCallback}`,
      'failmode=secure',
      '',
      '[oidc_client:rp-safe]',
      `client_secret=${RP_SECRET}`,
      `redirect_uris=${rpCallback}`,
      'failmode=safe',
      '',
    ].join('\n');
    const parsed = parseGatewayConfig(text, {
      configDir: dir,
      readFile: (p) => readFileSync(p, 'utf8'),
    });
    if (!parsed.ok) throw new Error(`gateway.cfg is invalid:\n${parsed.errors.join('\n')}`);
    gateway = await startGateway(parsed.config, {
      clock,
      random: new CryptoRandom(),
      version: 'test',
    });
    gatewayLog = join(parsed.config.main.logDir, 'gateway.log');

    nginxDir = mkdtempSync(join(tmpdir(), 'airlock-nginx-'));
    dirs.push(nginxDir);
    const site = nginxSiteFromDocs([
      ['listen 443 ssl', `listen 127.0.0.1:${nginxPort} ssl`],
      ['/etc/nginx/tls/example.org.crt', join(nginxDir, 'cert.pem')],
      ['/etc/nginx/tls/example.org.key', join(nginxDir, 'key.pem')],
      ['http://127.0.0.1:8080', `http://127.0.0.1:${upstreamPort}`],
      ['127.0.0.1:9443', `127.0.0.1:${gatewayPort}`],
    ]);
    writeFileSync(join(nginxDir, 'site.conf'), site);
    try {
      await run('bash', [join(ROOT, 'scripts/start-nginx.sh')], {
        env: { ...process.env, NGINX_DIR: nginxDir, NGINX_PORT: String(nginxPort) },
      });
    } catch (err) {
      throw new Error(`scripts/start-nginx.sh failed: ${(err as { stderr?: string }).stderr}`, {
        cause: err,
      });
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    // Every server is stopped even when another one fails to.
    const steps: Array<() => Promise<unknown> | undefined> = [
      () => browser?.close(),
      () => {
        devices?.close();
        return undefined;
      },
      () => (nginxDir ? run('bash', [join(ROOT, 'scripts/stop-nginx.sh'), nginxDir]) : undefined),
      () => gateway?.close(),
      () => new Promise((resolve) => upstream?.close(resolve)),
      () => new Promise((resolve) => rp?.close(resolve)),
      () => h?.close(),
      () => slapd?.stop(),
    ];
    for (const step of steps) await Promise.resolve(step()).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(e.message));
    return { context, page };
  }

  async function upstreamHeaders(page: Page): Promise<Record<string, string | null>> {
    return JSON.parse((await page.textContent('#headers')) ?? '{}') as Record<
      string,
      string | null
    >;
  }

  async function signIn(page: Page, username: string, password: string) {
    await page.fill('#username', username);
    await page.fill('#password', password);
    return Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]).then(
      ([response]) => response,
    );
  }

  async function passcode(page: Page) {
    // A TOTP code is good once: each login uses the next time step.
    h.clock.advance(30_000);
    await page.fill('#passcode', totpAt(totp, h.clock));
    return Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  }

  /** Asks the gateway directly, as nginx does. */
  async function authRequest(target: string, cookie?: string) {
    return fetch(`http://127.0.0.1:${gatewayPort}/authz/auth-request`, {
      headers: { 'x-original-url': target, ...(cookie ? { cookie } : {}) },
      redirect: 'manual',
    });
  }

  async function sessionCookie(context: BrowserContext) {
    const c = (await context.cookies()).find((x) => x.name === COOKIE);
    assert.ok(c, 'the session cookie is set');
    return c;
  }

  let alice: BrowserContext;
  let alicePage: Page;

  it('opens a protected page through the portal: directory password, TOTP, then the page with Remote-User', async () => {
    ({ context: alice, page: alicePage } = await newPage());
    const page = alicePage;
    const first = await page.goto(url('wiki', '/page?x=1&y=2'));
    const login = new URL(page.url());
    assert.equal(login.host, `auth.example.org:${nginxPort}`);
    assert.equal(login.pathname, '/login');
    assert.equal(login.searchParams.get('rd'), url('wiki', '/page?x=1&y=2'));
    const headers = first?.headers() ?? {};
    assert.match(headers['content-security-policy'] ?? '', /default-src 'none'/);
    assert.match(headers['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    assert.equal(headers['x-frame-options'], 'DENY');

    const factor = await signIn(page, 'alice', 'alicepw');
    assert.equal(factor?.status(), 200);
    assert.match((await page.textContent('h1')) ?? '', /Confirm it is you/);
    await passcode(page);
    assert.equal(page.url(), url('wiki', '/page?x=1&y=2'));
    assert.deepEqual(await upstreamHeaders(page), {
      host: 'wiki.example.org',
      'remote-user': 'alice',
      'remote-groups': 'vpn-users',
      'remote-email': 'alice@example.org',
      'remote-2fa': 'otp',
    });
    const cookie = await sessionCookie(alice);
    assert.equal(cookie.domain, '.example.org');
    assert.equal(cookie.path, '/');
    assert.ok(cookie.secure && cookie.httpOnly, 'Secure and HttpOnly');
    assert.equal(cookie.sameSite, 'Lax');
    assert.deepEqual(problems, []);
  });

  it('opens a second host on the cookie domain without logging in again; a client cannot forge Remote-User', async () => {
    await alice.setExtraHTTPHeaders({ 'Remote-User': 'mallory', 'Remote-2FA': 'otp' });
    await alicePage.goto(url('hr', '/reports'));
    assert.equal(alicePage.url(), url('hr', '/reports'));
    const seen = await upstreamHeaders(alicePage);
    assert.equal(seen['remote-user'], 'alice');
    assert.equal(seen['remote-2fa'], 'otp');
    await alice.setExtraHTTPHeaders({});
  });

  it('logout ends the session on both hosts, and the old cookie no longer opens anything', async () => {
    const before = await sessionCookie(alice);
    await alicePage.goto(url('auth', '/'));
    assert.match((await alicePage.textContent('main')) ?? '', /Logged in as alice/);
    await Promise.all([alicePage.waitForNavigation(), alicePage.click('button[type=submit]')]);
    assert.match((await alicePage.textContent('main')) ?? '', /logged out/);
    for (const host of ['wiki', 'hr']) {
      await alicePage.goto(url(host, '/'));
      assert.equal(new URL(alicePage.url()).pathname, '/login', host);
    }
    const replay = await authRequest(url('wiki'), `${COOKIE}=${before.value}`);
    assert.equal(replay.status, 401);
    await alice.close();
  });

  it('logs in with a push, its status live on the page, and Remote-2FA says push', async () => {
    const { context, page } = await newPage();
    await page.goto(url('wiki', '/pushed'));
    await signIn(page, 'bob', 'bobpw');
    await Promise.all([page.waitForNavigation(), page.click('text=Send push')]);
    assert.match((await page.textContent('[role=status]')) ?? '', /Push sent to bob's phone/);
    let request;
    for (;;) {
      const requests = await devices.requests(bobPhone, 10);
      if (requests.length > 0) {
        request = requests[0]!;
        break;
      }
    }
    assert.equal(request.username, 'bob');
    // The page's script sees the answer and continues by itself.
    const arrived = page.waitForURL(url('wiki', '/pushed'), { timeout: 15_000 });
    await devices.answer(bobPhone, request.txid, 'approve');
    await arrived;
    const seen = await upstreamHeaders(page);
    assert.equal(seen['remote-user'], 'bob');
    assert.equal(seen['remote-2fa'], 'push');
    await context.close();
  });

  it('refuses a wrong password with the sign-in page again', async () => {
    const { context, page } = await newPage();
    await page.goto(url('wiki'));
    const response = await signIn(page, 'alice', 'wrong');
    assert.equal(response?.status(), 401);
    assert.match((await page.textContent('[role=alert]')) ?? '', /Incorrect username or password/);
    assert.ok(!(await context.cookies()).some((c) => c.name === COOKIE));
    await context.close();
  });

  it('refuses a tampered, foreign or expired session cookie', async () => {
    const { context, page } = await newPage();
    await page.goto(url('wiki'));
    await signIn(page, 'alice', 'alicepw');
    await passcode(page);
    const { value } = await sessionCookie(context);
    assert.equal((await authRequest(url('wiki'), `${COOKIE}=${value}`)).status, 200);
    // One character changed anywhere in the sealed value.
    for (const i of [3, Math.floor(value.length / 2), value.length - 2]) {
      const c = value[i] === 'A' ? 'B' : 'A';
      const tampered = value.slice(0, i) + c + value.slice(i + 1);
      const res = await authRequest(url('wiki'), `${COOKIE}=${tampered}`);
      assert.equal(res.status, 401, `changed at ${i}`);
    }
    // A value sealed for the login cookie is not a session.
    const loginCookie = await authRequest(url('wiki'), `${COOKIE}=v1.${'A'.repeat(60)}`);
    assert.equal(loginCookie.status, 401);
    // Idle past session_idle_seconds: gone, and it stays gone.
    clock.offsetMs = (IDLE_SECONDS + 1) * 1000;
    try {
      assert.equal((await authRequest(url('wiki'), `${COOKIE}=${value}`)).status, 401);
    } finally {
      clock.offsetMs = 0;
    }
    assert.equal((await authRequest(url('wiki'), `${COOKIE}=${value}`)).status, 401);
    await context.close();
  });

  it('never redirects to an address outside the configured applications', async () => {
    for (const rd of [
      'https://evil.example/',
      '//evil.example/',
      'https://wiki.example.org.evil.example/',
      'https://wiki.example.org@evil.example/',
      'javascript:alert(1)',
      'http://wiki.example.org/',
    ]) {
      const res = await fetch(
        `http://127.0.0.1:${gatewayPort}/login?rd=${encodeURIComponent(rd)}`,
        { redirect: 'manual' },
      );
      assert.equal(res.status, 400, rd);
      assert.equal(res.headers.get('location'), null, rd);
      assert.match(await res.text(), /not one this gateway protects/);
    }
    // The 401 of forward-auth names only the portal.
    const res = await authRequest('https://wiki.example.org/x?y=1');
    assert.equal(res.status, 401);
    const location = new URL(res.headers.get('location') ?? '');
    assert.equal(location.origin, `https://auth.example.org:${nginxPort}`);
    assert.equal(location.searchParams.get('rd'), 'https://wiki.example.org/x?y=1');
    // An address no application claims is refused outright.
    assert.equal((await authRequest('https://intranet.example.org/')).status, 403);
    // Traefik / Caddy mode: the original request in X-Forwarded-*, a 302 to the portal.
    const forward = await fetch(`http://127.0.0.1:${gatewayPort}/authz/forward-auth`, {
      headers: {
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'hr.example.org',
        'x-forwarded-uri': '/a?b=c',
      },
      redirect: 'manual',
    });
    assert.equal(forward.status, 302);
    const portal = new URL(forward.headers.get('location') ?? '');
    assert.equal(portal.pathname, '/login');
    assert.equal(portal.searchParams.get('rd'), 'https://hr.example.org/a?b=c');
  });

  it('refuses portal forms without their CSRF token or from another origin', async () => {
    const { context, page } = await newPage();
    await page.goto(url('wiki'));
    const csrf = await page.getAttribute('input[name=csrf]', 'value');
    assert.ok(csrf);
    const cookies = (await context.cookies())
      .filter((c) => c.domain.includes('auth.example.org') || c.domain === '.example.org')
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
    const post = (body: string, origin?: string) =>
      fetch(`http://127.0.0.1:${gatewayPort}/login`, {
        method: 'POST',
        headers: {
          cookie: cookies,
          'content-type': 'application/x-www-form-urlencoded',
          ...(origin ? { origin } : {}),
        },
        body,
        redirect: 'manual',
      });
    const creds = 'username=alice&password=alicepw';
    assert.equal((await post(creds)).status, 403, 'no token');
    assert.equal(
      (await post(`${creds}&csrf=${'x'.repeat(csrf.length)}`)).status,
      403,
      'wrong token',
    );
    assert.equal(
      (await post(`${creds}&csrf=${csrf}`, 'https://evil.example')).status,
      403,
      'foreign origin',
    );
    // The same form with its token from the portal's origin goes through.
    const ok = await post(`${creds}&csrf=${csrf}`, `https://auth.example.org:${nginxPort}`);
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /Confirm it is you/);

    // Logout is a form too: without the session's token it changes nothing.
    await signIn(page, 'alice', 'alicepw');
    await passcode(page);
    const { value } = await sessionCookie(context);
    const logout = await fetch(`http://127.0.0.1:${gatewayPort}/logout`, {
      method: 'POST',
      headers: {
        cookie: `${COOKIE}=${value}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'csrf=nope',
    });
    assert.equal(logout.status, 403);
    assert.equal((await authRequest(url('wiki'), `${COOKIE}=${value}`)).status, 200);
    await context.close();
  });

  /** The relying party's view of the provider: discovery over the portal's public address. */
  async function relyingParty(clientId = 'rp'): Promise<oidcClient.Configuration> {
    const issuer = new URL(`https://auth.example.org:${nginxPort}/oidc`);
    // Node cannot resolve *.example.org: the RP's back-channel calls go to the gateway directly,
    // with the headers nginx would add.
    const viaGateway: oidcClient.CustomFetch = (url, options) => {
      const target = new URL(url);
      const headers = new Headers(options.headers);
      headers.set('x-forwarded-proto', 'https');
      headers.set('x-forwarded-host', target.host);
      return fetch(`http://127.0.0.1:${gatewayPort}${target.pathname}${target.search}`, {
        ...(options as RequestInit),
        headers,
      });
    };
    return oidcClient.discovery(issuer, clientId, RP_SECRET, undefined, {
      [oidcClient.customFetch]: viaGateway,
    });
  }

  async function authorize(page: Page, rpConfig: oidcClient.Configuration, redirectUri: string) {
    const verifier = oidcClient.randomPKCECodeVerifier();
    const state = oidcClient.randomState();
    const url = oidcClient.buildAuthorizationUrl(rpConfig, {
      redirect_uri: redirectUri,
      scope: 'openid email profile',
      code_challenge: await oidcClient.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const response = await page.goto(url.href);
    return { verifier, state, response };
  }

  it('completes the OpenID Connect code flow with PKCE in Chromium; the ID token says a second factor was used', async () => {
    const rpConfig = await relyingParty();
    const { context, page } = await newPage();
    const { verifier, state } = await authorize(page, rpConfig, rpCallback);
    assert.match(new URL(page.url()).pathname, /^\/oidc-login\//);
    await signIn(page, 'alice', 'alicepw');
    await passcode(page);
    assert.equal(`${new URL(page.url()).origin}${new URL(page.url()).pathname}`, rpCallback);
    const callback = new URL(page.url());
    const tokens = await oidcClient.authorizationCodeGrant(rpConfig, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    const claims = tokens.claims();
    assert.equal(claims?.sub, 'alice');
    assert.deepEqual(claims?.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(claims?.acr, ACR_MFA);
    const info = await oidcClient.fetchUserInfo(rpConfig, tokens.access_token, 'alice');
    assert.equal(info.email, 'alice@example.org');
    assert.deepEqual(info.groups, ['vpn-users']);

    // The same code twice: refused.
    await assert.rejects(
      oidcClient.authorizationCodeGrant(rpConfig, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      }),
      (err: Error & { error?: string }) => err.error === 'invalid_grant',
    );
    await context.close();
  });

  it('refuses a tampered state, a wrong PKCE verifier and an unregistered redirect URI', async () => {
    const rpConfig = await relyingParty();
    const { context, page } = await newPage();
    const { verifier, state } = await authorize(page, rpConfig, rpCallback);
    await signIn(page, 'alice', 'alicepw');
    await passcode(page);
    const callback = new URL(page.url());
    await assert.rejects(
      oidcClient.authorizationCodeGrant(rpConfig, callback, {
        pkceCodeVerifier: verifier,
        expectedState: `${state}x`,
      }),
      (err: Error & { cause?: { message?: string } }) => /state/.test(err.cause?.message ?? ''),
    );
    await assert.rejects(
      oidcClient.authorizationCodeGrant(rpConfig, callback, {
        pkceCodeVerifier: oidcClient.randomPKCECodeVerifier(),
        expectedState: state,
      }),
      (err: Error & { error?: string }) => err.error === 'invalid_grant',
    );
    const wrong = await authorize(page, rpConfig, 'https://evil.example/callback');
    assert.equal(wrong.response?.status(), 400);
    assert.match((await page.textContent('body')) ?? '', /redirect_uri/);
    assert.equal(new URL(page.url()).host, `auth.example.org:${nginxPort}`);
    await context.close();
  });

  it('answers /status and /metrics on the admin endpoint, as the proxy does', async () => {
    const admin = `http://127.0.0.1:${gateway.adminAddress.port}`;
    const status = (await (await fetch(`${admin}/status`)).json()) as {
      gateway: { version: string; sessions: number };
      apps: Array<{ app: string; failmode: string; restriction: string }>;
      apiHosts: Array<{ host: string; status: string; breaker: string }>;
    };
    assert.equal(status.gateway.version, 'test');
    assert.ok(status.gateway.sessions >= 1);
    assert.deepEqual(
      status.apps.map((a) => [a.app, a.restriction, a.failmode]),
      [
        ['wiki', 'two_factor', 'safe'],
        ['hr', 'two_factor', 'secure'],
      ],
    );
    assert.equal(status.apiHosts[0]?.host, `localhost:${h.port}`);
    assert.equal(status.apiHosts[0]?.breaker, 'closed');
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    assert.match(
      metrics,
      /airlock_gateway_logins_total\{app="wiki",result="allow",reason="service-answered"\} \d+/,
    );
    assert.match(
      metrics,
      /airlock_gateway_logins_total\{app="wiki",result="deny",reason="bad-password"\} 1/,
    );
    assert.match(metrics, /airlock_gateway_forward_auth_total\{app="hr",result="allow"\} \d+/);
  });

  describe('with the service stopped', () => {
    before(async () => {
      await h.service.server.close();
    });

    it('lets the directory-authenticated user into the safe app, marked skipped-failmode, and logs it', async () => {
      const { context, page } = await newPage();
      await page.goto(url('wiki', '/doc'));
      const response = await signIn(page, 'alice', 'alicepw');
      assert.equal(response?.status(), 200);
      assert.match(
        (await page.textContent('#failmode-banner')) ?? '',
        /cannot be reached.*password only.*10 minutes/s,
      );
      await Promise.all([page.waitForNavigation(), page.click('a.button')]);
      assert.equal(page.url(), url('wiki', '/doc'));
      const seen = await upstreamHeaders(page);
      assert.equal(seen['remote-user'], 'alice');
      assert.equal(seen['remote-2fa'], 'skipped-failmode');
      const log = await waitForFileText(gatewayLog, '"event_type":"failmode"');
      const event = log
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((e) => e.event_type === 'failmode');
      assert.deepEqual(
        {
          app: event?.app,
          action: event?.action,
          failmode: event?.failmode,
          username: event?.username,
          msg: event?.msg,
        },
        {
          app: 'wiki',
          action: 'allow',
          failmode: 'safe',
          username: 'alice',
          msg: 'Failmode Safe - Allowed Duo login on preauth failure',
        },
      );
      assert.match(
        await gateway.metrics.metrics(),
        /airlock_gateway_failmode_decisions_total\{app="wiki",failmode="safe",action="allow"\} 1/,
      );
      // The failmode session does not open the secure app: back to the portal.
      await page.goto(url('hr', '/'));
      assert.equal(new URL(page.url()).pathname, '/login');
      await context.close();
    });

    it('refuses the secure app with a page that says why', async () => {
      const { context, page } = await newPage();
      await page.goto(url('hr', '/'));
      const response = await signIn(page, 'alice', 'alicepw');
      assert.equal(response?.status(), 503);
      assert.match(
        (await page.textContent('[role=alert]')) ?? '',
        /hr requires a second factor.*cannot be reached/,
      );
      assert.ok(!(await context.cookies()).some((c) => c.name === COOKIE));
      await waitForFileText(gatewayLog, /"event_type":"failmode".*"app":"hr".*"action":"deny"/);
      await context.close();
    });

    it('gives a safe OIDC client an ID token that says no second factor was used; a secure one refuses', async () => {
      const safe = await relyingParty('rp-safe');
      const { context, page } = await newPage();
      const { verifier, state } = await authorize(page, safe, rpCallback);
      await signIn(page, 'alice', 'alicepw');
      assert.match((await page.textContent('#failmode-banner')) ?? '', /password only/);
      await Promise.all([page.waitForNavigation(), page.click('a.button')]);
      const tokens = await oidcClient.authorizationCodeGrant(safe, new URL(page.url()), {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      assert.deepEqual(tokens.claims()?.amr, ['pwd']);
      assert.equal(tokens.claims()?.acr, ACR_PASSWORD);
      await context.close();

      const secure = await relyingParty('rp');
      const second = await newPage();
      await authorize(second.page, secure, rpCallback);
      const refused = await signIn(second.page, 'alice', 'alicepw');
      assert.equal(refused?.status(), 503);
      assert.match(
        (await second.page.textContent('[role=alert]')) ?? '',
        /rp requires a second factor/,
      );
      await second.context.close();
    });

    it('refuses a wrong password under both failmodes, without a failmode event', async () => {
      const before = readFileSync(gatewayLog, 'utf8').split('"event_type":"failmode"').length;
      for (const host of ['wiki', 'hr']) {
        const { context, page } = await newPage();
        await page.goto(url(host, '/'));
        const response = await signIn(page, 'alice', 'not-her-password');
        assert.equal(response?.status(), 401, host);
        assert.ok(!(await context.cookies()).some((c) => c.name === COOKIE), host);
        await context.close();
      }
      const afterCount = readFileSync(gatewayLog, 'utf8').split('"event_type":"failmode"').length;
      assert.equal(afterCount, before);
    });
  });
});
