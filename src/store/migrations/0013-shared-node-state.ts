// Migration 0013: what several service nodes on one database share beyond the records
// (docs/multi-node.md). The final results of Auth API transactions, in the order the result stream
// (`/auth/v2/auth_results`) delivers them: a row is written in the transaction that makes the
// result final, so every node streams the same results with the same event ids, and a stream
// resumes after a service restart. And the token buckets of budgets that must hold across nodes
// (the per-user budget of pushes, calls and SMS).
import type { Kysely, Migration } from 'kysely';
import type { StoreDialect } from '../store.ts';

export function sharedNodeStateMigration(dialect: StoreDialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('auth_result_events')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        // PostgreSQL: the writing transaction's id (pg_current_xact_id); events are read in
        // (xid, id) order once no older transaction is open. SQLite (one writer): 0.
        .addColumn('xid', 'bigint', (c) => c.notNull())
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('txid', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_msg', 'text', (c) => c.notNull())
        .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('auth_result_events_order')
        .on('auth_result_events')
        .columns(['xid', 'id'])
        .execute();
      await db.schema
        .createIndex('auth_result_events_app_order')
        .on('auth_result_events')
        .columns(['app_id', 'xid', 'id'])
        .execute();
      await db.schema
        .createIndex('auth_result_events_created')
        .on('auth_result_events')
        .column('created_at_ms')
        .execute();

      // One token bucket per key (e.g. `oob:<user id>`): tokens left at `updated_ms`.
      await db.schema
        .createTable('rate_buckets')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('tokens', dialect === 'postgres' ? 'double precision' : 'real', (c) =>
          c.notNull(),
        )
        .addColumn('updated_ms', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('rate_buckets_updated')
        .on('rate_buckets')
        .column('updated_ms')
        .execute();
    },
  };
}
