// The browser console in Debian's Chromium (playwright-core): log in with password + TOTP, list
// users, put a group in bypass past the advisor's warning and back, read it in the audit log.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CONSOLE_CSP } from '../../src/service/admin/console/console-routes.ts';
import { createTestAdmin, type TestAdmin } from './admin-client.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';

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
];
// The committed screenshots are refreshed on request only, so a test run leaves the tree clean.
const SCREENSHOTS = process.env.AIRLOCK_UPDATE_SCREENSHOTS
  ? new URL('../../docs/screenshots/', import.meta.url)
  : pathToFileURL(`${mkdtempSync(join(tmpdir(), 'airlock-shots-'))}/`);

describe('admin console in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let admin: TestAdmin;
  let base: string;
  const problems: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set AIRLOCK_CHROMIUM`,
      );
    }
    h = await startService();
    base = `https://localhost:${h.port}`;
    admin = await createTestAdmin(h.store, 'root', 'correct horse battery staple');
    for (const [name, real] of [
      ['alice', 'Alice Archer'],
      ['bob', 'Bob Baker'],
      ['carol', 'Carol Cook'],
    ] as const) {
      const u = await h.createUser(name);
      await h.store.updateUser(u.id, { realName: real, email: `${name}@example.org` });
    }
    await h.createGroup('oncall');
    await h.createGroup('finance');
    await h.store.addGroupMember(
      (await h.store.getGroup('oncall'))!.id,
      (await h.store.findUser('bob'))!.id,
    );
    const payroll = await h.createApp();
    await h.store.updateApplication(payroll.id, {
      name: 'payroll',
      restrictionLevel: 'most-restrictive',
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    // The service's certificate comes from its own test CA.
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: { width: 1200, height: 800 },
    });
    page = await context.newPage();
    // A CSP violation or script error would show here: the console has no inline code.
    page.on('console', (m) => {
      // The failed login answers 401 on purpose; anything else is a problem.
      if (m.type() === 'error' && !m.text().includes('status of 401')) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await h?.close();
  });

  it('logs in with password and TOTP, with the security headers on every page', async () => {
    await page.goto(`${base}/admin/`);
    assert.equal(new URL(page.url()).pathname, '/admin/login');
    const login = await page.goto(`${base}/admin/login`);
    const h1 = login?.headers() ?? {};
    assert.equal(h1['content-security-policy'], CONSOLE_CSP);
    assert.equal(h1['x-frame-options'], 'DENY');
    assert.equal(h1['referrer-policy'], 'no-referrer');
    assert.equal(h1['x-content-type-options'], 'nosniff');
    assert.equal(h1['cache-control'], 'no-store');
    await page.screenshot({ path: new URL('console-login.png', SCREENSHOTS).pathname });

    await page.fill('#username', 'root');
    await page.fill('#password', 'wrong password');
    await page.fill('#code', totpAt(admin.totp, h.clock));
    await page.click('button[type=submit]');
    assert.match((await page.textContent('.error')) ?? '', /Invalid username, password or code/);

    await page.fill('#username', 'root');
    await page.fill('#password', admin.password);
    await page.fill('#code', totpAt(admin.totp, h.clock));
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/admin/dashboard`);
    assert.match((await page.textContent('#emergency-area')) ?? '', /not available/);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === '__Host-airlock_session');
    assert.ok(session);
    assert.deepEqual([session.secure, session.httpOnly, session.sameSite], [true, true, 'Strict']);
  });

  it('lists and searches users', async () => {
    await page.click('nav >> text=Users');
    await page.waitForURL(`${base}/admin/users`);
    const names = await page.locator('#users tr td:first-child a').allTextContents();
    assert.deepEqual(names, ['alice', 'bob', 'carol']);
    await page.screenshot({
      path: new URL('console-users.png', SCREENSHOTS).pathname,
      fullPage: true,
    });
    await page.fill('#search', 'baker');
    await page.click('form[method=get] button');
    const found = await page.locator('#users tr td:first-child a').allTextContents();
    assert.deepEqual(found, ['bob']);
    await page.click('#users >> text=bob');
    assert.match((await page.textContent('#user-groups')) ?? '', /oncall/);
  });

  it("puts a group in bypass after the advisor's warning, and back", async () => {
    await page.click('nav >> text=Groups');
    await page.waitForURL(`${base}/admin/groups`);
    await page.click('#groups >> text=oncall');
    await page.selectOption('#status', 'bypass');
    await page.click('text=Change status');
    // Not applied yet: the advisor's warning comes first.
    const warning = (await page.textContent('#confirm-bypass .advisor-warning')) ?? '';
    assert.match(warning, /bypass for group "oncall".*1 member.*"payroll" \(most-restrictive\)/);
    assert.equal((await h.store.getGroup('oncall'))?.status, 'active');
    await page.screenshot({
      path: new URL('console-groups.png', SCREENSHOTS).pathname,
      fullPage: true,
    });
    await page.click('text=Yes, put it in bypass');
    await page.waitForSelector('.notice');
    assert.equal((await h.store.getGroup('oncall'))?.status, 'bypass');
    await page.click('nav >> text=Dashboard');
    assert.match((await page.textContent('.warning')) ?? '', /Groups in bypass[\s\S]*oncall/);

    await page.click('.warning >> text=oncall');
    await page.selectOption('#status', 'active');
    await page.click('text=Change status');
    await page.waitForSelector('.notice');
    assert.equal((await h.store.getGroup('oncall'))?.status, 'active');
  });

  it('shows both status changes in the audit log, by this administrator', async () => {
    await page.click('nav >> text=Audit log');
    await page.fill('#action', 'group.set-status');
    await page.click('text=Filter');
    const rows: string[][] = [];
    const trs = page.locator('#audit tr');
    for (let i = 1; i < (await trs.count()); i++)
      rows.push(await trs.nth(i).locator('td').allTextContents());
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.equal(row[1], 'admin:root');
      assert.equal(row[2], 'group.set-status');
    }
    assert.match(rows[0]![6]!, /"from":"active","to":"bypass"/);
    assert.match(rows[1]![6]!, /"from":"bypass","to":"active"/);
    await page.fill('#action', '');
    await page.click('text=Filter');
    await page.screenshot({
      path: new URL('console-audit.png', SCREENSHOTS).pathname,
      fullPage: true,
    });
  });

  it('logs out, and the old cookie no longer works', async () => {
    await page.click('text=Log out');
    await page.waitForURL(/\/admin\/login/);
    await page.goto(`${base}/admin/users`);
    assert.equal(new URL(page.url()).pathname, '/admin/login');
  });

  it('ran without a script error or CSP violation', () => {
    assert.deepEqual(problems, []);
  });
});
