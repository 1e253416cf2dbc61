// Web SDK v4 end to end: Duo's own Node client (@duosecurity/duo_universal) completes real logins
// through the hosted prompt in headless Chromium; the CLI authenticator answers the pushes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Client } from '@duosecurity/duo_universal';
import type { TOTP } from 'otpauth';
import { renderActivationCode } from '../../src/core/activation-code.ts';
import type { Application } from '../../src/core/model.ts';
import { CryptoRandom, generateId } from '../../src/runtime/random.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  createWebSdkApp,
  duoUniversal,
  startCallbackServer,
  type CallbackServer,
} from './web-sdk-helpers.ts';

const run = promisify(execFile);
const BIN = new URL('../../bin/airlock.js', import.meta.url).pathname;
const STEP_MS = 15_000;
// The committed screenshot is refreshed on request only (AIRLOCK_UPDATE_SCREENSHOTS=1), so a
// test run leaves the tree clean.
const SCREENSHOT = process.env.AIRLOCK_UPDATE_SCREENSHOTS
  ? new URL('../../docs/screenshots/web-sdk-prompt.png', import.meta.url).pathname
  : join(mkdtempSync(join(tmpdir(), 'airlock-shots-')), 'web-sdk-prompt.png');

describe('Web SDK: Duo’s Node client against the hosted prompt in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let context: BrowserContext;
  let callback: CallbackServer;
  let app: Application;
  let duo: Client;
  let dir: string;
  let bobTotp: TOTP;
  const state = () => ['--state', join(dir, 'authenticator.json')];
  const authenticator = async (args: string[]) =>
    JSON.parse(
      (await run(process.execPath, [BIN, 'authenticator', ...args, ...state(), '--json'])).stdout,
    ) as unknown;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
    h = await startService({ authStatusWaitSeconds: 1 });
    dir = mkdtempSync(join(tmpdir(), 'airlock-websdk-'));
    writeFileSync(join(dir, 'ca.pem'), h.caPem);
    callback = await startCallbackServer();
    app = await createWebSdkApp(h, [callback.url], { name: 'Customer portal' });
    duo = duoUniversal(h, { clientId: app.ikey, clientSecret: app.skey }, callback.url);
    // alice answers pushes with the CLI authenticator; bob types TOTP passcodes.
    const alice = await h.createUser('alice');
    const code = generateId(new CryptoRandom(), '', 20);
    await h.store.createDeviceActivation({
      activationCode: code,
      userId: alice.id,
      expiresAtMs: h.clock.nowMs() + 600_000,
    });
    await authenticator([
      'activate',
      renderActivationCode(code, `localhost:${h.port}`),
      '--ca',
      join(dir, 'ca.pem'),
      '--name',
      'laptop',
    ]);
    bobTotp = (await h.createUser('bob', { totp: true })).totp!;
    await h.createUser('carol', { status: 'disabled' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await callback?.close();
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function openPrompt(
    username: string,
    client = duo,
  ): Promise<{ page: Page; state: string }> {
    context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'en-US' });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    const stateValue = client.generateState();
    await page.goto(await client.createAuthUrl(username, stateValue));
    return { page, state: stateValue };
  }

  /** Waits for the redirect to the application's callback; its duo_code and state. */
  async function backAtApplication(page: Page): Promise<{ code: string; state: string }> {
    await page.waitForURL((u) => u.toString().startsWith(callback.url));
    const url = new URL(page.url());
    await context.close();
    return {
      code: url.searchParams.get('duo_code') ?? '',
      state: url.searchParams.get('state') ?? '',
    };
  }

  async function pendingTxid(): Promise<string> {
    const pending = (await authenticator(['pending', '--wait', '10'])) as { txid: string }[];
    assert.equal(pending.length, 1, 'one push is waiting on the authenticator');
    return pending[0]!.txid;
  }

  it('health check: OK for the right client secret', async () => {
    const answer = (await duo.healthCheck()) as { stat: string; response: { timestamp: number } };
    assert.equal(answer.stat, 'OK');
    assert.ok(Math.abs(answer.response.timestamp - h.clock.nowMs() / 1000) < 2);
  });

  it('health check with a wrong client secret fails with invalid_client', async () => {
    const wrong = duoUniversal(
      h,
      { clientId: app.ikey, clientSecret: 'x'.repeat(40) },
      callback.url,
    );
    await assert.rejects(wrong.healthCheck(), /invalid_client/);
  });

  it('push approved by the CLI authenticator: allow, with the live status and no reload', async () => {
    const { page, state } = await openPrompt('alice');
    await page.setViewportSize({ width: 720, height: 640 });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(statSync(SCREENSHOT).size > 5_000, 'the screenshot shows the prompt');
    await page.getByRole('button', { name: 'Send push' }).click();
    await page.getByRole('status').filter({ hasText: 'Waiting' }).waitFor();
    const txid = await pendingTxid();
    await authenticator(['approve', txid]);
    const back = await backAtApplication(page);
    assert.equal(back.state, state);
    const token = await duo.exchangeAuthorizationCodeFor2FAResult(back.code, 'alice');
    assert.deepEqual(token.auth_result, {
      result: 'allow',
      status: 'allow',
      status_msg: 'Success. Logging you in...',
    });
    assert.equal(token.preferred_username, 'alice');
    const ctx = token.auth_context as Record<string, unknown>;
    assert.equal(ctx.factor, 'duo_push');
    assert.equal(ctx.result, 'success');
    assert.equal((ctx.application as { key: string }).key, app.ikey);
  });

  it('passcode: allow', async () => {
    const { page } = await openPrompt('bob');
    await page.getByLabel('Passcode').fill(totpAt(bobTotp, h.clock));
    await page.getByRole('button', { name: 'Log in' }).click();
    const back = await backAtApplication(page);
    const token = await duo.exchangeAuthorizationCodeFor2FAResult(back.code, 'bob');
    assert.equal((token.auth_result as { result: string }).result, 'allow');
    assert.equal((token.auth_context as { factor: string }).factor, 'passcode');
  });

  it('a wrong passcode stays on the prompt with an error; the right one then allows', async () => {
    h.clock.advance(30_000);
    const { page } = await openPrompt('bob');
    await page.getByLabel('Passcode').fill('000000');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Incorrect passcode' }).waitFor();
    await page.getByLabel('Passcode').fill(totpAt(bobTotp, h.clock));
    await page.getByRole('button', { name: 'Log in' }).click();
    const back = await backAtApplication(page);
    const token = await duo.exchangeAuthorizationCodeFor2FAResult(back.code, 'bob');
    assert.equal((token.auth_result as { result: string }).result, 'allow');
  });

  it('push denied: the prompt says so, and the application gets deny', async () => {
    const { page } = await openPrompt('alice');
    await page.getByRole('button', { name: 'Send push' }).click();
    const txid = await pendingTxid();
    await authenticator(['deny', txid]);
    await page.getByRole('alert').filter({ hasText: 'Login request denied.' }).waitFor();
    await page.getByRole('button', { name: 'Return to the application' }).click();
    const back = await backAtApplication(page);
    const token = await duo.exchangeAuthorizationCodeFor2FAResult(back.code, 'alice');
    assert.equal((token.auth_result as { result: string }).result, 'deny');
    assert.equal((token.auth_context as { result: string }).result, 'denied');
  });

  it('a disabled user is denied by policy before any factor', async () => {
    const { page } = await openPrompt('carol');
    await page.getByRole('alert').filter({ hasText: 'Your account is disabled.' }).waitFor();
    assert.equal(await page.getByLabel('Passcode').count(), 0);
    await page.getByRole('button', { name: 'Return to the application' }).click();
    const back = await backAtApplication(page);
    const token = await duo.exchangeAuthorizationCodeFor2FAResult(back.code, 'carol');
    assert.equal((token.auth_result as { result: string }).result, 'deny');
  });

  async function passcodeLogin(): Promise<{ code: string }> {
    h.clock.advance(30_000);
    const { page } = await openPrompt('bob');
    await page.getByLabel('Passcode').fill(totpAt(bobTotp, h.clock));
    await page.getByRole('button', { name: 'Log in' }).click();
    return backAtApplication(page);
  }

  it('an expired code (over 60 s) is refused with invalid_grant', async () => {
    const { code } = await passcodeLogin();
    h.clock.advance(61_000);
    await assert.rejects(duo.exchangeAuthorizationCodeFor2FAResult(code, 'bob'), /invalid_grant/);
  });

  it('a replayed code is refused with invalid_grant', async () => {
    const { code } = await passcodeLogin();
    await duo.exchangeAuthorizationCodeFor2FAResult(code, 'bob');
    await assert.rejects(duo.exchangeAuthorizationCodeFor2FAResult(code, 'bob'), /invalid_grant/);
  });

  it('a wrong client secret at the token endpoint is invalid_client (and does not use the code)', async () => {
    const { code } = await passcodeLogin();
    const wrong = duoUniversal(
      h,
      { clientId: app.ikey, clientSecret: 'y'.repeat(40) },
      callback.url,
    );
    await assert.rejects(
      wrong.exchangeAuthorizationCodeFor2FAResult(code, 'bob'),
      /invalid_client/,
    );
    const token = await duo.exchangeAuthorizationCodeFor2FAResult(code, 'bob');
    assert.equal((token.auth_result as { result: string }).result, 'allow');
  });

  it('a redirect URI that is not registered is refused on an error page, never redirected to', async () => {
    const evil = duoUniversal(
      h,
      { clientId: app.ikey, clientSecret: app.skey },
      'https://evil.example/callback',
    );
    const { page } = await openPrompt('alice', evil);
    await page.getByRole('alert').filter({ hasText: 'has not registered' }).waitFor();
    assert.ok(page.url().startsWith(`https://localhost:${h.port}/oauth/v1/authorize`));
    await context.close();
  });

  it('speaks German to a German browser', async () => {
    context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'de-DE' });
    const page = await context.newPage();
    await page.goto(await duo.createAuthUrl('bob', duo.generateState()));
    await page.getByRole('button', { name: 'Anmelden' }).waitFor({ timeout: STEP_MS });
    assert.equal(await page.getAttribute('html', 'lang'), 'de');
    assert.equal(await page.getByLabel('Passcode').count(), 1);
    await context.close();
  });
});
