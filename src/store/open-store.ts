// Opens the Store named by a database URL: embedded SQLite by default, PostgreSQL when given one.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Clock } from '../runtime/clock.ts';
import { ensurePrivateDir, restrictToOwner, withOwnerOnlyUmask } from '../runtime/private-files.ts';
import { KyselyStore } from './kysely-store.ts';
import { createPreparingPool } from './postgres-pool.ts';
import type { Database } from './schema.ts';
import type { SecretBox } from './secret-box.ts';
import { adaptSqliteDatabase, AirlockSqliteDialect } from './sqlite-database.ts';
import { StoreError } from './store-error.ts';
import { PostgresSignals } from './store-signals.ts';
import type { Store, StoreDialect } from './store.ts';

export const SQLITE_FILE_NAME = 'airlock.db';
const SQLITE_BUSY_TIMEOUT_MS = 5000;
const PG_INT8_OID = 20;

export interface OpenStoreOptions {
  /**
   * `postgres://…` or `postgresql://…` for PostgreSQL; `sqlite:/abs/path.db`, `sqlite:///abs/path.db`
   * or `sqlite:relative.db` (from the working directory) for a SQLite file; undefined for
   * `<dataDir>/airlock.db`.
   */
  databaseUrl?: string;
  dataDir: string;
  secretBox: SecretBox;
  clock: Clock;
  /** Apply pending migrations before returning; default true. */
  migrate?: boolean;
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const { secretBox, clock } = options;
  const signals = isPostgresUrl(options.databaseUrl)
    ? new PostgresSignals(options.databaseUrl)
    : undefined;
  const store = new KyselyStore({ ...openDatabase(options), secretBox, clock, signals });
  if (options.migrate ?? true) {
    try {
      await store.migrate();
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}

/**
 * The Kysely database a URL names, configured as the store uses it (WAL, busy timeout, foreign
 * keys, migrations in a transaction on SQLite; BIGINT as numbers on PostgreSQL). For the store,
 * and for tests that migrate a database step by step.
 */
export function openDatabase(options: Pick<OpenStoreOptions, 'databaseUrl' | 'dataDir'>): {
  db: Kysely<Database>;
  dialect: StoreDialect;
} {
  const { databaseUrl, dataDir } = options;
  return isPostgresUrl(databaseUrl)
    ? { db: openPostgres(databaseUrl), dialect: 'postgres' }
    : { db: openSqlite(sqlitePath(databaseUrl, dataDir)), dialect: 'sqlite' };
}

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

/** The SQLite file a database URL (or none: `<dataDir>/airlock.db`) names. */
export function sqlitePath(url: string | undefined, dataDir: string): string {
  if (url === undefined) {
    ensurePrivateDir(dataDir);
    return join(dataDir, SQLITE_FILE_NAME);
  }
  const match = /^sqlite:(.+)$/i.exec(url);
  if (match?.[1] === undefined) {
    // Name only the scheme: the URL may carry a password.
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? 'no scheme';
    throw new StoreError(
      'STORE_INVALID_URL',
      `unsupported database URL (${scheme}): use postgres://user@host:port/db, ` +
        'postgresql://…, sqlite:/path/to/file.db, or leave it unset for <dataDir>/airlock.db',
    );
  }
  // sqlite:///abs/path → /abs/path (the URL form with an empty host); sqlite://x.db → x.db.
  const path = resolve(match[1].startsWith('//') ? match[1].slice(2) : match[1]);
  // A directory of the administrator's choosing: created 0700 when missing, else left as it is.
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  return path;
}

function openSqlite(path: string): Kysely<Database> {
  // The database holds administrators' password hashes and the audit log: its owner's only. The
  // umask covers the files created while opening; SQLite creates a later -wal or -shm file with
  // the database file's mode (os_unix.c, findCreateFileMode), so they stay 0600 too.
  const sqlite = withOwnerOnlyUmask(() => {
    const db = new BetterSqlite3(path);
    // The CLI and the running service share the file: WAL lets readers run beside one writer,
    // busy_timeout makes a writer wait for the lock rather than fail at once.
    db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    return db;
  });
  // Files an older version created readable by everyone.
  for (const file of [path, `${path}-wal`, `${path}-shm`]) restrictToOwner(file);
  // Durable across a process crash; an OS crash may lose the last commits, never corrupt.
  sqlite.pragma('synchronous = NORMAL');
  // Off by default in SQLite; the schema's ON DELETE CASCADE depends on it.
  sqlite.pragma('foreign_keys = ON');
  return new Kysely<Database>({
    dialect: new AirlockSqliteDialect({ database: adaptSqliteDatabase(sqlite) }),
  });
}

function openPostgres(connectionString: string): Kysely<Database> {
  // BIGINT (timestamps in ms, counters, audit ids) as JS numbers, for this pool only rather than
  // through pg's global parser table. Every value we store is below 2^53.
  const types = new pg.TypeOverrides();
  types.setTypeParser(PG_INT8_OID, 'text', Number);
  const pool = new pg.Pool({ connectionString, types });
  // An idle client that loses its server emits 'error' on the pool; without a listener that
  // would crash the process. The pool drops the client, and the next query reports the outage.
  pool.on('error', () => {});
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: createPreparingPool(pool) }),
  });
}
