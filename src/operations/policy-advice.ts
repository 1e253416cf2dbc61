// The advisor's findings for a change before it is applied: a policy change, or an emergency
// control. Shared by the CLI (printed, then --yes) and the Admin API / console (shown, then confirm).
import {
  adviseGroupBypass,
  lintSnapshot,
  type AdvisorSnapshot,
  type Finding,
} from '../core/advisor.ts';
import type { EmergencyControl, EmergencyScopeRequest } from '../core/emergency-control.ts';
import type { Policy } from '../core/policy.ts';
import { appPolicyScope, GLOBAL_POLICY_SCOPE, type Store } from '../store/store.ts';

/** What the advisor looks at: applications with their policies, groups, proxies, active controls. */
export async function advisorSnapshot(
  store: Store,
  proxySections: NonNullable<AdvisorSnapshot['proxySections']> = [],
): Promise<AdvisorSnapshot> {
  const [apps, groups, policies, controls] = await Promise.all([
    store.listApplications(),
    store.listGroups(),
    store.listPolicies(),
    store.listEmergencyControls({ state: 'active' }),
  ]);
  const byScope = new Map(policies.map((p) => [p.scope, p.policy]));
  const memberCounts: Record<string, number> = {};
  for (const g of groups) memberCounts[g.id] = (await store.listGroupMembers(g.id)).length;
  return {
    applications: apps.map((a) => ({
      id: a.id,
      name: a.name,
      ikey: a.ikey,
      restrictionLevel: a.restrictionLevel,
      allowedGroupIds: a.allowedGroupIds,
      policy: byScope.get(appPolicyScope(a.id)),
    })),
    globalPolicy: byScope.get(GLOBAL_POLICY_SCOPE),
    groups: groups.map((g) => ({ id: g.id, name: g.name, status: g.status })),
    memberCounts,
    proxySections,
    emergencyControls: controls,
  };
}

/** Findings in `after` that `before` does not have. */
export function newFindings(before: readonly Finding[], after: readonly Finding[]): Finding[] {
  const key = (f: Finding) => `${f.code}|${f.message}`;
  const seen = new Set(before.map(key));
  return after.filter((f) => !seen.has(key(f)));
}

/**
 * Findings a policy change would add: lint after minus lint before, plus the reach of a new
 * global bypass group. `scope` is GLOBAL_POLICY_SCOPE or appPolicyScope(appId).
 */
export async function advisePolicyChange(
  store: Store,
  scope: string,
  before: Policy,
  after: Policy,
): Promise<Finding[]> {
  const snapshot = await advisorSnapshot(store);
  const changed: AdvisorSnapshot =
    scope === GLOBAL_POLICY_SCOPE
      ? { ...snapshot, globalPolicy: after }
      : {
          ...snapshot,
          applications: snapshot.applications.map((a) =>
            appPolicyScope(a.id) === scope ? { ...a, policy: after } : a,
          ),
        };
  const findings = newFindings(lintSnapshot(snapshot), lintSnapshot(changed));
  if (scope === GLOBAL_POLICY_SCOPE) {
    // A global bypass group applies on every application that does not set its own list.
    const added = (after.bypassGroupIds ?? []).filter(
      (g) => !(before.bypassGroupIds ?? []).includes(g),
    );
    const overriding = snapshot.applications
      .filter((a) => a.policy?.bypassGroupIds !== undefined)
      .map((a) => a.id);
    findings.push(...adviseGroupBypass(added, overriding, changed));
  }
  return findings;
}

/**
 * Findings for an emergency control before it starts. Ids must be resolved. For bypass groups on
 * one application: what the temporary policy adds to lint (e.g. a most-restrictive application).
 * For users moved into a bypass group: every application the group reaches besides `namedAppIds`.
 */
export async function adviseEmergency(
  store: Store,
  scope: EmergencyScopeRequest,
  pending: { actor: string; reason: string; nowMs: number; namedAppIds?: readonly string[] },
): Promise<Finding[]> {
  if (scope.kind === 'primary-only') return [];
  const before = await advisorSnapshot(store);
  if (scope.kind === 'users-to-bypass-group') {
    return adviseGroupBypass([scope.groupId], pending.namedAppIds ?? [], before);
  }
  // Lint the world as it would be with the control in effect.
  const control: EmergencyControl = {
    id: '(new)',
    scope,
    reason: pending.reason,
    actor: pending.actor,
    createdAtMs: pending.nowMs,
    expiresAtMs: pending.nowMs + 1,
    state: 'active',
  };
  return newFindings(
    lintSnapshot(before),
    lintSnapshot({
      ...before,
      emergencyControls: [...(before.emergencyControls ?? []), control],
    }),
  );
}

/** A group is a bypass group when its status is bypass or a policy lists it as one. */
export async function isBypassGroup(store: Store, groupId: string): Promise<boolean> {
  const group = await store.getGroup(groupId);
  if (group?.status === 'bypass') return true;
  return (await store.listPolicies()).some((p) =>
    (p.policy.bypassGroupIds ?? []).includes(groupId),
  );
}

/**
 * Findings for putting `groupId` in bypass by its status: every application the group reaches.
 * No application is "named": a group status applies everywhere the group reaches.
 */
export async function adviseGroupStatusBypass(store: Store, groupId: string): Promise<Finding[]> {
  return adviseGroupBypass([groupId], [], await advisorSnapshot(store));
}
