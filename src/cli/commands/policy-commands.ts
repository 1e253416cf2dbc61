// `airlock policy …`, `airlock explain` and `airlock lint`: policies, why a login is decided as it
// is, and the advisor's findings.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadAuthProxyConfig } from '../../config/authproxy-config.ts';
import { lintSnapshot, type Finding } from '../../core/advisor.ts';
import { AirlockError } from '../../core/error-registry.ts';
import { explainDecision } from '../../core/explain.ts';
import { NEW_USER_POLICIES, type Application, type Group } from '../../core/model.ts';
import {
  evaluatePolicy,
  FACTORS,
  isFactor,
  NETWORK_ACTIONS,
  isNetworkAction,
  type NetworkRule,
  type Policy,
} from '../../core/policy.ts';
import { buildPolicyInput, loadPolicySnapshot } from '../../operations/policy-input.ts';
import { advisePolicyChange, advisorSnapshot } from '../../operations/policy-advice.ts';
import { clearPolicy, setPolicy } from '../../operations/policy-operations.ts';
import { requireApplication, requireGroupIds } from '../../operations/record-lookups.ts';
import {
  appPolicyScope,
  GLOBAL_POLICY_SCOPE,
  type Store,
  type StoredPolicy,
} from '../../store/store.ts';
import { withContext } from '../open-context.ts';
import { emit, isoTime } from '../output.ts';
import { choice, commonOptions, splitList, type CommonFlags } from './common.ts';

const UNSETTABLE = [
  'new-user-policy',
  'factors',
  'bypass-groups',
  'deny-groups',
  'network',
] as const;

interface SetFlags extends CommonFlags {
  app?: string;
  newUserPolicy?: string;
  factors?: string;
  bypassGroups?: string;
  denyGroups?: string;
  network?: string[];
  unset?: string[];
  yes?: boolean;
}

export function registerPolicyCommands(program: Command): void {
  const policy = program
    .command('policy')
    .description('global and per-application policies (docs/policies.md)');

  commonOptions(
    policy
      .command('show')
      .description("show every policy, or one application's policy and the global one")
      .option('--app <app>', 'application (name, id or ikey)'),
  ).action(async (flags: CommonFlags & { app?: string }) =>
    withContext(flags, async (ctx) => {
      const app =
        flags.app === undefined ? undefined : await requireApplication(ctx.store, flags.app);
      const all = await ctx.store.listPolicies();
      const shown = app
        ? all.filter((p) => p.scope === GLOBAL_POLICY_SCOPE || p.scope === appPolicyScope(app.id))
        : all;
      const groups = await ctx.store.listGroups();
      const apps = await ctx.store.listApplications();
      const described = shown.map((p) => describePolicy(p, groups, apps));
      emit(flags, described, () =>
        described.length === 0
          ? 'No policy is set: every application decides by its own settings (airlock app show).'
          : described.map(policyText).join('\n\n'),
      );
    }),
  );

  commonOptions(
    policy
      .command('set')
      .description(
        "set fields of the global policy, or of an application's policy with --app; fields not given are kept",
      )
      .option('--app <app>', 'application (name, id or ikey); default: the global policy')
      .option('--new-user-policy <policy>', NEW_USER_POLICIES.join('|'))
      .option('--factors <list>', `allowed second factors, comma-separated: ${FACTORS.join(',')}`)
      .option(
        '--bypass-groups <groups>',
        'groups whose members need no second factor (comma-separated names; "" = none, which on an application removes the global ones)',
      )
      .option('--deny-groups <groups>', 'groups whose members are denied (comma-separated names)')
      .option(
        '--network <action:ranges>',
        `a network rule, ${NETWORK_ACTIONS.join('|')}:RANGE[,RANGE…] (repeatable, in order; replaces the list), e.g. deny:10.0.0.0/8`,
        collect,
      )
      .option('--unset <field>', `remove a field: ${UNSETTABLE.join('|')} (repeatable)`, collect)
      .option('--yes', 'apply even when the advisor reports a new error'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  airlock policy set --network deny:203.0.113.0/24\n' +
        '  airlock policy set --app vpn --factors push,passcode --deny-groups contractors\n' +
        '  airlock policy set --app vpn --unset network',
    )
    .action(async (flags: SetFlags) =>
      withContext(flags, async (ctx) => {
        const app =
          flags.app === undefined ? undefined : await requireApplication(ctx.store, flags.app);
        const scope = app ? appPolicyScope(app.id) : GLOBAL_POLICY_SCOPE;
        const before = (await ctx.store.getPolicy(scope))?.policy ?? {};
        const next = await applyFlags(ctx.store, before, flags);
        const findings = await advisePolicyChange(ctx.store, scope, before, next);
        printFindings(findings);
        requireConfirmation(findings, flags.yes === true, 'policy change');
        const stored = await setPolicy(ctx, scope, next);
        const d = describePolicy(
          stored,
          await ctx.store.listGroups(),
          await ctx.store.listApplications(),
        );
        emit(flags, d, () => `${policyText(d)}\nApplies to logins within a second.`);
      }),
    );

  commonOptions(
    policy
      .command('clear')
      .description("delete the global policy, or an application's policy with --app")
      .option('--app <app>', 'application (name, id or ikey)'),
  ).action(async (flags: CommonFlags & { app?: string }) =>
    withContext(flags, async (ctx) => {
      const app =
        flags.app === undefined ? undefined : await requireApplication(ctx.store, flags.app);
      const scope = app ? appPolicyScope(app.id) : GLOBAL_POLICY_SCOPE;
      const deleted = await clearPolicy(ctx, scope);
      emit(flags, { scope, changed: deleted }, () =>
        deleted
          ? `Cleared the policy of ${scopeLabel(scope, app)}.`
          : `${scopeLabel(scope, app)} had no policy.`,
      );
    }),
  );

  commonOptions(
    program
      .command('explain <user>')
      .description('show how a login of USER to an application is decided now, and by which rule')
      .requiredOption('--app <app>', 'application (name, id or ikey)')
      .option('--ip <address>', 'the client address the application would report (ipaddr)'),
  ).action(async (username: string, flags: CommonFlags & { app: string; ip?: string }) =>
    withContext(flags, async (ctx) => {
      const app = await requireApplication(ctx.store, flags.app);
      const subject = await ctx.store.loadAuthSubject({ username });
      const snapshot = await loadPolicySnapshot(ctx.store);
      const input = buildPolicyInput(app, subject, snapshot, {
        nowMs: ctx.clock.nowMs(),
        clientIp: flags.ip,
      });
      const explanation = explainDecision(evaluatePolicy(input), input);
      emit(flags, explanation.json, () =>
        subject
          ? explanation.text
          : `${explanation.text}\nNote: Airlock has no user "${username}".`,
      );
    }),
  );

  commonOptions(
    program
      .command('lint')
      .description(
        "report configuration that contradicts an application's restriction level; exits 1 when a finding is an error",
      )
      .option(
        '--proxy-config <file>',
        'an authproxy.cfg to check too (failmode of the sections that protect applications); repeatable',
        collect,
      ),
  ).action(async (flags: CommonFlags & { proxyConfig?: string[] }) =>
    withContext(flags, async (ctx) => {
      const sections = (flags.proxyConfig ?? []).flatMap((file) =>
        loadAuthProxyConfig(file).servers.map((s) => ({
          proxy: resolve(file),
          section: s.section,
          ikey: s.ikey,
          failmode: s.failmode,
        })),
      );
      const findings = lintSnapshot(await advisorSnapshot(ctx.store, sections));
      emit(flags, findings, () =>
        findings.length === 0
          ? 'No findings.'
          : findings.map((f) => `${f.severity}: [${f.code}] ${f.message}`).join('\n'),
      );
      if (findings.some((f) => f.severity === 'error')) process.exitCode = 1;
    }),
  );
}

export function printFindings(findings: readonly Finding[]): void {
  if (findings.length === 0) return;
  const lines = findings.map((f) => `advisor ${f.severity}: [${f.code}] ${f.message}`);
  // stderr, so --json output on stdout stays one JSON document.
  process.stderr.write(`${lines.join('\n')}\n`);
}

/** Refuses without --yes when the advisor found anything this change would add. */
export function requireConfirmation(
  findings: readonly Finding[],
  yes: boolean,
  what: string,
): void {
  if (findings.length === 0 || yes) return;
  throw new AirlockError('EMERGENCY_NEEDS_CONFIRMATION', undefined, {
    message: `the advisor reports ${findings.length} finding${findings.length === 1 ? '' : 's'} for this ${what} (above); read them, then repeat with --yes to apply it anyway`,
  });
}

async function applyFlags(store: Store, before: Policy, flags: SetFlags): Promise<Policy> {
  const next: Policy = { ...before };
  for (const field of flags.unset ?? []) {
    switch (choice(field, UNSETTABLE, '--unset')) {
      case 'new-user-policy':
        delete next.newUserPolicy;
        break;
      case 'factors':
        delete next.allowedFactors;
        break;
      case 'bypass-groups':
        delete next.bypassGroupIds;
        break;
      case 'deny-groups':
        delete next.denyGroupIds;
        break;
      case 'network':
        delete next.networkRules;
        break;
    }
  }
  if (flags.newUserPolicy !== undefined)
    next.newUserPolicy = choice(flags.newUserPolicy, NEW_USER_POLICIES, '--new-user-policy');
  if (flags.factors !== undefined) {
    const factors = splitList(flags.factors);
    const unknown = factors.filter((f) => !isFactor(f));
    if (unknown.length > 0 || factors.length === 0) {
      throw new AirlockError('CLI_USAGE', undefined, {
        message: `--factors must list some of ${FACTORS.join(', ')}; got "${flags.factors}"`,
      });
    }
    next.allowedFactors = factors.filter(isFactor);
  }
  if (flags.bypassGroups !== undefined)
    next.bypassGroupIds = await requireGroupIds(store, splitList(flags.bypassGroups));
  if (flags.denyGroups !== undefined)
    next.denyGroupIds = await requireGroupIds(store, splitList(flags.denyGroups));
  if (flags.network !== undefined) next.networkRules = flags.network.map(parseNetworkRule);
  return next;
}

function parseNetworkRule(text: string): NetworkRule {
  const at = text.indexOf(':');
  const action = at < 0 ? '' : text.slice(0, at);
  const ranges = at < 0 ? [] : splitList(text.slice(at + 1));
  if (!isNetworkAction(action) || ranges.length === 0) {
    throw new AirlockError('CLI_USAGE', undefined, {
      message: `--network must be ${NETWORK_ACTIONS.join('|')}:RANGE[,RANGE…], e.g. deny:10.0.0.0/8; got "${text}"`,
    });
  }
  return { action, ranges };
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function describePolicy(p: StoredPolicy, groups: readonly Group[], apps: readonly Application[]) {
  const name = (id: string) => groups.find((g) => g.id === id)?.name ?? id;
  const appId = p.scope.startsWith('app:') ? p.scope.slice(4) : undefined;
  return {
    scope: p.scope,
    application: appId === undefined ? null : (apps.find((a) => a.id === appId)?.name ?? appId),
    new_user_policy: p.policy.newUserPolicy ?? null,
    allowed_factors: p.policy.allowedFactors ?? null,
    bypass_groups: p.policy.bypassGroupIds?.map(name) ?? null,
    deny_groups: p.policy.denyGroupIds?.map(name) ?? null,
    network_rules: p.policy.networkRules ?? null,
    policy: p.policy,
    updated: isoTime(p.updatedAtMs),
    updated_by: p.updatedBy,
  };
}

function policyText(d: ReturnType<typeof describePolicy>): string {
  const unset = '(not set)';
  return [
    d.application === null ? 'Global policy' : `Policy of application "${d.application}"`,
    `  new-user policy:  ${d.new_user_policy ?? unset}`,
    `  allowed factors:  ${d.allowed_factors?.join(', ') ?? unset}`,
    `  bypass groups:    ${d.bypass_groups === null ? unset : d.bypass_groups.join(', ') || '(none)'}`,
    `  deny groups:      ${d.deny_groups === null ? unset : d.deny_groups.join(', ') || '(none)'}`,
    `  network rules:    ${d.network_rules === null ? unset : d.network_rules.map((r) => `${r.action}:${r.ranges.join(',')}`).join('  ')}`,
    `  updated ${d.updated ?? '-'} by ${d.updated_by}`,
  ].join('\n');
}

function scopeLabel(scope: string, app: Application | undefined): string {
  return app
    ? `application "${app.name}"`
    : scope === GLOBAL_POLICY_SCOPE
      ? 'the global policy'
      : scope;
}
