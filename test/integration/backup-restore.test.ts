// `airlock db backup` while logins run, `db restore` into a new data directory, the restored
// service's logins and audit log, and the backups a restore must refuse (tampered, wrong key,
// newer schema), all through the built `airlock` command and Duo's client.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { TOTP } from 'otpauth';
import { latestSchemaVersion } from '../../src/store/migrations/migration-provider.ts';
import { openBackup, sealBackup } from '../../src/store/backup-archive.ts';
import {
  createMigrationProvider,
  createStoreMigrator,
} from '../../src/store/migrations/migration-provider.ts';
import { openDatabase } from '../../src/store/open-store.ts';
import { createSecretBox } from '../../src/store/secret-box.ts';
import {
  airlock,
  airlockFails,
  airlockJson,
  startServe,
  stopServe,
  type RunningService,
} from './airlock-process.ts';
import { duoClient, routeDuoClients, type DuoCall } from './duo-client.ts';

interface AuditRow {
  id: number;
  action: string;
  username: string | null;
  tsMs: number;
}

describe('airlock db backup and restore', () => {
  let root: string;
  let source: string;
  let restored: string;
  let keyFile: string;
  let backupFile: string;
  let service: RunningService | undefined;
  let routing: { close(): void } | undefined;
  let app: { ikey: string; skey: string };
  let totpSecret: string;
  let bypassCodes: string[];
  let auditAtBackupStart: AuditRow[];
  let loginsDuringBackup = 0;

  const result = async (call: DuoCall, path: string, params: Record<string, unknown>) => {
    const answer = await call('POST', path, params);
    assert.equal(answer.stat, 'OK', JSON.stringify(answer));
    return (answer.response as { result: string }).result;
  };
  const auditOf = (dir: string) =>
    airlockJson<AuditRow[]>(['audit', '--limit', '1000', '--data-dir', dir]);

  before(async () => {
    process.umask(0o022);
    root = mkdtempSync(join(tmpdir(), 'airlock-backup-'));
    source = join(root, 'source');
    restored = join(root, 'restored');
    keyFile = join(root, 'backup.key');
    backupFile = join(root, 'airlock.backup');
    writeFileSync(keyFile, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });

    service = await startServe(['--data-dir', source, '--listen', '127.0.0.1:0']);
    routing = routeDuoClients(service.port, readFileSync(join(source, 'tls', 'ca.pem'), 'utf8'));
    app = await airlockJson(['app', 'create', 'vpn', '--data-dir', source]);
    await airlock(['user', 'create', 'alice', '--data-dir', source]);
    totpSecret = (
      await airlockJson<{ secret: string }>(['token', 'add-totp', 'alice', '--data-dir', source])
    ).secret;
    bypassCodes = (
      await airlockJson<{ codes: string[] }>([
        'bypass-codes',
        'alice',
        '--count',
        '3',
        '--data-dir',
        source,
      ])
    ).codes;
    await airlock(['user', 'create', 'bob', '--status', 'bypass', '--data-dir', source]);
  });

  after(async () => {
    routing?.close();
    if (service) await stopServe(service);
    rmSync(root, { recursive: true, force: true });
  });

  it('takes an encrypted backup (0600) while logins keep being answered', async () => {
    const call = duoClient(app);
    auditAtBackupStart = await auditOf(source);
    let running = true;
    // Every login writes its audit event: the backup copies a database that is being written.
    const logins = (async () => {
      while (running) {
        assert.equal(await result(call, '/auth/v2/preauth', { username: 'bob' }), 'allow');
        loginsDuringBackup++;
      }
    })();
    try {
      while (loginsDuringBackup < 5) await result(call, '/auth/v2/preauth', { username: 'bob' });
      const out = await airlock([
        'db',
        'backup',
        backupFile,
        '--key-file',
        keyFile,
        '--data-dir',
        source,
      ]);
      assert.match(out, /Backup written: .*schema \d+/);
      assert.match(out, /secret key \(DATA_DIR\/secret\.key, or AIRLOCK_SECRET_KEY\)/);
    } finally {
      running = false;
      await logins;
    }
    assert.ok(loginsDuringBackup >= 5);
    assert.equal(statSync(backupFile).mode & 0o777, 0o600);
    const bytes = readFileSync(backupFile);
    assert.ok(bytes.subarray(0, 15).equals(Buffer.from('AIRLOCK-BACKUP\n')));
    // Nothing of the database in the clear: no SQLite header, no username.
    assert.equal(bytes.indexOf('SQLite format 3'), -1);
    assert.equal(bytes.indexOf('alice'), -1);
    const audit = await auditOf(source);
    assert.ok(audit.some((e) => e.action === 'db.backup'));
  });

  it('refuses a backup with one byte changed anywhere, or opened with another key', async () => {
    const bytes = readFileSync(backupFile);
    const headerEnd = bytes.indexOf(0x0a, 15);
    const tampered = join(root, 'tampered.backup');
    const otherKey = join(root, 'other.key');
    writeFileSync(otherKey, randomBytes(32).toString('base64'), { mode: 0o600 });
    for (const [what, offset] of [
      ['in the data', headerEnd + 100],
      ['in the tag', bytes.length - 1],
      ['in the header', bytes.indexOf('"schema_version":') + 17],
    ] as const) {
      const copy = Buffer.from(bytes);
      copy[offset] = copy[offset]! ^ 0x01;
      writeFileSync(tampered, copy);
      const target = join(root, `tampered-${offset}`);
      const run = await airlockFails([
        'db',
        'restore',
        tampered,
        '--key-file',
        keyFile,
        '--data-dir',
        target,
      ]);
      assert.equal(run.code, 1, what);
      assert.match(run.stderr, /Backup does not open/, what);
      assert.equal(existsSync(join(target, 'airlock.db')), false, what);
    }
    writeFileSync(tampered, bytes.subarray(0, bytes.length - 5));
    const truncated = await airlockFails([
      'db',
      'restore',
      tampered,
      '--key-file',
      keyFile,
      '--data-dir',
      join(root, 't2'),
    ]);
    assert.match(truncated.stderr, /Backup does not open/);
    const wrongKey = await airlockFails([
      'db',
      'restore',
      backupFile,
      '--key-file',
      otherKey,
      '--data-dir',
      join(root, 't3'),
    ]);
    assert.match(wrongKey.stderr, /another key file/);
  });

  it('on PostgreSQL refuses, and says how to back up with pg_dump', async () => {
    const url = 'postgres://airlock@127.0.0.1:1/airlock';
    for (const command of ['backup', 'restore']) {
      const run = await airlockFails([
        'db',
        command,
        backupFile,
        '--key-file',
        keyFile,
        '--database-url',
        url,
      ]);
      assert.equal(run.code, 1, command);
      assert.match(run.stderr, /pg_dump --format=custom/, command);
    }
  });

  it('refuses a backup made by a release with a newer schema', async () => {
    const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
    const { database } = openBackup(readFileSync(backupFile), key);
    const db = new BetterSqlite3(database);
    const future = `${String(latestSchemaVersion() + 1).padStart(4, '0')}-from-the-future`;
    db.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run(future, 'x');
    const newer = sealBackup(db.serialize(), key, {
      schemaVersion: latestSchemaVersion() + 1,
      createdMs: Date.now(),
    });
    db.close();
    const file = join(root, 'newer.backup');
    writeFileSync(file, newer);
    const target = join(root, 'newer');
    const run = await airlockFails([
      'db',
      'restore',
      file,
      '--key-file',
      keyFile,
      '--data-dir',
      target,
    ]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Backup made by a newer release: .*schema/);
    assert.equal(existsSync(join(target, 'airlock.db')), false);
  });

  it('restores a backup of an older schema as it is; verify asks for the migration, which then runs', async () => {
    const old = join(root, 'old-schema');
    const { db } = openDatabase({ dataDir: old });
    const previous = `${String(latestSchemaVersion() - 1).padStart(4, '0')}`;
    const names = Object.keys(
      await createMigrationProvider('sqlite', {
        secretBox: createSecretBox(randomBytes(32)),
      }).getMigrations(),
    );
    const target = names.find((n) => n.startsWith(previous))!;
    const step = await createStoreMigrator(db, 'sqlite', {
      secretBox: createSecretBox(randomBytes(32)),
    }).migrateTo(target);
    assert.equal(step.error, undefined);
    await db.destroy();
    // As `db backup` writes its copy: a standalone file, not in WAL mode.
    const standalone = new BetterSqlite3(join(old, 'airlock.db'));
    standalone.pragma('journal_mode = DELETE');
    standalone.close();
    const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
    const file = join(root, 'old.backup');
    writeFileSync(
      file,
      sealBackup(readFileSync(join(old, 'airlock.db')), key, {
        schemaVersion: latestSchemaVersion() - 1,
        createdMs: Date.now(),
      }),
    );
    const into = join(root, 'old-restored');
    const out = await airlock(['db', 'restore', file, '--key-file', keyFile, '--data-dir', into]);
    assert.match(out, new RegExp(`migrates it to ${latestSchemaVersion()}`));
    const verify = await airlockFails(['db', 'verify', '--data-dir', into]);
    assert.equal(verify.code, 1);
    assert.match(verify.stdout, /run airlock db migrate, then verify again/);
    await airlock(['db', 'migrate', '--data-dir', into]);
    assert.equal(
      (await airlockJson<{ ok: boolean }>(['db', 'verify', '--data-dir', into])).ok,
      true,
    );
  });

  it('restores into a new data directory and says what else it needs', async () => {
    const out = await airlock([
      'db',
      'restore',
      backupFile,
      '--key-file',
      keyFile,
      '--data-dir',
      restored,
    ]);
    assert.match(out, /Restored .*airlock\.db/);
    assert.match(out, /copy the original secret\.key there/);
    assert.equal(statSync(join(restored, 'airlock.db')).mode & 0o777, 0o600);
    // Into a directory that has a database: refused, the database left alone.
    const again = await airlockFails([
      'db',
      'restore',
      backupFile,
      '--key-file',
      keyFile,
      '--data-dir',
      restored,
    ]);
    assert.match(again.stderr, /exists: restore into a new data directory/);

    copyFileSync(join(source, 'secret.key'), join(restored, 'secret.key'));
    const verify = await airlockJson<{
      ok: boolean;
      sealed_secrets: { kind: string; total: number; opened: number }[];
    }>(['db', 'verify', '--data-dir', restored]);
    assert.equal(verify.ok, true);
    const counts = Object.fromEntries(
      verify.sealed_secrets.map((t) => [t.kind, [t.opened, t.total]]),
    );
    assert.deepEqual(counts.otpTokenSecret, [1, 1]);
    assert.deepEqual(counts.applicationSkey, [1, 1]);
  });

  it('the restored service has the whole audit log and accepts the same TOTP and bypass codes', async () => {
    const original = await auditOf(source);
    routing?.close();
    await stopServe(service!);
    service = await startServe(['--data-dir', restored, '--listen', '127.0.0.1:0']);
    routing = routeDuoClients(service.port, readFileSync(join(restored, 'tls', 'ca.pem'), 'utf8'));

    const copy = await auditOf(restored);
    // Every event written before the backup started, and the ones written during it up to the
    // copy's moment: the restored log is the original's first part, event for event.
    assert.ok(
      copy.length >= auditAtBackupStart.length,
      `${copy.length} < ${auditAtBackupStart.length}`,
    );
    assert.deepEqual(copy.slice(0, auditAtBackupStart.length), auditAtBackupStart);
    const originalUpTo = original.filter((e) => e.id <= copy.at(-1)!.id);
    assert.deepEqual(copy, originalUpTo);

    const call = duoClient(app);
    const code = new TOTP({ secret: totpSecret }).generate();
    assert.equal(
      await result(call, '/auth/v2/auth', {
        username: 'alice',
        factor: 'passcode',
        passcode: code,
      }),
      'allow',
    );
    assert.equal(
      await result(call, '/auth/v2/auth', {
        username: 'alice',
        factor: 'passcode',
        passcode: bypassCodes[0],
      }),
      'allow',
    );
    assert.equal(
      await result(call, '/auth/v2/auth', {
        username: 'alice',
        factor: 'passcode',
        passcode: '000000000',
      }),
      'deny',
    );
  });
});
