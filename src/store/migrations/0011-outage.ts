// Migration 0011: outage operations — edited user-message templates, status page incidents with
// their updates, subscriptions, component overrides, and the health reports of proxies and gateways.
import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../store.ts';

export function outageMigration(dialect: StoreDialect): Migration {
  // Ids shown to people (`--incident 7`): never reused (AUTOINCREMENT on SQLite).
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('message_templates')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('message_templates_pk', ['kind', 'language'])
        .execute();
      await db.schema
        .createTable('incidents')
        .addColumn('id', serial, (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('impact', 'text', (c) => c.notNull())
        /** JSON arrays as text. */
        .addColumn('app_ids', 'text', (c) => c.notNull())
        .addColumn('component_ids', 'text', (c) => c.notNull())
        .addColumn('factor', 'text')
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('resolved_at_ms', 'bigint')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('incident_updates')
        .addColumn('id', serial, (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('incident_id', 'bigint', (c) =>
          c.notNull().references('incidents.id').onDelete('cascade'),
        )
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('incident_updates_incident')
        .on('incident_updates')
        .columns(['incident_id', 'id'])
        .execute();
      await db.schema
        .createTable('status_subscriptions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull().unique())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('component_overrides')
        .addColumn('component_id', 'text', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('health_reports')
        .addColumn('reporter', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        /** The report as JSON text. */
        .addColumn('report', 'text', (c) => c.notNull())
        .addColumn('received_at_ms', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of [
        'health_reports',
        'component_overrides',
        'status_subscriptions',
        'incident_updates',
        'incidents',
        'message_templates',
      ]) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}
