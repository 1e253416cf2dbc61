// Groups: create, edit (name, description, status), delete, members; each change audited here.
import type { Finding } from '../core/advisor.ts';
import { AirlockError } from '../core/error-registry.ts';
import type { Group, GroupStatus, User } from '../core/model.ts';
import { generateId } from '../runtime/random.ts';
import type { Store } from '../store/store.ts';
import { adviseGroupStatusBypass } from './policy-advice.ts';
import { auditEvent, type OperationContext } from './operation-context.ts';
import { requireGroup, requireUser } from './record-lookups.ts';

export interface CreateGroupInput {
  name: string;
  description?: string | null;
  status?: GroupStatus;
}

/** What `updateGroup` may change; a field left out is kept, a null description clears it. */
export interface GroupEdit {
  name?: string;
  description?: string | null;
  status?: GroupStatus;
}

export interface GroupChange {
  group: Group;
  /** The advisor's findings when the group went into bypass (else none). */
  warnings: Finding[];
}

export interface MembershipChange {
  group: Group;
  user: User;
  /**
   * False when the user already was (add) or was not (remove) a member. An add that makes an
   * emergency control's membership the administrator's own is a change.
   */
  changed: boolean;
}

/** Creates a group; audited as `group.create`. */
export async function createGroup(ctx: OperationContext, input: CreateGroupInput): Promise<Group> {
  return ctx.store.transaction(async (tx) => {
    const group = await tx.createGroup({
      id: generateId(ctx.random, 'DG'),
      name: input.name,
      description: input.description ?? null,
      status: input.status ?? 'active',
    });
    await tx.appendAudit(
      auditEvent(
        ctx,
        'group.create',
        { type: 'group', id: group.id },
        { name: group.name, status: group.status },
      ),
    );
    return group;
  });
}

/**
 * Changes a group's name, description and status. A new status is audited as `group.set-status`
 * (from, to and the advisor's warnings when it becomes bypass); name and description as
 * `group.update`. A status equal to the current one changes nothing and is not audited.
 */
export async function updateGroup(
  ctx: OperationContext,
  ref: string,
  edit: GroupEdit,
): Promise<GroupChange> {
  const before = await requireGroup(ctx.store, ref);
  const statusChanges = edit.status !== undefined && edit.status !== before.status;
  const warnings =
    statusChanges && edit.status === 'bypass'
      ? await adviseGroupStatusBypass(ctx.store, before.id)
      : [];
  const group = await ctx.store.transaction(async (tx) => {
    const current = await requireGroup(tx, before.id);
    const patch = groupPatch(edit);
    let next = current;
    if (Object.keys(patch).length > 0) next = await tx.updateGroup(current.id, patch);
    if (edit.status !== undefined && edit.status !== current.status) {
      next = await setStatus(ctx, tx, current, edit.status, warnings);
    }
    if (Object.keys(patch).length > 0) {
      await tx.appendAudit(
        auditEvent(ctx, 'group.update', { type: 'group', id: current.id }, patch),
      );
    }
    return next;
  });
  return { group, warnings };
}

/** Deletes a group (refused while an application is restricted to it); audited as `group.delete`. */
export async function deleteGroup(ctx: OperationContext, ref: string): Promise<Group> {
  return ctx.store.transaction(async (tx) => {
    const group = await requireGroup(tx, ref);
    await tx.deleteGroup(group.id);
    await tx.appendAudit(
      auditEvent(ctx, 'group.delete', { type: 'group', id: group.id }, { name: group.name }),
    );
    return group;
  });
}

/** Adds a user to a group; audited as `group.add-member` only when it was not a member yet. */
export async function addGroupMember(
  ctx: OperationContext,
  groupRef: string,
  userRef: string,
): Promise<MembershipChange & { warnings: Finding[] }> {
  const found = await requireGroup(ctx.store, groupRef);
  // Into a bypass group: the member skips 2FA wherever the group reaches.
  const warnings =
    found.status === 'bypass' ? await adviseGroupStatusBypass(ctx.store, found.id) : [];
  const change = await ctx.store.transaction(async (tx) => {
    const group = await requireGroup(tx, found.id);
    const user = await requireUser(tx, userRef);
    const added = await tx.addGroupMember(group.id, user.id);
    // Already a member, through an emergency control: adding by hand makes it the admin's, so
    // the control's revert keeps it (security finding 13).
    const fromControl = added ? undefined : await tx.claimGroupMember(group.id, user.id);
    const changed = added || fromControl !== undefined;
    if (changed) {
      await tx.appendAudit(
        memberAudit(
          ctx,
          'group.add-member',
          group,
          user,
          fromControl ? { was_added_by_emergency_control: fromControl } : {},
        ),
      );
    }
    return { group, user, changed };
  });
  return { ...change, warnings };
}

/**
 * Removes a user from a group; audited as `group.remove-member`. With `mustBeMember`, a user who
 * is not in the group is ADMIN_NOT_FOUND (the Admin API's member path names a membership).
 */
export async function removeGroupMember(
  ctx: OperationContext,
  groupRef: string,
  userRef: string,
  options: { mustBeMember?: boolean } = {},
): Promise<MembershipChange> {
  return ctx.store.transaction(async (tx) => {
    const group = await requireGroup(tx, groupRef);
    const user = await requireUser(tx, userRef);
    const changed = await tx.removeGroupMember(group.id, user.id);
    if (!changed && options.mustBeMember) {
      throw new AirlockError('ADMIN_NOT_FOUND', `${user.username} is not in ${group.name}`);
    }
    if (changed) await tx.appendAudit(memberAudit(ctx, 'group.remove-member', group, user));
    return { group, user, changed };
  });
}

function groupPatch(edit: GroupEdit): { name?: string; description?: string | null } {
  return {
    ...(edit.name !== undefined ? { name: edit.name } : {}),
    ...(edit.description !== undefined ? { description: edit.description } : {}),
  };
}

async function setStatus(
  ctx: OperationContext,
  tx: Store,
  group: Group,
  status: GroupStatus,
  warnings: readonly Finding[],
): Promise<Group> {
  const next = await tx.setGroupStatus(group.id, status);
  await tx.appendAudit(
    auditEvent(
      ctx,
      'group.set-status',
      { type: 'group', id: group.id },
      { from: group.status, to: status, warnings: warnings.map((w) => w.message) },
    ),
  );
  return next;
}

function memberAudit(
  ctx: OperationContext,
  action: string,
  group: Group,
  user: User,
  extra: Record<string, unknown> = {},
) {
  return auditEvent(
    ctx,
    action,
    { type: 'group', id: group.id },
    { user_id: user.id, ...extra },
    user.username,
  );
}
