// The gateway's local state file (SQLite, its owner's only): sessions and the OpenID Connect
// provider's records, each a JSON payload under (kind, id) with an absolute expiry, so that a
// restart keeps them. Several gateway processes on one host may share the file (WAL, busy_timeout).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { restrictToOwner, withOwnerOnlyUmask } from './private-files.ts';

const BUSY_TIMEOUT_MS = 5000;

/** Secondary keys a record may be found by (the OpenID Connect adapter's lookups). */
export interface StateIndexes {
  grantId?: string | undefined;
  uid?: string | undefined;
  userCode?: string | undefined;
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
  /** The payload of the live record of `kind` with this uid or user code. */
  findBy(kind: string, key: 'uid' | 'userCode', value: string, nowMs: number): unknown;
  /** Rewrites the payload of an existing record, its expiry and indexes kept. */
  update(kind: string, id: string, payload: unknown): void;
  delete(kind: string, id: string): void;
  /** Deletes every record of the grant (tokens and codes of a revoked grant). */
  deleteByGrantId(grantId: string): void;
  /** Deletes the records of `kind` whose payload names `accountId` (a user's provider sessions). */
  deleteByAccount(kind: string, accountId: string): void;
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
  db.exec(`CREATE TABLE IF NOT EXISTS gateway_state (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    payload TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    grant_id TEXT,
    uid TEXT,
    user_code TEXT,
    PRIMARY KEY (kind, id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS gateway_state_grant ON gateway_state (grant_id) WHERE grant_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS gateway_state_uid ON gateway_state (kind, uid) WHERE uid IS NOT NULL;
  CREATE INDEX IF NOT EXISTS gateway_state_user_code ON gateway_state (kind, user_code) WHERE user_code IS NOT NULL;
  CREATE INDEX IF NOT EXISTS gateway_state_expiry ON gateway_state (expires_at_ms);`);
  const q = {
    put: db.prepare(
      `INSERT OR REPLACE INTO gateway_state (kind, id, payload, expires_at_ms, grant_id, uid, user_code)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    get: db.prepare(
      'SELECT payload FROM gateway_state WHERE kind = ? AND id = ? AND expires_at_ms > ?',
    ),
    byUid: db.prepare(
      'SELECT payload FROM gateway_state WHERE kind = ? AND uid = ? AND expires_at_ms > ?',
    ),
    byUserCode: db.prepare(
      'SELECT payload FROM gateway_state WHERE kind = ? AND user_code = ? AND expires_at_ms > ?',
    ),
    update: db.prepare('UPDATE gateway_state SET payload = ? WHERE kind = ? AND id = ?'),
    delete: db.prepare('DELETE FROM gateway_state WHERE kind = ? AND id = ?'),
    deleteGrant: db.prepare('DELETE FROM gateway_state WHERE grant_id = ?'),
    deleteAccount: db.prepare(
      "DELETE FROM gateway_state WHERE kind = ? AND json_extract(payload, '$.accountId') = ?",
    ),
    count: db.prepare(
      'SELECT count(*) AS n FROM gateway_state WHERE kind = ? AND expires_at_ms > ?',
    ),
    sweep: db.prepare('DELETE FROM gateway_state WHERE expires_at_ms <= ?'),
  };
  const payloadOf = (row: unknown): unknown =>
    row === undefined ? undefined : JSON.parse((row as { payload: string }).payload);
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
      );
    },
    get: (kind, id, nowMs) => payloadOf(q.get.get(kind, id, nowMs)),
    findBy: (kind, key, value, nowMs) =>
      payloadOf((key === 'uid' ? q.byUid : q.byUserCode).get(kind, value, nowMs)),
    update(kind, id, payload) {
      q.update.run(JSON.stringify(payload), kind, id);
    },
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
