// The status page as deployed: `airlock serve --smtp …` running, incidents created, updated and
// resolved with the CLI on the same data; the running service tells the e-mail and webhook
// subscribers of each update, and serves them on /api/v2.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  airlock,
  airlockJson,
  startServe,
  stopServe,
  type RunningService,
} from './airlock-process.ts';
import {
  startSmtpReceiver,
  startWebhookReceiver,
  type SmtpReceiver,
  type WebhookReceiver,
} from '../support/mail-and-webhook.ts';

describe('airlock serve: status page and subscribers with CLI incidents', () => {
  let dir: string;
  let smtp: SmtpReceiver;
  let hook: WebhookReceiver;
  let serve: RunningService;
  const data = () => ['--data-dir', dir];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-status-serve-'));
    [smtp, hook] = await Promise.all([startSmtpReceiver(), startWebhookReceiver()]);
    serve = await startServe([
      '--listen',
      '127.0.0.1:0',
      '--smtp',
      smtp.url,
      '--smtp-from',
      'status@example.org',
      '--status-name',
      'Example IT',
      ...data(),
    ]);
  });
  after(async () => {
    if (serve) await stopServe(serve);
    await smtp?.close();
    await hook?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers each CLI update to every subscriber and shows it on the status page', async () => {
    assert.match(serve.output(), /status page: https:\/\/127\.0\.0\.1:\d+\/status/);
    await airlock(['status', 'subscribe', 'email', 'helpdesk@example.org', ...data()]);
    await airlock(['status', 'subscribe', 'webhook', hook.url, ...data()]);
    const { id } = await airlockJson<{ id: number }>([
      'incident',
      'create',
      '--title',
      'Logins slow',
      '--message',
      'Investigating slow logins.',
      '--impact',
      'minor',
      '--json',
      ...data(),
    ]);
    await airlock([
      'incident',
      'update',
      String(id),
      '--status',
      'identified',
      '--message',
      'Database failover.',
      ...data(),
    ]);
    await airlock([
      'incident',
      'update',
      String(id),
      '--status',
      'resolved',
      '--message',
      'Back to normal.',
      ...data(),
    ]);
    const mails = await smtp.waitFor(3, 10_000);
    assert.deepEqual(
      mails.map((m) => [m.to, m.subject]),
      ['investigating', 'identified', 'resolved'].map((s) => [
        ['helpdesk@example.org'],
        `[Status] Logins slow: ${s}`,
      ]),
    );
    const hooks = await hook.waitFor(3, 10_000);
    assert.deepEqual(
      hooks.map((h) => (h.json.incident as { status: string }).status),
      ['investigating', 'identified', 'resolved'],
    );
    const ca = readFileSync(join(dir, 'tls', 'ca.pem'), 'utf8');
    const res = await fetchWithCa(`https://localhost:${serve.port}/api/v2/incidents.json`, ca);
    const doc = JSON.parse(res) as {
      page: { name: string };
      incidents: { id: string; status: string }[];
    };
    assert.equal(doc.page.name, 'Example IT');
    assert.deepEqual(
      doc.incidents.map((i) => [i.id, i.status]),
      [[String(id), 'resolved']],
    );
  });
});

/** GET over HTTPS trusting the service's own CA. */
async function fetchWithCa(url: string, ca: string): Promise<string> {
  const { get } = await import('node:https');
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    }).on('error', reject);
  });
}
