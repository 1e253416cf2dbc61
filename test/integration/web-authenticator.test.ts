// The web authenticator in headless Chromium against the real service: activation from a code,
// the TOTP passcode, live push requests answered with Approve / Deny, and the key left unreadable.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Application } from '../../src/core/model.ts';
import { CryptoRandom, generateId } from '../../src/runtime/random.ts';
import { startService, type Harness } from './service-harness.ts';
import type { DuoCall } from './duo-client.ts';

const CHROMIUM = '/usr/bin/chromium';
// docs/STACK.md §7: the flags measured with Debian's Chromium here.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
// The committed screenshot is refreshed on request only (AIRLOCK_UPDATE_SCREENSHOTS=1), so a
// test run leaves the tree clean.
const SCREENSHOT = process.env.AIRLOCK_UPDATE_SCREENSHOTS
  ? new URL('../../docs/screenshots/web-authenticator.png', import.meta.url)
  : pathToFileURL(join(mkdtempSync(join(tmpdir(), 'airlock-shots-')), 'web-authenticator.png'));
/** Upper bound for one browser step; a step that needs longer is a failure, not a slow pass. */
const STEP_MS = 15_000;

interface StoredKeyFacts {
  totpKeyExtractable: boolean;
  totpSecretStored: boolean;
  isCryptoKey: boolean;
  extractable: boolean;
  type: string;
  algorithm: { name: string; namedCurve: string };
  usages: string[];
  exportRefused: boolean;
  deviceId: string;
}

interface Enrolled {
  username: string;
  activationCode: string;
  userId: string;
}

describe('web authenticator in headless Chromium', () => {
  let harness: Harness;
  let browser: Browser;
  let app: Application;
  let duo: DuoCall;
  let origin: string;

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: install Debian's package (apt-get install --no-install-recommends chromium)`,
      );
    }
    // auth_status answers "waiting" after 1 s, so a test can read a pending push's status_msg.
    harness = await startService({ authStatusWaitSeconds: 1 });
    // Loopback only; the harness's certificate is for "localhost", so Chromium is told to accept it.
    origin = `https://127.0.0.1:${harness.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    // A readable application name for the request card (and the screenshot).
    app = await harness.store.updateApplication((await harness.createApp()).id, {
      name: 'Corporate VPN',
    });
    duo = harness.duo(app);
  });

  after(async () => {
    // The browser first: its pending long polls would otherwise hold the service's close.
    await browser?.close();
    await harness?.close();
  });

  /** A fresh browser profile (its own IndexedDB) with a phone-sized screen. */
  async function openContext(): Promise<BrowserContext> {
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: 'en-US',
      timezoneId: 'UTC',
    });
    context.setDefaultTimeout(STEP_MS);
    return context;
  }

  /** An activation code for a new user, made the way an application makes one (Auth API /enroll). */
  async function enroll(username: string): Promise<Enrolled> {
    const res = await duo('POST', '/auth/v2/enroll', { username });
    assert.equal(res.stat, 'OK', JSON.stringify(res));
    const r = res.response as { activation_code: string; user_id: string; username: string };
    assert.match(r.activation_code, /^duo:\/\/[A-Z0-9]{20}-/);
    return { username: r.username, activationCode: r.activation_code, userId: r.user_id };
  }

  /** An activation code for an existing user, made as `airlock device enroll USER` makes one. */
  async function enrollExisting(username: string): Promise<Enrolled> {
    const { id } = await harness.createUser(username);
    const code = generateId(new CryptoRandom(), '', 20);
    await harness.store.createDeviceActivation({
      activationCode: code,
      userId: id,
      expiresAtMs: harness.clock.nowMs() + 600_000,
    });
    return { username, activationCode: code, userId: id };
  }

  /** Opens /authenticator/?code=… (as /activate/CODE links), names the device, activates. */
  async function activate(page: Page, enrolled: Enrolled, deviceName: string): Promise<void> {
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // The page must live within its Content-Security-Policy (no inline code, only its origin).
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text()))
        pageErrors.push(m.text());
    });
    const response = await page.goto(
      `${origin}/authenticator/?code=${encodeURIComponent(enrolled.activationCode)}`,
    );
    assert.equal(
      response?.status(),
      200,
      'GET /authenticator/ must serve the page (registerAuthenticatorWeb wired into buildService)',
    );
    await page.getByLabel('Activation code').waitFor();
    assert.equal(await page.getByLabel('Activation code').inputValue(), enrolled.activationCode);
    await page.getByLabel('Device name').fill(deviceName);
    await page.getByRole('button', { name: 'Activate' }).click();

    // Either the main screen or an activation error, whichever comes first.
    await page.locator('#device:visible, #activation-error:not(:empty)').first().waitFor();
    const error = await page.locator('#activation-error').innerText();
    assert.equal(error, '', `activation failed: ${error}`);
    assert.equal(await page.locator('#device-username').innerText(), enrolled.username);
    assert.equal(await page.locator('#device-name-shown').innerText(), deviceName);
    // The single-use code is gone from the address bar once it has been used.
    assert.equal(new URL(page.url()).search, '');
    await page.locator('#connection[data-state="connected"]').waitFor();
    assert.deepEqual(pageErrors, []);
  }

  /** Starts an async push the way an application does; returns its txid. */
  async function startPush(username: string, call: DuoCall = duo): Promise<string> {
    // The browser signs with its own clock; keep the service's fixed clock at real time.
    harness.clock.set(Date.now());
    const res = await call('POST', '/auth/v2/auth', {
      username,
      factor: 'push',
      device: 'auto',
      async: '1',
      ipaddr: '198.51.100.7',
      hostname: 'vpn-gw-1',
      pushinfo: 'Server=vpn1&Command=ssh',
    });
    assert.equal(res.stat, 'OK', JSON.stringify(res));
    const txid = (res.response as { txid?: string }).txid;
    assert.ok(txid, 'an async push returns a txid');
    return txid;
  }

  /** Waits until the card of `txid` shows the service's answer (or an error). */
  async function answered(page: Page, txid: string): Promise<void> {
    await page.locator(`.request[data-txid="${txid}"][data-outcome]`).waitFor();
  }

  /** The transaction's status; called once the card shows the answer, so it is final. */
  async function authStatus(
    txid: string,
    call: DuoCall = duo,
  ): Promise<{ result: string; status: string; status_msg: string }> {
    const res = await call('GET', '/auth/v2/auth_status', { txid });
    assert.equal(res.stat, 'OK', JSON.stringify(res));
    return res.response as { result: string; status: string; status_msg: string };
  }

  it('activates from a code, shows a valid passcode, and approves a push', async () => {
    const context = await openContext();
    try {
      const page = await context.newPage();
      const enrolled = await enroll('alice-web');
      await activate(page, enrolled, 'Alice’s test phone');

      const enrollStatus = await duo('POST', '/auth/v2/enroll_status', {
        user_id: enrolled.userId,
        activation_code: enrolled.activationCode,
      });
      assert.deepEqual(enrollStatus, { stat: 'OK', response: 'success' });

      // The passcode the page computes (RFC 6238 in WebCrypto) is one the service accepts.
      harness.clock.set(Date.now());
      const passcode = await page.locator('#totp-code').innerText();
      assert.match(passcode, /^[0-9]{6}$/);
      const byPasscode = await duo('POST', '/auth/v2/auth', {
        username: enrolled.username,
        factor: 'passcode',
        passcode,
      });
      assert.equal(
        (byPasscode.response as { result?: string }).result,
        'allow',
        JSON.stringify(byPasscode),
      );

      const txid = await startPush(enrolled.username);
      const card = page.locator(`.request[data-txid="${txid}"]`);
      await card.waitFor();
      assert.match(await card.locator('.request-title').innerText(), new RegExp(app.name));
      assert.equal(await card.locator('[data-field="username"]').innerText(), enrolled.username);
      assert.equal(await card.locator('[data-field="ipaddr"]').innerText(), '198.51.100.7');
      assert.equal(await card.locator('[data-field="hostname"]').innerText(), 'vpn-gw-1');
      assert.equal(await card.locator('[data-pushinfo="Server"]').innerText(), 'vpn1');
      assert.equal(await card.locator('[data-pushinfo="Command"]').innerText(), 'ssh');
      assert.match(await card.locator('[data-field="expiry"]').innerText(), /^Expires in \d+ s$/);

      mkdirSync(new URL('.', SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });

      await card.getByRole('button', { name: 'Approve' }).click();
      await answered(page, txid);
      assert.match(await card.locator('.result').innerText(), /^Approved/);
      assert.equal(await card.getAttribute('data-outcome'), 'allow');
      assert.equal((await authStatus(txid)).result, 'allow');
    } finally {
      await context.close();
    }
  });

  it('denies a push on Deny and on Report as fraud (activated from a bare code)', async () => {
    const context = await openContext();
    try {
      const page = await context.newPage();
      const enrolled = await enrollExisting('bob-web');
      await activate(page, enrolled, 'Bob’s laptop');

      const denied = await startPush(enrolled.username);
      const deniedCard = page.locator(`.request[data-txid="${denied}"]`);
      await deniedCard.waitFor();
      await deniedCard.getByRole('button', { name: 'Deny' }).click();
      await answered(page, denied);
      assert.match(await deniedCard.locator('.result').innerText(), /^Denied/);
      assert.equal(await deniedCard.getAttribute('data-outcome'), 'deny');
      assert.deepEqual(
        await authStatus(denied).then(({ result, status }) => ({ result, status })),
        { result: 'deny', status: 'deny' },
      );

      const reported = await startPush(enrolled.username);
      const reportedCard = page.locator(`.request[data-txid="${reported}"]`);
      await reportedCard.waitFor();
      page.once('dialog', (dialog) => void dialog.accept());
      await reportedCard.getByRole('button', { name: 'Report as fraud' }).click();
      await answered(page, reported);
      assert.equal(await reportedCard.getAttribute('data-outcome'), 'fraud');
      assert.deepEqual(
        await authStatus(reported).then(({ result, status }) => ({ result, status })),
        { result: 'deny', status: 'fraud' },
      );
    } finally {
      await context.close();
    }
  });

  it('approves a verified push only with the code the login screen shows', async () => {
    const verifiedApp = await harness.createApp({ verifiedPush: true });
    const verifiedDuo = harness.duo(verifiedApp);
    const context = await openContext();
    try {
      const page = await context.newPage();
      const enrolled = await enrollExisting('dave-web');
      await activate(page, enrolled, 'Dave’s phone');

      const txid = await startPush(enrolled.username, verifiedDuo);
      const card = page.locator(`.request[data-txid="${txid}"]`);
      await card.waitFor();
      const pending = await authStatus(txid, verifiedDuo);
      assert.equal(pending.result, 'waiting');
      const shown = /verification code ([0-9]{3})/.exec(pending.status_msg)?.[1];
      assert.ok(shown, `the login screen's status_msg carries the code: ${pending.status_msg}`);

      // Approve without the code: the page asks for it and sends nothing.
      await card.getByRole('button', { name: 'Approve' }).click();
      assert.match(await card.locator('.result').innerText(), /Enter the verification code/);
      assert.equal(await card.getAttribute('data-outcome'), null);
      assert.equal((await authStatus(txid, verifiedDuo)).result, 'waiting');

      await card.getByLabel('Verification code shown on the login screen').fill(shown);
      await card.getByRole('button', { name: 'Approve' }).click();
      await answered(page, txid);
      assert.equal(await card.getAttribute('data-outcome'), 'allow');
      assert.equal((await authStatus(txid, verifiedDuo)).result, 'allow');
    } finally {
      await context.close();
    }
  });

  it('keeps the private key in IndexedDB as a non-extractable CryptoKey', async () => {
    const context = await openContext();
    try {
      const page = await context.newPage();
      const enrolled = await enroll('carol-web');
      await activate(page, enrolled, 'Carol’s tablet');

      // Plain JS (the test compiles without DOM types): read the record the way the page does.
      const key = await page.evaluate<StoredKeyFacts>(`(async () => {
        const db = await new Promise((resolve, reject) => {
          const open = indexedDB.open('airlock-authenticator');
          open.onsuccess = () => resolve(open.result);
          open.onerror = () => reject(open.error);
        });
        const record = await new Promise((resolve, reject) => {
          const get = db.transaction('device').objectStore('device').get('current');
          get.onsuccess = () => resolve(get.result);
          get.onerror = () => reject(get.error);
        });
        const k = record.privateKey;
        const exportRefused = await crypto.subtle.exportKey('jwk', k).then(() => false, () => true);
        return {
          totpKeyExtractable: record.totp.key.extractable,
          totpSecretStored: JSON.stringify(Object.keys(record.totp)).includes('secret'),
          isCryptoKey: k instanceof CryptoKey,
          extractable: k.extractable,
          type: k.type,
          algorithm: { name: k.algorithm.name, namedCurve: k.algorithm.namedCurve },
          usages: k.usages,
          exportRefused,
          deviceId: record.deviceId,
        };
      })()`);
      assert.equal(key.isCryptoKey, true);
      assert.equal(key.extractable, false);
      assert.equal(key.exportRefused, true);
      assert.equal(key.type, 'private');
      assert.deepEqual(key.algorithm, { name: 'ECDSA', namedCurve: 'P-256' });
      assert.deepEqual(key.usages, ['sign']);
      assert.match(key.deviceId, /^DV/);
      // The service holds the device with its public key: four JWK members, no private part.
      const [device] = await harness.store.listDevices(enrolled.userId);
      assert.equal(device?.id, key.deviceId);
      assert.equal(device.platform, 'web');
      assert.equal(device.name, 'Carol’s tablet');
      assert.deepEqual(Object.keys(JSON.parse(device.publicKeyJwk ?? '{}') as object).sort(), [
        'crv',
        'kty',
        'x',
        'y',
      ]);
      // The TOTP secret is kept only as a non-extractable HMAC key too.
      assert.equal(key.totpKeyExtractable, false);
      assert.equal(key.totpSecretStored, false);

      // After a reload the stored key still signs: the page comes back connected, no activation.
      await page.reload();
      await page.locator('#connection[data-state="connected"]').waitFor();
      assert.equal(await page.locator('#device-username').innerText(), enrolled.username);
    } finally {
      await context.close();
    }
  });
});
