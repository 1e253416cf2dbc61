// Duo's Admin API log endpoints as SIEM connectors pull them: Duo's own Node client
// (@duosecurity/duo_api, jsonApiCall) with an Admin API key, paging the authentication log across
// several pages, and the administrator and telephony logs, all filled from real logins.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TOTP } from 'otpauth';
import type { Application } from '../../src/core/model.ts';
import { parseFactorsConfig } from '../../src/factors/factors-config.ts';
import { createAdminApiKey } from '../../src/operations/admin-key-operations.ts';
import { CryptoRandom, generateId } from '../../src/runtime/random.ts';
import { duoClient, type DuoCall } from './duo-client.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';

interface AuthLog {
  access_device: { ip: string | null; location: Record<string, string> };
  application: { key: string; name: string };
  auth_device: { name: string | null };
  event_type: string;
  factor: string;
  isotimestamp: string;
  reason: string;
  result: string;
  timestamp: number;
  txid: string;
  user: { key: string | null; name: string };
  airlock_reason: string | null;
}

interface AuthLogPage {
  authlogs: AuthLog[];
  metadata: { next_offset: string[] | null; total_objects: number };
}

/** Duo's authentication log v2 fields (docs/admin-api.md, Logs), each entry carries them all. */
const AUTH_LOG_FIELDS = [
  'access_device',
  'alias',
  'application',
  'auth_device',
  'email',
  'event_type',
  'factor',
  'isotimestamp',
  'ood_software',
  'reason',
  'result',
  'timestamp',
  'trusted_endpoint_status',
  'txid',
  'user',
];

describe('Duo Admin API logs through Duo’s Node client', () => {
  let h: Harness;
  let dir: string;
  let app: Application;
  let admin: DuoCall;
  let totp: TOTP;
  let startMs: number;
  const random = new CryptoRandom();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-duologs-'));
    const factors = parseFactorsConfig({ sms: { provider: 'file', path: join(dir, 'sms.jsonl') } });
    assert.ok(factors.ok, JSON.stringify(factors));
    h = await startService({ factors: factors.config, dateWindowSeconds: 3600 });
    startMs = h.clock.nowMs();
    app = await h.createApp();
    const key = await createAdminApiKey(
      { store: h.store, clock: h.clock, random, bypassPepper: h.pepper, actor: 'cli:tester' },
      'siem',
    );
    admin = duoClient(key);

    // Logins: a passcode allowed and one refused, a bypass user, a disabled user, an unknown
    // user, a bypass code, an SMS sent, and a user let in by an emergency control.
    totp = (await h.createUser('alice', { totp: true })).totp!;
    const auth = h.duo(app);
    const ok = (r: { stat: string }) => assert.equal(r.stat, 'OK', JSON.stringify(r));
    ok(await auth('POST', '/auth/v2/auth', passcode('alice', totpAt(totp, h.clock))));
    h.clock.advance(1000);
    ok(await auth('POST', '/auth/v2/auth', passcode('alice', '000000')));
    h.clock.advance(1000);
    await h.createUser('carol', { status: 'bypass' });
    ok(await auth('POST', '/auth/v2/preauth', { username: 'carol', ipaddr: '198.51.100.3' }));
    h.clock.advance(1000);
    await h.createUser('dave', { status: 'disabled' });
    ok(await auth('POST', '/auth/v2/preauth', { username: 'dave' }));
    h.clock.advance(1000);
    ok(await auth('POST', '/auth/v2/preauth', { username: 'nobody' }));
    h.clock.advance(1000);
    await h.addBypassCodes('alice', ['123456789']);
    ok(await auth('POST', '/auth/v2/auth', passcode('alice', '123456789')));
    h.clock.advance(1000);
    const pia = await h.createUser('pia');
    await h.store.createDevice({
      id: generateId(random, 'DP'),
      userId: pia.id,
      name: 'mobile',
      platform: 'phone',
      phoneNumber: '+15551230188',
    });
    ok(await auth('POST', '/auth/v2/auth', { username: 'pia', factor: 'sms' }));
    h.clock.advance(1000);
    const groupId = await h.createGroup('stranded');
    await h.createUser('erin', { totp: true, groups: ['stranded'] });
    await h.service.emergencies.start({
      scope: { kind: 'app-bypass-groups', appId: app.id, groupIds: [groupId] },
      reason: 'SMS provider outage',
      actor: 'cli:tester',
      durationMs: 3_600_000,
    });
    ok(await auth('POST', '/auth/v2/preauth', { username: 'erin', ipaddr: '198.51.100.9' }));
    h.clock.advance(1000);
    // An administrator change through the Admin API itself.
    ok(await admin('POST', '/admin/v1/users', { username: 'frank' }));
  });
  after(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const passcode = (username: string, code: string) => ({
    username,
    factor: 'passcode',
    passcode: code,
    ipaddr: '192.0.2.10',
  });

  async function authLog(params: Record<string, unknown>): Promise<AuthLogPage> {
    const r = await admin('GET', '/admin/v2/logs/authentication', {
      mintime: String(startMs),
      maxtime: String(h.clock.nowMs()),
      ...params,
    });
    assert.equal(r.stat, 'OK', JSON.stringify(r));
    return r.response as AuthLogPage;
  }

  it('pages the authentication log with next_offset until it ends, newest first', async () => {
    const seen: AuthLog[] = [];
    let page = await authLog({ limit: '3' });
    const total = page.metadata.total_objects;
    let pages = 1;
    seen.push(...page.authlogs);
    while (page.metadata.next_offset !== null) {
      assert.equal(page.authlogs.length, 3);
      page = await authLog({ limit: '3', next_offset: page.metadata.next_offset.join(',') });
      assert.equal(page.metadata.total_objects, total);
      seen.push(...page.authlogs);
      pages++;
    }
    assert.ok(pages >= 3, `only ${pages} pages`);
    assert.equal(seen.length, total);
    assert.equal(new Set(seen.map((e) => e.txid)).size, total, 'no entry twice');
    const times = seen.map((e) => e.timestamp);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
    );
    for (const entry of seen) {
      assert.deepEqual(
        AUTH_LOG_FIELDS.filter((f) => !(f in entry)),
        [],
        JSON.stringify(entry),
      );
      assert.equal(entry.event_type, 'authentication');
      assert.equal(entry.application.key, app.ikey);
      assert.equal(entry.application.name, app.name);
      assert.equal((new Date(entry.isotimestamp).getTime() / 1000) | 0, entry.timestamp);
    }
  });

  it('names results, factors and reasons as Duo does, with the access device IP', async () => {
    const all = (await authLog({ limit: '1000', sort: 'ts:asc' })).authlogs;
    const summary = all.map((e) => [e.user.name, e.result, e.factor, e.reason]);
    assert.deepEqual(summary, [
      ['alice', 'success', 'passcode', 'valid_passcode'],
      ['alice', 'denied', 'passcode', 'invalid_passcode'],
      ['carol', 'success', 'not_available', 'bypass_user'],
      ['dave', 'denied', 'not_available', 'user_disabled'],
      ['nobody', 'denied', 'not_available', 'deny_unenrolled_user'],
      ['alice', 'success', 'bypass_code', 'valid_passcode'],
      ['erin', 'success', 'not_available', 'bypass_user'],
    ]);
    assert.equal(all[0]?.access_device.ip, '192.0.2.10');
    assert.equal(all[2]?.access_device.ip, '198.51.100.3');
    assert.equal(all[6]?.airlock_reason, 'emergency-bypass-group');
    assert.equal(all[4]?.user.key, null);
  });

  it('filters by user and reads ascending pages with the same offsets', async () => {
    const alice = (await h.store.findUser('alice'))!;
    const first = await authLog({ users: [alice.id], limit: '2', sort: 'ts:asc' });
    assert.equal(first.metadata.total_objects, 3);
    assert.deepEqual(
      first.authlogs.map((e) => e.factor),
      ['passcode', 'passcode'],
    );
    const second = await authLog({
      users: [alice.id],
      limit: '2',
      sort: 'ts:asc',
      // As a list (two query values), the way Python's client sends the metadata back.
      next_offset: first.metadata.next_offset!,
    });
    assert.deepEqual(
      second.authlogs.map((e) => e.factor),
      ['bypass_code'],
    );
    assert.equal(second.metadata.next_offset, null);
  });

  it('refuses a request without mintime and maxtime, or with a malformed next_offset', async () => {
    const missing = await admin('GET', '/admin/v2/logs/authentication', {});
    assert.equal(missing.stat, 'FAIL');
    assert.equal(missing.code, 40001);
    const bad = await admin('GET', '/admin/v2/logs/authentication', {
      mintime: String(startMs),
      maxtime: String(h.clock.nowMs()),
      next_offset: 'yesterday',
    });
    assert.equal(bad.code, 40002);
  });

  it('reads the administrator log in Duo’s v1 shape', async () => {
    const r = await admin('GET', '/admin/v1/logs/administrator', {
      mintime: String(Math.floor(startMs / 1000)),
    });
    assert.equal(r.stat, 'OK', JSON.stringify(r));
    const rows = r.response as Record<string, unknown>[];
    const actions = rows.map((e) => e.action);
    assert.ok(actions.includes('admin_key_create'), JSON.stringify(actions));
    assert.ok(actions.includes('user_create'), JSON.stringify(actions));
    const created = rows.find((e) => e.action === 'user_create')!;
    assert.deepEqual(Object.keys(created).sort(), [
      'action',
      'description',
      'object',
      'timestamp',
      'username',
    ]);
    assert.equal(created.object, 'frank');
    assert.match(String(created.username), /^DA/);
    assert.doesNotThrow(() => JSON.parse(String(created.description)));
    // Logins are not administrator events.
    assert.ok(!actions.some((a) => String(a).startsWith('auth_')));
  });

  it('reads the telephony log in Duo’s v1 shape, with the number masked', async () => {
    const r = await admin('GET', '/admin/v1/logs/telephony', {
      mintime: String(Math.floor(startMs / 1000)),
    });
    assert.equal(r.stat, 'OK', JSON.stringify(r));
    assert.deepEqual(r.response, [
      {
        context: 'authentication',
        credits: 1,
        phone: 'XXX-XXX-0188',
        timestamp: Math.floor((startMs + 6000) / 1000),
        type: 'sms',
      },
    ]);
  });

  it('is refused to an application key: the logs need an Admin API key', async () => {
    const r = await h.duo(app)('GET', '/admin/v1/logs/telephony', { mintime: '0' });
    assert.equal(r.stat, 'FAIL');
    assert.equal(r.code, 40102);
  });
});
