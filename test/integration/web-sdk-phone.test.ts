// The hosted prompt with SMS passcodes and a phone call, through the Twilio-compatible provider
// against a local stand-in of the carrier; Duo's Node client exchanges the codes.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Client } from '@duosecurity/duo_universal';
import type { Application } from '../../src/core/model.ts';
import { parseFactorsConfig } from '../../src/factors/factors-config.ts';
import { CryptoRandom, generateId } from '../../src/runtime/random.ts';
import { startProviderStandin, type ProviderStandin } from '../support/provider-standin.ts';
import { startService, type Harness } from './service-harness.ts';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  createWebSdkApp,
  duoUniversal,
  startCallbackServer,
  type CallbackServer,
} from './web-sdk-helpers.ts';

const ACCOUNT = 'AC00000000000000000000000000000002';
const TOKEN = 'standin-auth-token-websdk-0123456789';

describe('the hosted prompt with SMS and phone factors', () => {
  let carrier: ProviderStandin;
  let h: Harness;
  let browser: Browser;
  let callback: CallbackServer;
  let app: Application;
  let duo: Client;

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}`);
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
      smsPasscodes: { count: 3, validSeconds: 600 },
    });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    h = await startService({ authStatusWaitSeconds: 1, factors: parsed.config });
    callback = await startCallbackServer();
    app = await createWebSdkApp(h, [callback.url]);
    duo = duoUniversal(h, { clientId: app.ikey, clientSecret: app.skey }, callback.url);
    const { id } = await h.createUser('pat');
    await h.store.createDevice({
      id: generateId(new CryptoRandom(), 'DP'),
      userId: id,
      name: 'mobile',
      platform: 'phone',
      phoneNumber: '+15551230177',
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await callback?.close();
    await h?.close();
    await carrier?.close();
  });

  async function openPrompt(): Promise<Page> {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: 'en-US' });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(await duo.createAuthUrl('pat', duo.generateState()));
    return page;
  }

  async function resultAtApplication(page: Page) {
    await page.waitForURL((u) => u.toString().startsWith(callback.url));
    const code = new URL(page.url()).searchParams.get('duo_code') ?? '';
    await page.context().close();
    return duo.exchangeAuthorizationCodeFor2FAResult(code, 'pat');
  }

  it('texts SMS passcodes to the masked number; one of them logs in', async () => {
    const page = await openPrompt();
    const before = carrier.messages.length;
    await page.getByRole('button', { name: 'Text passcodes to mobile (XXX-XXX-0177)' }).click();
    await page.getByRole('status').filter({ hasText: 'SMS passcodes sent.' }).waitFor();
    const message = carrier.messages[before];
    assert.equal(message?.to, '+15551230177');
    const first = /1\. ([0-9]{7})/.exec(message?.body ?? '')?.[1] ?? '';
    await page.getByLabel('Passcode').fill(first);
    await page.getByRole('button', { name: 'Log in' }).click();
    const token = await resultAtApplication(page);
    assert.equal((token.auth_result as { result: string }).result, 'allow');
  });

  it('calls the number; pressing 1 approves, and the page goes on by itself', async () => {
    const page = await openPrompt();
    const placed = carrier.nextCall();
    await page.getByRole('button', { name: 'Call mobile (XXX-XXX-0177)' }).click();
    const call = await placed;
    assert.equal(call.to, '+15551230177');
    const answered = await carrier.answerCall(call.sid, { digits: '1', caPem: h.caPem });
    assert.equal(answered.status, 200, answered.bodyText);
    const token = await resultAtApplication(page);
    assert.equal((token.auth_result as { result: string }).result, 'allow');
    assert.equal((token.auth_context as { factor: string }).factor, 'phone_call');
  });
});
