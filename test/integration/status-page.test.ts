// The status page: Statuspage-shaped JSON, components from measured health (a failing factor
// provider, a proxy that reports and then stops), incidents through the Admin API with every
// update delivered to an e-mail subscriber (a real SMTP server) and a webhook.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  COMPONENT_STATUSES,
  INCIDENT_IMPACTS,
  INCIDENT_STATUSES,
} from '../../src/core/incident.ts';
import { parseAuthProxyConfig } from '../../src/config/authproxy-config.ts';
import type { Application } from '../../src/core/model.ts';
import { parseFactorsConfig } from '../../src/factors/factors-config.ts';
import { createSmtpSender } from '../../src/runtime/mail-sender.ts';
import { CryptoRandom, generateId } from '../../src/runtime/random.ts';
import { startProviderStandin, type ProviderStandin } from '../support/provider-standin.ts';
import {
  startSmtpReceiver,
  startWebhookReceiver,
  type SmtpReceiver,
  type WebhookReceiver,
} from '../support/mail-and-webhook.ts';
import { signedCall, type KeyCredentials } from './admin-client.ts';
import { startTestProxy } from './proxy-harness.ts';
import { startService, type Harness } from './service-harness.ts';

/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-member-access,
   @typescript-eslint/no-unsafe-return -- Statuspage documents are checked field by field here */
const ACCOUNT = 'AC00000000000000000000000000000001';
const TOKEN = 'standin-auth-token-0123456789';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const INDICATORS = ['none', 'minor', 'major', 'critical'];
const iso = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
const isoOrNull = (v: unknown) => v === null || iso(v);

/** The fields and enums of Atlassian Statuspage's public API v2 documents. */
function assertPage(page: Json) {
  assert.equal(typeof page.id, 'string');
  assert.equal(typeof page.name, 'string');
  assert.equal(typeof page.url, 'string');
  assert.equal(typeof page.time_zone, 'string');
  assert.ok(iso(page.updated_at));
}
function assertComponent(c: Json) {
  for (const k of ['id', 'name', 'page_id']) assert.equal(typeof c[k], 'string', k);
  assert.ok((COMPONENT_STATUSES as readonly string[]).includes(c.status), c.status);
  assert.ok(iso(c.created_at) && iso(c.updated_at));
  assert.equal(typeof c.position, 'number');
  assert.ok(c.description === null || typeof c.description === 'string');
  for (const k of ['showcase', 'group', 'only_show_if_degraded'])
    assert.equal(typeof c[k], 'boolean', k);
  assert.ok(c.group_id === null || typeof c.group_id === 'string');
  if (c.group) assert.ok(Array.isArray(c.components));
}
function assertIncident(i: Json) {
  for (const k of ['id', 'name', 'shortlink', 'page_id']) assert.equal(typeof i[k], 'string', k);
  assert.ok((INCIDENT_STATUSES as readonly string[]).includes(i.status));
  assert.ok((INCIDENT_IMPACTS as readonly string[]).includes(i.impact));
  assert.ok(iso(i.created_at) && iso(i.updated_at) && iso(i.started_at));
  assert.ok(isoOrNull(i.monitoring_at) && isoOrNull(i.resolved_at));
  assert.ok(Array.isArray(i.incident_updates) && Array.isArray(i.components));
  for (const u of i.incident_updates as Json[]) {
    for (const k of ['id', 'body', 'incident_id']) assert.equal(typeof u[k], 'string', k);
    assert.ok((INCIDENT_STATUSES as readonly string[]).includes(u.status));
    assert.ok(iso(u.created_at) && iso(u.updated_at) && iso(u.display_at));
    assert.ok(Array.isArray(u.affected_components));
  }
}
function assertStatus(s: Json) {
  assert.ok(INDICATORS.includes(s.indicator), s.indicator);
  assert.equal(typeof s.description, 'string');
}

/** Waits for a condition the system reaches by itself (a proxy's timer); fails after `ms`. */
async function waitUntil(what: string, check: () => Promise<boolean>, ms = 8_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('status page', () => {
  let h: Harness;
  let app: Application;
  let smtp: SmtpReceiver;
  let hook: WebhookReceiver;
  const key: KeyCredentials = {
    ikey: 'DASTATUSKEY000000001',
    skey: 'status-secret-key-'.padEnd(40, 'x'),
  };
  const get = async (path: string): Promise<Json> => {
    const res = await h.service.server.inject({
      method: 'GET',
      url: path,
      headers: { host: 'localhost' },
    });
    assert.equal(res.statusCode, 200, `${path}: ${res.body}`);
    return path.endsWith('.json') ? res.json<Json>() : { html: res.body };
  };
  const component = async (id: string) =>
    ((await get('/api/v2/components.json')).components as Json[]).find((c) => c.id === id);
  const admin = async (method: 'GET' | 'POST' | 'DELETE', path: string, params = {}) => {
    const res = await signedCall(h.service, h.clock, key, method, path, params);
    assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body.response as Json;
  };

  before(async () => {
    [smtp, hook] = await Promise.all([startSmtpReceiver(), startWebhookReceiver()]);
    h = await startService({
      statusMail: createSmtpSender({ url: smtp.url, from: 'status@example.org' }),
      statusWebhookSecret: 'hook-key',
      statusSilenceSeconds: 60,
    });
    await h.store.createAdminApiKey({ ...key, name: 'tests' });
    app = await h.createApp();
  });
  after(async () => {
    await h?.close();
    await smtp?.close();
    await hook?.close();
  });

  it('serves every document in Statuspage’s shapes, and an HTML page', async () => {
    const status = await get('/api/v2/status.json');
    assertPage(status.page);
    assertStatus(status.status);
    assert.deepEqual(status.status, { indicator: 'none', description: 'All Systems Operational' });
    const components = await get('/api/v2/components.json');
    assert.ok((components.components as Json[]).length >= 1);
    for (const c of components.components as Json[]) assertComponent(c);
    assert.equal(((components.components as Json[])[0] as Json).name, 'Auth API');
    const summary = await get('/api/v2/summary.json');
    assertPage(summary.page);
    assertStatus(summary.status);
    assert.deepEqual(summary.scheduled_maintenances, []);
    for (const path of ['/api/v2/incidents.json', '/api/v2/incidents/unresolved.json']) {
      const doc = await get(path);
      assertPage(doc.page);
      assert.ok(Array.isArray(doc.incidents));
    }
    const html = (await get('/status')).html as string;
    assert.match(html, /<h1>Airlock test status<\/h1>/);
    assert.match(html, /data-indicator="none"/);
  });

  it('turns a failing factor provider degraded within the health window, and back when it recovers', async () => {
    const board = h.service.factorHealth;
    for (let i = 0; i < 6; i++) board.record('sms', 'twilio', 'delivered', 800, h.clock.nowMs());
    assert.equal((await component('factor-sms-twilio'))?.status, 'operational');
    for (let i = 0; i < 4; i++) board.record('sms', 'twilio', 'failed', 800, h.clock.nowMs());
    const degraded = await component('factor-sms-twilio');
    assert.equal(degraded?.status, 'degraded_performance');
    assert.match(String(degraded?.description), /failure rate/);
    assert.equal((await get('/api/v2/status.json')).status.indicator, 'minor');
    h.clock.advance(61_000);
    for (let i = 0; i < 3; i++) board.record('sms', 'twilio', 'delivered', 800, h.clock.nowMs());
    assert.equal((await component('factor-sms-twilio'))?.status, 'operational');
  });

  it('shows a proxy that reports on the signed endpoint, and major_outage after it falls silent', async () => {
    const proxy = await startTestProxy({
      ikey: app.ikey,
      skey: app.skey,
      apiPort: h.port,
      caPem: h.caPem,
      failmode: 'secure',
      clientSection: '[duo_only_client]',
      mainExtra: ['status_report_interval=1', 'status_name=vpn1'],
    });
    try {
      await waitUntil('the proxy’s first report', async () =>
        (await h.store.listHealthReports()).some((r) => r.reporter === 'proxy:vpn1'),
      );
      const reported = await component('proxy-vpn1');
      assert.ok(reported);
      assert.ok(['operational', 'degraded_performance'].includes(reported.status), reported.status);
      assert.match(String(reported.description), /\[radius_server_auto\] localhost:\d+/);
    } finally {
      await proxy.close();
    }
    h.clock.advance(59_000);
    assert.notEqual((await component('proxy-vpn1'))?.status, 'major_outage');
    h.clock.advance(2_000);
    const silent = await component('proxy-vpn1');
    assert.equal(silent?.status, 'major_outage');
    assert.match(String(silent?.description), /no report for \d+ s \(limit 60 s\)/);
    assert.equal((await get('/api/v2/status.json')).status.indicator, 'critical');
    // An administrator overrides it by hand (e.g. the proxy was retired), then gives it back.
    await admin('POST', '/admin/v1/status_components/proxy-vpn1/override', {
      status: 'under_maintenance',
      reason: 'retired',
    });
    assert.equal((await component('proxy-vpn1'))?.status, 'under_maintenance');
    await admin('POST', '/admin/v1/status_components/proxy-vpn1/override', { status: 'measured' });
    assert.equal((await component('proxy-vpn1'))?.status, 'major_outage');
  });

  it('binds a component to the application that first reported it: another application’s keys are refused', async () => {
    const other = await h.createApp();
    const report = (by: Application, status: string) =>
      signedCall(h.service, h.clock, by, 'POST', '/auth/v2/health_report', {
        kind: 'proxy',
        name: 'vpn-bound',
        status,
        detail: `from ${by.name}`,
      });
    assert.equal((await report(app, 'partial_outage')).status, 200);
    const taken = await report(other, 'operational');
    assert.equal(taken.status, 403);
    assert.equal(taken.body.code, 40301);
    const shown = await component('proxy-vpn-bound');
    assert.equal(shown?.status, 'partial_outage');
    assert.equal(shown?.description, `from ${app.name}`);
    // Nor can it keep the owner's silent proxy from turning major_outage.
    h.clock.advance(61_000);
    assert.equal((await report(other, 'operational')).status, 403);
    assert.equal((await component('proxy-vpn-bound'))?.status, 'major_outage');
    assert.equal((await report(app, 'operational')).status, 200);
    assert.equal((await component('proxy-vpn-bound'))?.status, 'operational');
  });

  it('signs its reports with the new skey after a reload that rotated it', async () => {
    const rotating = await h.createApp();
    const proxy = await startTestProxy({
      ikey: rotating.ikey,
      skey: rotating.skey,
      apiPort: h.port,
      caPem: h.caPem,
      failmode: 'secure',
      clientSection: '[duo_only_client]',
      mainExtra: ['status_report_interval=1', 'status_name=vpn-rotated'],
    });
    const reportedAt = async () =>
      (await h.store.listHealthReports()).find((r) => r.reporter === 'proxy:vpn-rotated')
        ?.receivedAtMs;
    try {
      await waitUntil('the proxy’s first report', async () => (await reportedAt()) !== undefined);
      const skey = 'rotated-secret-key-'.padEnd(40, 'y');
      await h.store.updateApplication(rotating.id, { skey });
      const text = readFileSync(join(proxy.dir, 'authproxy.cfg'), 'utf8').replace(
        `skey=${rotating.skey}`,
        `skey=${skey}`,
      );
      const next = parseAuthProxyConfig(text, {
        configDir: proxy.dir,
        readFile: (p) => readFileSync(p, 'utf8'),
      });
      assert.ok(next.ok);
      assert.deepEqual(await proxy.proxy.reload(next.config), {
        ok: true,
        sections: ['radius_server_auto'],
      });
      h.clock.advance(1_000);
      const after = h.clock.nowMs();
      await waitUntil(
        'a report signed with the rotated skey',
        async () => ((await reportedAt()) ?? 0) >= after,
      );
    } finally {
      await proxy.close();
    }
  });

  it('refuses a health report that is not signed with an application’s keys', async () => {
    const res = await h.service.server.inject({
      method: 'POST',
      url: '/auth/v2/health_report',
      headers: { host: 'localhost', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'kind=proxy&name=evil&status=operational&detail=x',
    });
    assert.equal(res.statusCode, 401);
    assert.ok(!(await h.store.listHealthReports()).some((r) => r.name === 'evil'));
  });

  it('walks an incident through its updates via the Admin API; subscribers get each one', async () => {
    await admin('POST', '/admin/v1/status_subscriptions', {
      kind: 'email',
      target: 'oncall@example.org',
    });
    await admin('POST', '/admin/v1/status_subscriptions', { kind: 'webhook', target: hook.url });
    const created = await admin('POST', '/admin/v1/incidents', {
      title: 'Push notifications delayed',
      message: 'Pushes arrive late; use a passcode.',
      impact: 'major',
      factor: 'push',
      components: 'auth-api',
    });
    const id = created.incident_id as number;
    assert.equal(created.status, 'investigating');
    await h.service.incidentNotifier.deliverOnce();
    for (const [status, message] of [
      ['identified', 'The push relay is overloaded.'],
      ['monitoring', 'Fixed; watching.'],
      ['resolved', 'Pushes are on time again.'],
    ] as const) {
      h.clock.advance(1_000);
      if (status === 'monitoring') {
        const open = await get('/api/v2/incidents/unresolved.json');
        assert.deepEqual(
          (open.incidents as Json[]).map((i) => i.id),
          [String(id)],
        );
        assert.equal((await component('auth-api'))?.status, 'partial_outage');
        assert.equal((await get('/api/v2/status.json')).status.indicator, 'critical');
      }
      await admin('POST', `/admin/v1/incidents/${id}/updates`, { status, message });
      await h.service.incidentNotifier.deliverOnce();
    }
    const mails = await smtp.waitFor(4);
    assert.deepEqual(
      mails.map((m) => [m.to, m.subject]),
      ['investigating', 'identified', 'monitoring', 'resolved'].map((s) => [
        ['oncall@example.org'],
        `[Status] Push notifications delayed: ${s}`,
      ]),
    );
    assert.match(
      mails[3]?.text ?? '',
      /^Pushes are on time again\.\n\nIncident #\d+ \(impact major\) is resolved\./,
    );
    const hooks = await hook.waitFor(4);
    for (const w of hooks) {
      assert.equal(
        w.headers['x-airlock-signature'],
        `sha256=${createHmac('sha256', 'hook-key').update(w.body).digest('hex')}`,
      );
    }
    assert.deepEqual(
      hooks.map((w) => (w.json.incident as Json).incident_updates[0].status),
      ['investigating', 'identified', 'monitoring', 'resolved'],
    );
    const all = await get('/api/v2/incidents.json');
    const incident = (all.incidents as Json[]).find((i) => i.id === String(id)) as Json;
    assertIncident(incident);
    assert.equal(incident.status, 'resolved');
    assert.deepEqual(
      (incident.incident_updates as Json[]).map((u) => u.status),
      ['resolved', 'monitoring', 'identified', 'investigating'],
    );
    assert.ok(iso(incident.monitoring_at) && iso(incident.resolved_at));
    assert.deepEqual((await get('/api/v2/incidents/unresolved.json')).incidents, []);
    const refused = await signedCall(
      h.service,
      h.clock,
      key,
      'POST',
      `/admin/v1/incidents/${id}/updates`,
      {
        status: 'monitoring',
        message: 'again',
      },
    );
    assert.equal(refused.status, 400);
    assert.match(JSON.stringify(refused.body), /is resolved: open a new incident/);
    const audit = await h.store.listAudit({ action: 'incident.update', limit: 10 });
    assert.equal(audit.length, 3);
  });
});

describe('status page: a real SMS provider that fails and recovers', () => {
  let carrier: ProviderStandin;
  let h: Harness;
  let app: Application;
  const smsComponent = async () => {
    const res = await h.service.server.inject({
      method: 'GET',
      url: '/api/v2/components.json',
      headers: { host: 'localhost' },
    });
    return res.json<{ components: Json[] }>().components.find((c) => c.id === 'factor-sms-twilio');
  };
  const sendSms = async () =>
    (await h.duo(app)('POST', '/auth/v2/auth', { username: 'sam', factor: 'sms' })).response as {
      status: string;
    };

  before(async () => {
    carrier = await startProviderStandin({ accountSid: ACCOUNT, authToken: TOKEN });
    const parsed = parseFactorsConfig({
      sms: {
        provider: 'twilio',
        accountSid: ACCOUNT,
        authToken: TOKEN,
        from: '+15555550100',
        baseUrl: carrier.baseUrl,
        timeoutMs: 1000,
      },
      health: { minSamples: 3, windowSize: 10, maxFailureRate: 0.5, recoverySeconds: 60 },
    });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    h = await startService({ factors: parsed.config });
    app = await h.createApp();
    const { id } = await h.createUser('sam');
    await h.store.createDevice({
      id: generateId(new CryptoRandom(), 'DP'),
      userId: id,
      name: 'mobile',
      platform: 'phone',
      phoneNumber: '+15551230199',
    });
  });
  after(async () => {
    await h?.close();
    await carrier?.close();
  });

  it('turns factor-sms-twilio degraded_performance while the carrier fails, operational after it recovers', async () => {
    assert.equal((await sendSms()).status, 'sent');
    assert.equal((await smsComponent())?.status, 'operational');
    carrier.failAll('http-500');
    for (let i = 0; i < 3; i++) assert.equal((await sendSms()).status, 'deny');
    const degraded = await smsComponent();
    assert.equal(degraded?.status, 'degraded_performance');
    carrier.failAll(undefined);
    // The guide's recovery: a quiet period without failures, then good deliveries.
    h.clock.advance(61_000);
    for (let i = 0; i < 3; i++) assert.equal((await sendSms()).status, 'sent');
    assert.equal((await smsComponent())?.status, 'operational');
  });
});
