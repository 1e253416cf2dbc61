// Migration 0014: a health report's component belongs to the application that first reported it
// (docs/status-page.md): another application's keys can no longer turn it operational or silent.
import type { Kysely, Migration } from 'kysely';

export function healthReportOwnerMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // The reports are a live view, rewritten every interval: dropped rather than given an owner
      // nobody vouched for. A running proxy or gateway claims its name again with its next report.
      await db.schema.dropTable('health_reports').execute();
      await db.schema
        .createTable('health_reports')
        .addColumn('reporter', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        // The application whose keys signed the first report; deleting it frees the name.
        .addColumn('app_id', 'text', (c) =>
          c.notNull().references('applications.id').onDelete('cascade'),
        )
        /** The report as JSON text. */
        .addColumn('report', 'text', (c) => c.notNull())
        .addColumn('received_at_ms', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('health_reports').execute();
      await db.schema
        .createTable('health_reports')
        .addColumn('reporter', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('report', 'text', (c) => c.notNull())
        .addColumn('received_at_ms', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
