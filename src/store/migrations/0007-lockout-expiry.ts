// Migration 0007: a lockout may end by itself (locked_until_ms), and names its failure sources.
import type { Kysely, Migration } from 'kysely';

export function lockoutExpiryMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // NULL with `locked out` = until an administrator unlocks, which is what every lockout
      // made before this migration was.
      await db.schema.alterTable('users').addColumn('locked_until_ms', 'bigint').execute();
      // One JSON line per failure since the last success or unlock (core/lockout.ts).
      await db.schema
        .alterTable('users')
        .addColumn('failure_sources', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('users').dropColumn('failure_sources').execute();
      await db.schema.alterTable('users').dropColumn('locked_until_ms').execute();
    },
  };
}
