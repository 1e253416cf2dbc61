// `airlock user …`: create, list, show, set, set-status, delete.
import type { Command } from 'commander';
import { AirlockError } from '../../core/error-registry.ts';
import { USER_STATUSES, type User } from '../../core/model.ts';
import { requireUser } from '../../operations/record-lookups.ts';
import {
  createUser,
  deleteUser,
  setUserAliases,
  updateUser,
} from '../../operations/user-operations.ts';
import { withContext } from '../open-context.ts';
import { emit, epochSeconds, isoTime, table } from '../output.ts';
import { choice, commonOptions, splitList, nonNegativeInt, type CommonFlags } from './common.ts';

interface CreateFlags extends CommonFlags {
  realName?: string;
  email?: string;
  alias?: string[];
  status?: string;
}

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('manage users');

  commonOptions(
    user
      .command('create <username>')
      .description('create a user')
      .option('--real-name <name>', 'full name')
      .option('--email <address>', 'e-mail address')
      .option('--alias <alias>', 'another name the user logs in with (repeatable)', collect, [])
      .option('--status <status>', USER_STATUSES.join('|'), 'active'),
  ).action(async (username: string, flags: CreateFlags) =>
    withContext(flags, async (ctx) => {
      const created = await createUser(ctx, {
        username,
        realName: flags.realName ?? null,
        email: flags.email ?? null,
        aliases: flags.alias ?? [],
        status: choice(flags.status, USER_STATUSES, '--status'),
      });
      emit(
        flags,
        describe(created, []),
        () =>
          `Created user "${created.username}" (${created.id}).\nNext: airlock token add-totp ${created.username}`,
      );
    }),
  );

  commonOptions(
    user
      .command('list')
      .description('list users')
      .option('--limit <n>', 'at most this many', nonNegativeInt, 1000)
      .option('--offset <n>', 'skip this many', nonNegativeInt, 0),
  ).action(async (flags: CommonFlags & { limit: number; offset: number }) =>
    withContext(flags, async (ctx) => {
      const users = (await ctx.store.listUsers({ limit: flags.limit, offset: flags.offset })).map(
        (u) => describe(u, []),
      );
      emit(flags, users, () =>
        table(users, ['username', 'user_id', 'status', 'realname', 'email', 'aliases']),
      );
    }),
  );

  commonOptions(
    user.command('show <user>').description('show a user, its groups and factors'),
  ).action(async (ref: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const u = await requireUser(ctx.store, ref);
      const [groups, tokens, codes] = await Promise.all([
        ctx.store.listUserGroups(u.id),
        ctx.store.listOtpTokens(u.id),
        ctx.store.listBypassCodes(u.id),
      ]);
      const data = {
        ...describe(
          u,
          groups.map((g) => g.name),
        ),
        failed_attempts: u.failedAttempts,
        locked_until: isoTime(u.lockedUntilMs),
        tokens: tokens.map((t) => ({
          token_id: t.id,
          type: t.type,
          name: t.name,
          created: epochSeconds(t.createdAtMs),
        })),
        bypass_codes: codes.map((c) => ({
          remaining_uses: c.remainingUses,
          expires: isoTime(c.expiresAtMs),
        })),
      };
      emit(flags, data, () =>
        [
          `username: ${data.username}`,
          `user_id: ${data.user_id}`,
          `status: ${lockoutText(data.status, data.locked_until)}`,
          `realname: ${data.realname ?? '-'}`,
          `email: ${data.email ?? '-'}`,
          `aliases: ${data.aliases.join(', ') || '-'}`,
          `groups: ${data.groups.join(', ') || '-'}`,
          `failed second factors in a row: ${data.failed_attempts}`,
          `tokens: ${data.tokens.map((t) => `${t.type}${t.name ? ` (${t.name})` : ''}`).join(', ') || '-'}`,
          `bypass codes: ${data.bypass_codes.length}`,
        ].join('\n'),
      );
    }),
  );

  commonOptions(
    user
      .command('set <user>')
      .description("change a user's real name, email or aliases; fields not given are kept")
      .option('--real-name <name>', 'real name ("" = none)')
      .option('--email <address>', 'email address ("" = none)')
      .option('--aliases <list>', 'every alias the user keeps, comma-separated ("" = none)'),
  ).action(
    async (
      ref: string,
      flags: CommonFlags & { realName?: string; email?: string; aliases?: string },
    ) =>
      withContext(flags, async (ctx) => {
        const patch = {
          ...(flags.realName !== undefined ? { realName: flags.realName || null } : {}),
          ...(flags.email !== undefined ? { email: flags.email || null } : {}),
        };
        if (Object.keys(patch).length === 0 && flags.aliases === undefined) {
          throw new AirlockError('CLI_USAGE', undefined, {
            message: 'nothing to change: give --real-name, --email or --aliases',
          });
        }
        let updated = await requireUser(ctx.store, ref);
        if (Object.keys(patch).length > 0) updated = await updateUser(ctx, updated.id, patch);
        if (flags.aliases !== undefined) {
          updated = await setUserAliases(ctx, updated.id, splitList(flags.aliases));
        }
        const groups = (await ctx.store.listUserGroups(updated.id)).map((g) => g.name);
        emit(flags, describe(updated, groups), () => `Updated user "${updated.username}".`);
      }),
  );

  commonOptions(
    user
      .command('set-status <user> <status>')
      .description(`set a user's status: ${USER_STATUSES.join('|')}`),
  ).action(async (ref: string, status: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const wanted = choice(status, USER_STATUSES, 'status');
      const updated = await updateUser(ctx, ref, { status: wanted });
      emit(
        flags,
        describe(updated, []),
        () => `User "${updated.username}" is now ${updated.status}.`,
      );
    }),
  );

  commonOptions(
    user
      .command('delete <user>')
      .description('delete a user with its tokens, codes and memberships'),
  ).action(async (ref: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const deleted = await deleteUser(ctx, ref);
      emit(
        flags,
        { deleted: true, user_id: deleted.id, username: deleted.username },
        () => `Deleted user "${deleted.username}".`,
      );
    }),
  );
}

/** `locked out until <time>`, or `… until an administrator unlocks`: a lockout says how long. */
function lockoutText(status: string, lockedUntil: string | null): string {
  if (status !== 'locked out') return status;
  return lockedUntil === null
    ? 'locked out until an administrator unlocks (airlock user set-status <user> active)'
    : `locked out until ${lockedUntil} (then it ends by itself)`;
}

export function describe(u: User, groups: string[]) {
  return {
    user_id: u.id,
    username: u.username,
    realname: u.realName,
    email: u.email,
    status: u.status,
    aliases: u.aliases,
    groups,
    created: epochSeconds(u.createdAtMs),
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
