// Adapts a better-sqlite3 connection for Kysely: a prepared-statement cache, IMMEDIATE transactions
// and migrations in a transaction.
import type BetterSqlite3 from 'better-sqlite3';
import { SqliteAdapter, SqliteDialect, type DialectAdapter, type SqliteDatabase } from 'kysely';

const DEFAULT_STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite driver prepares every query anew; the store issues a small, fixed set of SQL
 * texts, so caching the statements saves the parse on each request (LRU, bounded, since IN lists
 * of varying length make new texts).
 *
 * Kysely also opens transactions with a bare `begin` (DEFERRED). With several processes on one
 * file (the service and the CLI), a deferred transaction that reads and then writes fails with
 * SQLITE_BUSY at once when another connection wrote in between; BEGIN IMMEDIATE takes the write
 * lock up front and waits for it under busy_timeout instead.
 */
export function adaptSqliteDatabase(
  db: BetterSqlite3.Database,
  cacheSize = DEFAULT_STATEMENT_CACHE_SIZE,
): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close(): void {
      statements.clear();
      db.close();
    },
    prepare(sqlText: string): BetterSqlite3.Statement {
      const text = sqlText === 'begin' ? 'begin immediate' : sqlText;
      let statement = statements.get(text);
      if (statement !== undefined) {
        // Re-insert to mark it most recently used.
        statements.delete(text);
      } else {
        statement = db.prepare(text);
        if (statements.size >= cacheSize) {
          const oldest = statements.keys().next().value;
          if (oldest !== undefined) statements.delete(oldest);
        }
      }
      statements.set(text, statement);
      return statement;
    },
  };
}

/**
 * SQLite runs DDL inside transactions, but Kysely's SqliteAdapter says it does not, so its
 * Migrator would run migrations with no transaction at all: a migration failing halfway (or a
 * crash) would leave half a schema change behind. Declaring transactional DDL makes the Migrator
 * run the pending migrations and their records in one transaction, as on PostgreSQL
 * (`src/store/schema-upgrade.test.ts` fails if it does not).
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/** Kysely's SqliteDialect whose migrations run in a transaction. */
export class AirlockSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}
