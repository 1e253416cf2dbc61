// Fixed SQL for the per-login hot path, written once for both dialects and run without the
// query builder: building and compiling a Kysely query costs more than SQLite executing it.
import type { StoreDialect } from './store.ts';

const SQL = {
  // Names match by their folded key (core/username.ts): username first, then alias.
  userIdByKey:
    'SELECT id FROM users WHERE username_key = ? UNION ALL ' +
    'SELECT user_id AS id FROM user_aliases WHERE alias_key = ? LIMIT 1',
  userIdsBySimpleKey:
    'SELECT id FROM users WHERE username_simple = ? UNION ' +
    'SELECT user_id AS id FROM user_aliases WHERE alias_simple = ?',
  userById: 'SELECT * FROM users WHERE id = ?',
  userStatus: 'SELECT status, locked_until_ms FROM users WHERE id = ?',
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
  // Deleting is the claim: of two concurrent uses of one SMS passcode only one deletes the row.
  consumeSmsPasscode: 'DELETE FROM sms_passcodes WHERE id = ? AND expires_at_ms > ? RETURNING id',
  appendAudit:
    'INSERT INTO audit_events (ts_ms, actor, action, target_type, target_id, app_id, username, result, ip, detail) ' +
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
} as const;

/**
 * A login's whole subject in ONE statement: the user row plus its aliases, groups, tokens and
 * bypass codes as JSON arrays (one round trip instead of five). The aggregate functions differ:
 * SQLite's json_group_array/json_object, PostgreSQL's json_agg/json_build_object.
 *
 * The arrays come unordered: an ORDER BY inside an aggregate costs SQLite a temporary B-tree per
 * list (six per login; in the Auth API under load the statement's share of busy time fell from
 * 20 % to 13 % without them), and PostgreSQL would order names by its collation. The repository sorts them instead
 * (auth-subject-repository.ts), the same on both databases.
 */
function subjectSql(dialect: StoreDialect, where: string): string {
  const [agg, obj, empty] =
    dialect === 'sqlite'
      ? ['json_group_array', 'json_object', (x: string) => x]
      : ['json_agg', 'json_build_object', (x: string) => `COALESCE(${x}, '[]'::json)`];
  const list = (expr: string, from: string) => empty(`(SELECT ${agg}(${expr}) ${from})`);
  const fields = (alias: string, columns: string[]) =>
    `${obj}(${columns.map((c) => `'${c}', ${alias}.${c}`).join(', ')})`;
  return [
    'SELECT u.*,',
    `${list('a.alias', 'FROM user_aliases a WHERE a.user_id = u.id')} AS aliases_json,`,
    `${list(fields('g', ['id', 'name', 'description', 'status', 'created_at_ms', 'updated_at_ms']), 'FROM groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = u.id')} AS groups_json,`,
    `${list(fields('t', ['id', 'user_id', 'type', 'secret_sealed', 'algorithm', 'digits', 'period_seconds', 'counter', 'last_step', 'name', 'created_at_ms']), 'FROM otp_tokens t WHERE t.user_id = u.id')} AS tokens_json,`,
    `${list(fields('c', ['id', 'user_id', 'code_hash', 'remaining_uses', 'expires_at_ms', 'created_at_ms']), 'FROM bypass_codes c WHERE c.user_id = u.id')} AS codes_json,`,
    `${list(fields('d', ['id', 'user_id', 'name', 'platform', 'public_key', 'phone_number', 'otp_token_id', 'created_at_ms', 'last_seen_at_ms']), 'FROM devices d WHERE d.user_id = u.id')} AS devices_json,`,
    `${list(fields('s', ['id', 'user_id', 'device_id', 'seq', 'code_hash', 'first_digit', 'expires_at_ms', 'created_at_ms']), 'FROM sms_passcodes s WHERE s.user_id = u.id')} AS sms_json`,
    `FROM users u WHERE ${where}`,
  ].join(' ');
}

function withSubjects(dialect: StoreDialect, base: Record<string, string>) {
  return {
    ...base,
    // Usernames and aliases never share a key across users, so at most one user matches. Two
    // statements (username first, alias only when no username matched) rather than one with a
    // UNION subquery: the common case is a username, found by one index lookup.
    subjectByUsernameKey: subjectSql(dialect, 'u.username_key = ?'),
    subjectByAliasKey: subjectSql(
      dialect,
      'u.id = (SELECT user_id FROM user_aliases WHERE alias_key = ?)',
    ),
    subjectById: subjectSql(dialect, 'u.id = ?'),
  };
}

export type HotQuery =
  keyof typeof SQL | 'subjectByUsernameKey' | 'subjectByAliasKey' | 'subjectById';

/** The hot queries in a dialect's placeholder syntax (`?` for SQLite, `$1…` for PostgreSQL). */
export function hotQueries(dialect: StoreDialect): Readonly<Record<HotQuery, string>> {
  return dialect === 'sqlite' ? SQLITE_SQL : POSTGRES_SQL;
}

const SQLITE_SQL = Object.freeze(withSubjects('sqlite', SQL)) as Readonly<Record<HotQuery, string>>;

const POSTGRES_SQL: Readonly<Record<HotQuery, string>> = Object.freeze(
  Object.fromEntries(
    Object.entries(withSubjects('postgres', SQL)).map(([name, text]) => {
      let n = 0;
      return [name, text.replace(/\?/g, () => `$${++n}`)];
    }),
  ) as Record<HotQuery, string>,
);
