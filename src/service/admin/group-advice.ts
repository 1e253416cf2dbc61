// The advisor's warning before a group goes into bypass: which applications it would reach.
import { adviseGroupBypass, type AdvisorSnapshot, type Finding } from '../../core/advisor.ts';
import type { AdminContext } from './admin-context.ts';

/** Findings for putting `groupId` in bypass, from the current applications, groups and policies. */
export async function adviseBypass(ctx: AdminContext, groupId: string): Promise<Finding[]> {
  const [applications, groups, members, extra] = await Promise.all([
    ctx.store.listApplications(),
    ctx.store.listGroups(),
    ctx.store.listGroupMembers(groupId),
    ctx.extensions.advisorContext?.(),
  ]);
  const snapshot: AdvisorSnapshot = {
    applications: applications.map((a) => ({
      id: a.id,
      name: a.name,
      ikey: a.ikey,
      restrictionLevel: a.restrictionLevel,
      allowedGroupIds: a.allowedGroupIds,
      policy: extra?.applicationPolicies?.[a.id],
    })),
    globalPolicy: extra?.globalPolicy,
    groups: groups.map((g) => ({ id: g.id, name: g.name, status: g.status })),
    memberCounts: { [groupId]: members.length },
    emergencyControls: extra?.emergencyControls,
  };
  // No application is "named": a group status applies everywhere the group reaches.
  return adviseGroupBypass([groupId], [], snapshot);
}

export function findingView(f: Finding) {
  return { code: f.code, severity: f.severity, message: f.message };
}
