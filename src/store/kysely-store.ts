// KyselyStore: the Store on Kysely, one implementation for both SQLite and PostgreSQL.
import { CompiledQuery, Migrator, sql } from 'kysely';
import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type {
  Application,
  ApplicationType,
  AuditEvent,
  AuthResult,
  AuthTransaction,
  BypassCode,
  Device,
  DevicePlatform,
  Enrollment,
  EnrollmentState,
  Group,
  GroupStatus,
  NewAuditEvent,
  NewUserPolicy,
  OobContext,
  OobFactor,
  OobRequest,
  OobStatus,
  OtpAlgorithm,
  OtpToken,
  RestrictionLevel,
  SmsPasscode,
  TokenType,
  User,
  UserStatus,
} from '../core/model.ts';
import { PENDING_OOB_STATUSES } from '../core/model.ts';
import {
  cleanUsername,
  DEFAULT_USERNAME_NORMALIZATION,
  simpleUsernameKey,
  usernameKey,
  type UsernameNormalization,
} from '../core/username.ts';
import { findUsernameCollisions, type UsernameCollision } from './username-collisions.ts';
import type { EmergencyControl, EmergencyState } from '../core/emergency-control.ts';
import { AirlockError } from '../core/error-registry.ts';
import { validatePolicy, type Policy } from '../core/policy.ts';
import type { Admin, AdminApiKey, AdminSession } from '../core/admin-model.ts';
import type {
  GroupPatch,
  NewAdmin,
  NewAdminApiKey,
  NewAdminSession,
  UserPatch,
} from './admin-store.ts';
import type { Clock } from '../runtime/clock.ts';
import { hotQueries, type HotQuery } from './hot-queries.ts';
import { createMigrationProvider } from './migrations/migration-provider.ts';
import type {
  AdminApiKeysTable,
  AdminsTable,
  ApplicationsTable,
  AuditEventsTable,
  EmergencyControlsTable,
  PoliciesTable,
  BypassCodesTable,
  Database,
  DevicesTable,
  OobRequestsTable,
  SmsPasscodesTable,
  GroupsTable,
  OtpTokensTable,
  UsersTable,
} from './schema.ts';
import type { SecretBox } from './secret-box.ts';
import { StoreError, isForeignKeyViolation, uniqueViolationColumn } from './store-error.ts';
import type {
  ApplicationPatch,
  AuditQuery,
  AuthSubject,
  ClaimedActivation,
  ExpiredOobRequest,
  NewApplication,
  NewDevice,
  NewOobRequest,
  NewSmsPasscode,
  NewBypassCode,
  NewGroup,
  NewOtpToken,
  NewUser,
  Store,
  StoreDialect,
  StoredPolicy,
} from './store.ts';
import { GLOBAL_POLICY_SCOPE, isPolicyScope } from './store.ts';

export interface KyselyStoreOptions {
  db: Kysely<Database> | Transaction<Database>;
  dialect: StoreDialect;
  secretBox: SecretBox;
  clock: Clock;
}

const SAVEPOINT = CompiledQuery.raw('SAVEPOINT batch_item');
const RELEASE_SAVEPOINT = CompiledQuery.raw('RELEASE SAVEPOINT batch_item');
const ROLLBACK_TO_SAVEPOINT = CompiledQuery.raw('ROLLBACK TO SAVEPOINT batch_item');

const AUDIT_DEFAULT_LIMIT = 100;
const AUDIT_MAX_LIMIT = 1000;
// Large enough to mean "all" where SQL needs a LIMIT for an OFFSET (SQLite does).
const NO_LIMIT = 2 ** 31 - 1;

export class KyselyStore implements Store {
  readonly dialect: StoreDialect;
  readonly #db: Kysely<Database>;
  readonly #secretBox: SecretBox;
  readonly #clock: Clock;
  readonly #hot: Readonly<Record<HotQuery, string>>;

  constructor({ db, dialect, secretBox, clock }: KyselyStoreOptions) {
    this.dialect = dialect;
    this.#db = db;
    this.#secretBox = secretBox;
    this.#clock = clock;
    this.#hot = hotQueries(dialect);
  }

  /** Runs one of the fixed hot-path statements (see hot-queries.ts). */
  async #run<R>(query: HotQuery, parameters: unknown[]) {
    return this.#db.executeQuery<R>(CompiledQuery.raw(this.#hot[query], parameters));
  }

  /**
   * A login's subject row: by id, or by the name's folded key in one statement (username, then
   * alias); only a name that matches no key exactly takes the "simple" normalization's second look.
   */
  async #subjectRow<R>(
    ref: { username: string; normalization?: UsernameNormalization } | { userId: string },
  ): Promise<R | undefined> {
    if ('userId' in ref) return (await this.#run<R>('subjectById', [ref.userId])).rows[0];
    const key = usernameKey(ref.username);
    if (key === '') return undefined;
    const exact = (await this.#run<R>('subjectByKey', [key, key])).rows[0];
    if (exact !== undefined || (ref.normalization ?? 'none') === 'none') return exact;
    const id = await this.#resolveUserId(ref.username, 'simple');
    return id === undefined ? undefined : (await this.#run<R>('subjectById', [id])).rows[0];
  }

  async getUserStatus(id: string): Promise<UserStatus | undefined> {
    const { rows } = await this.#run<{ status: string }>('userStatus', [id]);
    return rows[0]?.status as UserStatus | undefined;
  }

  async loadAuthSubject(
    ref: { username: string; normalization?: UsernameNormalization } | { userId: string },
  ): Promise<AuthSubject | undefined> {
    type SubjectRow = Selectable<UsersTable> & {
      aliases_json: unknown;
      groups_json: unknown;
      tokens_json: unknown;
      codes_json: unknown;
      devices_json: unknown;
      sms_json: unknown;
    };
    const row = await this.#subjectRow<SubjectRow>(ref);
    if (row === undefined) return undefined;
    const {
      aliases_json,
      groups_json,
      tokens_json,
      codes_json,
      devices_json,
      sms_json,
      ...userRow
    } = row;
    return {
      user: toUser(userRow, jsonList<string>(aliases_json)),
      groups: jsonList<Selectable<GroupsTable>>(groups_json).map(toGroup),
      tokens: jsonList<Selectable<OtpTokensTable>>(tokens_json).map((t) => this.#toOtpToken(t)),
      bypassCodes: jsonList<Selectable<BypassCodesTable>>(codes_json).map(toBypassCode),
      devices: jsonList<Selectable<DevicesTable>>(devices_json).map(toDevice),
      smsPasscodes: jsonList<Selectable<SmsPasscodesTable>>(sms_json).map(toSmsPasscode),
    };
  }

  async migrate(): Promise<string[]> {
    if (this.#db.isTransaction) throw new Error('migrate() cannot run inside a transaction');
    const migrator = new Migrator({
      db: this.#db,
      provider: createMigrationProvider(this.dialect),
    });
    const { error, results } = await migrator.migrateToLatest();
    if (error !== undefined) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      const what = failed === undefined ? 'database migration' : `database migration ${failed}`;
      throw new Error(`${what} failed: ${errorMessage(error)}`, { cause: error });
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.#db.isTransaction) return fn(this);
    return this.#db.transaction().execute((trx) =>
      fn(
        new KyselyStore({
          db: trx,
          dialect: this.dialect,
          secretBox: this.#secretBox,
          clock: this.#clock,
        }),
      ),
    );
  }

  async runBatch<T>(
    items: readonly ((tx: Store) => Promise<T>)[],
  ): Promise<PromiseSettledResult<T>[]> {
    if (this.#db.isTransaction) throw new Error('runBatch() cannot run inside a transaction');
    if (items.length === 1) {
      // One unit: its own transaction is its savepoint.
      try {
        return [{ status: 'fulfilled', value: await this.transaction(items[0]!) }];
      } catch (reason) {
        return [{ status: 'rejected', reason }];
      }
    }
    return this.transaction(async (tx) => {
      const txDb = (tx as KyselyStore).#db;
      const results: PromiseSettledResult<T>[] = [];
      for (const item of items) {
        // A savepoint per item: one item's failure undoes only its own writes.
        await txDb.executeQuery(SAVEPOINT);
        try {
          const value = await item(tx);
          await txDb.executeQuery(RELEASE_SAVEPOINT);
          results.push({ status: 'fulfilled', value });
        } catch (reason) {
          await txDb.executeQuery(ROLLBACK_TO_SAVEPOINT);
          await txDb.executeQuery(RELEASE_SAVEPOINT);
          results.push({ status: 'rejected', reason });
        }
      }
      return results;
    });
  }

  async close(): Promise<void> {
    if (this.#db.isTransaction) throw new Error('close() cannot be called on a transaction store');
    await this.#db.destroy();
  }

  // ---- Applications ----

  async createApplication(input: NewApplication): Promise<Application> {
    const now = this.#clock.nowMs();
    const row: Selectable<ApplicationsTable> = {
      id: input.ikey,
      name: input.name,
      ikey: input.ikey,
      skey_sealed: this.#secretBox.seal(input.skey),
      type: input.type,
      new_user_policy: input.newUserPolicy,
      restriction_level: input.restrictionLevel,
      rate_limit_per_second: input.rateLimitPerSecond,
      verified_push: input.verifiedPush ? 1 : 0,
      username_normalization: input.usernameNormalization ?? DEFAULT_USERNAME_NORMALIZATION,
      created_at_ms: now,
      updated_at_ms: now,
    };
    try {
      await this.#db.insertInto('applications').values(row).execute();
    } catch (err) {
      throw translateWriteError(err, 'application', {
        id: `ikey "${input.ikey}"`,
        ikey: `ikey "${input.ikey}"`,
        name: `name "${input.name}"`,
      });
    }
    return this.#toApplication(row, []);
  }

  async getApplication(idOrName: string): Promise<Application | undefined> {
    // Id first, then ikey, then name, in case one application's name is another's ikey.
    const rows = await this.#applicationsQuery()
      .where((eb) =>
        eb.or([
          eb('a.id', '=', idOrName),
          eb('a.ikey', '=', idOrName),
          eb('a.name', '=', idOrName),
        ]),
      )
      .orderBy(sql`CASE WHEN a.id = ${idOrName} THEN 0 WHEN a.ikey = ${idOrName} THEN 1 ELSE 2 END`)
      .orderBy('ag.group_id')
      .execute();
    return this.#foldApplications(rows)[0];
  }

  async getApplicationByIkey(ikey: string): Promise<Application | undefined> {
    // The hot path of every signed request: one query, the group ids joined in.
    const rows = await this.#applicationsQuery()
      .where('a.ikey', '=', ikey)
      .orderBy('ag.group_id')
      .execute();
    return this.#foldApplications(rows)[0];
  }

  async listApplications(): Promise<Application[]> {
    const rows = await this.#applicationsQuery().orderBy('a.name').orderBy('ag.group_id').execute();
    return this.#foldApplications(rows);
  }

  async updateApplication(id: string, patch: ApplicationPatch): Promise<Application> {
    const values: Updateable<ApplicationsTable> = { updated_at_ms: this.#clock.nowMs() };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.skey !== undefined) values.skey_sealed = this.#secretBox.seal(patch.skey);
    if (patch.type !== undefined) values.type = patch.type;
    if (patch.newUserPolicy !== undefined) values.new_user_policy = patch.newUserPolicy;
    if (patch.restrictionLevel !== undefined) values.restriction_level = patch.restrictionLevel;
    if (patch.rateLimitPerSecond !== undefined) {
      values.rate_limit_per_second = patch.rateLimitPerSecond;
    }
    if (patch.verifiedPush !== undefined) values.verified_push = patch.verifiedPush ? 1 : 0;
    if (patch.usernameNormalization !== undefined) {
      values.username_normalization = patch.usernameNormalization;
    }
    let updated: bigint;
    try {
      const result = await this.#db
        .updateTable('applications')
        .set(values)
        .where('id', '=', id)
        .executeTakeFirst();
      updated = result.numUpdatedRows;
    } catch (err) {
      throw translateWriteError(err, 'application', { name: `name "${patch.name}"` });
    }
    if (updated === 0n) throw notFound('application', id);
    const rows = await this.#applicationsQuery()
      .where('a.id', '=', id)
      .orderBy('ag.group_id')
      .execute();
    const application = this.#foldApplications(rows)[0];
    if (application === undefined) throw notFound('application', id);
    return application;
  }

  async setApplicationGroups(appId: string, groupIds: string[]): Promise<void> {
    const unique = [...new Set(groupIds)];
    await this.#atomic(async (db) => {
      const touched = await db
        .updateTable('applications')
        .set({ updated_at_ms: this.#clock.nowMs() })
        .where('id', '=', appId)
        .executeTakeFirst();
      if (touched.numUpdatedRows === 0n) throw notFound('application', appId);
      if (unique.length > 0) {
        const found = await db
          .selectFrom('groups')
          .select('id')
          .where('id', 'in', unique)
          .execute();
        const missing = unique.filter((g) => !found.some((row) => row.id === g));
        if (missing.length > 0) {
          throw new StoreError('STORE_NOT_FOUND', `group not found: ${missing.join(', ')}`);
        }
      }
      await db.deleteFrom('application_groups').where('app_id', '=', appId).execute();
      if (unique.length > 0) {
        await db
          .insertInto('application_groups')
          .values(unique.map((groupId) => ({ app_id: appId, group_id: groupId })))
          .execute();
      }
    });
  }

  // ---- Users ----

  async createUser(input: NewUser): Promise<User> {
    const username = cleanUsername(input.username);
    const aliases = uniqueNames(input.aliases ?? []);
    if (username === '') throw new StoreError('STORE_CONFLICT', 'a username cannot be empty');
    if (aliases.some((a) => usernameKey(a) === usernameKey(username))) {
      throw new StoreError('STORE_CONFLICT', `alias "${username}" is the user's own username`);
    }
    const now = this.#clock.nowMs();
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
      created_at_ms: now,
      updated_at_ms: now,
    };
    await this.#atomic(async (db) => {
      await this.#lockUserNames(db);
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
    return toUser(row, aliases.sort());
  }

  async renameUser(id: string, newUsername: string): Promise<User> {
    const username = cleanUsername(newUsername);
    if (username === '') throw new StoreError('STORE_CONFLICT', 'a username cannot be empty');
    await this.#atomic(async (db) => {
      await this.#lockUserNames(db);
      await assertNamesFree(db, { username, aliases: [] }, id);
      const result = await db
        .updateTable('users')
        .set({
          username,
          username_key: usernameKey(username),
          username_simple: simpleUsernameKey(username),
          updated_at_ms: this.#clock.nowMs(),
        })
        .where('id', '=', id)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw notFound('user', id);
    });
    const user = await this.getUser(id);
    if (user === undefined) throw notFound('user', id);
    return user;
  }

  async listUsernameCollisions(): Promise<UsernameCollision[]> {
    return findUsernameCollisions(this.#db as Kysely<unknown>);
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
    const db = this.#db as unknown as Kysely<{
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
    const rows = await this.#usersQuery().where('u.id', '=', id).execute();
    return foldUsers(rows)[0];
  }

  async findUser(
    usernameOrAlias: string,
    normalization: UsernameNormalization = 'none',
  ): Promise<User | undefined> {
    const id = await this.#resolveUserId(usernameOrAlias, normalization);
    return id === undefined ? undefined : this.getUser(id);
  }

  /**
   * The one id a name means (core/username.ts): first the user whose username or alias has the
   * name's folded key; then, under "simple" normalization, the user whose bare name
   * (`EXAMPLE\bob`, `bob@example.org` → `bob`) matches. A bare name that several users share is
   * refused, never treated as unknown: an unknown user may pass under a new-user policy of allow.
   */
  async #resolveUserId(
    name: string,
    normalization: UsernameNormalization,
  ): Promise<string | undefined> {
    const key = usernameKey(name);
    if (key === '') return undefined;
    const exact = (await this.#run<{ id: string }>('userIdByKey', [key, key])).rows[0];
    if (exact !== undefined || normalization === 'none') return exact?.id;
    const simple = simpleUsernameKey(name);
    const { rows } = await this.#run<{ id: string }>('userIdsBySimpleKey', [simple, simple]);
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
    let query = this.#usersQuery();
    const search = options.search === '' ? undefined : options.search;
    if (options.limit !== undefined || options.offset !== undefined || search !== undefined) {
      // Page over users, not over user-alias rows.
      let page = this.#db
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
              this.#db.selectFrom('user_aliases').select('user_id').where(like('alias')),
            ),
          ]),
        );
      }
      query = query.where('u.id', 'in', page);
    }
    return foldUsers(await query.execute());
  }

  async setUserStatus(id: string, status: UserStatus): Promise<User> {
    // Unlocking starts the failure count afresh; otherwise the next failure would lock again.
    const failedAttempts =
      status === 'locked out'
        ? sql<number>`failed_attempts`
        : sql<number>`CASE WHEN status = 'locked out' THEN 0 ELSE failed_attempts END`;
    const result = await this.#db
      .updateTable('users')
      .set({ status, failed_attempts: failedAttempts, updated_at_ms: this.#clock.nowMs() })
      .where('id', '=', id)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw notFound('user', id);
    const user = await this.getUser(id);
    if (user === undefined) throw notFound('user', id);
    return user;
  }

  async deleteUser(id: string): Promise<boolean> {
    // Tokens, codes, aliases, memberships, enrollments and transactions go by ON DELETE CASCADE.
    const result = await this.#db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async recordSecondFactorFailure(
    userId: string,
    threshold: number,
  ): Promise<{ failedAttempts: number; lockedOut: boolean }> {
    if (!Number.isSafeInteger(threshold) || threshold < 1) {
      throw new RangeError(`lockout threshold must be a positive integer, got ${threshold}`);
    }
    // One UPDATE: the row lock serializes concurrent failures, each sees the count the previous
    // one left, so exactly one of them crosses the threshold. SET expressions read the old row;
    // lockout_on_last_failure hands this call's transition back through RETURNING.
    const crosses = sql<boolean>`failed_attempts + 1 >= ${threshold} AND status NOT IN ('disabled', 'locked out')`;
    const row = await this.#db
      .updateTable('users')
      .set((eb) => ({
        failed_attempts: eb('failed_attempts', '+', 1),
        status: sql<string>`CASE WHEN ${crosses} THEN 'locked out' ELSE status END`,
        lockout_on_last_failure: sql<number>`CASE WHEN ${crosses} THEN 1 ELSE 0 END`,
        updated_at_ms: this.#clock.nowMs(),
      }))
      .where('id', '=', userId)
      .returning(['failed_attempts', 'lockout_on_last_failure'])
      .executeTakeFirst();
    if (row === undefined) throw notFound('user', userId);
    return { failedAttempts: row.failed_attempts, lockedOut: row.lockout_on_last_failure === 1 };
  }

  async resetSecondFactorFailures(userId: string): Promise<void> {
    // Runs after every successful second factor: skip the write when there is nothing to reset.
    await this.#db
      .updateTable('users')
      .set({ failed_attempts: 0, lockout_on_last_failure: 0 })
      .where('id', '=', userId)
      .where((eb) =>
        eb.or([eb('failed_attempts', '<>', 0), eb('lockout_on_last_failure', '<>', 0)]),
      )
      .execute();
  }

  // ---- Groups ----

  async createGroup(input: NewGroup): Promise<Group> {
    const now = this.#clock.nowMs();
    const row: Selectable<GroupsTable> = {
      id: input.id,
      name: input.name,
      description: input.description ?? null,
      status: input.status ?? 'active',
      created_at_ms: now,
      updated_at_ms: now,
    };
    try {
      await this.#db.insertInto('groups').values(row).execute();
    } catch (err) {
      throw translateWriteError(err, 'group', {
        id: `id "${input.id}"`,
        name: `name "${input.name}"`,
      });
    }
    return toGroup(row);
  }

  async getGroup(idOrName: string): Promise<Group | undefined> {
    const row = await this.#db
      .selectFrom('groups')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .orderBy(sql`CASE WHEN id = ${idOrName} THEN 0 ELSE 1 END`)
      .limit(1)
      .executeTakeFirst();
    return row && toGroup(row);
  }

  async listGroups(): Promise<Group[]> {
    const rows = await this.#db.selectFrom('groups').selectAll().orderBy('name').execute();
    return rows.map(toGroup);
  }

  async setGroupStatus(id: string, status: GroupStatus): Promise<Group> {
    const row = await this.#db
      .updateTable('groups')
      .set({ status, updated_at_ms: this.#clock.nowMs() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw notFound('group', id);
    return toGroup(row);
  }

  async addGroupMember(groupId: string, userId: string): Promise<boolean> {
    try {
      const result = await this.#db
        .insertInto('group_members')
        .values({ group_id: groupId, user_id: userId })
        .onConflict((oc) => oc.columns(['group_id', 'user_id']).doNothing())
        .executeTakeFirst();
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    } catch (err) {
      throw translateWriteError(
        err,
        'group member',
        {},
        `group "${groupId}" or user "${userId}" not found`,
      );
    }
  }

  async removeGroupMember(groupId: string, userId: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('group_members')
      .where('group_id', '=', groupId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listUserGroups(userId: string): Promise<Group[]> {
    const rows = await this.#db
      .selectFrom('groups as g')
      .innerJoin('group_members as m', 'm.group_id', 'g.id')
      .selectAll('g')
      .where('m.user_id', '=', userId)
      .orderBy('g.name')
      .execute();
    return rows.map(toGroup);
  }

  async listGroupMembers(groupId: string): Promise<User[]> {
    const rows = await this.#usersQuery()
      .where(
        'u.id',
        'in',
        this.#db.selectFrom('group_members').select('user_id').where('group_id', '=', groupId),
      )
      .execute();
    return foldUsers(rows);
  }

  // ---- OTP tokens ----

  async addOtpToken(input: NewOtpToken): Promise<OtpToken> {
    const row: Selectable<OtpTokensTable> = {
      id: input.id,
      user_id: input.userId,
      type: input.type,
      secret_sealed: this.#secretBox.seal(input.secret),
      algorithm: input.algorithm,
      digits: input.digits,
      period_seconds: input.periodSeconds,
      counter: input.counter,
      last_step: null,
      name: input.name ?? null,
      created_at_ms: this.#clock.nowMs(),
    };
    try {
      await this.#db.insertInto('otp_tokens').values(row).execute();
    } catch (err) {
      throw translateWriteError(
        err,
        'OTP token',
        { id: `id "${input.id}"` },
        `user "${input.userId}" not found`,
      );
    }
    return this.#toOtpToken(row);
  }

  async listOtpTokens(userId: string): Promise<OtpToken[]> {
    const rows = await this.#db
      .selectFrom('otp_tokens')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at_ms')
      .orderBy('id')
      .execute();
    return rows.map((row) => this.#toOtpToken(row));
  }

  async claimTotpStep(tokenId: string, step: number): Promise<boolean> {
    const result = await this.#run('claimTotpStep', [step, tokenId, step]);
    return (result.numAffectedRows ?? 0n) > 0n;
  }

  async advanceHotpCounter(tokenId: string, expected: number, next: number): Promise<boolean> {
    // RFC 4226 §7.2: the counter moves only forward, and only once per accepted value.
    const result = await this.#db
      .updateTable('otp_tokens')
      .set({ counter: next })
      .where('id', '=', tokenId)
      .where('counter', '=', expected)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  // ---- Bypass codes ----

  async replaceBypassCodes(userId: string, codes: NewBypassCode[]): Promise<BypassCode[]> {
    const now = this.#clock.nowMs();
    const rows: Selectable<BypassCodesTable>[] = codes.map((code) => ({
      id: code.id,
      user_id: userId,
      code_hash: code.codeHash,
      remaining_uses: code.remainingUses,
      expires_at_ms: code.expiresAtMs,
      created_at_ms: now,
    }));
    await this.#atomic(async (db) => {
      const user = await db
        .selectFrom('users')
        .select('id')
        .where('id', '=', userId)
        .executeTakeFirst();
      if (user === undefined) throw notFound('user', userId);
      await db.deleteFrom('bypass_codes').where('user_id', '=', userId).execute();
      if (rows.length > 0) {
        try {
          await db.insertInto('bypass_codes').values(rows).execute();
        } catch (err) {
          throw translateWriteError(err, 'bypass code', {});
        }
      }
    });
    return rows.map(toBypassCode);
  }

  async listBypassCodes(userId: string): Promise<BypassCode[]> {
    const rows = await this.#db
      .selectFrom('bypass_codes')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at_ms')
      .orderBy('id')
      .execute();
    return rows.map(toBypassCode);
  }

  async consumeBypassCode(codeId: string, nowMs: number): Promise<boolean> {
    // The conditional UPDATE is the decision: concurrent uses of a one-time code cannot both succeed.
    const { rows } = await this.#run<{ remaining_uses: number | null }>('consumeBypassCode', [
      codeId,
      nowMs,
    ]);
    const row = rows[0];
    if (row === undefined) return false;
    // Used up: remove it. A zero-use row could never be consumed again anyway.
    if (row.remaining_uses === 0) await this.#run('deleteUsedBypassCode', [codeId]);
    return true;
  }

  // ---- Enrollments ----

  async createEnrollment(input: Omit<Enrollment, 'createdAtMs'>): Promise<Enrollment> {
    const enrollment: Enrollment = { ...input, createdAtMs: this.#clock.nowMs() };
    try {
      await this.#db
        .insertInto('enrollments')
        .values({
          activation_code: enrollment.activationCode,
          user_id: enrollment.userId,
          app_id: enrollment.appId,
          state: enrollment.state,
          expires_at_ms: enrollment.expiresAtMs,
          created_at_ms: enrollment.createdAtMs,
        })
        .execute();
    } catch (err) {
      throw translateWriteError(
        err,
        'enrollment',
        { activation_code: 'this activation code' },
        `user "${input.userId}" or application "${input.appId}" not found`,
      );
    }
    return enrollment;
  }

  async getEnrollment(activationCode: string): Promise<Enrollment | undefined> {
    const row = await this.#db
      .selectFrom('enrollments')
      .selectAll()
      .where('activation_code', '=', activationCode)
      .executeTakeFirst();
    return (
      row && {
        activationCode: row.activation_code,
        userId: row.user_id,
        appId: row.app_id,
        state: row.state as EnrollmentState,
        expiresAtMs: row.expires_at_ms,
        createdAtMs: row.created_at_ms,
      }
    );
  }

  async setEnrollmentState(activationCode: string, state: Enrollment['state']): Promise<void> {
    const result = await this.#db
      .updateTable('enrollments')
      .set({ state })
      .where('activation_code', '=', activationCode)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw notFound('enrollment', activationCode);
  }

  // ---- Devices and their activations ----

  async createDeviceActivation(input: {
    activationCode: string;
    userId: string;
    expiresAtMs: number;
  }): Promise<void> {
    try {
      await this.#db
        .insertInto('device_activations')
        .values({
          activation_code: input.activationCode,
          user_id: input.userId,
          state: 'waiting',
          expires_at_ms: input.expiresAtMs,
          created_at_ms: this.#clock.nowMs(),
        })
        .execute();
    } catch (err) {
      throw translateWriteError(
        err,
        'device activation',
        { activation_code: 'this activation code' },
        `user "${input.userId}" not found`,
      );
    }
  }

  async claimActivation(code: string, nowMs: number): Promise<ClaimedActivation | undefined> {
    // The conditional UPDATE is the claim: two devices racing for one code cannot both win.
    const enrollment = await this.#db
      .updateTable('enrollments')
      .set({ state: 'success' })
      .where('activation_code', '=', code)
      .where('state', '=', 'waiting')
      .where('expires_at_ms', '>', nowMs)
      .returning(['user_id', 'app_id'])
      .executeTakeFirst();
    if (enrollment) return { userId: enrollment.user_id, appId: enrollment.app_id };
    const activation = await this.#db
      .updateTable('device_activations')
      .set({ state: 'success' })
      .where('activation_code', '=', code)
      .where('state', '=', 'waiting')
      .where('expires_at_ms', '>', nowMs)
      .returning(['user_id'])
      .executeTakeFirst();
    return activation && { userId: activation.user_id, appId: null };
  }

  async createDevice(input: NewDevice): Promise<Device> {
    const row: Selectable<DevicesTable> = {
      id: input.id,
      user_id: input.userId,
      name: input.name,
      platform: input.platform,
      public_key: input.publicKeyJwk ?? null,
      phone_number: input.phoneNumber ?? null,
      otp_token_id: input.otpTokenId ?? null,
      created_at_ms: this.#clock.nowMs(),
      last_seen_at_ms: null,
    };
    try {
      await this.#db.insertInto('devices').values(row).execute();
    } catch (err) {
      throw translateWriteError(
        err,
        'device',
        { id: `id "${input.id}"` },
        `user "${input.userId}" not found`,
      );
    }
    return toDevice(row);
  }

  async getDevice(id: string): Promise<Device | undefined> {
    const row = await this.#db
      .selectFrom('devices')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toDevice(row);
  }

  async listDevices(userId: string): Promise<Device[]> {
    const rows = await this.#db
      .selectFrom('devices')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at_ms')
      .orderBy('id')
      .execute();
    return rows.map(toDevice);
  }

  async deleteDevice(id: string): Promise<boolean> {
    return this.#atomic(async (db) => {
      const device = await db
        .selectFrom('devices')
        .select('otp_token_id')
        .where('id', '=', id)
        .executeTakeFirst();
      if (!device) return false;
      await db.deleteFrom('devices').where('id', '=', id).execute();
      // The authenticator's TOTP secret goes with it: a removed device must not log in.
      if (device.otp_token_id !== null) {
        await db.deleteFrom('otp_tokens').where('id', '=', device.otp_token_id).execute();
      }
      return true;
    });
  }

  async touchDevice(id: string, nowMs: number): Promise<void> {
    await this.#db
      .updateTable('devices')
      .set({ last_seen_at_ms: nowMs })
      .where('id', '=', id)
      .execute();
  }

  // ---- Out-of-band requests ----

  async createOobRequest(input: NewOobRequest): Promise<OobRequest> {
    const request: OobRequest = {
      ...input,
      createdAtMs: this.#clock.nowMs(),
      deliveredAtMs: null,
      answeredAtMs: null,
    };
    try {
      await this.#db
        .insertInto('oob_requests')
        .values({
          txid: request.txid,
          factor: request.factor,
          app_id: request.appId,
          user_id: request.userId,
          device_id: request.deviceId,
          status: request.status,
          context: JSON.stringify(request.context),
          verification_code: request.verificationCode,
          callback_token_hash: request.callbackTokenHash,
          created_at_ms: request.createdAtMs,
          expires_at_ms: request.expiresAtMs,
          delivered_at_ms: null,
          answered_at_ms: null,
        })
        .execute();
    } catch (err) {
      throw translateWriteError(
        err,
        'out-of-band request',
        { txid: `txid "${input.txid}"` },
        'application, user or device not found',
      );
    }
    return request;
  }

  async getOobRequest(txid: string): Promise<OobRequest | undefined> {
    const row = await this.#db
      .selectFrom('oob_requests')
      .selectAll()
      .where('txid', '=', txid)
      .executeTakeFirst();
    return row && toOobRequest(row);
  }

  async listPendingOobRequests(deviceId: string, nowMs: number): Promise<OobRequest[]> {
    const rows = await this.#db
      .selectFrom('oob_requests')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('status', 'in', [...PENDING_OOB_STATUSES])
      .where('expires_at_ms', '>', nowMs)
      .orderBy('created_at_ms')
      .orderBy('txid')
      .execute();
    return rows.map(toOobRequest);
  }

  async markOobDelivered(txids: string[], nowMs: number): Promise<void> {
    if (txids.length === 0) return;
    await this.#db
      .updateTable('oob_requests')
      .set({ delivered_at_ms: nowMs })
      .where('txid', 'in', txids)
      .where('delivered_at_ms', 'is', null)
      .execute();
  }

  async resolveOobRequest(txid: string, status: OobStatus, nowMs: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('oob_requests')
      .set({ status, answered_at_ms: nowMs })
      .where('txid', '=', txid)
      .where('status', 'in', [...PENDING_OOB_STATUSES])
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async expireOobRequests(nowMs: number): Promise<ExpiredOobRequest[]> {
    const rows = await this.#db
      .updateTable('oob_requests')
      .set({ status: 'timeout', answered_at_ms: nowMs })
      .where('status', 'in', [...PENDING_OOB_STATUSES])
      .where('expires_at_ms', '<=', nowMs)
      .returning(['txid', 'app_id', 'context', 'factor', 'delivered_at_ms'])
      .execute();
    return rows.map((r) => ({
      txid: r.txid,
      appId: r.app_id,
      username: (JSON.parse(r.context) as OobContext).username,
      factor: r.factor as OobFactor,
      delivered: r.delivered_at_ms !== null,
    }));
  }

  // ---- SMS passcodes ----

  async replaceSmsPasscodes(
    userId: string,
    deviceId: string,
    codes: NewSmsPasscode[],
  ): Promise<void> {
    const now = this.#clock.nowMs();
    await this.#atomic(async (db) => {
      await db.deleteFrom('sms_passcodes').where('user_id', '=', userId).execute();
      if (codes.length === 0) return;
      try {
        await db
          .insertInto('sms_passcodes')
          .values(
            codes.map((c) => ({
              id: c.id,
              user_id: userId,
              device_id: deviceId,
              seq: c.seq,
              code_hash: c.codeHash,
              first_digit: c.firstDigit,
              expires_at_ms: c.expiresAtMs,
              created_at_ms: now,
            })),
          )
          .execute();
      } catch (err) {
        throw translateWriteError(err, 'SMS passcode', {}, 'user or device not found');
      }
    });
  }

  async consumeSmsPasscode(id: string, nowMs: number): Promise<boolean> {
    const { rows } = await this.#run<{ id: string }>('consumeSmsPasscode', [id, nowMs]);
    return rows.length === 1;
  }

  // ---- Auth transactions ----

  async createAuthTransaction(
    input: Omit<AuthTransaction, 'createdAtMs' | 'updatedAtMs'>,
  ): Promise<AuthTransaction> {
    const now = this.#clock.nowMs();
    const transaction: AuthTransaction = { ...input, createdAtMs: now, updatedAtMs: now };
    try {
      await this.#db
        .insertInto('auth_transactions')
        .values({
          txid: input.txid,
          app_id: input.appId,
          user_id: input.userId,
          factor: input.factor,
          result: input.result,
          status: input.status,
          status_msg: input.statusMsg,
          created_at_ms: now,
          updated_at_ms: now,
        })
        .execute();
    } catch (err) {
      throw translateWriteError(
        err,
        'auth transaction',
        { txid: `txid "${input.txid}"` },
        `user "${input.userId}" or application "${input.appId}" not found`,
      );
    }
    return transaction;
  }

  async getAuthTransaction(txid: string): Promise<AuthTransaction | undefined> {
    const row = await this.#db
      .selectFrom('auth_transactions')
      .selectAll()
      .where('txid', '=', txid)
      .executeTakeFirst();
    return (
      row && {
        txid: row.txid,
        appId: row.app_id,
        userId: row.user_id,
        factor: row.factor,
        result: row.result as AuthResult,
        status: row.status,
        statusMsg: row.status_msg,
        createdAtMs: row.created_at_ms,
        updatedAtMs: row.updated_at_ms,
      }
    );
  }

  async updateAuthTransaction(
    txid: string,
    patch: Pick<AuthTransaction, 'result' | 'status' | 'statusMsg'>,
  ): Promise<void> {
    const result = await this.#db
      .updateTable('auth_transactions')
      .set({
        result: patch.result,
        status: patch.status,
        status_msg: patch.statusMsg,
        updated_at_ms: this.#clock.nowMs(),
      })
      .where('txid', '=', txid)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw notFound('auth transaction', txid);
  }

  // ---- Policies ----

  async getPolicy(scope: string): Promise<StoredPolicy | undefined> {
    const row = await this.#db
      .selectFrom('policies')
      .selectAll()
      .where('scope', '=', scope)
      .executeTakeFirst();
    return row && toStoredPolicy(row);
  }

  async setPolicy(scope: string, policy: Policy, actor: string): Promise<StoredPolicy> {
    if (!isPolicyScope(scope)) {
      throw new AirlockError('POLICY_INVALID', undefined, {
        message: `policy scope must be "global" or "app:<application id>", got "${scope}"`,
      });
    }
    const problems = validatePolicy(policy);
    if (problems.length > 0) {
      throw new AirlockError('POLICY_INVALID', undefined, {
        message: `invalid policy for ${scope}:\n${problems.map((p) => `  ${p}`).join('\n')}`,
      });
    }
    const row: Selectable<PoliciesTable> = {
      scope,
      policy: JSON.stringify(normalizePolicy(policy)),
      updated_at_ms: this.#clock.nowMs(),
      updated_by: actor,
    };
    await this.#db
      .insertInto('policies')
      .values(row)
      .onConflict((oc) =>
        oc.column('scope').doUpdateSet({
          policy: row.policy,
          updated_at_ms: row.updated_at_ms,
          updated_by: row.updated_by,
        }),
      )
      .execute();
    return toStoredPolicy(row);
  }

  async deletePolicy(scope: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('policies')
      .where('scope', '=', scope)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listPolicies(): Promise<StoredPolicy[]> {
    const rows = await this.#db
      .selectFrom('policies')
      .selectAll()
      .orderBy(sql`CASE WHEN scope = ${GLOBAL_POLICY_SCOPE} THEN 0 ELSE 1 END`)
      .orderBy('scope')
      .execute();
    return rows.map(toStoredPolicy);
  }

  // ---- Emergency controls ----

  async createEmergencyControl(control: EmergencyControl): Promise<EmergencyControl> {
    try {
      await this.#db
        .insertInto('emergency_controls')
        .values({
          id: control.id,
          kind: control.scope.kind,
          state: control.state,
          record: JSON.stringify(control),
          expires_at_ms: control.expiresAtMs,
          created_at_ms: control.createdAtMs,
        })
        .execute();
    } catch (err) {
      throw translateWriteError(err, 'emergency control', { id: `id "${control.id}"` });
    }
    return control;
  }

  async getEmergencyControl(id: string): Promise<EmergencyControl | undefined> {
    const row = await this.#db
      .selectFrom('emergency_controls')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toEmergencyControl(row);
  }

  async listEmergencyControls(query: { state?: EmergencyState } = {}): Promise<EmergencyControl[]> {
    let q = this.#db.selectFrom('emergency_controls').selectAll();
    if (query.state !== undefined) q = q.where('state', '=', query.state);
    const rows = await q.orderBy('created_at_ms').orderBy('id').execute();
    return rows.map(toEmergencyControl);
  }

  async updateEmergencyControl(
    control: EmergencyControl,
    expectedState: EmergencyState,
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable('emergency_controls')
      .set({
        state: control.state,
        record: JSON.stringify(control),
        expires_at_ms: control.expiresAtMs,
      })
      .where('id', '=', control.id)
      .where('state', '=', expectedState)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  // ---- Audit ----

  async appendAudit(event: NewAuditEvent): Promise<number> {
    const { rows } = await this.#run<{ id: number | bigint }>('appendAudit', [
      event.tsMs,
      event.actor,
      event.action,
      event.targetType,
      event.targetId,
      event.appId,
      event.username,
      event.result,
      event.ip,
      JSON.stringify(event.detail),
    ]);
    const row = rows[0];
    if (row === undefined) throw new Error('audit insert returned no id');
    return Number(row.id);
  }

  /** Events in id order. `sinceMs` is inclusive, `untilMs` exclusive; `limit` defaults to 100, at most 1000. */
  async listAudit(query: AuditQuery = {}): Promise<AuditEvent[]> {
    let q = this.#db.selectFrom('audit_events').selectAll();
    if (query.afterId !== undefined) q = q.where('id', '>', query.afterId);
    if (query.sinceMs !== undefined) {
      // Walking the id order from the start to the first recent event would read the whole
      // log; the ts_ms index finds where "since" begins, then the id range does the rest.
      const first = await this.#db
        .selectFrom('audit_events')
        .select((eb) => eb.fn.min('id').as('id'))
        .where('ts_ms', '>=', query.sinceMs)
        .executeTakeFirst();
      if (first?.id === undefined || first.id === null) return [];
      q = q.where('id', '>=', Number(first.id)).where('ts_ms', '>=', query.sinceMs);
    }
    if (query.untilMs !== undefined) q = q.where('ts_ms', '<', query.untilMs);
    if (query.action !== undefined) q = q.where('action', '=', query.action);
    if (query.username !== undefined) q = q.where('username', '=', query.username);
    const rows = await q.orderBy('id').limit(auditLimit(query.limit)).execute();
    return rows.map(toAuditEvent);
  }

  // ---- Administrators, Admin API keys, console sessions ----

  async updateUser(id: string, patch: UserPatch): Promise<User> {
    const values: Updateable<UsersTable> = { updated_at_ms: this.#clock.nowMs() };
    if (patch.realName !== undefined) values.real_name = patch.realName;
    if (patch.email !== undefined) values.email = patch.email;
    const result = await this.#db
      .updateTable('users')
      .set(values)
      .where('id', '=', id)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw notFound('user', id);
    const user = await this.getUser(id);
    if (user === undefined) throw notFound('user', id);
    return user;
  }

  async setUserAliases(id: string, aliases: string[]): Promise<User> {
    const unique = uniqueNames(aliases);
    await this.#atomic(async (db) => {
      await this.#lockUserNames(db);
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
        .set({ updated_at_ms: this.#clock.nowMs() })
        .where('id', '=', id)
        .execute();
    });
    const user = await this.getUser(id);
    if (user === undefined) throw notFound('user', id);
    return user;
  }

  async updateGroup(id: string, patch: GroupPatch): Promise<Group> {
    const values: Updateable<GroupsTable> = { updated_at_ms: this.#clock.nowMs() };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.description !== undefined) values.description = patch.description;
    let row: Selectable<GroupsTable> | undefined;
    try {
      row = await this.#db
        .updateTable('groups')
        .set(values)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    } catch (err) {
      throw translateWriteError(err, 'group', { name: `name "${patch.name}"` });
    }
    if (row === undefined) throw notFound('group', id);
    return toGroup(row);
  }

  async deleteGroup(id: string): Promise<boolean> {
    return this.#atomic(async (db) => {
      const restricting = await db
        .selectFrom('application_groups as ag')
        .innerJoin('applications as a', 'a.id', 'ag.app_id')
        .select('a.name')
        .where('ag.group_id', '=', id)
        .orderBy('a.name')
        .execute();
      if (restricting.length > 0) {
        throw new StoreError(
          'STORE_CONFLICT',
          `group "${id}" restricts application(s) ${restricting.map((r) => `"${r.name}"`).join(', ')}; ` +
            'deleting it would open them to every user: change their groups first',
        );
      }
      const result = await db.deleteFrom('groups').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  async deleteApplication(id: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('applications')
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteOtpToken(userId: string, tokenId: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('otp_tokens')
      .where('id', '=', tokenId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async createAdmin(input: NewAdmin): Promise<Admin> {
    const now = this.#clock.nowMs();
    const row: Selectable<AdminsTable> = {
      id: input.id,
      username: input.username,
      password_hash: input.passwordHash,
      totp_secret_sealed: this.#secretBox.seal(input.totpSecret),
      totp_last_step: null,
      disabled: 0,
      created_at_ms: now,
      updated_at_ms: now,
    };
    try {
      await this.#db.insertInto('admins').values(row).execute();
    } catch (err) {
      throw translateWriteError(err, 'administrator', {
        id: `id "${input.id}"`,
        username: `username "${input.username}"`,
      });
    }
    return this.#toAdmin(row);
  }

  async getAdmin(id: string): Promise<Admin | undefined> {
    const row = await this.#db
      .selectFrom('admins')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && this.#toAdmin(row);
  }

  async findAdmin(username: string): Promise<Admin | undefined> {
    const row = await this.#db
      .selectFrom('admins')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    return row && this.#toAdmin(row);
  }

  async listAdmins(): Promise<Admin[]> {
    const rows = await this.#db.selectFrom('admins').selectAll().orderBy('username').execute();
    return rows.map((row) => this.#toAdmin(row));
  }

  async setAdminDisabled(id: string, disabled: boolean): Promise<Admin> {
    return this.#atomic(async (db) => {
      const row = await db
        .updateTable('admins')
        .set({ disabled: disabled ? 1 : 0, updated_at_ms: this.#clock.nowMs() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (row === undefined) throw notFound('administrator', id);
      // A disabled administrator is logged out everywhere at once.
      if (disabled) await db.deleteFrom('admin_sessions').where('admin_id', '=', id).execute();
      return this.#toAdmin(row);
    });
  }

  async claimAdminTotpStep(adminId: string, step: number): Promise<boolean> {
    // RFC 6238 §5.2: the conditional UPDATE is the replay check, as for users' tokens.
    const result = await this.#db
      .updateTable('admins')
      .set({ totp_last_step: step })
      .where('id', '=', adminId)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async createAdminApiKey(input: NewAdminApiKey): Promise<AdminApiKey> {
    const row: Selectable<AdminApiKeysTable> = {
      ikey: input.ikey,
      skey_sealed: this.#secretBox.seal(input.skey),
      name: input.name,
      created_at_ms: this.#clock.nowMs(),
      last_used_at_ms: null,
    };
    try {
      await this.#db.insertInto('admin_api_keys').values(row).execute();
    } catch (err) {
      throw translateWriteError(err, 'Admin API key', { ikey: `ikey "${input.ikey}"` });
    }
    return this.#toAdminApiKey(row);
  }

  async getAdminApiKey(ikey: string): Promise<AdminApiKey | undefined> {
    const row = await this.#db
      .selectFrom('admin_api_keys')
      .selectAll()
      .where('ikey', '=', ikey)
      .executeTakeFirst();
    return row && this.#toAdminApiKey(row);
  }

  async listAdminApiKeys(): Promise<AdminApiKey[]> {
    const rows = await this.#db
      .selectFrom('admin_api_keys')
      .selectAll()
      .orderBy('created_at_ms')
      .orderBy('ikey')
      .execute();
    return rows.map((row) => this.#toAdminApiKey(row));
  }

  async deleteAdminApiKey(ikey: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('admin_api_keys')
      .where('ikey', '=', ikey)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async touchAdminApiKey(ikey: string, nowMs: number): Promise<void> {
    await this.#db
      .updateTable('admin_api_keys')
      .set({ last_used_at_ms: nowMs })
      .where('ikey', '=', ikey)
      .execute();
  }

  async createAdminSession(input: NewAdminSession): Promise<AdminSession> {
    const now = this.#clock.nowMs();
    const session: AdminSession = { ...input, createdAtMs: now, lastSeenAtMs: now };
    try {
      await this.#db
        .insertInto('admin_sessions')
        .values({
          id: input.idHash,
          admin_id: input.adminId,
          csrf_token_hash: input.csrfTokenHash,
          created_at_ms: now,
          expires_at_ms: input.expiresAtMs,
          last_seen_at_ms: now,
        })
        .execute();
    } catch (err) {
      throw translateWriteError(
        err,
        'console session',
        { id: 'this id' },
        `administrator "${input.adminId}" not found`,
      );
    }
    return session;
  }

  async getAdminSession(idHash: string): Promise<AdminSession | undefined> {
    const row = await this.#db
      .selectFrom('admin_sessions')
      .selectAll()
      .where('id', '=', idHash)
      .executeTakeFirst();
    return (
      row && {
        idHash: row.id,
        adminId: row.admin_id,
        csrfTokenHash: row.csrf_token_hash,
        createdAtMs: Number(row.created_at_ms),
        expiresAtMs: Number(row.expires_at_ms),
        lastSeenAtMs: Number(row.last_seen_at_ms),
      }
    );
  }

  async touchAdminSession(idHash: string, nowMs: number): Promise<void> {
    await this.#db
      .updateTable('admin_sessions')
      .set({ last_seen_at_ms: nowMs })
      .where('id', '=', idHash)
      .execute();
  }

  async deleteAdminSession(idHash: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('admin_sessions')
      .where('id', '=', idHash)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteExpiredAdminSessions(nowMs: number, idleSinceMs: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('admin_sessions')
      .where((eb) =>
        eb.or([eb('expires_at_ms', '<=', nowMs), eb('last_seen_at_ms', '<=', idleSinceMs)]),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // ---- Internals ----

  /** Runs `fn` in this store's transaction, or in a new one when there is none. */
  #atomic<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.#db.isTransaction) return fn(this.#db);
    return this.#db.transaction().execute(fn);
  }

  /**
   * Serializes writers of usernames and aliases for the rest of the transaction, so two nodes
   * cannot both pass the cross-table name check. SQLite needs nothing: its write transactions
   * are already serial (they begin IMMEDIATE, see open-store.ts).
   */
  async #lockUserNames(db: Kysely<Database>): Promise<void> {
    if (this.dialect === 'postgres') {
      await sql`SELECT pg_advisory_xact_lock(hashtext('airlock.user_names'))`.execute(db);
    }
  }

  #applicationsQuery() {
    return this.#db
      .selectFrom('applications as a')
      .leftJoin('application_groups as ag', 'ag.app_id', 'a.id')
      .selectAll('a')
      .select('ag.group_id');
  }

  #foldApplications(
    rows: (Selectable<ApplicationsTable> & { group_id: string | null })[],
  ): Application[] {
    const byId = new Map<string, Application>();
    for (const row of rows) {
      let application = byId.get(row.id);
      if (application === undefined) {
        application = this.#toApplication(row, []);
        byId.set(row.id, application);
      }
      if (row.group_id !== null) application.allowedGroupIds.push(row.group_id);
    }
    return [...byId.values()];
  }

  #usersQuery() {
    return this.#db
      .selectFrom('users as u')
      .leftJoin('user_aliases as ua', 'ua.user_id', 'u.id')
      .selectAll('u')
      .select('ua.alias')
      .orderBy('u.username')
      .orderBy('ua.alias');
  }

  #toApplication(row: Selectable<ApplicationsTable>, allowedGroupIds: string[]): Application {
    return {
      id: row.id,
      name: row.name,
      ikey: row.ikey,
      skey: this.#secretBox.open(row.skey_sealed),
      type: row.type as ApplicationType,
      newUserPolicy: row.new_user_policy as NewUserPolicy,
      restrictionLevel: row.restriction_level as RestrictionLevel,
      rateLimitPerSecond: row.rate_limit_per_second,
      verifiedPush: Number(row.verified_push) === 1,
      usernameNormalization: row.username_normalization as UsernameNormalization,
      allowedGroupIds,
      createdAtMs: row.created_at_ms,
      updatedAtMs: row.updated_at_ms,
    };
  }

  #toAdmin(row: Selectable<AdminsTable>): Admin {
    return {
      id: row.id,
      username: row.username,
      passwordHash: row.password_hash,
      totpSecret: this.#secretBox.open(row.totp_secret_sealed),
      totpLastStep: row.totp_last_step === null ? null : Number(row.totp_last_step),
      disabled: Number(row.disabled) === 1,
      createdAtMs: Number(row.created_at_ms),
      updatedAtMs: Number(row.updated_at_ms),
    };
  }

  #toAdminApiKey(row: Selectable<AdminApiKeysTable>): AdminApiKey {
    return {
      ikey: row.ikey,
      skey: this.#secretBox.open(row.skey_sealed),
      name: row.name,
      createdAtMs: Number(row.created_at_ms),
      lastUsedAtMs: row.last_used_at_ms === null ? null : Number(row.last_used_at_ms),
    };
  }

  #toOtpToken(row: Selectable<OtpTokensTable>): OtpToken {
    return {
      id: row.id,
      userId: row.user_id,
      type: row.type as TokenType,
      secret: this.#secretBox.open(row.secret_sealed),
      algorithm: row.algorithm as OtpAlgorithm,
      digits: row.digits,
      periodSeconds: row.period_seconds,
      counter: row.counter,
      lastStep: row.last_step,
      name: row.name,
      createdAtMs: row.created_at_ms,
    };
  }
}

/** A JSON array column: text on SQLite, already parsed by the driver on PostgreSQL. */
function jsonList<T>(value: unknown): T[] {
  const list: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(list) ? (list as T[]) : [];
}

function foldUsers(rows: (Selectable<UsersTable> & { alias: string | null })[]): User[] {
  const byId = new Map<string, User>();
  for (const row of rows) {
    let user = byId.get(row.id);
    if (user === undefined) {
      user = toUser(row, []);
      byId.set(row.id, user);
    }
    if (row.alias !== null) user.aliases.push(row.alias);
  }
  return [...byId.values()];
}

function toUser(row: Selectable<UsersTable>, aliases: string[]): User {
  return {
    id: row.id,
    username: row.username,
    aliases,
    realName: row.real_name,
    email: row.email,
    status: row.status as UserStatus,
    failedAttempts: row.failed_attempts,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

function toGroup(row: Selectable<GroupsTable>): Group {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status as GroupStatus,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

function toBypassCode(row: Selectable<BypassCodesTable>): BypassCode {
  return {
    id: row.id,
    userId: row.user_id,
    codeHash: row.code_hash,
    remainingUses: row.remaining_uses,
    expiresAtMs: row.expires_at_ms,
    createdAtMs: row.created_at_ms,
  };
}

function toDevice(row: Selectable<DevicesTable>): Device {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    platform: row.platform as DevicePlatform,
    publicKeyJwk: row.public_key,
    phoneNumber: row.phone_number,
    otpTokenId: row.otp_token_id,
    createdAtMs: Number(row.created_at_ms),
    lastSeenAtMs: row.last_seen_at_ms === null ? null : Number(row.last_seen_at_ms),
  };
}

function toOobRequest(row: Selectable<OobRequestsTable>): OobRequest {
  return {
    txid: row.txid,
    factor: row.factor as OobFactor,
    appId: row.app_id,
    userId: row.user_id,
    deviceId: row.device_id,
    status: row.status as OobStatus,
    context: JSON.parse(row.context) as OobContext,
    verificationCode: row.verification_code,
    callbackTokenHash: row.callback_token_hash,
    createdAtMs: Number(row.created_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
    deliveredAtMs: row.delivered_at_ms === null ? null : Number(row.delivered_at_ms),
    answeredAtMs: row.answered_at_ms === null ? null : Number(row.answered_at_ms),
  };
}

function toSmsPasscode(row: Selectable<SmsPasscodesTable>): SmsPasscode {
  return {
    id: row.id,
    userId: row.user_id,
    deviceId: row.device_id,
    seq: Number(row.seq),
    codeHash: row.code_hash,
    firstDigit: row.first_digit,
    expiresAtMs: Number(row.expires_at_ms),
    createdAtMs: Number(row.created_at_ms),
  };
}

/** Only the fields a policy has, so the stored JSON never carries stray keys. */
function normalizePolicy(p: Policy): Policy {
  return {
    ...(p.newUserPolicy === undefined ? {} : { newUserPolicy: p.newUserPolicy }),
    ...(p.allowedFactors === undefined ? {} : { allowedFactors: [...p.allowedFactors] }),
    ...(p.bypassGroupIds === undefined ? {} : { bypassGroupIds: [...p.bypassGroupIds] }),
    ...(p.denyGroupIds === undefined ? {} : { denyGroupIds: [...p.denyGroupIds] }),
    ...(p.networkRules === undefined
      ? {}
      : { networkRules: p.networkRules.map((r) => ({ ranges: [...r.ranges], action: r.action })) }),
  };
}

function toStoredPolicy(row: Selectable<PoliciesTable>): StoredPolicy {
  return {
    scope: row.scope,
    policy: JSON.parse(row.policy) as Policy,
    updatedAtMs: Number(row.updated_at_ms),
    updatedBy: row.updated_by,
  };
}

function toEmergencyControl(row: Selectable<EmergencyControlsTable>): EmergencyControl {
  return JSON.parse(row.record) as EmergencyControl;
}

function toAuditEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    id: Number(row.id),
    tsMs: row.ts_ms,
    actor: row.actor,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    appId: row.app_id,
    username: row.username,
    result: row.result,
    ip: row.ip,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
  };
}

function auditLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return AUDIT_DEFAULT_LIMIT;
  return Math.min(Math.max(Math.trunc(limit), 1), AUDIT_MAX_LIMIT);
}

function notFound(entity: string, id: string): StoreError {
  return new StoreError('STORE_NOT_FOUND', `${entity} "${id}" not found`);
}

/**
 * Turns a driver's constraint error into a StoreError that names what clashed. `labels` maps a
 * unique column to how to describe its value; `missing` describes a foreign-key miss.
 */
function translateWriteError(
  err: unknown,
  entity: string,
  labels: Record<string, string>,
  missing?: string,
): unknown {
  const column = uniqueViolationColumn(err);
  if (column !== undefined) {
    const label = labels[column] ?? `this ${column}`;
    return new StoreError('STORE_CONFLICT', `${entity} with ${label} already exists`, {
      cause: err,
    });
  }
  if (missing !== undefined && isForeignKeyViolation(err)) {
    return new StoreError('STORE_NOT_FOUND', missing, { cause: err });
  }
  return err;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Names trimmed, empty ones dropped, one of each folded key (the first spelling wins). */
function uniqueNames(names: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const raw of names) {
    const name = cleanUsername(raw);
    if (name !== '' && !byKey.has(usernameKey(name))) byKey.set(usernameKey(name), name);
  }
  return [...byKey.values()];
}

function aliasRows(aliases: readonly string[], userId: string) {
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
async function assertNamesFree(
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
