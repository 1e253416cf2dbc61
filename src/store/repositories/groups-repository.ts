// Groups and their members.
import { type Selectable, sql, type Updateable } from 'kysely';
import type { Group, GroupStatus, User } from '../../core/model.ts';
import type { GroupPatch } from '../admin-store.ts';
import type { GroupsTable } from '../schema.ts';
import { StoreError } from '../store-error.ts';
import type { NewGroup } from '../store.ts';
import { Repository } from './repository.ts';
import { foldUsers, toGroup, usersQuery } from './rows.ts';
import { notFound, translateWriteError } from './write-errors.ts';

export class GroupsRepository extends Repository {
  async createGroup(input: NewGroup): Promise<Group> {
    const now = this.clock.nowMs();
    const row: Selectable<GroupsTable> = {
      id: input.id,
      name: input.name,
      description: input.description ?? null,
      status: input.status ?? 'active',
      created_at_ms: now,
      updated_at_ms: now,
    };
    try {
      await this.db.insertInto('groups').values(row).execute();
    } catch (err) {
      throw translateWriteError(err, 'group', {
        id: `id "${input.id}"`,
        name: `name "${input.name}"`,
      });
    }
    return toGroup(row);
  }

  async getGroup(idOrName: string): Promise<Group | undefined> {
    const row = await this.db
      .selectFrom('groups')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .orderBy(sql`CASE WHEN id = ${idOrName} THEN 0 ELSE 1 END`)
      .limit(1)
      .executeTakeFirst();
    return row && toGroup(row);
  }

  async listGroups(): Promise<Group[]> {
    const rows = await this.db.selectFrom('groups').selectAll().orderBy('name').execute();
    return rows.map(toGroup);
  }

  async setGroupStatus(id: string, status: GroupStatus): Promise<Group> {
    const row = await this.db
      .updateTable('groups')
      .set({ status, updated_at_ms: this.clock.nowMs() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (row === undefined) throw notFound('group', id);
    return toGroup(row);
  }

  async updateGroup(id: string, patch: GroupPatch): Promise<Group> {
    const values: Updateable<GroupsTable> = { updated_at_ms: this.clock.nowMs() };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.description !== undefined) values.description = patch.description;
    let row: Selectable<GroupsTable> | undefined;
    try {
      row = await this.db
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
    return this.atomic(async (db) => {
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

  async addGroupMember(groupId: string, userId: string, addedByControl?: string): Promise<boolean> {
    try {
      const result = await this.db
        .insertInto('group_members')
        .values({ group_id: groupId, user_id: userId, added_by_control: addedByControl ?? null })
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

  async removeGroupMember(
    groupId: string,
    userId: string,
    options: { onlyAddedByControl?: boolean } = {},
  ): Promise<boolean> {
    let query = this.db
      .deleteFrom('group_members')
      .where('group_id', '=', groupId)
      .where('user_id', '=', userId);
    if (options.onlyAddedByControl) query = query.where('added_by_control', 'is not', null);
    const result = await query.executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async claimGroupMember(groupId: string, userId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('group_members')
      .select('added_by_control')
      .where('group_id', '=', groupId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (row?.added_by_control == null) return undefined;
    // Conditional on the origin read: of two claims racing, one reports the control.
    const result = await this.db
      .updateTable('group_members')
      .set({ added_by_control: null })
      .where('group_id', '=', groupId)
      .where('user_id', '=', userId)
      .where('added_by_control', '=', row.added_by_control)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n ? row.added_by_control : undefined;
  }

  async listGroupMemberOrigins(
    groupId: string,
  ): Promise<{ userId: string; addedByControl: string | null }[]> {
    const rows = await this.db
      .selectFrom('group_members')
      .select(['user_id', 'added_by_control'])
      .where('group_id', '=', groupId)
      .orderBy('user_id')
      .execute();
    return rows.map((r) => ({ userId: r.user_id, addedByControl: r.added_by_control }));
  }

  async listUserGroups(userId: string): Promise<Group[]> {
    const rows = await this.db
      .selectFrom('groups as g')
      .innerJoin('group_members as m', 'm.group_id', 'g.id')
      .selectAll('g')
      .where('m.user_id', '=', userId)
      .orderBy('g.name')
      .execute();
    return rows.map(toGroup);
  }

  async listGroupMembers(groupId: string): Promise<User[]> {
    const rows = await usersQuery(this.db)
      .where(
        'u.id',
        'in',
        this.db.selectFrom('group_members').select('user_id').where('group_id', '=', groupId),
      )
      .execute();
    return foldUsers(rows, this.clock.nowMs());
  }
}
