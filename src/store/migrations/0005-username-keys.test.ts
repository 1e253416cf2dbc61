// Migration 0005 on a database made before it: keys are filled, and names that differ only in
// case on different users stop the migration until an administrator resolves them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { FixedClock } from '../../runtime/clock.ts';
import { openStore, SQLITE_FILE_NAME } from '../open-store.ts';
import { createSecretBox } from '../secret-box.ts';
import { createMigrationProvider } from './migration-provider.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A data directory whose database is at schema 0004, holding the given rows. */
async function databaseAt0004(statements: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-0005-'));
  dirs.push(dir);
  const db = new Kysely<unknown>({
    dialect: new SqliteDialect({ database: new BetterSqlite3(join(dir, SQLITE_FILE_NAME)) }),
  });
  try {
    const migrator = new Migrator({ db, provider: createMigrationProvider('sqlite') });
    const { error } = await migrator.migrateTo('0004-admin');
    assert.equal(error, undefined);
    for (const statement of statements) await sql.raw(statement).execute(db);
  } finally {
    await db.destroy();
  }
  return dir;
}

const user = (id: string, username: string) =>
  `INSERT INTO users (id, username, status, failed_attempts, lockout_on_last_failure, created_at_ms, updated_at_ms) VALUES ('${id}', '${username}', 'active', 0, 0, 1, 1)`;
const alias = (userId: string, name: string) =>
  `INSERT INTO user_aliases (alias, user_id) VALUES ('${name}', '${userId}')`;

const open = (dataDir: string) =>
  openStore({
    dataDir,
    secretBox: createSecretBox(Buffer.alloc(32, 7)),
    clock: new FixedClock(1_700_000_000_000),
    migrate: false,
  });

describe('migration 0005 (case-insensitive usernames)', () => {
  it('fills the keys of existing users and aliases', async () => {
    const dir = await databaseAt0004([user('DU1', 'Alice'), alias('DU1', 'A.Smith')]);
    const store = await open(dir);
    try {
      // 0005 first, then any later migration.
      assert.equal((await store.migrate())[0], '0005-username-keys');
      assert.equal((await store.findUser('alice'))?.id, 'DU1');
      assert.equal((await store.findUser('a.smith '))?.id, 'DU1');
      assert.equal((await store.findUser('CORP\\alice', 'simple'))?.id, 'DU1');
    } finally {
      await store.close();
    }
  });

  it('refuses while two users share a name regardless of case, lists them, and changes nothing', async () => {
    const dir = await databaseAt0004([
      user('DU1', 'alice'),
      user('DU2', 'Alice'),
      user('DU3', 'bob'),
      alias('DU1', 'BOB '),
      user('DU4', 'carol'),
    ]);
    const store = await open(dir);
    try {
      await assert.rejects(store.migrate(), (err: Error) => {
        assert.match(err.message, /database migration 0005-username-keys failed/);
        assert.match(err.message, /2 name\(s\) would belong to more than one user/);
        assert.match(
          err.message,
          /"alice": username "Alice" of user DU2, username "alice" of user DU1/,
        );
        assert.match(err.message, /"bob": username "bob" of user DU3, alias "BOB " of user DU1/);
        assert.match(err.message, /airlock db resolve-username USER_ID --rename NEW_NAME/);
        return true;
      });
      assert.equal((await store.listUsernameCollisions()).length, 2, 'nothing was migrated');
      await assert.rejects(
        store.resolveUsernameCollision('DU4', { delete: true }),
        /in no username collision/,
      );
      await assert.rejects(
        store.resolveUsernameCollision('DU2', { rename: 'ALICE' }),
        /is not free/,
      );
      await store.resolveUsernameCollision('DU2', { rename: 'alice2' });
      await store.resolveUsernameCollision('DU1', { dropAlias: 'BOB ' });
      assert.deepEqual(await store.listUsernameCollisions(), []);
      // 0005 first, then any later migration.
      assert.equal((await store.migrate())[0], '0005-username-keys');
      assert.equal((await store.findUser('ALICE2'))?.id, 'DU2');
      assert.equal((await store.findUser('Bob'))?.id, 'DU3');
    } finally {
      await store.close();
    }
  });
});
