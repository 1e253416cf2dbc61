// The disaster-recovery plan per application, from the live configuration (the outage guide's
// "application-specific DR plans"): where failmode is enforced, what users see when the service is
// unreachable vs degraded, who may bypass and how, what to revert, which message to send.
import type { Finding } from './advisor.ts';
import type { Failmode } from './failmode-decision.ts';
import type { ApplicationType, GroupStatus, RestrictionLevel } from './model.ts';
import type { Policy } from './policy.ts';
import { templateKindFor, type MessageKind } from './user-messages.ts';

export interface DrPlanInput {
  applications: readonly {
    id: string;
    name: string;
    ikey: string;
    type: ApplicationType;
    restrictionLevel: RestrictionLevel;
    allowedGroupIds: readonly string[];
    policy?: Policy | undefined;
  }[];
  globalPolicy?: Policy | undefined;
  groups: readonly { id: string; name: string; status: GroupStatus }[];
  /**
   * Server sections of the proxy configurations given (`--proxy-config`), and the `[app:NAME]` and
   * `[oidc_client:ID]` sections of the gateway configurations (`--gateway-config`, `kind: 'gateway'`).
   */
  proxySections: readonly {
    /** Whose section it is; `proxy` when absent. */
    kind?: 'proxy' | 'gateway';
    /** The config file (absolute). */
    proxy: string;
    /** The `[main] state_dir` (absolute): where primary-only mode is switched. */
    stateDir: string;
    section: string;
    ikey: string;
    failmode: Failmode;
    /** True when the section does not set failmode (the default, secure, applies). */
    failmodeDefault: boolean;
    failmodeSecureGroups: readonly string[];
    failmodeSafeGroups: readonly string[];
  }[];
  /** The advisor's findings over the same configuration (`lintSnapshot`). */
  findings: readonly Finding[];
}

export const ENFORCEMENT_POINTS = ['proxy', 'gateway', 'sdk', 'client', 'none-found'] as const;
export type EnforcementPoint = (typeof ENFORCEMENT_POINTS)[number];

export interface Enforcement {
  where: EnforcementPoint;
  /** `authproxy.cfg [radius_server_auto]`, `web SDK (the application's code)`, … */
  label: string;
  /** The failmode in effect there; undefined where Airlock cannot read it. */
  failmode: Failmode | undefined;
  /** Per-group exceptions, the default failmode used, where to set it. */
  notes: string[];
}

export interface DrPlanEntry {
  application: {
    id: string;
    name: string;
    type: ApplicationType;
    restrictionLevel: RestrictionLevel;
  };
  /** The failmode the guide expects for the restriction level. */
  expectedFailmode: Failmode;
  enforcement: Enforcement[];
  /** What users see when the service is unreachable (failmode invoked), per enforcement point. */
  unreachable: string[];
  /** What users see when the service is degraded (failmode not invoked). */
  degraded: string[];
  bypass: {
    /** The guide's rule for the restriction level. */
    rule: string;
    /** Groups that may be bypassed, by name (empty for most-restrictive). */
    groups: string[];
    /** The exact emergency commands, in the order to consider them. */
    commands: string[];
  };
  revert: string[];
  /** The templates that apply when failmode is invoked; `factor-outage` for one failing method. */
  templates: MessageKind[];
  findings: Finding[];
}

const LEVEL_TEXT: Record<RestrictionLevel, string> = {
  'most-restrictive': 'most restrictive',
  restrictive: 'restrictive',
  'less-restrictive': 'less restrictive',
};

/** The guide's failmode per restriction level: restrictive levels fail secure. */
export function expectedFailmode(level: RestrictionLevel): Failmode {
  return level === 'less-restrictive' ? 'safe' : 'secure';
}

export function restrictionLevelText(level: RestrictionLevel): string {
  return LEVEL_TEXT[level];
}

/** One plan entry per application, in input order. */
export function buildDrPlan(input: DrPlanInput): DrPlanEntry[] {
  return input.applications.map((app) => planFor(app, input));
}

type PlanApp = DrPlanInput['applications'][number];

function planFor(app: PlanApp, input: DrPlanInput): DrPlanEntry {
  const enforcement = enforcementOf(app, input);
  const failmodes = [
    ...new Set(enforcement.flatMap((e) => (e.failmode ? [e.failmode] : []))),
  ] as Failmode[];
  const expected = expectedFailmode(app.restrictionLevel);
  const templates: MessageKind[] = (failmodes.length > 0 ? failmodes : [expected])
    .sort()
    .map(templateKindFor);
  templates.push('factor-outage');
  return {
    application: {
      id: app.id,
      name: app.name,
      type: app.type,
      restrictionLevel: app.restrictionLevel,
    },
    expectedFailmode: expected,
    enforcement,
    unreachable: enforcement.map((e) => `${e.label}: ${unreachableText(e)}`),
    degraded: [
      'Failmode is NOT invoked: the service still decides every login.',
      'A failing method (push, SMS, phone) makes those logins time out or fail; users can choose another method (send the factor-outage message).',
      'If logins cannot complete at all, use the bypass below for the users who may be bypassed; everyone else waits.',
    ],
    bypass: bypassFor(app, input),
    revert: revertChecklist(enforcement),
    templates,
    findings: input.findings.filter((f) =>
      f.subjects.some((s) => s.type === 'application' && s.id === app.id),
    ),
  };
}

function enforcementOf(app: PlanApp, input: DrPlanInput): Enforcement[] {
  const sections = input.proxySections.filter((s) => s.ikey === app.ikey);
  const found: Enforcement[] = sections.map((s) => ({
    where: s.kind ?? 'proxy',
    label: `${s.kind ?? 'proxy'} ${s.proxy} [${s.section}]`,
    failmode: s.failmode,
    notes: [
      ...(s.failmodeDefault ? ['failmode not set: the default, secure, applies'] : []),
      ...(s.failmodeSecureGroups.length > 0
        ? [`members of ${s.failmodeSecureGroups.join('; ')} fail secure (failmode_secure_groups)`]
        : []),
      ...(s.failmodeSafeGroups.length > 0
        ? [`members of ${s.failmodeSafeGroups.join('; ')} fail safe (failmode_safe_groups)`]
        : []),
    ],
  }));
  if (found.length > 0) return found;
  switch (app.type) {
    case 'web-sdk':
      return [
        {
          where: 'sdk',
          label: 'web SDK (the application’s code)',
          failmode: undefined,
          notes: [
            'the application decides after its health check; without a check the SDK fails secure',
          ],
        },
      ];
    case 'unix':
      return [
        {
          where: 'client',
          label: 'Duo Unix / pam_duo (failmode in pam_duo.conf)',
          failmode: undefined,
          notes: [
            'pam_duo’s default failmode is safe: set failmode=secure where the data demands it',
          ],
        },
      ];
    case 'auth-api':
      return [
        {
          where: 'client',
          label: 'Auth API client (its own failmode setting)',
          failmode: undefined,
          notes: ['Airlock cannot read it: check the client’s configuration'],
        },
      ];
    case 'radius':
    case 'ldap':
    case 'authproxy':
      return [
        {
          where: 'none-found',
          label: 'no proxy section with this ikey in the configurations given',
          failmode: undefined,
          notes: ['pass the proxy’s authproxy.cfg with --proxy-config'],
        },
      ];
  }
}

function unreachableText(e: Enforcement): string {
  if (e.where === 'gateway') return gatewayUnreachableText(e.failmode);
  switch (e.failmode) {
    case 'safe':
      return 'failmode=safe: users who pass primary authentication get in WITHOUT a second factor (logged as "Failmode Safe - Allowed Duo login on preauth failure")';
    case 'secure':
      return 'failmode=secure: access is DENIED, even after primary authentication (logged as "Failmode Secure - Denied Duo login on preauth failure")';
    case undefined:
      return 'failmode unknown to Airlock: find out and record it before an outage does';
  }
}

function bypassFor(app: PlanApp, input: DrPlanInput): DrPlanEntry['bypass'] {
  const name = (id: string) => input.groups.find((g) => g.id === id)?.name ?? id;
  const quoted = JSON.stringify(app.name);
  const reason = '--reason "<incident>" --for 1h';
  if (app.restrictionLevel === 'most-restrictive') {
    return {
      rule: 'Nobody. Two-factor authentication is required without exception: no bypass group, no emergency bypass, no primary-only mode for its proxy sections; users wait for the service.',
      groups: [],
      commands: [],
    };
  }
  const policyBypass = app.policy?.bypassGroupIds ?? input.globalPolicy?.bypassGroupIds ?? [];
  const groups =
    app.restrictionLevel === 'restrictive'
      ? policyBypass.map(name)
      : (app.allowedGroupIds.length > 0 ? app.allowedGroupIds : policyBypass).map(name);
  const groupList = groups.length > 0 ? groups.join(',') : '<GROUPS>';
  const commands = [
    `airlock emergency bypass-groups --app ${quoted} --groups ${groupList} ${reason}`,
  ];
  if (app.restrictionLevel === 'less-restrictive') {
    // Primary-only mode skips the second factor in the proxy's failmode=safe sections only.
    const dirs = input.proxySections
      .filter((s) => s.ikey === app.ikey && s.failmode === 'safe')
      .map((s) => s.stateDir);
    for (const dir of new Set(dirs)) {
      commands.push(`airlock emergency primary-only --proxy-state-dir ${dir} ${reason}`);
    }
  }
  return {
    rule:
      app.restrictionLevel === 'restrictive'
        ? 'Only the groups for which access without two-factor authentication is tolerable; never the groups that must always use it.'
        : 'Groups for which access without two-factor authentication is tolerable may be bypassed.',
    groups,
    commands,
  };
}

/** docs/gateway.md "Failmode per application": what the portal does when the service is unreachable. */
function gatewayUnreachableText(failmode: Failmode | undefined): string {
  switch (failmode) {
    case 'safe':
      return 'failmode=safe: users whose directory password is accepted get in WITHOUT a second factor, for a shorter session with a banner (Remote-2FA: skipped-failmode, amr pwd; a failmode line in gateway.log)';
    case 'secure':
      return 'failmode=secure: access is DENIED after the directory password, with a page that says why';
    case undefined:
      return 'failmode unknown to Airlock: find out and record it before an outage does';
  }
}

function revertChecklist(enforcement: readonly Enforcement[]): string[] {
  const list = [
    'airlock emergency list — every control (bypass, primary-only) ends by itself; end one now with: airlock emergency revert <id> --reason "<why>"',
    'airlock lint — no finding left by the temporary measures',
  ];
  if (enforcement.some((e) => e.where === 'proxy')) {
    list.push(
      'authproxy.log of each proxy: "Primary only mode ended" if it was on; no Failmode line after the recovery',
    );
  }
  if (enforcement.some((e) => e.where === 'gateway')) {
    list.push(
      'gateway.log of each gateway: no failmode line after the recovery; sessions let in by failmode (Remote-2FA: skipped-failmode) end with their shorter lifetime, or log those users out now',
    );
  }
  list.push(
    'Firewall rules added to force failmode are removed',
    'Users were told that two-factor authentication is back (incident resolved on the status page)',
  );
  return [...new Set(list)];
}
