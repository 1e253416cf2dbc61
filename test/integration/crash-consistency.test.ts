// SIGKILL in the middle of a load run loses no audit event of an answered request, and the
// database stays consistent (bypass-code uses match the audited successes exactly). On SQLite by
// default; crash-consistency-postgres.test.ts runs it on PostgreSQL (AIRLOCK_IT_BACKEND).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  airlock,
  airlockJson,
  startServe,
  stopServe,
  type RunningService,
} from './airlock-process.ts';
import { duoClient, routeDuoClients } from './duo-client.ts';
import { IT_BACKEND, itDatabase } from './service-harness.ts';

const USES = 100_000;
const WORKERS = 16;
const KILL_AFTER_ANSWERS = 400;

let dir: string | undefined;
let restarted: RunningService | undefined;
// On PostgreSQL every airlock process this test starts (service, CLI) reads the database URL from
// the environment it inherits.
const database = await itDatabase();
if (database) process.env.AIRLOCK_DATABASE_URL = database.url;
after(async () => {
  if (restarted) await stopServe(restarted);
  if (dir) rmSync(dir, { recursive: true, force: true });
  await database?.drop();
});

it(`loses no audit event of an answered request when the service is killed with SIGKILL under load (${IT_BACKEND})`, async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-crash-'));
  const data = ['--data-dir', dir];
  const first = await startServe([...data, '--listen', '127.0.0.1:0', '--log-level', 'warn']);
  const app = await airlockJson<{ ikey: string; skey: string }>([
    'app',
    'create',
    'load',
    '--rate-limit',
    '0',
    ...data,
  ]);
  await airlock(['user', 'create', 'loader', ...data]);
  const { codes } = await airlockJson<{ codes: string[] }>([
    'bypass-codes',
    'loader',
    '--count',
    '1',
    '--uses',
    String(USES),
    ...data,
  ]);
  const routing = routeDuoClients(first.port, readFileSync(join(dir, 'tls', 'ca.pem'), 'utf8'));
  const call = duoClient(app);

  const answered = new Set<string>();
  let sent = 0;
  let killed = false;
  const worker = async () => {
    while (!killed) {
      const hostname = `req-${sent++}`;
      const res = await call('POST', '/auth/v2/auth', {
        username: 'loader',
        factor: 'passcode',
        passcode: codes[0],
        hostname,
      });
      if (res.stat === 'OK') {
        assert.equal((res.response as { result: string }).result, 'allow');
        answered.add(hostname);
        if (answered.size >= KILL_AFTER_ANSWERS && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      } else if (!killed) {
        assert.fail(`request failed before the kill: ${JSON.stringify(res)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  await first.exited;
  routing.close();
  assert.ok(sent > answered.size, 'some requests were in flight when the service was killed');

  // On PostgreSQL nothing was written to a SQLite file by mistake.
  assert.equal(existsSync(join(dir, 'airlock.db')), IT_BACKEND === 'sqlite');
  if (IT_BACKEND === 'sqlite') {
    // The database opens cleanly (WAL recovery) and passes SQLite's own checks.
    const db = new Database(join(dir, 'airlock.db'), { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      assert.deepEqual(db.pragma('foreign_key_check'), []);
    } finally {
      db.close();
    }
  }

  restarted = await startServe([...data, '--listen', '127.0.0.1:0', '--log-level', 'warn']);
  const audited = new Set<string>();
  let allows = 0;
  for (let afterId = 0; ;) {
    const page = await airlockJson<{ id: number; result: string; detail: { hostname?: string } }[]>(
      [
        'audit',
        '--action',
        'auth.passcode',
        '--after',
        String(afterId),
        '--limit',
        '1000',
        ...data,
      ],
    );
    if (page.length === 0) break;
    for (const e of page) {
      if (e.result === 'allow') allows++;
      if (e.detail.hostname) audited.add(e.detail.hostname);
    }
    afterId = page[page.length - 1]!.id;
  }
  const lost = [...answered].filter((h) => !audited.has(h));
  assert.deepEqual(lost, [], 'every answered request has its audit event');

  // Every audited success consumed exactly one use, and nothing else did.
  const user = await airlockJson<{ bypass_codes: { remaining_uses: number }[] }>([
    'user',
    'show',
    'loader',
    ...data,
  ]);
  assert.equal(user.bypass_codes[0]!.remaining_uses, USES - allows);
});
