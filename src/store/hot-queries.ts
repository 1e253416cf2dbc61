// Fixed SQL for the per-login hot path, written once for both dialects and run without the
// query builder: building and compiling a Kysely query costs more than SQLite executing it.
import type { StoreDialect } from './store.ts';

const SQL = {
  userByUsername: 'SELECT * FROM users WHERE username = ?',
  userByAlias: 'SELECT u.* FROM user_aliases a JOIN users u ON u.id = a.user_id WHERE a.alias = ?',
  userById: 'SELECT * FROM users WHERE id = ?',
  aliasesOfUser: 'SELECT alias FROM user_aliases WHERE user_id = ? ORDER BY alias',
  groupsOfUser:
    'SELECT g.* FROM groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = ? ORDER BY g.name',
  tokensOfUser: 'SELECT * FROM otp_tokens WHERE user_id = ? ORDER BY created_at_ms, id',
  bypassCodesOfUser: 'SELECT * FROM bypass_codes WHERE user_id = ? ORDER BY created_at_ms, id',
  // RFC 6238 §5.2: a verifier must not accept the same OTP twice. The conditional UPDATE is the
  // replay check, so concurrent requests with one code cannot both pass.
  claimTotpStep:
    'UPDATE otp_tokens SET last_step = ? WHERE id = ? AND (last_step IS NULL OR last_step < ?)',
  // NULL - 1 stays NULL, so unlimited codes pass through unchanged.
  consumeBypassCode:
    'UPDATE bypass_codes SET remaining_uses = remaining_uses - 1 WHERE id = ? ' +
    'AND (remaining_uses IS NULL OR remaining_uses > 0) AND (expires_at_ms IS NULL OR expires_at_ms > ?) ' +
    'RETURNING remaining_uses',
  deleteUsedBypassCode: 'DELETE FROM bypass_codes WHERE id = ? AND remaining_uses = 0',
  appendAudit:
    'INSERT INTO audit_events (ts_ms, actor, action, target_type, target_id, app_id, username, result, ip, detail) ' +
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
} as const;

export type HotQuery = keyof typeof SQL;

/** The hot queries in a dialect's placeholder syntax (`?` for SQLite, `$1…` for PostgreSQL). */
export function hotQueries(dialect: StoreDialect): Readonly<Record<HotQuery, string>> {
  return dialect === 'sqlite' ? SQL : POSTGRES_SQL;
}

const POSTGRES_SQL: Readonly<Record<HotQuery, string>> = Object.freeze(
  Object.fromEntries(
    Object.entries(SQL).map(([name, text]) => {
      let n = 0;
      return [name, text.replace(/\?/g, () => `$${++n}`)];
    }),
  ) as Record<HotQuery, string>,
);
