// Applications (integrations) and the groups they are restricted to.
import { type Selectable, sql, type Updateable } from 'kysely';
import type {
  Application,
  ApplicationType,
  NewUserPolicy,
  RestrictionLevel,
} from '../../core/model.ts';
import { DEFAULT_USERNAME_NORMALIZATION, type UsernameNormalization } from '../../core/username.ts';
import type { ApplicationsTable } from '../schema.ts';
import { sealedIn } from '../sealed-columns.ts';
import { StoreError } from '../store-error.ts';
import type { ApplicationPatch, NewApplication } from '../store.ts';
import { Repository } from './repository.ts';
import { notFound, translateWriteError } from './write-errors.ts';

export class ApplicationsRepository extends Repository {
  async createApplication(input: NewApplication): Promise<Application> {
    const now = this.clock.nowMs();
    const row: Selectable<ApplicationsTable> = {
      id: input.ikey,
      name: input.name,
      ikey: input.ikey,
      skey_sealed: this.secretBox.seal(input.skey, sealedIn('applicationSkey', input.ikey)),
      type: input.type,
      new_user_policy: input.newUserPolicy,
      restriction_level: input.restrictionLevel,
      rate_limit_per_second: input.rateLimitPerSecond,
      verified_push: input.verifiedPush ? 1 : 0,
      username_normalization: input.usernameNormalization ?? DEFAULT_USERNAME_NORMALIZATION,
      allow_v1_signature: input.allowV1Signature ? 1 : 0,
      redirect_uris: JSON.stringify(input.redirectUris ?? []),
      remember_device_hours: input.rememberDeviceHours ?? 0,
      created_at_ms: now,
      updated_at_ms: now,
    };
    try {
      await this.db.insertInto('applications').values(row).execute();
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
    const values: Updateable<ApplicationsTable> = { updated_at_ms: this.clock.nowMs() };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.skey !== undefined) {
      values.skey_sealed = this.secretBox.seal(patch.skey, sealedIn('applicationSkey', id));
    }
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
    if (patch.allowV1Signature !== undefined) {
      values.allow_v1_signature = patch.allowV1Signature ? 1 : 0;
    }
    if (patch.redirectUris !== undefined) values.redirect_uris = JSON.stringify(patch.redirectUris);
    if (patch.rememberDeviceHours !== undefined) {
      values.remember_device_hours = patch.rememberDeviceHours;
    }
    let updated: bigint;
    try {
      const result = await this.db
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
    await this.atomic(async (db) => {
      const touched = await db
        .updateTable('applications')
        .set({ updated_at_ms: this.clock.nowMs() })
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

  async deleteApplication(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('applications').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  #applicationsQuery() {
    return this.db
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

  #toApplication(row: Selectable<ApplicationsTable>, allowedGroupIds: string[]): Application {
    return {
      id: row.id,
      name: row.name,
      ikey: row.ikey,
      skey: this.secretBox.open(row.skey_sealed, sealedIn('applicationSkey', row.id)),
      type: row.type as ApplicationType,
      newUserPolicy: row.new_user_policy as NewUserPolicy,
      restrictionLevel: row.restriction_level as RestrictionLevel,
      rateLimitPerSecond: row.rate_limit_per_second,
      verifiedPush: Number(row.verified_push) === 1,
      usernameNormalization: row.username_normalization as UsernameNormalization,
      allowV1Signature: Number(row.allow_v1_signature) === 1,
      allowedGroupIds,
      redirectUris: parseRedirectUris(row.redirect_uris),
      rememberDeviceHours: Number(row.remember_device_hours),
      createdAtMs: row.created_at_ms,
      updatedAtMs: row.updated_at_ms,
    };
  }
}

/** The stored JSON array of redirect URIs; anything else reads as none (no URI is then allowed). */
function parseRedirectUris(text: string): string[] {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.filter((u): u is string => typeof u === 'string') : [];
  } catch {
    return [];
  }
}
