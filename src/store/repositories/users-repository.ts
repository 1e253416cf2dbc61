// Users and their aliases: one case-insensitive namespace of names (core/username.ts).
import { type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import {
  encodeFailureSource,
  effectiveUserStatus,
  lockoutExpiry,
  MAX_RECORDED_FAILURE_SOURCES,
  summarizeFailureSources,
} from '../../core/lockout.ts';
import type { User, UserStatus } from '../../core/model.ts';
import {
  cleanUsername,
  simpleUsernameKey,
  usernameKey,
  type UsernameNormalization,
} from '../../core/username.ts';
import { findUsernameCollisions, type UsernameCollision } from '../username-collisions.ts';
import type { UserPatch } from '../admin-store.ts';
import type { UsersTable } from '../schema.ts';
import { StoreError } from '../store-error.ts';
import type { NewUser, SecondFactorFailure, SecondFactorFailureOptions } from '../store.ts';
import { Repository } from './repository.ts';
import { foldUsers, toUser, usersQuery } from './rows.ts';
import { notFound, translateWriteError } from './write-errors.ts';
import { aliasRows, assertNamesFree, lockUserNames, uniqueNames } from './user-names.ts';

// Large enough to mean "all" where SQL needs a LIMIT for an OFFSET (SQLite does).
const NO_LIMIT = 2 ** 31 - 1;

export class UsersRepository extends Repository {
  async createUser(input: NewUser): Promise<User> {
    const username = cleanUsername(input.username);
    const aliases = uniqueNames(input.aliases ?? []);
    if (username === '') throw new StoreError('STORE_CONFLICT', 'a username cannot be empty');
    if (aliases.some((a) => usernameKey(a) === usernameKey(username))) {
      throw new StoreError('STORE_CONFLICT', `alias "${username}" is the user's own username`);
    }
    const now = this.clock.nowMs();
    const row: Selectable<UsersTable> = {
      id: input.id,
      username,
      username_key: usernameKey(username),
      username_simple: simpleUsernameKey(username),
      real_name: input.realName ?? null,
      email: input.email ?? null,
      status: input.status ?? 'active',
      failed_attempts: 0,
      lockout_on_last_failure: 0,
      locked_until_ms: null,
      failure_sources: '',
      created_at_ms: now,
      updated_at_ms: now,
    };
    await this.atomic(async (db) => {
      await lockUserNames(db, this.dialect);
      await assertNamesFree(db, { username, aliases }, undefined);
      try {
        await db.insertInto('users').values(row).execute();
        if (aliases.length > 0) {
          await db.insertInto('user_aliases').values(aliasRows(aliases, input.id)).execute();
        }
      } catch (err) {
        throw translateWriteError(err, 'user', {
          id: `id "${input.id}"`,
          username_key: `username "${username}"`,
          alias_key: `alias among ${aliases.map((a) => `"${a}"`).join(', ')}`,
        });
      }
    });
    return toUser(row, aliases.sort(), now);
  }

  async renameUser(id: string, newUsername: string): Promise<User> {
    const username = cleanUsername(newUsername);
    if (username === '') throw new StoreError('STORE_CONFLICT', 'a username cannot be empty');
    await this.atomic(async (db) => {
      await lockUserNames(db, this.dialect);
      await assertNamesFree(db, { username, aliases: [] }, id);
      const result = await db
        .updateTable('users')
        .set({
          username,
          username_key: usernameKey(username),
          username_simple: simpleUsernameKey(username),
          updated_at_ms: this.clock.nowMs(),
        })
        .where('id', '=', id)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw notFound('user', id);
    });
    return this.#requireUser(id);
  }

  async listUsernameCollisions(): Promise<UsernameCollision[]> {
    return findUsernameCollisions(this.db as Kysely<unknown>);
  }

  async resolveUsernameCollision(
    userId: string,
    action: { rename: string } | { dropAlias: string } | { delete: true },
  ): Promise<void> {
    // Plain column writes that work on the schema before 0005: 0005 computes the keys itself.
    const collisions = await this.listUsernameCollisions();
    if (!collisions.some((c) => c.holders.some((h) => h.userId === userId))) {
      throw new StoreError(
        'STORE_NOT_FOUND',
        `user ${userId} is in no username collision (see airlock db username-collisions); ` +
          'rename, alias or delete users with the airlock user commands',
      );
    }
    const db = this.db as unknown as Kysely<{
      users: { id: string; username: string };
      user_aliases: { alias: string; user_id: string };
    }>;
    if ('delete' in action) {
      await db.deleteFrom('users').where('id', '=', userId).execute();
    } else if ('dropAlias' in action) {
      const result = await db
        .deleteFrom('user_aliases')
        .where('user_id', '=', userId)
        .where('alias', '=', action.dropAlias)
        .executeTakeFirst();
      if (result.numDeletedRows === 0n) {
        throw new StoreError(
          'STORE_NOT_FOUND',
          `user ${userId} has no alias "${action.dropAlias}"`,
        );
      }
    } else {
      const name = cleanUsername(action.rename);
      const others = [
        ...(await db
          .selectFrom('users')
          .select('username as name')
          .where('id', '<>', userId)
          .execute()),
        ...(await db
          .selectFrom('user_aliases')
          .select('alias as name')
          .where('user_id', '<>', userId)
          .execute()),
      ];
      if (name === '' || others.some((o) => usernameKey(o.name) === usernameKey(name))) {
        throw new StoreError(
          'STORE_CONFLICT',
          `"${name}" is not free: another user has a name that differs from it only in case`,
        );
      }
      await db.updateTable('users').set({ username: name }).where('id', '=', userId).execute();
    }
  }

  async getUser(id: string): Promise<User | undefined> {
    const rows = await usersQuery(this.db).where('u.id', '=', id).execute();
    return foldUsers(rows, this.clock.nowMs())[0];
  }

  async findUser(
    usernameOrAlias: string,
    normalization: UsernameNormalization = 'none',
  ): Promise<User | undefined> {
    const id = await this.resolveUserId(usernameOrAlias, normalization);
    return id === undefined ? undefined : this.getUser(id);
  }

  /**
   * The one id a name means (core/username.ts): first the user whose username or alias has the
   * name's folded key; then, under "simple" normalization, the user whose bare name
   * (`EXAMPLE\bob`, `bob@example.org` → `bob`) matches. A bare name that several users share is
   * refused, never treated as unknown: an unknown user may pass under a new-user policy of allow.
   */
  async resolveUserId(
    name: string,
    normalization: UsernameNormalization,
  ): Promise<string | undefined> {
    const key = usernameKey(name);
    if (key === '') return undefined;
    const exact = (await this.run<{ id: string }>('userIdByKey', [key, key])).rows[0];
    if (exact !== undefined || normalization === 'none') return exact?.id;
    const simple = simpleUsernameKey(name);
    const { rows } = await this.run<{ id: string }>('userIdsBySimpleKey', [simple, simple]);
    const ids = [...new Set(rows.map((r) => r.id))];
    if (ids.length > 1) {
      throw new StoreError(
        'STORE_AMBIGUOUS_USERNAME',
        `"${cleanUsername(name)}" matches ${ids.length} users under simple username ` +
          'normalization; use the full username',
      );
    }
    return ids[0];
  }

  async listUsers(
    options: { limit?: number; offset?: number; search?: string } = {},
  ): Promise<User[]> {
    let query = usersQuery(this.db);
    const search = options.search === '' ? undefined : options.search;
    if (options.limit !== undefined || options.offset !== undefined || search !== undefined) {
      // Page over users, not over user-alias rows.
      let page = this.db
        .selectFrom('users')
        .select('id')
        .orderBy('username')
        .limit(options.limit ?? NO_LIMIT)
        .offset(options.offset ?? 0);
      if (search !== undefined) {
        // Case-insensitive "contains" on both dialects (PostgreSQL's LIKE is case-sensitive).
        const pattern = `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        const like = (column: string) =>
          sql<boolean>`lower(${sql.ref(column)}) LIKE ${pattern} ESCAPE '\\'`;
        page = page.where((eb) =>
          eb.or([
            like('username'),
            like('real_name'),
            like('email'),
            eb(
              'id',
              'in',
              this.db.selectFrom('user_aliases').select('user_id').where(like('alias')),
            ),
          ]),
        );
      }
      query = query.where('u.id', 'in', page);
    }
    return foldUsers(await query.execute(), this.clock.nowMs());
  }

  async setUserStatus(id: string, status: UserStatus): Promise<User> {
    // Unlocking starts the failure count afresh; otherwise the next failure would lock again.
    const failedAttempts =
      status === 'locked out'
        ? sql<number>`failed_attempts`
        : sql<number>`CASE WHEN status = 'locked out' THEN 0 ELSE failed_attempts END`;
    const failureSources =
      status === 'locked out'
        ? sql<string>`failure_sources`
        : sql<string>`CASE WHEN status = 'locked out' THEN '' ELSE failure_sources END`;
    const result = await this.db
      .updateTable('users')
      .set({
        status,
        failed_attempts: failedAttempts,
        failure_sources: failureSources,
        // An administrator's lockout lasts until an administrator lifts it.
        locked_until_ms: null,
        updated_at_ms: this.clock.nowMs(),
      })
      .where('id', '=', id)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw notFound('user', id);
    return this.#requireUser(id);
  }

  async updateUser(id: string, patch: UserPatch): Promise<User> {
    const values: Updateable<UsersTable> = { updated_at_ms: this.clock.nowMs() };
    if (patch.realName !== undefined) values.real_name = patch.realName;
    if (patch.email !== undefined) values.email = patch.email;
    const result = await this.db
      .updateTable('users')
      .set(values)
      .where('id', '=', id)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw notFound('user', id);
    return this.#requireUser(id);
  }

  async setUserAliases(id: string, aliases: string[]): Promise<User> {
    const unique = uniqueNames(aliases);
    await this.atomic(async (db) => {
      await lockUserNames(db, this.dialect);
      const user = await db
        .selectFrom('users')
        .select('username')
        .where('id', '=', id)
        .executeTakeFirst();
      if (user === undefined) throw notFound('user', id);
      if (unique.some((a) => usernameKey(a) === usernameKey(user.username))) {
        throw new StoreError(
          'STORE_CONFLICT',
          `alias "${user.username}" is the user's own username`,
        );
      }
      await assertNamesFree(db, { aliases: unique }, id);
      await db.deleteFrom('user_aliases').where('user_id', '=', id).execute();
      if (unique.length > 0) {
        await db.insertInto('user_aliases').values(aliasRows(unique, id)).execute();
      }
      await db
        .updateTable('users')
        .set({ updated_at_ms: this.clock.nowMs() })
        .where('id', '=', id)
        .execute();
    });
    return this.#requireUser(id);
  }

  async deleteUser(id: string): Promise<boolean> {
    // Tokens, codes, aliases, memberships, enrollments and transactions go by ON DELETE CASCADE.
    const result = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async getUserStatus(id: string): Promise<UserStatus | undefined> {
    const { rows } = await this.run<{ status: string; locked_until_ms: number | null }>(
      'userStatus',
      [id],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    const stored = { status: row.status as UserStatus, lockedUntilMs: row.locked_until_ms };
    return effectiveUserStatus(stored, this.clock.nowMs()).status;
  }

  async recordSecondFactorFailure(
    userId: string,
    threshold: number,
    options: SecondFactorFailureOptions = {},
  ): Promise<SecondFactorFailure> {
    if (!Number.isSafeInteger(threshold) || threshold < 1) {
      throw new RangeError(`lockout threshold must be a positive integer, got ${threshold}`);
    }
    const nowMs = this.clock.nowMs();
    const lockedUntilMs = lockoutExpiry(nowMs, options.lockoutDurationSeconds ?? 0);
    const entry = options.source === undefined ? '' : encodeFailureSource(options.source);
    // One UPDATE: the row lock serializes concurrent failures, each sees the count the previous
    // one left, so exactly one of them crosses the threshold. SET expressions read the old row;
    // lockout_on_last_failure hands this call's transition back through RETURNING.
    // A lockout past its end (core/lockout.ts effectiveUserStatus) is over: the count starts
    // again from this failure, and reaching the threshold again locks the user out again.
    const expired = sql<boolean>`(status = 'locked out' AND locked_until_ms IS NOT NULL AND locked_until_ms <= ${nowMs})`;
    const before = sql<number>`(CASE WHEN ${expired} THEN 0 ELSE failed_attempts END)`;
    const crosses = sql<boolean>`(${before} + 1 >= ${threshold} AND (${expired} OR status NOT IN ('disabled', 'locked out')))`;
    const row = await this.db
      .updateTable('users')
      .set({
        failed_attempts: sql<number>`${before} + 1`,
        status: sql<string>`CASE WHEN ${crosses} THEN 'locked out' WHEN ${expired} THEN 'active' ELSE status END`,
        locked_until_ms: sql<
          number | null
        >`CASE WHEN ${crosses} THEN ${lockedUntilMs} WHEN ${expired} THEN NULL ELSE locked_until_ms END`,
        lockout_on_last_failure: sql<number>`CASE WHEN ${crosses} THEN 1 ELSE 0 END`,
        // Bounded: a disabled user's failures are counted without end, their sources are not.
        failure_sources: sql<string>`CASE WHEN ${expired} THEN ${entry} WHEN ${before} < ${MAX_RECORDED_FAILURE_SOURCES} THEN failure_sources || ${entry} ELSE failure_sources END`,
        updated_at_ms: nowMs,
      })
      .where('id', '=', userId)
      .returning([
        'failed_attempts',
        'lockout_on_last_failure',
        'locked_until_ms',
        'failure_sources',
      ])
      .executeTakeFirst();
    if (row === undefined) throw notFound('user', userId);
    if (row.lockout_on_last_failure !== 1) {
      return { failedAttempts: row.failed_attempts, lockedOut: false };
    }
    return {
      failedAttempts: row.failed_attempts,
      lockedOut: true,
      lockout: {
        untilMs: row.locked_until_ms,
        sources: summarizeFailureSources(row.failure_sources),
      },
    };
  }

  async resetSecondFactorFailures(userId: string): Promise<void> {
    // Runs after every successful second factor: skip the write when there is nothing to reset.
    // A lockout past its end is cleared here too (a lockout still running never gets this far).
    const nowMs = this.clock.nowMs();
    const expired = sql<boolean>`(status = 'locked out' AND locked_until_ms IS NOT NULL AND locked_until_ms <= ${nowMs})`;
    await this.db
      .updateTable('users')
      .set({
        failed_attempts: 0,
        lockout_on_last_failure: 0,
        failure_sources: '',
        status: sql<string>`CASE WHEN ${expired} THEN 'active' ELSE status END`,
        locked_until_ms: sql<
          number | null
        >`CASE WHEN ${expired} THEN NULL ELSE locked_until_ms END`,
      })
      .where('id', '=', userId)
      .where((eb) =>
        eb.or([
          eb('failed_attempts', '<>', 0),
          eb('lockout_on_last_failure', '<>', 0),
          eb('failure_sources', '<>', ''),
          expired,
        ]),
      )
      .execute();
  }

  /** The user after a write that named it; gone meanwhile is a not-found, as for the write. */
  async #requireUser(id: string): Promise<User> {
    const user = await this.getUser(id);
    if (user === undefined) throw notFound('user', id);
    return user;
  }
}
