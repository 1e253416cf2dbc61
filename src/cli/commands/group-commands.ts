// `airlock group …`: create, list, set, add-member, remove-member, set-status, delete.
import type { Command } from 'commander';
import type { Finding } from '../../core/advisor.ts';
import { GROUP_STATUSES, type Group } from '../../core/model.ts';
import {
  addGroupMember,
  createGroup,
  deleteGroup,
  removeGroupMember,
  updateGroup,
} from '../../operations/group-operations.ts';
import { withContext } from '../open-context.ts';
import { emit, epochSeconds, table } from '../output.ts';
import { choice, commonOptions, type CommonFlags } from './common.ts';
import { printFindings } from './policy-commands.ts';

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
      const created = await createGroup(ctx, {
        name,
        description: flags.description ?? null,
        status: choice(flags.status, GROUP_STATUSES, '--status'),
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
      const {
        group: g,
        user: u,
        changed: added,
        warnings,
      } = await addGroupMember(ctx, groupRef, userRef);
      // Into a bypass group: the advisor's reach warning, as the Admin API and the console show it.
      printFindings(warnings);
      const row = { group: g.name, username: u.username, changed: added };
      emit(flags, { ...row, warnings: warnings.map(warningView) }, () =>
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
      const {
        group: g,
        user: u,
        changed: removed,
      } = await removeGroupMember(ctx, groupRef, userRef);
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
      const { group: updated } = await updateGroup(ctx, ref, {
        description: flags.description || null,
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
      const deleted = await deleteGroup(ctx, ref);
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
      // The group operation asks the advisor (operations/policy-advice.ts) when the group goes
      // into bypass; the same findings the console and the Admin API show, printed to stderr.
      const { group: updated, warnings } = await updateGroup(ctx, ref, { status: wanted });
      printFindings(warnings);
      emit(flags, { ...describe(updated), warnings: warnings.map(warningView) }, () =>
        updated.status === 'bypass'
          ? `Group "${updated.name}" is now in bypass: its members skip 2FA in every application the group can reach.`
          : `Group "${updated.name}" is now ${updated.status}.`,
      );
    }),
  );
}

/** A finding as `--json` returns it: the fields of the Admin API's `metadata.warnings`. */
function warningView(f: Finding) {
  return { code: f.code, severity: f.severity, message: f.message };
}

function describe(g: Group) {
  return {
    group_id: g.id,
    name: g.name,
    desc: g.description,
    status: g.status,
    created: epochSeconds(g.createdAtMs),
  };
}
