// `airlock group …`: create, list, set, add-member, remove-member, set-status, delete.
import type { Command } from 'commander';
import { AirlockError } from '../../core/error-registry.ts';
import { GROUP_STATUSES, type Group } from '../../core/model.ts';
import { generateId } from '../../runtime/random.ts';
import type { Store } from '../../store/store.ts';
import { withContext } from '../open-context.ts';
import { emit, isoTime, table } from '../output.ts';
import { adminAudit, choice, commonOptions, type CommonFlags } from './common.ts';
import { requireUser } from './user-commands.ts';

export function registerGroupCommands(program: Command): void {
  const group = program.command('group').description('manage groups and their members');

  commonOptions(
    group
      .command('create <name>')
      .description('create a group')
      .option('--description <text>', 'what the group is for')
      .option('--status <status>', GROUP_STATUSES.join('|'), 'active'),
  ).action(async (name: string, flags: CommonFlags & { description?: string; status?: string }) =>
    withContext(flags, async (ctx) => {
      const created = await ctx.store.transaction(async (tx) => {
        const g = await tx.createGroup({
          id: generateId(ctx.random, 'DG'),
          name,
          description: flags.description ?? null,
          status: choice(flags.status, GROUP_STATUSES, '--status'),
        });
        await tx.appendAudit(
          adminAudit(ctx, 'group.create', 'group', g.id, { name, status: g.status }),
        );
        return g;
      });
      emit(flags, describe(created), () => `Created group "${created.name}" (${created.id}).`);
    }),
  );

  commonOptions(group.command('list').description('list groups')).action(
    async (flags: CommonFlags) =>
      withContext(flags, async (ctx) => {
        const groups = (await ctx.store.listGroups()).map(describe);
        emit(flags, groups, () => table(groups, ['name', 'group_id', 'status', 'desc']));
      }),
  );

  commonOptions(
    group.command('add-member <group> <user>').description('add a user to a group'),
  ).action(async (groupRef: string, userRef: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const [g, u, added] = await ctx.store.transaction(async (tx) => {
        const g = await requireGroup(tx, groupRef);
        const u = await requireUser(tx, userRef);
        const added = await tx.addGroupMember(g.id, u.id);
        if (added)
          await tx.appendAudit(
            adminAudit(ctx, 'group.add-member', 'group', g.id, { user_id: u.id }, u.username),
          );
        return [g, u, added] as const;
      });
      emit(flags, { group: g.name, username: u.username, changed: added }, () =>
        added
          ? `Added "${u.username}" to "${g.name}".`
          : `"${u.username}" already is in "${g.name}".`,
      );
    }),
  );

  commonOptions(
    group.command('remove-member <group> <user>').description('remove a user from a group'),
  ).action(async (groupRef: string, userRef: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const [g, u, removed] = await ctx.store.transaction(async (tx) => {
        const g = await requireGroup(tx, groupRef);
        const u = await requireUser(tx, userRef);
        const removed = await tx.removeGroupMember(g.id, u.id);
        if (removed)
          await tx.appendAudit(
            adminAudit(ctx, 'group.remove-member', 'group', g.id, { user_id: u.id }, u.username),
          );
        return [g, u, removed] as const;
      });
      emit(flags, { group: g.name, username: u.username, changed: removed }, () =>
        removed
          ? `Removed "${u.username}" from "${g.name}".`
          : `"${u.username}" was not in "${g.name}".`,
      );
    }),
  );

  commonOptions(
    group
      .command('set <group>')
      .description("change a group's description")
      .requiredOption('--description <text>', 'the description ("" = none)'),
  ).action(async (ref: string, flags: CommonFlags & { description: string }) =>
    withContext(flags, async (ctx) => {
      const updated = await ctx.store.transaction(async (tx) => {
        const g = await requireGroup(tx, ref);
        const patch = { description: flags.description || null };
        const next = await tx.updateGroup(g.id, patch);
        await tx.appendAudit(adminAudit(ctx, 'group.update', 'group', g.id, patch));
        return next;
      });
      emit(flags, describe(updated), () => `Updated group "${updated.name}".`);
    }),
  );

  commonOptions(
    group
      .command('delete <group>')
      .description('delete a group (refused while an application is restricted to it)'),
  ).action(async (ref: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const deleted = await ctx.store.transaction(async (tx) => {
        const g = await requireGroup(tx, ref);
        await tx.deleteGroup(g.id);
        await tx.appendAudit(adminAudit(ctx, 'group.delete', 'group', g.id, { name: g.name }));
        return g;
      });
      emit(
        flags,
        { deleted: true, group_id: deleted.id, name: deleted.name },
        () => `Deleted group "${deleted.name}".`,
      );
    }),
  );

  commonOptions(
    group
      .command('set-status <group> <status>')
      .description(
        `set a group's status: ${GROUP_STATUSES.join('|')} (bypass skips 2FA in every application the group can reach)`,
      ),
  ).action(async (ref: string, status: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const wanted = choice(status, GROUP_STATUSES, 'status');
      const updated = await ctx.store.transaction(async (tx) => {
        const g = await requireGroup(tx, ref);
        const next = await tx.setGroupStatus(g.id, wanted);
        await tx.appendAudit(
          adminAudit(ctx, 'group.set-status', 'group', g.id, { from: g.status, to: wanted }),
        );
        return next;
      });
      emit(flags, describe(updated), () =>
        updated.status === 'bypass'
          ? `Group "${updated.name}" is now in bypass: its members skip 2FA in every application the group can reach.`
          : `Group "${updated.name}" is now ${updated.status}.`,
      );
    }),
  );
}

function describe(g: Group) {
  return {
    group_id: g.id,
    name: g.name,
    desc: g.description,
    status: g.status,
    created: isoTime(g.createdAtMs),
  };
}

async function requireGroup(store: Store, ref: string): Promise<Group> {
  const g = await store.getGroup(ref);
  if (!g) throw new AirlockError('STORE_NOT_FOUND', `no group "${ref}" (try: airlock group list)`);
  return g;
}
