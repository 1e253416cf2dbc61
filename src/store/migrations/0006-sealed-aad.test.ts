// Migration 0006 on a database made before it, on SQLite and PostgreSQL: the v1 sealed secrets
// (no associated data) of every sealed column are re-sealed as v2, bound to their row.
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { FixedClock } from '../../runtime/clock.ts';
import { openStore, SQLITE_FILE_NAME } from '../open-store.ts';
import { createSecretBox } from '../secret-box.ts';
import type { Store } from '../store.ts';
import { createMigrationProvider } from './migration-provider.ts';

const key = randomBytes(32);
const secretBox = createSecretBox(key);
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/** A value as the store sealed it before 0006: `v1:` + AES-256-GCM without AAD. */
function sealV1(plaintext: string, v1Key = key): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', v1Key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return 'v1:' + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
}

/** One row per sealed column, each with a v1 value, as a database at 0005 holds them. */
function rowsAt0005(v1: (plaintext: string) => string = sealV1): string[] {
  return [
    `INSERT INTO applications (id, name, ikey, skey_sealed, type, new_user_policy, restriction_level, rate_limit_per_second, verified_push, username_normalization, created_at_ms, updated_at_ms) VALUES ('DIAPP1', 'app 1', 'DIAPP1', '${v1('skey-of-app-1')}', 'auth-api', 'enroll', 'most-restrictive', 0, 0, 'simple', 1, 1)`,
    `INSERT INTO applications (id, name, ikey, skey_sealed, type, new_user_policy, restriction_level, rate_limit_per_second, verified_push, username_normalization, created_at_ms, updated_at_ms) VALUES ('DIAPP2', 'app 2', 'DIAPP2', '${v1('skey-of-app-2')}', 'auth-api', 'enroll', 'most-restrictive', 0, 0, 'simple', 1, 1)`,
    `INSERT INTO users (id, username, username_key, username_simple, status, failed_attempts, lockout_on_last_failure, created_at_ms, updated_at_ms) VALUES ('DU1', 'alice', 'alice', 'alice', 'active', 0, 0, 1, 1)`,
    `INSERT INTO otp_tokens (id, user_id, type, secret_sealed, algorithm, digits, period_seconds, counter, created_at_ms) VALUES ('T1', 'DU1', 'totp', '${v1('JBSWY3DPEHPK3PXP')}', 'SHA1', 6, 30, 0, 1)`,
    `INSERT INTO admins (id, username, password_hash, totp_secret_sealed, disabled, created_at_ms, updated_at_ms) VALUES ('AD1', 'root', 'x', '${v1('ADMINTOTPSECRET1')}', 0, 1, 1)`,
    `INSERT INTO admin_api_keys (ikey, skey_sealed, name, created_at_ms) VALUES ('DAKEY1', '${v1('admin-skey-1')}', 'ci', 1)`,
  ];
}

interface Backend {
  name: string;
  /** A database at schema 0005 holding `statements`; returns the store on it (not migrated). */
  at0005(
    statements: string[],
  ): Promise<{ store: Store; rawSql: (q: string) => Promise<unknown[]> }>;
}

async function prepare(db: Kysely<unknown>, statements: string[]): Promise<void> {
  try {
    const provider = createMigrationProvider(
      db.getExecutor().adapter.supportsTransactionalDdl ? 'postgres' : 'sqlite',
      { secretBox },
    );
    const { error } = await new Migrator({ db, provider }).migrateTo('0005-username-keys');
    assert.equal(error, undefined);
    for (const statement of statements) await sql.raw(statement).execute(db);
  } finally {
    await db.destroy();
  }
}

const openOptions = { secretBox, clock: new FixedClock(1_700_000_000_000), migrate: false };

const sqlite: Backend = {
  name: 'SQLite',
  async at0005(statements) {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-0006-'));
    const file = join(dir, SQLITE_FILE_NAME);
    await prepare(
      new Kysely<unknown>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) }),
      statements,
    );
    const store = await openStore({ dataDir: dir, ...openOptions });
    const raw = new BetterSqlite3(file);
    cleanups.push(async () => {
      raw.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const rawSql = (q: string) => {
      const statement = raw.prepare(q);
      return Promise.resolve(statement.reader ? statement.all() : (statement.run(), []));
    };
    return { store, rawSql };
  },
};

const postgres: Backend = {
  name: 'PostgreSQL',
  async at0005(statements) {
    const adminUrl = process.env.AIRLOCK_TEST_DATABASE_URL;
    if (adminUrl === undefined || adminUrl === '') {
      throw new Error(
        'AIRLOCK_TEST_DATABASE_URL not set: start PostgreSQL with scripts/start-pg.sh and export ' +
          'AIRLOCK_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:54329/airlock_test',
      );
    }
    const database = `airlock_0006_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    const databaseUrl = url.toString();
    await prepare(
      new Kysely<unknown>({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl }) }),
      }),
      statements,
    );
    const store = await openStore({ databaseUrl, dataDir: '/nonexistent-unused', ...openOptions });
    const raw = new pg.Client({ connectionString: databaseUrl });
    await raw.connect();
    cleanups.push(async () => {
      await raw.end();
      await store.close();
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await dropper.end();
    });
    return { store, rawSql: async (q) => (await raw.query(q)).rows as unknown[] };
  },
};

for (const backend of [sqlite, postgres]) {
  describe(`migration 0006 (sealed secrets bound to their row) on ${backend.name}`, () => {
    it('re-seals every v1 value as v2, and each opens for its own row only', async () => {
      const { store, rawSql } = await backend.at0005(rowsAt0005());
      assert.equal((await store.migrate())[0], '0006-sealed-aad', 'later migrations follow it');
      const stored = [
        ...(await rawSql('SELECT skey_sealed AS v FROM applications ORDER BY id')),
        ...(await rawSql('SELECT secret_sealed AS v FROM otp_tokens')),
        ...(await rawSql('SELECT totp_secret_sealed AS v FROM admins')),
        ...(await rawSql('SELECT skey_sealed AS v FROM admin_api_keys')),
      ].map((row) => String((row as { v: unknown }).v));
      assert.equal(stored.length, 5);
      for (const value of stored) assert.match(value, /^v2:[A-Za-z0-9+/]+=*$/);

      assert.equal((await store.getApplicationByIkey('DIAPP1'))?.skey, 'skey-of-app-1');
      assert.equal((await store.getApplicationByIkey('DIAPP2'))?.skey, 'skey-of-app-2');
      assert.equal((await store.listOtpTokens('DU1'))[0]?.secret, 'JBSWY3DPEHPK3PXP');
      assert.equal((await store.getAdmin('AD1'))?.totpSecret, 'ADMINTOTPSECRET1');
      assert.equal((await store.getAdminApiKey('DAKEY1'))?.skey, 'admin-skey-1');

      // Now bound: app 1's value in app 2's row no longer opens.
      await rawSql(`UPDATE applications SET skey_sealed = '${stored[0]}' WHERE id = 'DIAPP2'`);
      await assert.rejects(
        store.getApplicationByIkey('DIAPP2'),
        /of row DIAPP2: authentication failed/,
      );
      assert.deepEqual(await store.migrate(), []);
    });

    it('stops on a value sealed under another key, naming its row', async () => {
      const otherKey = randomBytes(32);
      const statements = rowsAt0005();
      statements[4] = statements[4]!.replace(/'v1:[^']+'/, `'${sealV1('x', otherKey)}'`);
      const { store } = await backend.at0005(statements);
      await assert.rejects(
        store.migrate(),
        /database migration 0006-sealed-aad failed: cannot open admins\.totp_secret_sealed of row AD1: authentication failed/,
      );
    });
  });
}
