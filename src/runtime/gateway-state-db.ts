// The gateway's local state file (SQLite, its owner's only): sessions and the OpenID Connect
// provider's records, each a JSON payload under (kind, id) with an absolute expiry, so that a
// restart keeps them. Several gateway processes on one host may share the file (WAL, busy_timeout).
// What is secret in it is the callers' to hide: the session store keys rows by a hash of the
// session id, the provider's adapter seals its records (src/gateway/oidc-adapter.ts). Deleted rows
// are overwritten (secure_delete), so a removed record does not linger in free pages.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { restrictToOwner, withOwnerOnlyUmask } from './private-files.ts';

const BUSY_TIMEOUT_MS = 5000;
/**
 * The file's layout version (`PRAGMA user_version`). 1: `account` and `consumed_at` columns, and
 * the provider's records sealed — an older file's clear-text provider records are dropped on
 * upgrade (their users sign in to the relying party again); its portal sessions stay.
 */
const LAYOUT_VERSION = 1;

/**
 * What the file keeps of a bearer value used as a key (a session id, a token, a code, a uid): its
 * SHA-256, so that a copy of the file does not yield it.
 */
export function stateKey(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Secondary keys a record may be found by (the OpenID Connect adapter's lookups). */
export interface StateIndexes {
  grantId?: string | undefined;
  uid?: string | undefined;
  userCode?: string | undefined;
  /** Whose record it is, for ending a user's records at logout. */
  account?: string | undefined;
}

/** A record as stored: its id, payload and, once consumed, when (Unix seconds). */
export interface StoredRecord {
  id: string;
  payload: unknown;
  consumedAt: number | undefined;
}

export interface GatewayStateDb {
  /** Inserts or replaces the record; it reads as absent from `expiresAtMs` on. */
  put(
    kind: string,
    id: string,
    payload: unknown,
    expiresAtMs: number,
    indexes?: StateIndexes,
  ): void;
  /** The payload of a live record; undefined when absent or expired at `nowMs`. */
  get(kind: string, id: string, nowMs: number): unknown;
  /** A live record with its consumption mark; undefined when absent or expired at `nowMs`. */
  getRecord(kind: string, id: string, nowMs: number): StoredRecord | undefined;
  /** The live record of `kind` with this uid or user code. */
  findBy(
    kind: string,
    key: 'uid' | 'userCode',
    value: string,
    nowMs: number,
  ): StoredRecord | undefined;
  /**
   * Marks a record consumed at `atSeconds` unless it already is — in one statement, so two
   * processes on the file cannot both consume it. False when it was consumed (or is absent).
   */
  consume(kind: string, id: string, atSeconds: number): boolean;
  /** Rewrites the payload of an existing record (and its expiry when given), its indexes kept. */
  update(kind: string, id: string, payload: unknown, expiresAtMs?: number): void;
  delete(kind: string, id: string): void;
  /** Deletes every record of the grant (tokens and codes of a revoked grant). */
  deleteByGrantId(grantId: string): void;
  /** Deletes the records of `kind` stored with this `account` index (a user's provider sessions). */
  deleteByAccount(kind: string, account: string): void;
  /** Live records of `kind`. */
  count(kind: string, nowMs: number): number;
  /** Deletes every record expired at `nowMs`. */
  sweep(nowMs: number): void;
  close(): void;
}

/**
 * Opens (creating it 0600, and its directory 0700 when missing) the state file at `path`;
 * `':memory:'` keeps the state in memory (tests).
 */
export function openGatewayStateDb(path: string): GatewayStateDb {
  const db = withOwnerOnlyUmask(() => {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const opened = new BetterSqlite3(path);
    opened.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (path !== ':memory:') opened.pragma('journal_mode = WAL');
    return opened;
  });
  // SQLite creates later -wal and -shm files with the database file's mode.
  if (path !== ':memory:') for (const f of [path, `${path}-wal`, `${path}-shm`]) restrictToOwner(f);
  db.pragma('synchronous = NORMAL');
  db.pragma('secure_delete = ON');
  createOrUpgradeLayout(db);
  const q = {
    put: db.prepare(
      `INSERT OR REPLACE INTO gateway_state
         (kind, id, payload, expires_at_ms, grant_id, uid, user_code, account)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    get: db.prepare(
      'SELECT id, payload, consumed_at FROM gateway_state WHERE kind = ? AND id = ? AND expires_at_ms > ?',
    ),
    byUid: db.prepare(
      'SELECT id, payload, consumed_at FROM gateway_state WHERE kind = ? AND uid = ? AND expires_at_ms > ?',
    ),
    byUserCode: db.prepare(
      'SELECT id, payload, consumed_at FROM gateway_state WHERE kind = ? AND user_code = ? AND expires_at_ms > ?',
    ),
    update: db.prepare(
      'UPDATE gateway_state SET payload = ?, expires_at_ms = coalesce(?, expires_at_ms) WHERE kind = ? AND id = ?',
    ),
    consume: db.prepare(
      'UPDATE gateway_state SET consumed_at = ? WHERE kind = ? AND id = ? AND consumed_at IS NULL',
    ),
    delete: db.prepare('DELETE FROM gateway_state WHERE kind = ? AND id = ?'),
    deleteGrant: db.prepare('DELETE FROM gateway_state WHERE grant_id = ?'),
    deleteAccount: db.prepare('DELETE FROM gateway_state WHERE kind = ? AND account = ?'),
    count: db.prepare(
      'SELECT count(*) AS n FROM gateway_state WHERE kind = ? AND expires_at_ms > ?',
    ),
    sweep: db.prepare('DELETE FROM gateway_state WHERE expires_at_ms <= ?'),
  };
  const recordOf = (row: unknown): StoredRecord | undefined => {
    if (row === undefined) return undefined;
    const r = row as { id: string; payload: string; consumed_at: number | null };
    return { id: r.id, payload: JSON.parse(r.payload), consumedAt: r.consumed_at ?? undefined };
  };
  return {
    put(kind, id, payload, expiresAtMs, indexes = {}) {
      q.put.run(
        kind,
        id,
        JSON.stringify(payload),
        Math.floor(expiresAtMs),
        indexes.grantId ?? null,
        indexes.uid ?? null,
        indexes.userCode ?? null,
        indexes.account ?? null,
      );
    },
    get: (kind, id, nowMs) => recordOf(q.get.get(kind, id, nowMs))?.payload,
    getRecord: (kind, id, nowMs) => recordOf(q.get.get(kind, id, nowMs)),
    findBy: (kind, key, value, nowMs) =>
      recordOf((key === 'uid' ? q.byUid : q.byUserCode).get(kind, value, nowMs)),
    update(kind, id, payload, expiresAtMs) {
      const expiry = expiresAtMs === undefined ? null : Math.floor(expiresAtMs);
      q.update.run(JSON.stringify(payload), expiry, kind, id);
    },
    consume: (kind, id, atSeconds) => q.consume.run(atSeconds, kind, id).changes > 0,
    delete(kind, id) {
      q.delete.run(kind, id);
    },
    deleteByAccount(kind, accountId) {
      q.deleteAccount.run(kind, accountId);
    },
    deleteByGrantId(grantId) {
      q.deleteGrant.run(grantId);
    },
    count: (kind, nowMs) => (q.count.get(kind, nowMs) as { n: number }).n,
    sweep(nowMs) {
      q.sweep.run(nowMs);
    },
    close() {
      db.close();
    },
  };
}

/** Creates the table in the current layout, or brings an older file's up to it. */
function createOrUpgradeLayout(db: BetterSqlite3.Database): void {
  // IMMEDIATE, and the version read inside: two gateways starting on an old file upgrade it once.
  let upgraded = false;
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > LAYOUT_VERSION) {
      throw new Error(
        `the gateway state file has layout ${version}, newer than this Airlock's ${LAYOUT_VERSION}: use the newer version, or remove the file (users sign in again)`,
      );
    }
    db.exec(`CREATE TABLE IF NOT EXISTS gateway_state (
      kind TEXT NOT NULL,
      id TEXT NOT NULL,
      payload TEXT NOT NULL,
      expires_at_ms INTEGER NOT NULL,
      grant_id TEXT,
      uid TEXT,
      user_code TEXT,
      account TEXT,
      consumed_at INTEGER,
      PRIMARY KEY (kind, id)
    ) WITHOUT ROWID`);
    if (version < 1) {
      const columns = new Set(
        (db.pragma('table_info(gateway_state)') as { name: string }[]).map((c) => c.name),
      );
      if (!columns.has('account')) db.exec('ALTER TABLE gateway_state ADD COLUMN account TEXT');
      if (!columns.has('consumed_at')) {
        db.exec('ALTER TABLE gateway_state ADD COLUMN consumed_at INTEGER');
      }
      // Layout 0 kept the provider's codes, tokens and session ids in clear: drop them.
      upgraded = db.prepare("DELETE FROM gateway_state WHERE kind LIKE 'oidc:%'").run().changes > 0;
    }
    db.exec(`
      CREATE INDEX IF NOT EXISTS gateway_state_grant ON gateway_state (grant_id) WHERE grant_id IS NOT NULL;
      CREATE INDEX IF NOT EXISTS gateway_state_uid ON gateway_state (kind, uid) WHERE uid IS NOT NULL;
      CREATE INDEX IF NOT EXISTS gateway_state_user_code ON gateway_state (kind, user_code) WHERE user_code IS NOT NULL;
      CREATE INDEX IF NOT EXISTS gateway_state_account ON gateway_state (kind, account) WHERE account IS NOT NULL;
      CREATE INDEX IF NOT EXISTS gateway_state_expiry ON gateway_state (expires_at_ms);`);
    db.pragma(`user_version = ${LAYOUT_VERSION}`);
  }).immediate();
  // The dropped records' pages are overwritten in the write-ahead log; copy them into the file and
  // empty the log, so that no clear copy stays in either.
  if (upgraded) db.pragma('wal_checkpoint(TRUNCATE)');
}
