// The access gateway behind real Caddy, run with the Caddy block of docs/gateway.md, slapd as the
// directory and the real service for the second factor; the user is plain HTTPS requests (no browser).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TOTP } from 'otpauth';
import { parseGatewayConfig } from '../../src/config/gateway-config.ts';
import type { Application } from '../../src/core/model.ts';
import { SystemClock } from '../../src/runtime/clock.ts';
import { CryptoRandom } from '../../src/runtime/random.ts';
import { startGateway, type RunningGateway } from '../../src/gateway/start-gateway.ts';
import { freeTcpPort, startSlapd, type ExternalServer } from './external-servers.ts';
import { csrfOf, PortalBrowser, request, type Answer } from './portal-browser.ts';
import { adClientSection } from './proxy-harness.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CADDY = process.env.AIRLOCK_CADDY ?? '/usr/bin/caddy';
const COOKIE = '__Secure-airlock_session';
const CADDY_START_MS = 15_000;

/** The Caddy block of docs/gateway.md with this test's ports. */
function caddySiteFromDocs(replacements: Array<[string, string]>): string {
  const doc = readFileSync(join(ROOT, 'docs/gateway.md'), 'utf8');
  const block = /```caddyfile\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, 'docs/gateway.md has a caddyfile block');
  let site = block;
  for (const [from, to] of replacements) {
    assert.ok(site.includes(from), `the Caddy block of docs/gateway.md contains ${from}`);
    site = site.split(from).join(to);
  }
  return site;
}

/**
 * The test's own global options, ahead of the block from the docs: loopback only, HTTPS on a free
 * port with certificates from Caddy's local CA (no ACME, nothing installed in the trust store),
 * no admin endpoint, no HTTP/3, no HTTP listener for redirects, storage in the test's directory.
 */
function caddyGlobalOptions(httpsPort: number, storageDir: string): string {
  return [
    '{',
    '\tadmin off',
    '\tdefault_bind 127.0.0.1',
    `\thttps_port ${httpsPort}`,
    '\tlocal_certs',
    '\tskip_install_trust',
    '\tauto_https disable_redirects',
    `\tstorage file_system ${storageDir}`,
    '\tservers {',
    '\t\tprotocols h1 h2',
    '\t}',
    '}',
    '',
  ].join('\n');
}

describe('access gateway behind Caddy (forward_auth), over HTTPS', () => {
  let slapd: ExternalServer;
  let h: Harness;
  let totp: TOTP;
  let gateway: RunningGateway;
  let upstream: http.Server;
  let caddy: ChildProcess | undefined;
  let caddyLog = '';
  let caddyPort: number;
  let caPem: string;
  const dirs: string[] = [];
  const url = (host: string, path = '/') => `https://${host}.example.org:${caddyPort}${path}`;
  /** A request through Caddy: *.example.org is this machine, Caddy's local CA is trusted. */
  const viaCaddy = (target: string, headers: Record<string, string> = {}): Promise<Answer> =>
    request(target, { method: 'GET', headers, ca: caPem, connectTo: '127.0.0.1' });

  before(async () => {
    if (!existsSync(CADDY)) {
      throw new Error(`Caddy not found at ${CADDY}: apt-get install caddy`);
    }
    slapd = await startSlapd();
    h = await startService();
    const app: Application = await h.createApp();
    totp = (await h.createUser('alice', { totp: true })).totp!;

    // The protected application: echoes the request headers it received.
    upstream = http.createServer((req, res) => {
      const seen = Object.fromEntries(
        ['host', 'remote-user', 'remote-groups', 'remote-email', 'remote-2fa'].map((k) => [
          k,
          req.headers[k] ?? null,
        ]),
      );
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(seen));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamPort = (upstream.address() as { port: number }).port;

    caddyPort = await freeTcpPort();
    const dir = mkdtempSync(join(tmpdir(), 'airlock-gateway-caddy-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'api-ca.pem'), h.caPem);
    const text = [
      '[main]',
      'log_dir=log',
      'admin_listen=127.0.0.1:0',
      '[gateway]',
      'listen=127.0.0.1:0',
      `portal_url=https://auth.example.org:${caddyPort}/`,
      'cookie_domain=example.org',
      `session_secret=${'c4ddy-'.repeat(8)}`,
      // Caddy, on loopback: its X-Forwarded-For and -Proto are believed (docs/gateway.md).
      'trusted_proxies=127.0.0.1',
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
      // Open without a login: the gateway answers 200 with no one to name.
      '[app:public]',
      'hosts=public.example.org',
      'restriction=bypass',
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

    const caddyDir = mkdtempSync(join(tmpdir(), 'airlock-caddy-'));
    dirs.push(caddyDir);
    const site = caddySiteFromDocs([
      ['wiki.example.org {', 'wiki.example.org, public.example.org {'],
      ['127.0.0.1:9443', `127.0.0.1:${gateway.address.port}`],
      ['127.0.0.1:8080', `127.0.0.1:${upstreamPort}`],
    ]);
    const caddyfile = join(caddyDir, 'Caddyfile');
    writeFileSync(caddyfile, caddyGlobalOptions(caddyPort, join(caddyDir, 'data')) + site);
    caddy = spawn(CADDY, ['run', '--config', caddyfile, '--adapter', 'caddyfile'], {
      // Caddy's own config and data directories: the test's, never the user's.
      env: { ...process.env, HOME: caddyDir, XDG_CONFIG_HOME: caddyDir, XDG_DATA_HOME: caddyDir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    caddy.stderr?.setEncoding('utf8').on('data', (c: string) => (caddyLog += c));
    caPem = await waitForCaddy(join(caddyDir, 'data/pki/authorities/local/root.crt'));
  });

  /** Waits until Caddy answers on its port over TLS; returns its local CA's root certificate. */
  async function waitForCaddy(rootCert: string): Promise<string> {
    const deadline = Date.now() + CADDY_START_MS;
    let lastError = 'no root certificate yet';
    for (;;) {
      const exit = caddy?.exitCode ?? caddy?.signalCode;
      if (exit != null) throw new Error(`caddy exited (${exit}):\n${caddyLog}`);
      if (existsSync(rootCert)) {
        const pem = readFileSync(rootCert, 'utf8');
        const ready = await request(url('auth', '/'), {
          method: 'GET',
          headers: {},
          ca: pem,
          connectTo: '127.0.0.1',
        }).then(
          () => true,
          (err: Error) => ((lastError = err.message), false),
        );
        if (ready) return pem;
      }
      if (Date.now() > deadline) {
        throw new Error(`caddy did not come up (${lastError}):\n${caddyLog}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  after(async () => {
    // Every server is stopped even when another one fails to.
    const steps: Array<() => Promise<unknown> | undefined> = [
      () =>
        caddy && caddy.exitCode === null
          ? new Promise((resolve) => {
              caddy!.once('exit', resolve);
              caddy!.kill('SIGTERM');
            })
          : undefined,
      () => gateway?.close(),
      () => new Promise((resolve) => upstream?.close(resolve)),
      () => h?.close(),
      () => slapd?.stop(),
    ];
    for (const step of steps) await Promise.resolve(step()).catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** Logs alice in through the portal behind Caddy, as a browser would; returns her browser. */
  async function aliceLogsIn(target: string): Promise<{ browser: PortalBrowser; done: Answer }> {
    const first = await viaCaddy(target);
    assert.equal(first.status, 302, first.body);
    const browser = new PortalBrowser(url('auth'), {
      origin: `https://auth.example.org:${caddyPort}`,
      ca: caPem,
      connectTo: '127.0.0.1',
    });
    const signIn = await browser.get(first.location!);
    assert.equal(signIn.status, 200, signIn.body);
    const csrf = csrfOf(signIn.body);
    const factor = await browser.post('/login', { csrf, username: 'alice', password: 'alicepw' });
    assert.equal(factor.status, 200, factor.body);
    assert.match(factor.body, /Confirm it is you/);
    // A TOTP code is good once: each login uses the next time step.
    h.clock.advance(30_000);
    const done = await browser.post('/login/passcode', { csrf, passcode: totpAt(totp, h.clock) });
    return { browser, done };
  }

  let aliceCookie: string;

  it('sends a request without a session to the portal’s login URL, carrying the original URL', async () => {
    const res = await viaCaddy(url('wiki', '/page?x=1&y=2'));
    assert.equal(res.status, 302);
    const login = new URL(res.location ?? '');
    assert.equal(login.origin, `https://auth.example.org:${caddyPort}`);
    assert.equal(login.pathname, '/login');
    assert.equal(login.searchParams.get('rd'), url('wiki', '/page?x=1&y=2'));
  });

  it('logs in through the portal behind Caddy (directory password, TOTP); the application gets Remote-User and Remote-2FA', async () => {
    const { browser, done } = await aliceLogsIn(url('wiki', '/page?x=1&y=2'));
    assert.equal(done.status, 303, done.body);
    assert.equal(done.location, url('wiki', '/page?x=1&y=2'));
    const session = browser.cookie(COOKIE);
    assert.ok(session, 'the session cookie is set');
    aliceCookie = `${COOKIE}=${session}`;
    const page = await viaCaddy(done.location, { cookie: aliceCookie });
    assert.equal(page.status, 200, page.body);
    assert.deepEqual(JSON.parse(page.body), {
      host: `wiki.example.org:${caddyPort}`,
      'remote-user': 'alice',
      'remote-groups': 'vpn-users',
      'remote-email': 'alice@example.org',
      'remote-2fa': 'otp',
    });
  });

  it('replaces the Remote-* headers a client sends itself', async () => {
    const page = await viaCaddy(url('wiki', '/'), {
      cookie: aliceCookie,
      'remote-user': 'mallory',
      'remote-2fa': 'push',
      'remote-groups': 'admins',
    });
    assert.equal(page.status, 200, page.body);
    const seen = JSON.parse(page.body) as Record<string, string | null>;
    assert.equal(seen['remote-user'], 'alice');
    assert.equal(seen['remote-2fa'], 'otp');
    assert.equal(seen['remote-groups'], 'vpn-users');
  });

  it('lets no client-sent Remote-* header through to an application open without a login', async () => {
    const page = await viaCaddy(url('public', '/'), {
      'remote-user': 'mallory',
      'remote-2fa': 'push',
      'remote-groups': 'admins',
      'remote-email': 'mallory@example.org',
    });
    assert.equal(page.status, 200, page.body);
    const seen = JSON.parse(page.body) as Record<string, string | null>;
    for (const name of ['remote-user', 'remote-groups', 'remote-email', 'remote-2fa']) {
      // Absent or empty: Caddy 2.6 sets a header the gateway sends empty to the empty string.
      assert.ok(!seen[name], `${name}: ${seen[name]}`);
    }
  });

  it('sends a tampered session cookie to the portal again, never to the application', async () => {
    const value = aliceCookie.slice(COOKIE.length + 1);
    const last = value.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${COOKIE}=${value.slice(0, -2)}${last}${value.at(-1)}`;
    const res = await viaCaddy(url('wiki', '/secret'), { cookie: tampered });
    assert.equal(res.status, 302, res.body);
    assert.equal(new URL(res.location ?? '').pathname, '/login');
    assert.doesNotMatch(res.body, /remote-user/);
  });
});
