// `airlock emergency …`: temporary, audited measures that revert by themselves (docs/policies.md).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  emergencyLimitsFromEnv,
  formatDurationMs,
  parseDurationMs,
} from '../../config/emergency-limits.ts';
import type { Finding } from '../../core/advisor.ts';
import type {
  EmergencyControl,
  EmergencyOperation,
  EmergencyScopeRequest,
} from '../../core/emergency-control.ts';
import { AirlockError } from '../../core/error-registry.ts';
import { EmergencyRunner } from '../../operations/emergency-runner.ts';
import type { Store } from '../../store/store.ts';
import { withContext, type AirlockContext } from '../open-context.ts';
import { emit, isoTime, table } from '../output.ts';
import { commonOptions, splitList, type CommonFlags } from './common.ts';
import { adviseEmergency } from '../../operations/policy-advice.ts';
import {
  resolveEmergencyRequest,
  type EmergencyStartRequest,
} from '../../operations/emergency-operations.ts';
import { printFindings, requireConfirmation } from './policy-commands.ts';
import { requireGroup } from '../../operations/record-lookups.ts';

interface StartFlags extends CommonFlags {
  reason: string;
  for?: string;
  yes?: boolean;
}

const EXPIRY_HELP =
  'how long it lasts: 90s, 30m, 1h … (default 1h; at most AIRLOCK_EMERGENCY_MAX_DURATION, default 24h; primary-only at most 4h)';

export function registerEmergencyCommands(program: Command): void {
  const emergency = program
    .command('emergency')
    .description(
      'temporary measures for an outage: each has a reason and an expiry, is audited, and is undone by itself',
    )
    .addHelpText(
      'after',
      '\nThe running service reverts a control within a second of its expiry (and at start-up, for\n' +
        'controls that expired while it was down); `emergency list` reverts due ones too.',
    );

  startCommand(
    emergency
      .command('bypass-groups')
      .description(
        'let members of groups skip 2FA on ONE application, temporarily (a temporary application policy)',
      )
      .requiredOption('--app <app>', 'the application (name, id or ikey)')
      .requiredOption('--groups <names>', 'comma-separated group names'),
    (ctx, flags: StartFlags & { app: string; groups: string }) =>
      plan(ctx, {
        scope: { kind: 'app-bypass-groups', appId: flags.app, groupIds: splitList(flags.groups) },
        reason: flags.reason,
      }),
  );

  startCommand(
    emergency
      .command('bypass-users')
      .description(
        'move users into a bypass group, temporarily; at the end only the users this control added are moved back',
      )
      .requiredOption(
        '--group <name>',
        'the bypass group (status bypass, or named by a policy as a bypass group)',
      )
      .option('--users <names>', 'comma-separated usernames')
      .option(
        '--csv <file>',
        'a file with one username per line (first column; a "username" header is skipped)',
      )
      .option('--filter <filter>', 'group=NAME: every member of group NAME')
      .option(
        '--apps <names>',
        'the applications you mean to open; any other application the group reaches needs --yes',
      ),
    async (
      ctx,
      flags: StartFlags & {
        group: string;
        users?: string;
        csv?: string;
        filter?: string;
        apps?: string;
      },
    ) =>
      plan(ctx, {
        scope: {
          kind: 'users-to-bypass-group',
          groupId: flags.group,
          userIds: await userRefs(ctx.store, flags),
        },
        reason: flags.reason,
        namedAppIds: splitList(flags.apps ?? ''),
      }),
  );

  startCommand(
    emergency
      .command('primary-only')
      .description(
        'switch a proxy into primary-only mode (no second factor), temporarily; the proxy reads its state directory within a second',
      )
      .requiredOption(
        '--proxy-state-dir <dir>',
        "the proxy's state_dir ([main] state_dir of its authproxy.cfg)",
      ),
    (ctx, flags: StartFlags & { proxyStateDir: string }) =>
      plan(ctx, {
        scope: { kind: 'primary-only', proxy: resolve(flags.proxyStateDir) },
        reason: flags.reason,
      }),
  );

  commonOptions(
    emergency
      .command('list')
      .description('show active controls: what, when each ends, who started it and why')
      .option('--all', 'include ended controls'),
  ).action(async (flags: CommonFlags & { all?: boolean }) =>
    withContext(flags, async (ctx) => {
      // Revert what is due first, so the list is true even when no service is running.
      await runner(ctx).sweep();
      const controls = await ctx.store.listEmergencyControls(flags.all ? {} : { state: 'active' });
      const rows = controls.map((c) => describeControl(c, ctx.clock.nowMs()));
      emit(flags, rows, () =>
        table(rows, ['id', 'kind', 'state', 'scope', 'ends', 'remaining', 'started_by', 'reason']),
      );
    }),
  );

  commonOptions(
    emergency
      .command('revert <id>')
      .description('undo a control now (exactly what it changed) and record why')
      .requiredOption('--reason <text>', 'why it ends now'),
  ).action(async (id: string, flags: CommonFlags & { reason: string }) =>
    withContext(flags, async (ctx) => {
      const done = await runner(ctx).revert(id, { by: ctx.actor, why: flags.reason });
      emit(
        flags,
        {
          ...describeControl(done.control, ctx.clock.nowMs()),
          operations: done.operations,
          kept: done.kept,
        },
        () =>
          [
            `Reverted ${done.control.id} (${done.control.scope.kind}).`,
            ...done.operations.map((op) => `  undone: ${describeOperation(op)}`),
            ...done.kept.map((k) => `  kept: ${k.what}, ${k.because}`),
          ].join('\n'),
      );
    }),
  );
}

type Planner<F> = (
  ctx: AirlockContext,
  flags: F,
) => Promise<{ scope: EmergencyScopeRequest; findings: Finding[] }>;

/** Resolves the request's names as every surface does, then asks the advisor about it. */
async function plan(
  ctx: AirlockContext,
  request: EmergencyStartRequest,
): Promise<{ scope: EmergencyScopeRequest; findings: Finding[] }> {
  const resolved = await resolveEmergencyRequest(ctx.store, request);
  const findings = await adviseEmergency(ctx.store, resolved.scope, {
    actor: ctx.actor,
    reason: resolved.reason,
    nowMs: ctx.clock.nowMs(),
    namedAppIds: resolved.namedAppIds,
  });
  return { scope: resolved.scope, findings };
}

/** The options and steps every start command shares: plan, advise, confirm, start, print. */
function startCommand<F extends StartFlags>(cmd: Command, plan: Planner<F>): void {
  commonOptions(
    cmd
      .requiredOption(
        '--reason <text>',
        'why (ticket, incident); recorded and shown in emergency list',
      )
      .option('--for <duration>', EXPIRY_HELP)
      .option('--yes', 'start it even though the advisor reports findings'),
  ).action(async (flags: F) =>
    withContext(flags, async (ctx) => {
      const durationMs = flags.for === undefined ? undefined : parseDurationMs(flags.for);
      if (flags.for !== undefined && durationMs === undefined) {
        throw new AirlockError('CLI_USAGE', undefined, {
          message: `--for must be a duration such as 90s, 30m or 1h; got "${flags.for}"`,
        });
      }
      const { scope, findings } = await plan(ctx, flags);
      printFindings(findings);
      requireConfirmation(findings, flags.yes === true, 'emergency control');
      const { control, operations } = await runner(ctx).start({
        scope,
        reason: flags.reason,
        actor: ctx.actor,
        durationMs,
      });
      const row = describeControl(control, ctx.clock.nowMs());
      emit(flags, { ...row, operations }, () =>
        [
          `Started ${control.id}: ${row.scope}.`,
          ...operations.map((op) => `  ${describeOperation(op)}`),
          `Ends by itself at ${row.ends} (in ${row.remaining}). End it earlier with: airlock emergency revert ${control.id} --reason …`,
        ].join('\n'),
      );
    }),
  );
}

function runner(ctx: AirlockContext): EmergencyRunner {
  return new EmergencyRunner({
    store: ctx.store,
    clock: ctx.clock,
    random: ctx.random,
    limits: emergencyLimitsFromEnv(process.env),
  });
}

/** The users named by exactly one of --users, --csv or --filter group=NAME (ids or names). */
async function userRefs(
  store: Store,
  flags: { users?: string; csv?: string; filter?: string },
): Promise<string[]> {
  const given = [flags.users, flags.csv, flags.filter].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new AirlockError('CLI_USAGE', undefined, {
      message: 'name the users with exactly one of --users, --csv or --filter',
    });
  }
  if (flags.users !== undefined) return splitList(flags.users);
  if (flags.csv !== undefined) return readCsvUsernames(flags.csv);
  const m = /^group=(.+)$/.exec(flags.filter ?? '');
  if (!m) {
    throw new AirlockError('CLI_USAGE', undefined, {
      message: `--filter must be group=NAME; got "${flags.filter ?? ''}"`,
    });
  }
  const group = await requireGroup(store, m[1]!.trim());
  return (await store.listGroupMembers(group.id)).map((u) => u.id);
}

function readCsvUsernames(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AirlockError('CLI_USAGE', undefined, {
      message: `--csv: cannot read ${file} (${(err as { code?: string }).code ?? String(err)})`,
    });
  }
  const names = text
    .split(/\r?\n/)
    .map((line) => (line.split(',')[0] ?? '').trim().replace(/^"(.*)"$/, '$1'))
    .filter(Boolean);
  return names[0]?.toLowerCase() === 'username' ? names.slice(1) : names;
}

function describeControl(c: EmergencyControl, nowMs: number) {
  const s = c.scope;
  const scope =
    s.kind === 'app-bypass-groups'
      ? `groups ${s.groupIds.join(',')} skip 2FA on application ${s.appId}`
      : s.kind === 'users-to-bypass-group'
        ? `${s.addedUserIds.length} user(s) added to bypass group ${s.groupId}` +
          (s.alreadyMemberUserIds.length > 0
            ? ` (${s.alreadyMemberUserIds.length} already members)`
            : '')
        : `primary-only mode in ${s.proxy}`;
  return {
    id: c.id,
    kind: s.kind,
    state: c.state,
    scope,
    ends: isoTime(c.state === 'active' ? c.expiresAtMs : (c.endedAtMs ?? c.expiresAtMs)),
    remaining: c.state === 'active' ? formatDurationMs(c.expiresAtMs - nowMs) : null,
    started: isoTime(c.createdAtMs),
    started_by: c.actor,
    reason: c.reason,
    ended_by: c.endedBy ?? null,
    end_reason: c.endReason ?? null,
    record: c,
  };
}

function describeOperation(op: EmergencyOperation): string {
  switch (op.op) {
    case 'add-group-member':
      return `added user ${op.userId} to group ${op.groupId}`;
    case 'remove-group-member':
      return `removed user ${op.userId} from group ${op.groupId}`;
    case 'start-app-bypass':
      return `groups ${op.groupIds.join(',')} skip 2FA on application ${op.appId}`;
    case 'end-app-bypass':
      return `groups ${op.groupIds.join(',')} no longer skip 2FA on application ${op.appId}`;
    case 'start-primary-only':
      return `primary-only mode switched on in ${op.proxy}`;
    case 'end-primary-only':
      return `primary-only mode switched off in ${op.proxy}`;
  }
}
