// Migration 0003: the global and per-application policies, and the emergency controls (issue #6).
import type { Kysely, Migration } from 'kysely';

export function policiesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // scope: 'global' or 'app:<appId>'. No foreign key to applications: the scope is text, and
      // a policy left behind by a deleted application applies to nothing.
      await db.schema
        .createTable('policies')
        .addColumn('scope', 'text', (c) => c.primaryKey())
        .addColumn('policy', 'text', (c) => c.notNull())
        .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .execute();

      // record: the whole EmergencyControl as JSON; kind, state and expiry are copied out so the
      // sweeper finds due controls by index.
      await db.schema
        .createTable('emergency_controls')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('record', 'text', (c) => c.notNull())
        .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('emergency_controls_state_expires')
        .on('emergency_controls')
        .columns(['state', 'expires_at_ms'])
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('emergency_controls').ifExists().execute();
      await db.schema.dropTable('policies').ifExists().execute();
    },
  };
}
