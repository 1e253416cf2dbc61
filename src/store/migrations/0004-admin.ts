// Migration 0004: console administrators, Admin API keys and console sessions.
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../store.ts';

export function adminMigration(dialect: StoreDialect): Migration {
  // Byte-wise name comparison on both dialects, as in 0001.
  const name = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('admins')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', name, (c) => c.notNull())
        // argon2id PHC string: the parameters and salt travel with the hash.
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('totp_secret_sealed', 'text', (c) => c.notNull())
        .addColumn('totp_last_step', 'bigint')
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('admins_username_unique', ['username'])
        .execute();

      await db.schema
        .createTable('admin_api_keys')
        .addColumn('ikey', 'text', (c) => c.primaryKey())
        .addColumn('skey_sealed', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at_ms', 'bigint')
        .execute();

      await db.schema
        .createTable('admin_sessions')
        // SHA-256 of the cookie's token: a database leak does not hand out live sessions.
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('admin_id', 'text', (c) =>
          c.notNull().references('admins.id').onDelete('cascade'),
        )
        .addColumn('csrf_token_hash', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('admin_sessions_admin_id')
        .on('admin_sessions')
        .column('admin_id')
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of ['admin_sessions', 'admin_api_keys', 'admins']) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}
