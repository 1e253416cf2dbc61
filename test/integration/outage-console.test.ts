// The console's outage pages behind an administrator's session: the DR plan is the CLI's plan.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_TEMPLATES } from '../../src/core/user-messages.ts';
import { loadDrPlan, renderDrPlan, type DrPlanSection } from '../../src/operations/dr-plan.ts';
import { CSRF_FIELD, csrfTokenFor, SESSION_COOKIE } from '../../src/service/admin/admin-auth.ts';
import { consoleLogin, createTestAdmin } from './admin-client.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';

describe('console outage pages', () => {
  let h: Harness;
  let token: string;
  const sections: DrPlanSection[] = [];
  const get = (path: string) =>
    h.service.server.inject({
      method: 'GET',
      url: path,
      headers: { host: 'localhost', cookie: `${SESSION_COOKIE}=${token}` },
    });
  const post = (path: string, fields: Record<string, string>) =>
    h.service.server.inject({
      method: 'POST',
      url: path,
      headers: {
        host: 'localhost',
        cookie: `${SESSION_COOKIE}=${token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: new URLSearchParams({ ...fields, [CSRF_FIELD]: csrfTokenFor(token) }).toString(),
    });

  before(async () => {
    h = await startService({ proxySections: sections });
    const vpn = await h.createApp();
    sections.push({
      proxy: '/etc/airlock/authproxy.cfg',
      stateDir: '/etc/airlock/state',
      section: 'radius_server_auto',
      ikey: vpn.ikey,
      failmode: 'safe',
      failmodeDefault: false,
      failmodeSecureGroups: [],
      failmodeSafeGroups: [],
    });
    const admin = await createTestAdmin(h.store, 'root', 'correct horse battery staple');
    const login = await consoleLogin(h.service, {
      username: admin.username,
      password: admin.password,
      code: totpAt(admin.totp, h.clock),
    });
    assert.ok(login.token, `login failed: ${login.status} ${login.body.slice(0, 200)}`);
    token = login.token;
  });
  after(() => h?.close());

  it('shows the DR plan the CLI renders, with the proxy sections the service was given', async () => {
    const res = await get('/admin/dr-plan');
    assert.equal(res.statusCode, 200);
    const expected = renderDrPlan(await loadDrPlan(h.store, sections), {
      format: 'html',
      templates: (kind) => DEFAULT_TEMPLATES.filter((t) => t.kind === kind),
      generatedAt: new Date(h.clock.nowMs()).toISOString(),
    });
    assert.ok(res.body.includes(expected), 'the page embeds the rendered plan');
    assert.match(res.body, /\[radius_server_auto\]: failmode=safe/);
    assert.match(res.body, /<a href="\/admin\/dr-plan" class="current">DR plan<\/a>/);
  });

  it('opens an incident and adds an update from the console forms, shown on the status page', async () => {
    const created = await post('/admin/incidents', {
      title: 'Phone calls failing',
      message: 'Calls do not connect.',
      impact: 'major',
      factor: 'phone',
    });
    assert.equal(created.statusCode, 303, created.body.slice(0, 300));
    const [incident] = await h.store.listIncidents({ open: true });
    assert.equal(incident?.title, 'Phone calls failing');
    const updated = await post(`/admin/incidents/${incident?.id}/update`, {
      status: 'identified',
      message: 'The carrier has an outage.',
    });
    assert.equal(updated.statusCode, 303, updated.body.slice(0, 300));
    const page = await get('/admin/incidents');
    assert.match(page.body, /<b>identified<\/b>[^<]*\(admin:root\): The carrier has an outage\./);
    const audit = await h.store.listAudit({ action: 'incident.update' });
    assert.equal(audit[0]?.actor, 'admin:root');
    const status = await h.service.server.inject({
      method: 'GET',
      url: '/api/v2/incidents/unresolved.json',
      headers: { host: 'localhost' },
    });
    assert.equal(
      status.json<{ incidents: { name: string; status: string }[] }>().incidents[0]?.status,
      'identified',
    );
  });

  it('edits a user-message template and resets it to the default, audited', async () => {
    const page = await get('/admin/templates');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h2>failmode-secure \(de\) · default<\/h2>/);
    const bad = await post('/admin/templates/factor-outage/en', {
      subject: 'Trouble {incident}',
      body: 'Use {other_factor}.',
    });
    assert.notEqual(bad.statusCode, 303);
    assert.match(bad.body, /body uses unknown variable \{other_factor\}/);
    const saved = await post('/admin/templates/factor-outage/en', {
      subject: 'Sign-in trouble {incident}',
      body: '{factor} is down: use {other_factors}.',
    });
    assert.equal(saved.statusCode, 303, saved.body.slice(0, 300));
    const edited = await get('/admin/templates');
    assert.match(edited.body, /<h2>factor-outage \(en\) · edited<\/h2>/);
    assert.match(edited.body, />\{factor\} is down: use \{other_factors\}\.<\/textarea>/);
    const reset = await post('/admin/templates/factor-outage/en/reset', {});
    assert.equal(reset.statusCode, 303);
    assert.deepEqual(await h.store.listMessageTemplates(), []);
    const audit = await h.store.listAudit({ limit: 10 });
    assert.deepEqual(
      audit
        .filter((e) => e.action.startsWith('template.'))
        .map((e) => [e.action, e.actor])
        .sort(),
      [
        ['template.reset', 'admin:root'],
        ['template.set', 'admin:root'],
      ],
    );
  });

  it('lists, adds and removes status subscriptions, audited', async () => {
    const added = await post('/admin/subscriptions', {
      kind: 'email',
      target: 'helpdesk@example.org',
    });
    assert.equal(added.statusCode, 303, added.body.slice(0, 300));
    const [sub] = await h.store.listSubscriptions();
    assert.equal(sub?.target, 'helpdesk@example.org');
    const page = await get('/admin/subscriptions');
    assert.match(page.body, new RegExp(`<tr id="subscription-${sub.id}">\\s*<td>email</td>`));
    const removed = await post(`/admin/subscriptions/${sub.id}/remove`, {});
    assert.equal(removed.statusCode, 303);
    assert.deepEqual(await h.store.listSubscriptions(), []);
    assert.match((await get('/admin/subscriptions')).body, /No subscriptions\./);
    const audit = await h.store.listAudit({ limit: 10 });
    assert.deepEqual(
      audit
        .filter((e) => e.action.startsWith('status.'))
        .map((e) => [e.action, e.actor])
        .sort(),
      [
        ['status.subscribe', 'admin:root'],
        ['status.unsubscribe', 'admin:root'],
      ],
    );
  });

  it('refuses the page without a session', async () => {
    const res = await h.service.server.inject({
      method: 'GET',
      url: '/admin/dr-plan',
      headers: { host: 'localhost' },
    });
    assert.notEqual(res.statusCode, 200);
  });
});
