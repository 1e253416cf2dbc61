// Migration 0008: an async transaction may belong to no user — an `auth async=1` for a name
// Airlock does not know, answered at once by the new-user policy, still gets a txid that
// auth_status answers (before, the NOT NULL reference to users made it a 500). `user_id` becomes
// nullable; a user's transactions still go with the user (ON DELETE CASCADE).
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../store.ts';

export function authTransactionWithoutUserMigration(dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect === 'postgres') {
        await sql`alter table auth_transactions alter column user_id drop not null`.execute(db);
        return;
      }
      await rebuildSqliteTable(db, false);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`delete from auth_transactions where user_id is null`.execute(db);
      if (dialect === 'postgres') {
        await sql`alter table auth_transactions alter column user_id set not null`.execute(db);
        return;
      }
      await rebuildSqliteTable(db, true);
    },
  };
}

/**
 * SQLite cannot change a column's NOT NULL: copy into a new table and swap, all in one
 * transaction: the Migrator's (every migration runs in one on both dialects since the store's
 * SQLite dialect declares transactional DDL), or one of its own when called outside it, as the
 * migration's own test does. No table references auth_transactions.
 */
async function rebuildSqliteTable(db: Kysely<unknown>, userRequired: boolean): Promise<void> {
  const inTransaction = <T>(fn: (trx: Kysely<unknown>) => Promise<T>): Promise<T> =>
    db.isTransaction ? fn(db) : db.transaction().execute(fn);
  await inTransaction(async (trx) => {
    await trx.schema
      .createTable('auth_transactions_rebuilt')
      .addColumn('txid', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'text', (c) =>
        c.notNull().references('applications.id').onDelete('cascade'),
      )
      .addColumn('user_id', 'text', (c) => {
        const column = c.references('users.id').onDelete('cascade');
        return userRequired ? column.notNull() : column;
      })
      .addColumn('factor', 'text', (c) => c.notNull())
      .addColumn('result', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('status_msg', 'text', (c) => c.notNull())
      .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
      .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
      .execute();
    await sql`insert into auth_transactions_rebuilt
      (txid, app_id, user_id, factor, result, status, status_msg, created_at_ms, updated_at_ms)
      select txid, app_id, user_id, factor, result, status, status_msg, created_at_ms, updated_at_ms
      from auth_transactions`.execute(trx);
    await trx.schema.dropTable('auth_transactions').execute();
    await trx.schema
      .alterTable('auth_transactions_rebuilt')
      .renameTo('auth_transactions')
      .execute();
    await trx.schema
      .createIndex('auth_transactions_user_id')
      .on('auth_transactions')
      .column('user_id')
      .execute();
    await trx.schema
      .createIndex('auth_transactions_app_id')
      .on('auth_transactions')
      .column('app_id')
      .execute();
  });
}
