// A consistent copy of a live SQLite database (the online backup API), and a restored file put in
// place: the file steps of `airlock db backup` and `airlock db restore`.
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { AirlockError } from '../core/error-registry.ts';
import { withOwnerOnlyUmask } from '../runtime/private-files.ts';

const BUSY_TIMEOUT_MS = 5000;
/** sqlite3_backup_step's page count, as large as better-sqlite3 takes. */
const ALL_PAGES = 0x7fffffff;

/**
 * Copies the database at `path` with SQLite's online backup API while the service keeps writing
 * (WAL: readers and the copy never block the writer), and returns the copy's bytes and its schema
 * version. The copy is made in a private temporary directory (0700, files 0600) and removed.
 */
export async function snapshotSqlite(
  path: string,
): Promise<{ bytes: Buffer; schemaVersion: number }> {
  if (!existsSync(path)) {
    throw new AirlockError('BACKUP_REFUSED', `no database at ${path}`);
  }
  const dir = withOwnerOnlyUmask(() => mkdtempSync(join(tmpdir(), 'airlock-backup-')));
  try {
    const copyPath = join(dir, 'airlock.db');
    const source = new BetterSqlite3(path, { fileMustExist: true });
    try {
      source.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      // All pages in one step, read from one snapshot: SQLite restarts a backup that another
      // connection writes to between steps, so under steady logins a page-by-page copy of a
      // large database might never finish. In WAL mode the step blocks no writer.
      await source.backup(copyPath, { progress: () => ALL_PAGES });
    } finally {
      source.close();
    }
    const copy = new BetterSqlite3(copyPath, { fileMustExist: true });
    let schemaVersion: number;
    try {
      // A standalone file: no -wal beside it for the restore to miss.
      copy.pragma('journal_mode = DELETE');
      schemaVersion = sqliteSchemaVersion(copy);
    } finally {
      copy.close();
    }
    return { bytes: readFileSync(copyPath), schemaVersion };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Writes a restored database to `path`, which must not exist yet (nor its -wal), and checks it:
 * SQLite's integrity check must pass. Written under a temporary name and renamed, 0600.
 */
export function installSqliteFile(path: string, bytes: Buffer): void {
  for (const existing of [path, `${path}-wal`]) {
    if (existsSync(existing)) {
      throw new AirlockError(
        'BACKUP_REFUSED',
        `${existing} exists: restore into a new data directory, or stop the service and move ` +
          'the old database away first',
      );
    }
  }
  const partial = join(dirname(path), '.airlock.db.restoring');
  withOwnerOnlyUmask(() => writeFileSync(partial, bytes, { mode: 0o600, flag: 'wx' }));
  try {
    const db = new BetterSqlite3(partial, { fileMustExist: true });
    try {
      const result = db.pragma('integrity_check', { simple: true });
      if (result !== 'ok') {
        throw new AirlockError(
          'BACKUP_UNREADABLE',
          `the restored database fails its integrity check: ${String(result)}`,
        );
      }
    } finally {
      db.close();
    }
    renameSync(partial, path);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}

/** The schema version recorded in a SQLite database: its latest migration's number. */
export function sqliteSchemaVersion(db: BetterSqlite3.Database): number {
  const table = db
    .prepare("select name from sqlite_master where type = 'table' and name = 'kysely_migration'")
    .get();
  if (table === undefined) return 0;
  const row = db.prepare('select max(name) as name from kysely_migration').get() as
    { name: string | null } | undefined;
  return row?.name ? Number(row.name.slice(0, 4)) : 0;
}

/** Reads a SQLite file's schema version without changing it. */
export function sqliteFileSchemaVersion(bytes: Buffer): number {
  const db = new BetterSqlite3(bytes);
  try {
    return sqliteSchemaVersion(db);
  } finally {
    db.close();
  }
}
