// Migration 0005: usernames and aliases match case-insensitively and, per application, with
// Duo's "simple" normalization (src/core/username.ts). Adds the folded keys with unique indexes
// and each application's `username_normalization`. Refuses (changing nothing) while two users
// would share a key: which of them keeps the name is an administrator's decision.
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import { simpleUsernameKey, usernameKey } from '../../core/username.ts';
import { StoreError } from '../store-error.ts';
import { describeUsernameCollisions, findUsernameCollisions } from '../username-collisions.ts';
import type { StoreDialect } from '../store.ts';

export function usernameKeysMigration(dialect: StoreDialect): Migration {
  // Byte-wise comparison on both dialects, as the name columns of 0001.
  const name = dialect === 'postgres' ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const collisions = await findUsernameCollisions(db);
      if (collisions.length > 0) {
        throw new StoreError('STORE_USERNAME_COLLISION', describeUsernameCollisions(collisions));
      }
      await db.schema
        .alterTable('applications')
        .addColumn('username_normalization', 'text', (c) => c.notNull().defaultTo('simple'))
        .execute();
      for (const column of ['username_key', 'username_simple']) {
        await db.schema.alterTable('users').addColumn(column, name).execute();
      }
      for (const column of ['alias_key', 'alias_simple']) {
        await db.schema.alterTable('user_aliases').addColumn(column, name).execute();
      }
      await fillKeys(db);
      await db.schema
        .createIndex('users_username_key_unique')
        .on('users')
        .column('username_key')
        .unique()
        .execute();
      await db.schema
        .createIndex('users_username_simple')
        .on('users')
        .column('username_simple')
        .execute();
      await db.schema
        .createIndex('user_aliases_alias_key_unique')
        .on('user_aliases')
        .column('alias_key')
        .unique()
        .execute();
      await db.schema
        .createIndex('user_aliases_alias_simple')
        .on('user_aliases')
        .column('alias_simple')
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('user_aliases_alias_simple').execute();
      await db.schema.dropIndex('user_aliases_alias_key_unique').execute();
      await db.schema.dropIndex('users_username_simple').execute();
      await db.schema.dropIndex('users_username_key_unique').execute();
      for (const column of ['alias_key', 'alias_simple']) {
        await db.schema.alterTable('user_aliases').dropColumn(column).execute();
      }
      for (const column of ['username_key', 'username_simple']) {
        await db.schema.alterTable('users').dropColumn(column).execute();
      }
      await db.schema.alterTable('applications').dropColumn('username_normalization').execute();
    },
  };
}

/** Keys are computed here, in JS, so that they equal what the store computes for new names. */
async function fillKeys(db: Kysely<unknown>): Promise<void> {
  const any = db as Kysely<{
    users: { id: string; username: string; username_key: string; username_simple: string };
    user_aliases: { alias: string; alias_key: string; alias_simple: string };
  }>;
  for (const { id, username } of await any
    .selectFrom('users')
    .select(['id', 'username'])
    .execute()) {
    await any
      .updateTable('users')
      .set({ username_key: usernameKey(username), username_simple: simpleUsernameKey(username) })
      .where('id', '=', id)
      .execute();
  }
  for (const { alias } of await any.selectFrom('user_aliases').select('alias').execute()) {
    await any
      .updateTable('user_aliases')
      .set({ alias_key: usernameKey(alias), alias_simple: simpleUsernameKey(alias) })
      .where('alias', '=', alias)
      .execute();
  }
}
