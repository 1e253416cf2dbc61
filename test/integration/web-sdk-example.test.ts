// The example web application (examples/web-sdk-app) under failmode safe and secure: a real login
// through the prompt, then the service stopped (safe: logged in without 2FA and the failmode event
// logged; secure: refused with a clear page), and a bad client secret (refused under both).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import type { TOTP } from 'otpauth';
import type { Application } from '../../src/core/model.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';
import { CHROMIUM, CHROMIUM_ARGS, createWebSdkApp } from './web-sdk-helpers.ts';

const EXAMPLE = new URL('../../examples/web-sdk-app/server.js', import.meta.url).pathname;

interface Example {
  url: string;
  events: Record<string, unknown>[];
  child: ChildProcess;
}

describe('the example web application under both failmodes', () => {
  let h: Harness;
  let app: Application;
  let dir: string;
  let browser: Browser;
  let totp: TOTP;
  const running: Example[] = [];

  async function startExample(failmode: 'safe' | 'secure', secret = app.skey): Promise<Example> {
    const child = spawn(process.execPath, [EXAMPLE], {
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
        AIRLOCK_API_HOST: `localhost:${h.port}`,
        AIRLOCK_CLIENT_ID: app.ikey,
        AIRLOCK_CLIENT_SECRET: secret,
        EXAMPLE_FAILMODE: failmode,
        EXAMPLE_PORT: '0',
        EXAMPLE_USERS: 'erin:open-sesame',
        EXAMPLE_TIMEOUT_MS: '3000',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const events: Record<string, unknown>[] = [];
    const lines = createInterface({ input: child.stdout });
    const listening = new Promise<string>((resolve) =>
      lines.on('line', (line) => {
        const event = JSON.parse(line) as Record<string, unknown>;
        events.push(event);
        if (event.event === 'listening') resolve(String(event.url));
      }),
    );
    const url = await listening;
    const example = { url, events, child };
    running.push(example);
    // Its callback must be registered before a login can come back to it.
    app = await h.store.updateApplication(app.id, {
      redirectUris: [...app.redirectUris, `${url}/duo-callback`],
    });
    return example;
  }

  /** Posts the password form; the answer and the session cookie. */
  async function postLogin(example: Example, password = 'open-sesame') {
    const r = await fetch(`${example.url}/login`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'erin', password }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      redirect: 'manual',
    });
    const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    return { status: r.status, location: r.headers.get('location'), body: await r.text(), cookie };
  }

  async function home(example: Example, cookie: string): Promise<string> {
    return (await fetch(`${example.url}/`, { headers: { cookie } })).text();
  }

  before(async () => {
    h = await startService();
    dir = mkdtempSync(join(tmpdir(), 'airlock-example-'));
    writeFileSync(join(dir, 'ca.pem'), h.caPem);
    app = await createWebSdkApp(h, ['https://placeholder.example/cb']);
    totp = (await h.createUser('erin', { totp: true })).totp!;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    for (const e of running) {
      e.child.kill('SIGTERM');
      if (e.child.exitCode === null) await once(e.child, 'exit');
    }
    await h?.close().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('logs in with the password, then the passcode in the prompt (failmode secure)', async () => {
    const example = await startExample('secure');
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(example.url);
    await page.getByLabel('Username').fill('erin');
    await page.getByLabel('Password').fill('open-sesame');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('Passcode').fill(totpAt(totp, h.clock));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#who').waitFor();
    assert.match(
      await page.locator('#who').innerText(),
      /Logged in as erin; second factor checked/,
    );
    await context.close();
    assert.ok(example.events.some((e) => e.event === 'login' && e.result === 'allowed'));
  });

  it('refuses a wrong password before any second factor', async () => {
    const example = await startExample('safe');
    const r = await postLogin(example, 'wrong');
    assert.equal(r.status, 401);
  });

  for (const failmode of ['safe', 'secure'] as const) {
    it(`a bad client secret is refused under failmode ${failmode}`, async () => {
      const example = await startExample(failmode, 'z'.repeat(40));
      const r = await postLogin(example);
      assert.equal(r.status, 503);
      assert.match(r.body, /Two-factor login is unavailable/);
      assert.doesNotMatch(await home(example, r.cookie), /Logged in/);
      const event = example.events.find((e) => e.event === 'failmode');
      assert.deepEqual(
        { allowed: event?.allowed, reason: event?.reason, error: event?.error },
        { allowed: false, reason: 'error-invalid_client', error: 'invalid_client' },
      );
    });
  }

  it('with the service stopped: safe logs in without 2FA and logs the failmode; secure refuses', async () => {
    const safe = await startExample('safe');
    const secure = await startExample('secure');
    await h.service.server.close();

    const open = await postLogin(safe);
    assert.equal(open.status, 303);
    assert.match(
      await home(safe, open.cookie),
      /Logged in as erin; second factor NOT checked \(failmode safe/,
    );
    const event = safe.events.find((e) => e.event === 'failmode');
    assert.deepEqual(
      {
        allowed: event?.allowed,
        secondFactorChecked: event?.secondFactorChecked,
        reason: event?.reason,
        username: event?.username,
      },
      {
        allowed: true,
        secondFactorChecked: false,
        reason: 'failmode-safe-unreachable',
        username: 'erin',
      },
    );

    const closed = await postLogin(secure);
    assert.equal(closed.status, 503);
    assert.match(closed.body, /Two-factor login is unavailable/);
    assert.doesNotMatch(await home(secure, closed.cookie), /Logged in/);
    assert.equal(
      secure.events.find((e) => e.event === 'failmode')?.reason,
      'failmode-secure-unreachable',
    );
  });
});
