// Advisor: lint rules that find configuration contradicting an application's restriction level.
import type { EmergencyControl } from './emergency-control.ts';
import type { Failmode } from './failmode-decision.ts';
import type { GroupStatus, RestrictionLevel } from './model.ts';
import type { Policy } from './policy.ts';

export const FINDING_SEVERITIES = ['warning', 'error'] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];

/** Stable codes: `airlock lint` prints them and scripts may match on them. */
export const FINDING_CODES = [
  'most-restrictive-failmode-safe',
  'most-restrictive-bypass-reach',
  'bypass-reaches-unnamed-applications',
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

export const SUBJECT_TYPES = [
  'application',
  'group',
  'proxy-section',
  'emergency-control',
] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];

export interface Finding {
  code: FindingCode;
  severity: FindingSeverity;
  message: string;
  subjects: { type: SubjectType; id: string }[];
}

export interface AdvisorSnapshot {
  applications: readonly {
    id: string;
    name: string;
    ikey?: string | undefined;
    restrictionLevel: RestrictionLevel;
    /** Empty = every group (and every user) may use it. */
    allowedGroupIds: readonly string[];
    policy?: Policy | undefined;
  }[];
  globalPolicy?: Policy | undefined;
  groups: readonly { id: string; name: string; status: GroupStatus }[];
  /** Members per group id, for messages; a missing entry is an unknown count. */
  memberCounts?: Readonly<Record<string, number>> | undefined;
  /** The proxy sections that protect applications, by the application's ikey. */
  proxySections?: readonly { proxy: string; section: string; ikey: string; failmode: Failmode }[];
  /** Active emergency controls. */
  emergencyControls?: readonly EmergencyControl[] | undefined;
}

type SnapshotApp = AdvisorSnapshot['applications'][number];

/** Every finding over the snapshot, applications in snapshot order. */
export function lintSnapshot(snapshot: AdvisorSnapshot): Finding[] {
  const findings: Finding[] = [];
  for (const app of snapshot.applications) {
    if (app.restrictionLevel !== 'most-restrictive') continue;
    findings.push(...failmodeSafeFindings(app, snapshot));
    findings.push(...bypassReachFindings(app, snapshot));
  }
  return findings;
}

/** The guide: a most-restrictive application always fails secure. */
function failmodeSafeFindings(app: SnapshotApp, snapshot: AdvisorSnapshot): Finding[] {
  if (app.ikey === undefined) return [];
  return (snapshot.proxySections ?? [])
    .filter((s) => s.ikey === app.ikey && s.failmode === 'safe')
    .map((s) => ({
      code: 'most-restrictive-failmode-safe',
      severity: 'error',
      message:
        `application "${app.name}" is most-restrictive but proxy ${s.proxy} section [${s.section}] ` +
        `has failmode=safe: when the service is unreachable, users get in without a second factor`,
      subjects: [
        { type: 'application', id: app.id },
        { type: 'proxy-section', id: `${s.proxy}:${s.section}` },
      ],
    }));
}

/** The guide: a most-restrictive application allows no bypass. */
function bypassReachFindings(app: SnapshotApp, snapshot: AdvisorSnapshot): Finding[] {
  return bypassSources(app, snapshot).map((b) => ({
    code: 'most-restrictive-bypass-reach',
    severity: 'error',
    message:
      `application "${app.name}" is most-restrictive but ${b.how} group ` +
      `${groupLabel(b.groupId, snapshot)} can reach it without a second factor`,
    subjects: [
      { type: 'application', id: app.id },
      { type: 'group', id: b.groupId },
      ...(b.controlId ? [{ type: 'emergency-control' as const, id: b.controlId }] : []),
    ],
  }));
}

/**
 * The bypass groups that reach `app`: a group in `bypass` status that gives access to it, a
 * group in the bypass list of the policy that applies to it, a group of an active
 * `app-bypass-groups` control for it. A disabled group or one the policies deny reaches nothing.
 */
function bypassSources(
  app: SnapshotApp,
  snapshot: AdvisorSnapshot,
): { groupId: string; how: string; controlId?: string }[] {
  const sources: { groupId: string; how: string; controlId?: string }[] = [];
  for (const g of snapshot.groups) {
    if (g.status === 'bypass' && reaches(g.id, app, snapshot)) {
      sources.push({ groupId: g.id, how: 'bypass' });
    }
  }
  const policyBypass = app.policy?.bypassGroupIds ?? snapshot.globalPolicy?.bypassGroupIds ?? [];
  const from = app.policy?.bypassGroupIds !== undefined ? 'application policy' : 'global policy';
  for (const groupId of policyBypass) {
    if (reaches(groupId, app, snapshot, true)) {
      sources.push({ groupId, how: `${from} bypass` });
    }
  }
  for (const c of snapshot.emergencyControls ?? []) {
    if (c.state !== 'active' || c.scope.kind !== 'app-bypass-groups') continue;
    if (c.scope.appId !== app.id) continue;
    for (const groupId of c.scope.groupIds) {
      if (reaches(groupId, app, snapshot, true)) {
        sources.push({ groupId, how: `emergency control ${c.id} bypass`, controlId: c.id });
      }
    }
  }
  return sources;
}

/**
 * Whether members of `groupId` can use `app` through that group: the group exists and is not
 * disabled, no policy denies it, and the application is open or names it. A policy or emergency
 * bypass group (`named`) applies to any of its members who can use the application at all, so
 * only a deny or a disabled status stops it.
 */
function reaches(groupId: string, app: SnapshotApp, snapshot: AdvisorSnapshot, named = false) {
  const group = snapshot.groups.find((g) => g.id === groupId);
  if (group?.status === 'disabled') return false;
  if (!group && !named) return false;
  const denied = [
    ...(snapshot.globalPolicy?.denyGroupIds ?? []),
    ...(app.policy?.denyGroupIds ?? []),
  ];
  if (denied.includes(groupId)) return false;
  return named || app.allowedGroupIds.length === 0 || app.allowedGroupIds.includes(groupId);
}

export interface BypassReach {
  groupId: string;
  appId: string;
  appName: string;
  restrictionLevel: RestrictionLevel;
}

/**
 * The applications a group in bypass status would let its members into without a second factor,
 * other than those the admin named. Bypass applies to every application the group can reach: one
 * open to every group, or one that lists the group, unless a policy denies the group there.
 */
export function bypassReach(
  groupIds: readonly string[],
  namedAppIds: readonly string[],
  snapshot: AdvisorSnapshot,
): BypassReach[] {
  const reach: BypassReach[] = [];
  for (const groupId of groupIds) {
    for (const app of snapshot.applications) {
      if (namedAppIds.includes(app.id)) continue;
      const denied = [
        ...(snapshot.globalPolicy?.denyGroupIds ?? []),
        ...(app.policy?.denyGroupIds ?? []),
      ];
      if (denied.includes(groupId)) continue;
      if (app.allowedGroupIds.length === 0 || app.allowedGroupIds.includes(groupId)) {
        reach.push({
          groupId,
          appId: app.id,
          appName: app.name,
          restrictionLevel: app.restrictionLevel,
        });
      }
    }
  }
  return reach;
}

/**
 * The warning to show before a group is put in bypass (by status, or by moving users into a
 * bypass group): one finding per group that reaches unnamed applications. The caller must ask
 * for confirmation when any is returned. Severity is `error` when a most-restrictive
 * application is among them.
 */
export function adviseGroupBypass(
  groupIds: readonly string[],
  namedAppIds: readonly string[],
  snapshot: AdvisorSnapshot,
): Finding[] {
  const reach = bypassReach(groupIds, namedAppIds, snapshot);
  const findings: Finding[] = [];
  for (const groupId of groupIds) {
    const apps = reach.filter((r) => r.groupId === groupId);
    if (apps.length === 0) continue;
    const count = snapshot.memberCounts?.[groupId];
    findings.push({
      code: 'bypass-reaches-unnamed-applications',
      severity: apps.some((a) => a.restrictionLevel === 'most-restrictive') ? 'error' : 'warning',
      message:
        `bypass for group ${groupLabel(groupId, snapshot)}` +
        `${count === undefined ? '' : ` (${count} member${count === 1 ? '' : 's'})`} also applies to ` +
        apps.map((a) => `"${a.appName}" (${a.restrictionLevel})`).join(', '),
      subjects: [
        { type: 'group', id: groupId },
        ...apps.map((a) => ({ type: 'application' as const, id: a.appId })),
      ],
    });
  }
  return findings;
}

function groupLabel(groupId: string, snapshot: AdvisorSnapshot): string {
  const name = snapshot.groups.find((g) => g.id === groupId)?.name;
  return name ? `"${name}" (${groupId})` : groupId;
}
