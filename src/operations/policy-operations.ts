// Policies: set or clear the global policy or an application's; each change audited here only.
import type { Policy } from '../core/policy.ts';
import { appPolicyScope, GLOBAL_POLICY_SCOPE, type StoredPolicy } from '../store/store.ts';
import { auditEvent, type OperationContext } from './operation-context.ts';
import { requireApplication } from './record-lookups.ts';

/** The store scope of a policy: the global one, or an application named by id, ikey or name. */
export async function policyScope(
  ctx: Pick<OperationContext, 'store'>,
  appRef: string | undefined,
): Promise<string> {
  if (appRef === undefined) return GLOBAL_POLICY_SCOPE;
  return appPolicyScope((await requireApplication(ctx.store, appRef)).id);
}

/** Stores a validated policy for a scope; audited as `policy.set` with before and after. */
export async function setPolicy(
  ctx: OperationContext,
  scope: string,
  policy: Policy,
): Promise<StoredPolicy> {
  return ctx.store.transaction(async (tx) => {
    const before = (await tx.getPolicy(scope))?.policy ?? {};
    const saved = await tx.setPolicy(scope, policy, ctx.actor);
    await tx.appendAudit(policyAudit(ctx, 'policy.set', scope, { before, after: saved.policy }));
    return saved;
  });
}

/** Removes the policy of a scope; false when there was none. Audited as `policy.clear`. */
export async function clearPolicy(ctx: OperationContext, scope: string): Promise<boolean> {
  return ctx.store.transaction(async (tx) => {
    const old = await tx.getPolicy(scope);
    const deleted = await tx.deletePolicy(scope);
    if (deleted) {
      await tx.appendAudit(policyAudit(ctx, 'policy.clear', scope, { before: old?.policy }));
    }
    return deleted;
  });
}

function policyAudit(
  ctx: OperationContext,
  action: string,
  scope: string,
  detail: Record<string, unknown>,
) {
  return {
    ...auditEvent(ctx, action, { type: 'policy', id: scope }, detail),
    // An application's policy is filed under that application.
    appId: scope.startsWith('app:') ? scope.slice('app:'.length) : null,
  };
}
