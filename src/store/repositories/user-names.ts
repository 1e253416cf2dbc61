// Usernames and aliases: one case-insensitive namespace over two tables (core/username.ts).
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { cleanUsername, simpleUsernameKey, usernameKey } from '../../core/username.ts';
import type { Database } from '../schema.ts';
import { StoreError } from '../store-error.ts';
import type { StoreDialect } from '../store.ts';

/**
 * Serializes writers of usernames and aliases for the rest of the transaction, so two nodes
 * cannot both pass the cross-table name check. SQLite needs nothing: its write transactions
 * are already serial (they begin IMMEDIATE, see open-store.ts).
 */
export async function lockUserNames(db: Kysely<Database>, dialect: StoreDialect): Promise<void> {
  if (dialect === 'postgres') {
    await sql`SELECT pg_advisory_xact_lock(hashtext('airlock.user_names'))`.execute(db);
  }
}

/** Names trimmed, empty ones dropped, one of each folded key (the first spelling wins). */
export function uniqueNames(names: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const raw of names) {
    const name = cleanUsername(raw);
    if (name !== '' && !byKey.has(usernameKey(name))) byKey.set(usernameKey(name), name);
  }
  return [...byKey.values()];
}

export function aliasRows(aliases: readonly string[], userId: string) {
  return aliases.map((alias) => ({
    alias,
    user_id: userId,
    alias_key: usernameKey(alias),
    alias_simple: simpleUsernameKey(alias),
  }));
}

/**
 * Usernames and aliases share one case-insensitive namespace, which no single unique index can
 * express: inside the caller's transaction (names locked), check both tables for every new name.
 * `exceptUserId`'s own names do not count (renaming a user, replacing their aliases).
 */
export async function assertNamesFree(
  db: Kysely<Database>,
  names: { username?: string; aliases: readonly string[] },
  exceptUserId: string | undefined,
): Promise<void> {
  const all = [...(names.username === undefined ? [] : [names.username]), ...names.aliases];
  if (all.length === 0) return;
  const keys = all.map(usernameKey);
  const describe = (key: string) => {
    const isUsername = names.username !== undefined && usernameKey(names.username) === key;
    return { name: all[keys.indexOf(key)] ?? key, isUsername };
  };
  let users = db.selectFrom('users').select('username_key').where('username_key', 'in', keys);
  if (exceptUserId !== undefined) users = users.where('id', '<>', exceptUserId);
  const asUsername = await users.executeTakeFirst();
  if (asUsername !== undefined) {
    const { name, isUsername } = describe(asUsername.username_key);
    throw new StoreError(
      'STORE_CONFLICT',
      isUsername
        ? `user with username "${name}" already exists (names are case-insensitive)`
        : `alias "${name}" is already another user's username`,
    );
  }
  let aliases = db.selectFrom('user_aliases').select('alias_key').where('alias_key', 'in', keys);
  if (exceptUserId !== undefined) aliases = aliases.where('user_id', '<>', exceptUserId);
  const asAlias = await aliases.executeTakeFirst();
  if (asAlias !== undefined) {
    const { name, isUsername } = describe(asAlias.alias_key);
    throw new StoreError(
      'STORE_CONFLICT',
      isUsername
        ? `username "${name}" is already another user's alias`
        : `alias "${name}" already belongs to another user`,
    );
  }
}
