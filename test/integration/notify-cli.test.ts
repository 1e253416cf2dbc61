// `airlock incident` and `airlock notify` as an admin runs them: the built CLI against a real SMTP
// server (smtp-server) and a webhook receiver; drafts compared word for word with fixtures.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHmac } from 'node:crypto';
import { openContext } from '../../src/cli/open-context.ts';
import type { UserStatus } from '../../src/core/model.ts';
import { airlock, airlockFails, airlockJson } from './airlock-process.ts';
import {
  startSmtpReceiver,
  startWebhookReceiver,
  type SmtpReceiver,
  type WebhookReceiver,
} from '../support/mail-and-webhook.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/notify/${name}`, import.meta.url), 'utf8');

describe('airlock incident and notify', () => {
  let dir: string;
  let smtp: SmtpReceiver;
  let hook: WebhookReceiver;
  const data = () => ['--data-dir', dir];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-notify-'));
    [smtp, hook] = await Promise.all([startSmtpReceiver(), startWebhookReceiver()]);
    await airlock(['app', 'create', 'vpn', '--restriction-level', 'restrictive', ...data()]);
    await airlock(['app', 'create', 'wiki', '--restriction-level', 'less-restrictive', ...data()]);
    // The audiences: vpn is for the group vpn-users (alice; dave has no address), wiki for every
    // user; bob signs in with SMS; erin is disabled and never written to. Written through the
    // store, as the CLI would (each command is a process: this keeps the test short).
    const ctx = await openContext({ dataDir: dir });
    try {
      const s = ctx.store;
      const user = (username: string, email: string | null, status: UserStatus = 'active') =>
        s.createUser({ id: `US${username.toUpperCase()}`, username, email, status });
      const alice = await user('alice', 'alice@example.org');
      const bob = await user('bob', 'bob@example.org');
      const dave = await user('dave', null);
      await user('erin', 'erin@example.org', 'disabled');
      const group = await s.createGroup({ id: 'GPVPN', name: 'vpn-users' });
      await s.addGroupMember(group.id, alice.id);
      await s.addGroupMember(group.id, dave.id);
      const vpn = await s.getApplication('vpn');
      await s.setApplicationGroups(vpn!.id, [group.id]);
      await s.createDevice({
        id: 'DPBOB',
        userId: bob.id,
        name: 'phone',
        platform: 'phone',
        phoneNumber: '+15551230100',
      });
    } finally {
      await ctx.close();
    }
    const first = await airlockJson<{ id: number }>([
      'incident',
      'create',
      '--title',
      'Auth API unreachable',
      '--message',
      'We are investigating.',
      '--apps',
      'vpn,wiki',
      '--impact',
      'major',
      '--json',
      ...data(),
    ]);
    assert.equal(first.id, 1);
    const second = await airlockJson<{ id: number }>([
      'incident',
      'create',
      '--title',
      'SMS not delivered',
      '--message',
      'The SMS provider is failing.',
      '--factor',
      'sms',
      '--json',
      ...data(),
    ]);
    assert.equal(second.id, 2);
  });
  after(async () => {
    await smtp?.close();
    await hook?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('drafts one message per application by its failmode, in English and German (fixture)', async () => {
    const out = await airlock([
      'notify',
      'draft',
      '--incident',
      '1',
      '--next-update',
      '10:30 UTC',
      ...data(),
    ]);
    assert.equal(out, fixture('draft-failmode.txt'));
  });

  it('drafts one message to the users of a failing factor, in each language (fixtures)', async () => {
    const en = await airlock(['notify', 'draft', '--incident', '2', '--language', 'en', ...data()]);
    assert.equal(en, fixture('draft-factor-en.txt'));
    const de = await airlock(['notify', 'draft', '--incident', '2', '--language', 'de', ...data()]);
    assert.equal(de, fixture('draft-factor-de.txt'));
  });

  it('uses an edited template and refuses unknown variables', async () => {
    const bad = await airlockFails([
      'notify',
      'template',
      'set',
      'factor-outage',
      'en',
      '--subject',
      'Trouble {incident}',
      '--body',
      'Use {other_factor} instead of {factor}.',
      ...data(),
    ]);
    assert.match(bad.stderr, /body uses unknown variable \{other_factor\}/);
    await airlock([
      'notify',
      'template',
      'set',
      'factor-outage',
      'en',
      '--subject',
      'Sign-in trouble {incident}',
      '--body',
      '{factor} is down: use {other_factors}.',
      ...data(),
    ]);
    const out = await airlock([
      'notify',
      'draft',
      '--incident',
      '2',
      '--language',
      'en',
      ...data(),
    ]);
    assert.match(
      out,
      /Subject: Sign-in trouble #2\n\nSMS is down: use push, a phone call or a passcode\./,
    );
    await airlock(['notify', 'template', 'reset', 'factor-outage', 'en', ...data()]);
    assert.equal(
      await airlock(['notify', 'draft', '--incident', '2', '--language', 'en', ...data()]),
      fixture('draft-factor-en.txt'),
    );
    const audit = await airlockJson<{ action: string }[]>(['audit', '--json', ...data()]);
    assert.deepEqual(
      audit.map((e) => e.action).filter((a) => a.startsWith('template.')),
      ['template.set', 'template.reset'],
    );
  });

  it('advises to send now for a critical application, and not for a resolved incident', async () => {
    const now = await airlockJson<{ advice: string; reasons: string[] }>([
      'notify',
      'advise',
      '--incident',
      '1',
      '--critical',
      'vpn',
      '--json',
      ...data(),
    ]);
    assert.equal(now.advice, 'send-now');
    assert.match(now.reasons[0] ?? '', /critical application is affected \(vpn\)/);
    const text = await airlock([
      'notify',
      'advise',
      '--incident',
      '1',
      '--critical',
      'vpn',
      ...data(),
    ]);
    assert.match(
      text,
      /^SEND NOW: incident 1 \(Auth API unreachable\)\n {2}- a critical application/,
    );
    await airlock([
      'incident',
      'update',
      '2',
      '--status',
      'resolved',
      '--message',
      'SMS delivered again.',
      ...data(),
    ]);
    const resolved = await airlockJson<{ advice: string }>([
      'notify',
      'advise',
      '--incident',
      '2',
      '--critical',
      'vpn,wiki',
      '--json',
      ...data(),
    ]);
    assert.equal(resolved.advice, 'can-wait');
    const usage = await airlockFails([
      'notify',
      'advise',
      '--incident',
      '1',
      '--hours',
      '18-08',
      ...data(),
    ]);
    assert.match(usage.stderr, /the end hour must be after the start hour/);
  });

  it('sends each message to its audience’s users and --to by SMTP, to webhooks signed, and audits it', async () => {
    const secretFile = join(dir, 'hook.key');
    writeFileSync(secretFile, 'hook-secret\n');
    const out = await airlock([
      'notify',
      'send',
      '--incident',
      '1',
      '--next-update',
      '10:30 UTC',
      '--smtp',
      smtp.url,
      '--from',
      'it@example.org',
      '--to',
      'all-staff@example.org',
      '--webhook',
      hook.url,
      '--webhook-secret-file',
      secretFile,
      ...data(),
    ]);
    assert.match(out, /^Sent 4 message\(s\) for incident 1:\n {2}users of vpn \(en\): 2 e-mail/);
    const mails = await smtp.waitFor(10);
    const en = 'Authentication issues – in progress (#1)';
    const de = 'Authentifizierungsprobleme – in Bearbeitung (#1)';
    // One e-mail per recipient: vpn's group (alice), wiki's users (alice, bob), and --to.
    assert.deepEqual(
      mails.map((m) => [m.to, m.subject]),
      [
        [['alice@example.org'], en],
        [['all-staff@example.org'], en],
        [['alice@example.org'], de],
        [['all-staff@example.org'], de],
        [['alice@example.org'], en],
        [['bob@example.org'], en],
        [['all-staff@example.org'], en],
        [['alice@example.org'], de],
        [['bob@example.org'], de],
        [['all-staff@example.org'], de],
      ],
    );
    assert.equal(
      mails[2]?.text,
      'Wir haben Probleme mit der Zwei-Faktor-Authentifizierung. Aufgrund der Art der in vpn enthaltenen Daten wird der Zugriff verweigert, bis dieses Problem behoben ist. Nächste Aktualisierung: 10:30 UTC.',
    );
    const hooks = await hook.waitFor(4);
    for (const h of hooks) {
      const expected = `sha256=${createHmac('sha256', 'hook-secret').update(h.body).digest('hex')}`;
      assert.equal(h.headers['x-airlock-signature'], expected);
    }
    assert.deepEqual(
      hooks.map((h) => [h.json.audience, h.json.kind, h.json.language]),
      [
        ['users of vpn', 'failmode-secure', 'en'],
        ['users of vpn', 'failmode-secure', 'de'],
        ['users of wiki', 'failmode-safe', 'en'],
        ['users of wiki', 'failmode-safe', 'de'],
      ],
    );
    const [audit] = await airlockJson<{ result: string; detail: { delivered: number } }[]>([
      'audit',
      '--action',
      'notify.send',
      '--json',
      ...data(),
    ]);
    assert.equal(audit?.result, 'ok');
    assert.equal(audit?.detail.delivered, 14);
  });

  it('sends a factor outage to the users who sign in with that factor', async () => {
    smtp.mails.length = 0;
    await airlock([
      'notify',
      'send',
      '--incident',
      '2',
      '--language',
      'en',
      '--smtp',
      smtp.url,
      '--from',
      'it@example.org',
      ...data(),
    ]);
    const [mail] = await smtp.waitFor(1);
    assert.deepEqual(mail?.to, ['bob@example.org']);
    assert.match(mail?.text ?? '', /SMS/);
    const none = await airlockFails([
      'notify',
      'send',
      '--incident',
      '2',
      '--smtp',
      smtp.url,
      '--from',
      'it@example.org',
      '--no-users',
      ...data(),
    ]);
    assert.match(none.stderr, /no recipients/);
    const audits = await airlockJson<
      { detail: { messages: { audience: string; emails: number }[] } }[]
    >(['audit', '--action', 'notify.send', '--json', ...data()]);
    assert.deepEqual(audits.at(-1)?.detail.messages, [
      { audience: 'users who sign in with sms', kind: 'factor-outage', language: 'en', emails: 1 },
    ]);
  });

  it('reports a failed delivery, audited as partial, with exit status 1', async () => {
    const failed = await airlockFails([
      'notify',
      'send',
      '--incident',
      '1',
      '--language',
      'en',
      '--webhook',
      'http://127.0.0.1:9/closed',
      ...data(),
    ]);
    assert.match(
      failed.stderr,
      /Notification delivery failed: webhook http:\/\/127\.0\.0\.1:9 \(users of vpn\)/,
    );
    const audits = await airlockJson<{ result: string }[]>([
      'audit',
      '--action',
      'notify.send',
      '--json',
      ...data(),
    ]);
    assert.equal(audits.at(-1)?.result, 'partial');
  });

  it('walks an incident through its statuses and refuses an update once resolved', async () => {
    for (const status of ['identified', 'monitoring', 'resolved']) {
      await airlock([
        'incident',
        'update',
        '1',
        '--status',
        status,
        '--message',
        `now ${status}`,
        ...data(),
      ]);
    }
    const shown = await airlockJson<{ status: string; updates: { status: string }[] }>([
      'incident',
      'show',
      '1',
      '--json',
      ...data(),
    ]);
    assert.deepEqual(
      shown.updates.map((u) => u.status),
      ['investigating', 'identified', 'monitoring', 'resolved'],
    );
    const refused = await airlockFails([
      'incident',
      'update',
      '1',
      '--status',
      'monitoring',
      '--message',
      'again',
      ...data(),
    ]);
    assert.match(refused.stderr, /incident 1 is resolved: open a new incident/);
  });
});
