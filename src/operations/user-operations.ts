// Users: create, edit (name, e-mail, status), aliases, delete; each change audited here only.
import type { User, UserStatus } from '../core/model.ts';
import { generateId } from '../runtime/random.ts';
import type { Store } from '../store/store.ts';
import { auditEvent, type OperationContext } from './operation-context.ts';
import { requireUser } from './record-lookups.ts';

export interface CreateUserInput {
  username: string;
  realName?: string | null;
  email?: string | null;
  aliases?: readonly string[];
  status?: UserStatus;
}

/** What `updateUser` may change; a field left out is kept, null clears it. */
export interface UserEdit {
  realName?: string | null;
  email?: string | null;
  /** Any status but `locked out` also clears the count of failed second factors. */
  status?: UserStatus;
}

/** Creates a user; audited as `user.create`. */
export async function createUser(ctx: OperationContext, input: CreateUserInput): Promise<User> {
  return ctx.store.transaction(async (tx) => {
    const user = await tx.createUser({
      id: generateId(ctx.random, 'DU'),
      username: input.username,
      realName: input.realName ?? null,
      email: input.email ?? null,
      aliases: [...(input.aliases ?? [])],
      status: input.status ?? 'active',
    });
    await tx.appendAudit(
      auditEvent(
        ctx,
        'user.create',
        { type: 'user', id: user.id },
        { status: user.status, aliases: user.aliases },
        user.username,
      ),
    );
    return user;
  });
}

/**
 * Changes a user's real name, e-mail and status. Audited once: `user.set-status` (with the
 * changed fields and from/to) when a status is given, else `user.update` with the changed fields.
 */
export async function updateUser(
  ctx: OperationContext,
  ref: string,
  edit: UserEdit,
): Promise<User> {
  return ctx.store.transaction(async (tx) => {
    const user = await requireUser(tx, ref);
    const patch = fieldPatch(edit);
    let next = Object.keys(patch).length > 0 ? await tx.updateUser(user.id, patch) : user;
    if (edit.status !== undefined) next = await applyStatus(tx, user, edit.status);
    const statusChange = edit.status !== undefined ? { from: user.status, to: edit.status } : {};
    await tx.appendAudit(
      auditEvent(
        ctx,
        edit.status !== undefined ? 'user.set-status' : 'user.update',
        { type: 'user', id: user.id },
        { ...patch, ...statusChange },
        user.username,
      ),
    );
    return next;
  });
}

/** Replaces every alias of a user; audited as `user.set-aliases` with before and after. */
export async function setUserAliases(
  ctx: OperationContext,
  ref: string,
  aliases: readonly string[],
): Promise<User> {
  return ctx.store.transaction(async (tx) => {
    const user = await requireUser(tx, ref);
    const next = await tx.setUserAliases(user.id, [...aliases]);
    await tx.appendAudit(
      auditEvent(
        ctx,
        'user.set-aliases',
        { type: 'user', id: user.id },
        { from: user.aliases, to: next.aliases },
        user.username,
      ),
    );
    return next;
  });
}

/** Deletes a user with its tokens, codes, devices and memberships; audited as `user.delete`. */
export async function deleteUser(ctx: OperationContext, ref: string): Promise<User> {
  return ctx.store.transaction(async (tx) => {
    const user = await requireUser(tx, ref);
    await tx.deleteUser(user.id);
    await tx.appendAudit(
      auditEvent(ctx, 'user.delete', { type: 'user', id: user.id }, {}, user.username),
    );
    return user;
  });
}

function fieldPatch(edit: UserEdit): { realName?: string | null; email?: string | null } {
  return {
    ...(edit.realName !== undefined ? { realName: edit.realName } : {}),
    ...(edit.email !== undefined ? { email: edit.email } : {}),
  };
}

async function applyStatus(tx: Store, user: User, status: UserStatus): Promise<User> {
  const next = await tx.setUserStatus(user.id, status);
  // Unlocking (or any explicit status) starts the failure count afresh.
  if (status !== 'locked out') await tx.resetSecondFactorFailures(user.id);
  return next;
}
