// The hosted prompt's behaviour in Chromium, driven by Duo's Node client: "remember this device"
// (off by default, per application), per-factor health, verified push, enrollment of a new user,
// and a login done with the keyboard alone.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Client } from '@duosecurity/duo_universal';
import type { TOTP } from 'otpauth';
import type { Application } from '../../src/core/model.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  createWebSdkApp,
  duoUniversal,
  startCallbackServer,
  type CallbackServer,
} from './web-sdk-helpers.ts';

const STEP_MS = 15_000;

describe('the hosted prompt in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let callback: CallbackServer;
  let gina: TOTP;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
    h = await startService({ authStatusWaitSeconds: 1 });
    callback = await startCallbackServer();
    gina = (await h.createUser('gina', { totp: true })).totp!;
    const ivan = await h.createUser('ivan');
    // A device that takes pushes (its key is never used here: no one answers these pushes).
    await h.store.createDevice({
      id: 'DPIVANPHONE000000001',
      userId: ivan.id,
      name: 'Ivan’s phone',
      platform: 'cli',
      publicKeyJwk: '{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}',
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await callback?.close();
    await h?.close();
  });

  async function prompt(context: BrowserContext, client: Client, username: string): Promise<Page> {
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    await page.goto(await client.createAuthUrl(username, client.generateState()));
    return page;
  }

  async function codeFrom(page: Page): Promise<string> {
    await page.waitForURL((u) => u.toString().startsWith(callback.url));
    return new URL(page.url()).searchParams.get('duo_code') ?? '';
  }

  const newContext = () => browser.newContext({ ignoreHTTPSErrors: true, locale: 'en-US' });
  const duoFor = (app: Application) =>
    duoUniversal(h, { clientId: app.ikey, clientSecret: app.skey }, callback.url);

  it('remember this device: offered only when the application allows it; then the factor is skipped until the user is refused by policy', async () => {
    const plain = await createWebSdkApp(h, [callback.url]);
    const remembering = await createWebSdkApp(h, [callback.url], { rememberDeviceHours: 12 });
    const context = await newContext();
    const offPage = await prompt(context, duoFor(plain), 'gina');
    await offPage.getByLabel('Passcode').waitFor();
    assert.equal(await offPage.getByText(/Remember this device/).count(), 0);
    await offPage.close();

    const duo = duoFor(remembering);
    const first = await prompt(context, duo, 'gina');
    await first.getByLabel('Passcode').fill(totpAt(gina, h.clock));
    await first.getByLabel('Remember this device for 12 hours').first().check();
    await first.getByRole('button', { name: 'Log in' }).click();
    const firstToken = await duo.exchangeAuthorizationCodeFor2FAResult(
      await codeFrom(first),
      'gina',
    );
    assert.equal((firstToken.auth_context as { factor: string }).factor, 'passcode');

    const second = await prompt(context, duo, 'gina');
    const token = await duo.exchangeAuthorizationCodeFor2FAResult(await codeFrom(second), 'gina');
    assert.equal((token.auth_result as { result: string }).result, 'allow');
    assert.equal((token.auth_context as { factor: string }).factor, 'remembered_device');
    const audited = await h.store.listAudit({ action: 'auth.remembered-device', username: 'gina' });
    assert.equal(audited.length, 1);

    // Another application does not honour it.
    const other = await prompt(context, duoFor(plain), 'gina');
    await other.getByLabel('Passcode').waitFor();

    // The policy still decides first: a disabled user is refused on a remembered device.
    const user = (await h.store.findUser('gina'))!;
    await h.store.setUserStatus(user.id, 'disabled');
    const refused = await prompt(context, duo, 'gina');
    await refused.getByRole('alert').filter({ hasText: 'Your account is disabled.' }).waitFor();
    await h.store.setUserStatus(user.id, 'active');
    await context.close();
  });

  it('says which factor is having problems and what to use instead', async () => {
    const app = await createWebSdkApp(h, [callback.url]);
    for (let i = 0; i < 10; i++) {
      h.service.factorHealth.record('push', 'authenticator', 'failed', 0, h.clock.nowMs());
    }
    const context = await newContext();
    const page = await prompt(context, duoFor(app), 'ivan');
    await page
      .getByRole('status')
      .filter({ hasText: 'Push is having problems. Use a passcode instead.' })
      .waitFor();
    await page.getByRole('button', { name: 'Send push' }).waitFor();
    await context.close();
    const german = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'de-DE' });
    const page2 = await prompt(german, duoFor(app), 'ivan');
    await page2
      .getByRole('status')
      .filter({ hasText: 'Push hat Probleme. Verwenden Sie stattdessen einen Passcode.' })
      .waitFor();
    await german.close();
  });

  it('verified push: the prompt shows the code the push carries', async () => {
    const app = await createWebSdkApp(h, [callback.url], { verifiedPush: true });
    const context = await newContext();
    const page = await prompt(context, duoFor(app), 'ivan');
    await page.getByRole('button', { name: 'Send push' }).click();
    const shown = await page
      .getByText(/Enter this code in your authenticator: [0-9]{3}/)
      .innerText();
    const code = /([0-9]{3})/.exec(shown)?.[1];
    const pending = await h.store.listPendingOobRequests('DPIVANPHONE000000001', h.clock.nowMs());
    assert.equal(pending.at(-1)?.verificationCode, code);
    await context.close();
  });

  it('a new user under the enroll policy gets an activation link for the authenticator', async () => {
    const app = await h.store.updateApplication((await createWebSdkApp(h, [callback.url])).id, {
      newUserPolicy: 'enroll',
    });
    const context = await newContext();
    const page = await prompt(context, duoFor(app), 'henry');
    await page.getByRole('heading', { name: 'Set up two-factor login' }).waitFor();
    const href = await page.getByRole('link').first().getAttribute('href');
    assert.match(href ?? '', /\/activate\/[A-Z0-9]{20}$/);
    assert.ok(await h.store.findUser('henry'), 'the user was created for enrollment');
    await context.close();
  });

  it('works with the keyboard alone: the passcode field has focus, Enter submits', async () => {
    const app = await createWebSdkApp(h, [callback.url]);
    const duo = duoFor(app);
    const context = await newContext();
    h.clock.advance(30_000);
    const page = await prompt(context, duo, 'gina');
    await page.getByLabel('Passcode').waitFor();
    assert.equal(
      await page.evaluate('document.activeElement && document.activeElement.id'),
      'passcode',
    );
    await page.keyboard.type(totpAt(gina, h.clock));
    await page.keyboard.press('Enter');
    const token = await duo.exchangeAuthorizationCodeFor2FAResult(await codeFrom(page), 'gina');
    assert.equal((token.auth_result as { result: string }).result, 'allow');
    await context.close();
  });
});
