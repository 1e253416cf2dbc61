// `airlock db migrate` and `airlock audit`: schema upgrades and reading the audit log.
import type { Command } from 'commander';
import { AirlockError } from '../../core/error-registry.ts';
import { describeUsernameCollisions } from '../../store/username-collisions.ts';
import { openContext, withContext } from '../open-context.ts';
import { registerDbBackupCommands } from './db-backup-commands.ts';
import { emit, isoTime, table } from '../output.ts';
import { commonOptions, nonNegativeInt, positiveInt, type CommonFlags } from './common.ts';

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('database maintenance');
  commonOptions(
    db
      .command('migrate')
      .description('apply pending schema migrations (the service also does this at start)'),
  ).action(async (flags: CommonFlags) => {
    const ctx = await openContext(flags, { migrate: false });
    try {
      const applied = await ctx.store.migrate();
      emit(flags, { applied }, () =>
        applied.length ? `Applied: ${applied.join(', ')}` : 'Schema is up to date.',
      );
    } finally {
      await ctx.close();
    }
  });

  commonOptions(
    db
      .command('username-collisions')
      .description(
        'list names that differ only in case on different users (they stop migration 0005)',
      ),
  ).action(async (flags: CommonFlags) => {
    const ctx = await openContext(flags, { migrate: false });
    try {
      const collisions = await ctx.store.listUsernameCollisions();
      emit(flags, collisions, () =>
        collisions.length === 0
          ? 'No username collisions.'
          : describeUsernameCollisions(collisions),
      );
    } finally {
      await ctx.close();
    }
  });

  commonOptions(
    db
      .command('resolve-username <user-id>')
      .description('resolve a username collision before migration 0005 (one action per call)')
      .option('--rename <name>', 'give the user this username')
      .option('--drop-alias <alias>', 'remove this alias from the user')
      .option('--delete', 'delete the user (tokens, devices and memberships go with it)'),
  ).action(
    async (
      userId: string,
      flags: CommonFlags & { rename?: string; dropAlias?: string; delete?: boolean },
    ) => {
      const actions = [
        ...(flags.rename !== undefined ? [{ rename: flags.rename }] : []),
        ...(flags.dropAlias !== undefined ? [{ dropAlias: flags.dropAlias }] : []),
        ...(flags.delete === true ? [{ delete: true as const }] : []),
      ];
      const [action] = actions;
      if (action === undefined || actions.length > 1) {
        throw new AirlockError('CLI_USAGE', undefined, {
          message: 'give exactly one of --rename NAME, --drop-alias ALIAS or --delete',
        });
      }
      const ctx = await openContext(flags, { migrate: false });
      try {
        await ctx.store.resolveUsernameCollision(userId, action);
        const left = await ctx.store.listUsernameCollisions();
        emit(flags, { resolved: true, user_id: userId, collisions_left: left.length }, () =>
          left.length === 0
            ? `Resolved. No collisions left: run airlock db migrate.`
            : `Resolved. ${left.length} collision(s) left (airlock db username-collisions).`,
        );
      } finally {
        await ctx.close();
      }
    },
  );

  registerDbBackupCommands(db);

  commonOptions(
    program
      .command('audit')
      .description('show the audit log (oldest first); page with --after')
      .option('--after <id>', 'only events after this id', nonNegativeInt)
      .option('--since <iso-time>', 'only events at or after this time')
      .option('--user <username>', 'only events about this user')
      .option('--action <action>', 'only this action, e.g. auth.passcode')
      .option('--limit <n>', 'at most this many (max 1000)', positiveInt, 100),
  ).action(
    async (
      flags: CommonFlags & {
        after?: number;
        since?: string;
        user?: string;
        action?: string;
        limit: number;
      },
    ) =>
      withContext(flags, async (ctx) => {
        const sinceMs = flags.since ? Date.parse(flags.since) : undefined;
        if (sinceMs !== undefined && Number.isNaN(sinceMs))
          throw new Error('--since must be an ISO time, e.g. 2026-11-30T09:00:00Z');
        const events = await ctx.store.listAudit({
          ...(flags.after !== undefined ? { afterId: flags.after } : {}),
          ...(sinceMs !== undefined ? { sinceMs } : {}),
          ...(flags.user ? { username: flags.user } : {}),
          ...(flags.action ? { action: flags.action } : {}),
          limit: flags.limit,
        });
        const rows = events.map((e) => ({ ...e, time: isoTime(e.tsMs) }));
        emit(flags, rows, () =>
          table(rows, ['id', 'time', 'actor', 'action', 'username', 'result']),
        );
      }),
  );
}
