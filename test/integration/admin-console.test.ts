// The browser console in Debian's Chromium (playwright-core): log in with password + TOTP, list
// users, put a group in bypass past the advisor's warning and back, read it in the audit log.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Application } from '../../src/core/model.ts';
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
  let payroll: Application;
  const problems: string[] = [];
  const preauth = async (username: string) =>
    (
      (await h.duo(payroll)('POST', '/auth/v2/preauth', { username })).response as {
        result: string;
      }
    ).result;

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
      // bob has a TOTP token: the Auth API asks him for a second factor unless he bypasses.
      const u = await h.createUser(name, { totp: name === 'bob' });
      await h.store.updateUser(u.id, { realName: real, email: `${name}@example.org` });
    }
    await h.createGroup('oncall');
    await h.createGroup('finance');
    await h.store.addGroupMember(
      (await h.store.getGroup('oncall'))!.id,
      (await h.store.findUser('bob'))!.id,
    );
    payroll = await h.createApp();
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
    assert.match((await page.textContent('#emergency-area')) ?? '', /None in effect/);
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

  it("puts a group in bypass on an application for 30 minutes past the advisor's warning, then reverts it", async () => {
    assert.equal(await preauth('bob'), 'auth', 'bob needs 2FA before the bypass');
    await page.click('nav >> text=Emergency');
    await page.waitForURL(`${base}/admin/emergency`);
    assert.equal(await page.locator('#emergency-banner').count(), 0);
    const form = page.locator('#start-bypass-groups');
    await form.locator('select[name=app_id]').selectOption({ label: 'payroll' });
    await form.locator('select[name=group_ids]').selectOption({ label: 'oncall' });
    await form.locator('input[name=reason]').fill('INC-42: push provider down');
    await form.locator('input[name=duration_minutes]').fill('30');
    await form.locator('text=Preview').click();
    // The preview: nothing started yet, the advisor's warning, and an explicit confirmation.
    const warning = (await page.textContent('#confirm-emergency .advisor-warning')) ?? '';
    assert.match(warning, /"payroll" is most-restrictive but emergency control .* group "oncall"/);
    assert.match((await page.textContent('#confirm-emergency')) ?? '', /for 30 minutes/);
    assert.deepEqual(await h.store.listEmergencyControls(), []);
    // The browser refuses to send the form until the box is ticked.
    await page.click('text=Start control');
    assert.equal(new URL(page.url()).pathname, '/admin/emergency/preview');
    assert.deepEqual(await h.store.listEmergencyControls(), []);
    await page.check('#confirm');
    await page.click('text=Start control');
    await page.waitForSelector('.notice');

    const [control] = await h.store.listEmergencyControls({ state: 'active' });
    assert.ok(control);
    assert.equal(control.expiresAtMs - control.createdAtMs, 30 * 60_000);
    assert.equal(control.actor, 'admin:root');
    const banner = (await page.textContent('#emergency-banner')) ?? '';
    assert.match(banner, /groups oncall skip 2FA on application payroll .*INC-42/);
    assert.equal(await preauth('bob'), 'allow', 'bob skips 2FA while the bypass is active');
    assert.equal(await preauth('alice'), 'enroll', 'alice is not in the group');
    await page.screenshot({
      path: new URL('console-emergency.png', SCREENSHOTS).pathname,
      fullPage: true,
    });
    // The banner is on every page while the control is active.
    await page.click('nav >> text=Users');
    assert.match((await page.textContent('#emergency-banner')) ?? '', /oncall/);

    await page.click('#emergency-banner >> text=review or revert');
    await page.fill('#controls input[name=reason]', 'push provider is back');
    await page.click('#controls >> text=Revert now');
    await page.waitForSelector('.notice');
    assert.equal(await page.locator('#emergency-banner').count(), 0);
    assert.equal(await preauth('bob'), 'auth', 'bob needs 2FA again after the revert');
    assert.match((await page.textContent('#ended-controls')) ?? '', /push provider is back/);

    await page.click('nav >> text=Audit log');
    for (const action of ['emergency.start', 'emergency.revert']) {
      await page.fill('#action', action);
      await page.click('text=Filter');
      await page.waitForURL((url) => url.searchParams.get('action') === action);
      const rows = page.locator('#audit tr');
      assert.equal(await rows.count(), 2, `one ${action} row`);
      const cells = await rows.nth(1).locator('td').allTextContents();
      assert.deepEqual([cells[1], cells[2]], ['admin:root', action]);
      assert.match(cells[6] ?? '', /INC-42/);
    }
  });

  it("edits a policy, with the advisor's warning before a widening change", async () => {
    await page.click('nav >> text=Policies');
    await page.waitForURL(`${base}/admin/policies`);
    await page.click('text=Edit global policy');
    await page.selectOption('#new_user_policy', 'deny');
    await page.check('input[name=factors][value=push]');
    await page.check('input[name=factors][value=passcode]');
    await page.selectOption('#deny_groups', { label: 'finance' });
    await page.fill('#network', 'deny: 203.0.113.0/24');
    await page.click('text=Save policy');
    await page.waitForSelector('.notice');
    const finance = (await h.store.getGroup('finance'))!.id;
    assert.deepEqual((await h.store.getPolicy('global'))?.policy, {
      newUserPolicy: 'deny',
      allowedFactors: ['push', 'passcode'],
      denyGroupIds: [finance],
      networkRules: [{ action: 'deny', ranges: ['203.0.113.0/24'] }],
    });

    // Widening: oncall as a global bypass group reaches the most-restrictive payroll.
    await page.selectOption('#bypass_groups', { label: 'oncall' });
    await page.click('text=Save policy');
    const warning = (await page.textContent('#confirm-policy .advisor-warning')) ?? '';
    assert.match(warning, /"payroll" is most-restrictive but global policy bypass group "oncall"/);
    assert.equal((await h.store.getPolicy('global'))?.policy.bypassGroupIds, undefined);
    await page.screenshot({
      path: new URL('console-policies.png', SCREENSHOTS).pathname,
      fullPage: true,
    });
    await page.click('text=Cancel');
    const [set] = await h.store.listAudit({ sinceMs: 0, action: 'policy.set', limit: 10 });
    assert.equal(set?.actor, 'admin:root');
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
