// Names that would mean the same user once names match case-insensitively: found before migration
// 0005 makes the folded keys unique, so that an administrator decides which user keeps the name.
import type { Kysely } from 'kysely';
import { usernameKey } from '../core/username.ts';

export interface UsernameCollision {
  /** The folded key several users share (`alice`). */
  key: string;
  /** Each user holding that key, with the name (username or alias) that folds to it. */
  holders: { userId: string; name: string; kind: 'username' | 'alias' }[];
}

interface NameRow {
  user_id: string;
  name: string;
}

/** Every key held by more than one user, from the username and alias columns alone. */
export async function findUsernameCollisions(db: Kysely<unknown>): Promise<UsernameCollision[]> {
  const any = db as Kysely<{
    users: { id: string; username: string };
    user_aliases: { alias: string; user_id: string };
  }>;
  const users: NameRow[] = await any
    .selectFrom('users')
    .select(['id as user_id', 'username as name'])
    .orderBy('username')
    .execute();
  const aliases: NameRow[] = await any
    .selectFrom('user_aliases')
    .select(['user_id', 'alias as name'])
    .orderBy('alias')
    .execute();
  const byKey = new Map<string, UsernameCollision['holders']>();
  const add = (row: NameRow, kind: 'username' | 'alias') => {
    const key = usernameKey(row.name);
    const holders = byKey.get(key) ?? [];
    holders.push({ userId: row.user_id, name: row.name, kind });
    byKey.set(key, holders);
  };
  for (const row of users) add(row, 'username');
  for (const row of aliases) add(row, 'alias');
  return [...byKey.entries()]
    .filter(([, holders]) => new Set(holders.map((h) => h.userId)).size > 1)
    .map(([key, holders]) => ({ key, holders }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The refusal an administrator reads: every collision, and how to resolve each. */
export function describeUsernameCollisions(collisions: UsernameCollision[]): string {
  const lines = collisions.map(
    (c) =>
      `  "${c.key}": ` +
      c.holders.map((h) => `${h.kind} "${h.name}" of user ${h.userId}`).join(', '),
  );
  return [
    `${collisions.length} name(s) would belong to more than one user once usernames are ` +
      'case-insensitive (as in Duo, and as the directory treats them):',
    ...lines,
    'Resolve each, then run `airlock db migrate` again: rename a user with ' +
      '`airlock db resolve-username USER_ID --rename NEW_NAME`, drop an alias with ' +
      '`airlock db resolve-username USER_ID --drop-alias ALIAS`, or delete a user with ' +
      '`airlock db resolve-username USER_ID --delete`. `airlock db username-collisions` lists ' +
      'what remains.',
  ].join('\n');
}
