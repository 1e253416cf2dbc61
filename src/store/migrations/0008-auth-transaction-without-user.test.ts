// Migration 0008 on a SQLite database made before it: the table is rebuilt with a nullable
// user_id, keeping every row, the cascade from users and the indexes; down restores NOT NULL.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { SQLITE_FILE_NAME } from '../open-store.ts';
import { createSecretBox } from '../secret-box.ts';
import { createMigrationProvider } from './migration-provider.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function openDatabase(): { db: Kysely<unknown>; sqlite: BetterSqlite3.Database } {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-0008-'));
  dirs.push(dir);
  const sqlite = new BetterSqlite3(join(dir, SQLITE_FILE_NAME));
  sqlite.pragma('foreign_keys = ON');
  return { db: new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) }), sqlite };
}

const rows = (sqlite: BetterSqlite3.Database, query: string) => sqlite.prepare(query).all();

describe('migration 0008 (async transactions of unknown users)', () => {
  it('keeps existing transactions, accepts a null user, still cascades, and goes back down', async () => {
    const { db, sqlite } = openDatabase();
    try {
      const migrator = new Migrator({
        db,
        provider: createMigrationProvider('sqlite', {
          secretBox: createSecretBox(Buffer.alloc(32, 7)),
        }),
      });
      assert.equal((await migrator.migrateTo('0007-lockout-expiry')).error, undefined);
      await sql
        .raw(
          `INSERT INTO applications (id, name, type, ikey, skey_sealed, new_user_policy, restriction_level, rate_limit_per_second, verified_push, created_at_ms, updated_at_ms)
           VALUES ('DA1', 'vpn', 'auth-api', 'DI1', 'sealed', 'enroll', 'restrictive', 0, 0, 1, 1)`,
        )
        .execute(db);
      await sql
        .raw(
          `INSERT INTO users (id, username, status, failed_attempts, lockout_on_last_failure, created_at_ms, updated_at_ms, username_key, username_simple)
           VALUES ('DU1', 'alice', 'active', 0, 0, 1, 1, 'alice', 'alice')`,
        )
        .execute(db);
      const tx = (txid: string, userId: string | null) =>
        sql
          .raw(
            `INSERT INTO auth_transactions VALUES ('${txid}', 'DA1', ${userId === null ? 'NULL' : `'${userId}'`}, 'push', 'waiting', 'pushed', 'Pushed', 1, 2)`,
          )
          .execute(db);
      await tx('TX1', 'DU1');
      await assert.rejects(tx('TX0', null), /NOT NULL/);

      assert.equal((await migrator.migrateToLatest()).error, undefined);
      await tx('TX2', null);
      await tx('TX3', 'DU1');
      assert.deepEqual(rows(sqlite, 'SELECT txid, user_id FROM auth_transactions ORDER BY txid'), [
        { txid: 'TX1', user_id: 'DU1' },
        { txid: 'TX2', user_id: null },
        { txid: 'TX3', user_id: 'DU1' },
      ]);
      assert.deepEqual(
        rows(
          sqlite,
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'auth_transactions' AND sql IS NOT NULL ORDER BY name",
        ),
        [{ name: 'auth_transactions_app_id' }, { name: 'auth_transactions_user_id' }],
      );
      await assert.rejects(tx('TX4', 'DUNOSUCH'), /FOREIGN KEY/);
      await sql.raw(`DELETE FROM users WHERE id = 'DU1'`).execute(db);
      assert.deepEqual(rows(sqlite, 'SELECT txid FROM auth_transactions'), [{ txid: 'TX2' }]);

      assert.equal((await migrator.migrateTo('0007-lockout-expiry')).error, undefined);
      assert.deepEqual(rows(sqlite, 'SELECT txid FROM auth_transactions'), []);
      await assert.rejects(tx('TX5', null), /NOT NULL/);
    } finally {
      await db.destroy();
    }
  });
});
