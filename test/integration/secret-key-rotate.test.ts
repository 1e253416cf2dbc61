// `airlock secret-key rotate` and `airlock db verify` through the built command: every sealed
// secret re-sealed under a new key in one transaction, the old key kept (0600), bypass codes only
// with consent, nothing changed when one secret does not open; then a login with the new key.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { TOTP } from 'otpauth';
import {
  airlock,
  airlockFails,
  airlockJson,
  startServe,
  stopServe,
  type RunningService,
} from './airlock-process.ts';
import { duoClient, routeDuoClients } from './duo-client.ts';

const BIN = fileURLToPath(new URL('../../bin/airlock.js', import.meta.url));

interface Verify {
  ok: boolean;
  sealed_secrets: { kind: string; total: number; opened: number; unreadable_row_ids: string[] }[];
}

describe('airlock secret-key rotate', () => {
  let root: string;
  let dir: string;
  let app: { ikey: string; skey: string };
  let secret: string;
  let service: RunningService | undefined;
  const data = () => ['--data-dir', dir];
  const key = () => readFileSync(join(dir, 'secret.key'), 'utf8');
  const opened = (v: Verify) =>
    Object.fromEntries(v.sealed_secrets.map((t) => [t.kind, [t.opened, t.total]]));

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'airlock-rotate-'));
    dir = join(root, 'data');
    app = await airlockJson(['app', 'create', 'vpn', ...data()]);
    await airlock(['user', 'create', 'carol', ...data()]);
    secret = (await airlockJson<{ secret: string }>(['token', 'add-totp', 'carol', ...data()]))
      .secret;
    await airlock(['token', 'add-totp', 'carol', ...data()]);
    await airlock(['admin-key', 'create', 'ops', ...data()]);
    await airlock(['bypass-codes', 'carol', '--count', '2', ...data()]);
  });
  after(async () => {
    if (service) await stopServe(service);
    rmSync(root, { recursive: true, force: true });
  });

  it('verify counts every sealed secret per kind, printing none of them', async () => {
    const v = await airlockJson<Verify>(['db', 'verify', ...data()]);
    assert.equal(v.ok, true);
    assert.deepEqual(opened(v), {
      applicationSkey: [1, 1],
      otpTokenSecret: [2, 2],
      adminTotpSecret: [0, 0],
      adminApiKeySkey: [1, 1],
    });
    const text = await airlock(['db', 'verify', ...data()]);
    assert.match(text, /otpTokenSecret: 2 \/ 2/);
    assert.equal(text.includes(secret), false);
    assert.equal(text.includes(app.skey), false);
  });

  it('refuses while live bypass codes exist, changing nothing', async () => {
    const before = key();
    const run = await airlockFails(['secret-key', 'rotate', ...data()]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /2 live bypass code\(s\).*--invalidate-bypass-codes/);
    assert.equal(key(), before);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('secret.key')),
      ['secret.key'],
    );
  });

  it('with AIRLOCK_SECRET_KEY set, asks where to write the new key', () => {
    const run = spawnSync(process.execPath, [BIN, 'secret-key', 'rotate', ...data()], {
      env: { ...process.env, AIRLOCK_SECRET_KEY: key().trim() },
      encoding: 'utf8',
    });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /AIRLOCK_SECRET_KEY is set: give --new-key-file FILE/);
  });

  it('changes nothing when one stored secret does not open, and leaves no staged key', async () => {
    const before = key();
    const db = new BetterSqlite3(join(dir, 'airlock.db'));
    const [row] = db.prepare('select id, secret_sealed from otp_tokens order by id').all() as {
      id: string;
      secret_sealed: string;
    }[];
    // The second token's value copied into the first row: it no longer opens there.
    const other = db.prepare('select secret_sealed from otp_tokens where id <> ?').get(row!.id) as {
      secret_sealed: string;
    };
    db.prepare('update otp_tokens set secret_sealed = ? where id = ?').run(
      other.secret_sealed,
      row!.id,
    );
    const skeyBefore = db.prepare('select skey_sealed from applications').get();
    try {
      const run = await airlockFails([
        'secret-key',
        'rotate',
        '--invalidate-bypass-codes',
        ...data(),
      ]);
      assert.equal(run.code, 1);
      assert.match(run.stderr, new RegExp(`otp_tokens.secret_sealed of row ${row!.id}`));
      assert.equal(key(), before);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.startsWith('secret.key')),
        ['secret.key'],
      );
      // The application's skey was re-sealed before the failing row: rolled back with the rest.
      assert.deepEqual(db.prepare('select skey_sealed from applications').get(), skeyBefore);
      assert.equal(
        (db.prepare('select count(*) as n from bypass_codes').get() as { n: number }).n,
        2,
      );
      const v = await airlockFails(['db', 'verify', ...data()]);
      assert.equal(v.code, 1);
      assert.match(v.stdout, new RegExp(`otpTokenSecret: 1 / 2  — do not open: ${row!.id}`));
    } finally {
      db.prepare('update otp_tokens set secret_sealed = ? where id = ?').run(
        row!.secret_sealed,
        row!.id,
      );
      db.close();
    }
  });

  it('re-seals everything under a new key, keeps the old key 0600, and logins work after', async () => {
    const oldKey = key();
    const out = await airlockJson<{
      resealed: Record<string, number>;
      bypass_codes_deleted: number;
      old_key_copy: string;
    }>(['secret-key', 'rotate', '--invalidate-bypass-codes', ...data()]);
    assert.deepEqual(out.resealed, {
      applicationSkey: 1,
      otpTokenSecret: 2,
      adminTotpSecret: 0,
      adminApiKeySkey: 1,
    });
    assert.equal(out.bypass_codes_deleted, 2);
    assert.notEqual(key(), oldKey);
    assert.equal(readFileSync(out.old_key_copy, 'utf8'), oldKey);
    assert.equal(statSync(out.old_key_copy).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'secret.key')).mode & 0o777, 0o600);
    assert.equal(existsSync(join(dir, 'secret.key.new')), false);

    assert.equal((await airlockJson<Verify>(['db', 'verify', ...data()])).ok, true);
    // Under the old key nothing opens any more: verify says so and fails.
    const stale = spawnSync(process.execPath, [BIN, 'db', 'verify', ...data()], {
      env: { ...process.env, AIRLOCK_SECRET_KEY: oldKey.trim() },
      encoding: 'utf8',
    });
    assert.equal(stale.status, 1, stale.stderr);
    assert.match(stale.stdout, /otpTokenSecret: 0 \/ 2/);
    const audit = await airlockJson<{ action: string }[]>([
      'audit',
      '--action',
      'secret-key.rotate',
      ...data(),
    ]);
    assert.equal(audit.length, 1);

    service = await startServe([...data(), '--listen', '127.0.0.1:0']);
    const routing = routeDuoClients(service.port, readFileSync(join(dir, 'tls', 'ca.pem'), 'utf8'));
    try {
      const answer = await duoClient(app)('POST', '/auth/v2/auth', {
        username: 'carol',
        factor: 'passcode',
        passcode: new TOTP({ secret }).generate(),
      });
      assert.equal((answer.response as { result: string }).result, 'allow', JSON.stringify(answer));
    } finally {
      routing.close();
    }
  });
});
