// Migration 0010: whether an application accepts signature v1 on /rest/v1 (Duo's Authentication
// Proxy), which signs no date; off for every application that exists (docs/auth-api.md).
import type { Kysely, Migration } from 'kysely';

export function allowV1SignatureMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('applications')
        .addColumn('allow_v1_signature', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('applications').dropColumn('allow_v1_signature').execute();
    },
  };
}
