// Migration 0001: the initial schema, including the append-only guard on audit_events.
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../store.ts';

/** Builds the migration for `dialect`; the two differ only in the audit id type and the triggers. */
export function initialMigration(dialect: StoreDialect): Migration {
  // Names compare byte-wise on both dialects (SQLite's default BINARY; PostgreSQL's "C"), so
  // uniqueness and list order never depend on the server's locale.
  const name = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('applications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', name, (c) => c.notNull())
        .addColumn('ikey', 'text', (c) => c.notNull())
        .addColumn('skey_sealed', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('new_user_policy', 'text', (c) => c.notNull())
        .addColumn('restriction_level', 'text', (c) => c.notNull())
        .addColumn('rate_limit_per_second', 'integer', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('applications_name_unique', ['name'])
        .addUniqueConstraint('applications_ikey_unique', ['ikey'])
        .execute();

      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', name, (c) => c.notNull())
        .addColumn('real_name', 'text')
        .addColumn('email', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('lockout_on_last_failure', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('users_username_unique', ['username'])
        .execute();

      // The primary key is the alias lookup index. That an alias equals no other user's
      // username is checked by the store inside the creating transaction.
      await db.schema
        .createTable('user_aliases')
        .addColumn('alias', name, (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .execute();
      await db.schema
        .createIndex('user_aliases_user_id')
        .on('user_aliases')
        .column('user_id')
        .execute();

      await db.schema
        .createTable('groups')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', name, (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('groups_name_unique', ['name'])
        .execute();

      await db.schema
        .createTable('application_groups')
        .addColumn('app_id', 'text', (c) =>
          c.notNull().references('applications.id').onDelete('cascade'),
        )
        .addColumn('group_id', 'text', (c) =>
          c.notNull().references('groups.id').onDelete('cascade'),
        )
        .addPrimaryKeyConstraint('application_groups_pk', ['app_id', 'group_id'])
        .execute();
      await db.schema
        .createIndex('application_groups_group_id')
        .on('application_groups')
        .column('group_id')
        .execute();

      await db.schema
        .createTable('group_members')
        .addColumn('group_id', 'text', (c) =>
          c.notNull().references('groups.id').onDelete('cascade'),
        )
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'user_id'])
        .execute();
      await db.schema
        .createIndex('group_members_user_id')
        .on('group_members')
        .column('user_id')
        .execute();

      await db.schema
        .createTable('otp_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('secret_sealed', 'text', (c) => c.notNull())
        .addColumn('algorithm', 'text', (c) => c.notNull())
        .addColumn('digits', 'integer', (c) => c.notNull())
        .addColumn('period_seconds', 'integer', (c) => c.notNull())
        .addColumn('counter', 'bigint', (c) => c.notNull())
        .addColumn('last_step', 'bigint')
        .addColumn('name', 'text')
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('otp_tokens_user_id')
        .on('otp_tokens')
        .column('user_id')
        .execute();

      await db.schema
        .createTable('bypass_codes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('remaining_uses', 'integer')
        .addColumn('expires_at_ms', 'bigint')
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('bypass_codes_user_id')
        .on('bypass_codes')
        .column('user_id')
        .execute();

      await db.schema
        .createTable('enrollments')
        .addColumn('activation_code', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('app_id', 'text', (c) =>
          c.notNull().references('applications.id').onDelete('cascade'),
        )
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('enrollments_user_id')
        .on('enrollments')
        .column('user_id')
        .execute();
      await db.schema
        .createIndex('enrollments_app_id')
        .on('enrollments')
        .column('app_id')
        .execute();

      await db.schema
        .createTable('auth_transactions')
        .addColumn('txid', 'text', (c) => c.primaryKey())
        .addColumn('app_id', 'text', (c) =>
          c.notNull().references('applications.id').onDelete('cascade'),
        )
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('factor', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_msg', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('auth_transactions_user_id')
        .on('auth_transactions')
        .column('user_id')
        .execute();
      await db.schema
        .createIndex('auth_transactions_app_id')
        .on('auth_transactions')
        .column('app_id')
        .execute();

      // No foreign keys: the audit trail outlives the users and applications it names.
      await db.schema
        .createTable('audit_events')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          // AUTOINCREMENT: SQLite must never reuse an id, or audit paging cursors would skip events.
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('ts_ms', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text')
        .addColumn('target_id', 'text')
        .addColumn('app_id', 'text')
        .addColumn('username', 'text')
        .addColumn('result', 'text')
        .addColumn('ip', 'text')
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('audit_events_ts_ms')
        .on('audit_events')
        .column('ts_ms')
        .execute();
      // (username, id) serves "events of this user, in order" without a sort.
      await db.schema
        .createIndex('audit_events_username_id')
        .on('audit_events')
        .columns(['username', 'id'])
        .execute();
      await db.schema
        .createIndex('audit_events_action_id')
        .on('audit_events')
        .columns(['action', 'id'])
        .execute();

      await createAuditAppendOnlyGuard(db, dialect);
    },

    async down(db: Kysely<unknown>): Promise<void> {
      if (dialect === 'postgres') {
        await sql`DROP FUNCTION IF EXISTS airlock_audit_events_append_only() CASCADE`.execute(db);
      }
      for (const table of [
        'audit_events',
        'auth_transactions',
        'enrollments',
        'bypass_codes',
        'otp_tokens',
        'group_members',
        'application_groups',
        'groups',
        'user_aliases',
        'users',
        'applications',
      ]) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  };
}

/** The audit trail is evidence: the database itself refuses to change or remove an event. */
async function createAuditAppendOnlyGuard(db: Kysely<unknown>, dialect: StoreDialect) {
  if (dialect === 'postgres') {
    await sql`
      CREATE FUNCTION airlock_audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`.execute(db);
    // Statement-level, so even an UPDATE or DELETE that matches no row fails, and TRUNCATE too.
    await sql`
      CREATE TRIGGER audit_events_append_only
      BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
      FOR EACH STATEMENT EXECUTE FUNCTION airlock_audit_events_append_only()`.execute(db);
    return;
  }
  await sql`
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END`.execute(db);
  await sql`
    CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END`.execute(db);
}
