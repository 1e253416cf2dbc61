// Console steps for the extensions: policies (edit, confirm past the advisor, clear) and
// emergency controls (preview, start, revert).
import type { Policy } from '../../../core/policy.ts';
import { requireApplication } from '../../../operations/record-lookups.ts';
import type { ParamMap } from '../../auth-api/request-params.ts';
import { parseParams } from '../admin-route.ts';
import { adminRoute } from '../routes/all-routes.ts';
import { emergencyRequestOf } from '../routes/extension-routes.ts';
import { notAvailablePage, type Names } from './console-pages.ts';
import {
  names,
  pick,
  redirect,
  type ActionCall,
  type ActionOutcome,
  type ConsoleContext,
  type PageView,
} from './console-step.ts';
import type { SafeHtml } from './html.ts';
import {
  emergencyPage,
  emergencyPreviewPage,
  policiesPage,
  policyConfirmPage,
  policyEditPage,
} from './policy-pages.ts';

// ---- Policies ----

export async function renderPolicies(c: ConsoleContext): Promise<SafeHtml> {
  const policies = c.admin.extensions.policies;
  if (!policies) return notAvailablePage('Policies');
  const { global, applications } = await policies.list();
  return policiesPage({ ...(await names(c)), global, applicationPolicies: applications });
}

export async function renderPolicy(c: ConsoleContext, view: PageView): Promise<SafeHtml> {
  const policies = c.admin.extensions.policies;
  if (!policies) return notAvailablePage('Policies');
  const scope = (view.req.params as { id: string }).id;
  if (scope !== 'global') await requireApplication(c.admin.store, scope);
  const { global, applications } = await policies.list();
  const policy = scope === 'global' ? global : applications.find((a) => a.appId === scope)?.policy;
  return policyEditPage({
    ...(await names(c)),
    scope,
    policy: policy ?? undefined,
    csrfToken: view.actor.csrfToken,
  });
}

/** Saves the form's policy, or first shows the advisor's warnings to confirm. */
export async function savePolicy(c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  const policy = JSON.stringify(policyFromForm(call.form));
  const preview = await call.run(
    'POST',
    '/admin/v1/policies/:scope/preview',
    { scope: call.id },
    { policy: [policy] },
  );
  const warnings = (preview.response as { message: string }[]).map((f) => f.message);
  if (warnings.length > 0) {
    return policyConfirmPage({
      ...(await names(c)),
      scope: call.id,
      policy: JSON.parse(policy) as Policy,
      warnings,
      csrfToken: call.actor.csrfToken,
    });
  }
  await call.run('POST', '/admin/v1/policies/:scope', { scope: call.id }, { policy: [policy] });
  return redirect(`/admin/policies/${call.id}`, 'saved');
}

export async function applyPolicy(_c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  await call.run(
    'POST',
    '/admin/v1/policies/:scope',
    { scope: call.id },
    pick(call.form, ['policy', 'confirm']),
  );
  return redirect(`/admin/policies/${call.id}`, 'saved');
}

export async function clearPolicy(_c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  await call.run('DELETE', '/admin/v1/policies/:scope', { scope: call.id }, {});
  return redirect('/admin/policies', 'cleared');
}

/** The policy the console's form describes; empty fields are left unset. */
function policyFromForm(form: ParamMap): Record<string, unknown> {
  const first = (name: string) => form[name]?.[0]?.trim() ?? '';
  const list = (name: string) => (form[name] ?? []).filter(Boolean);
  const policy: Record<string, unknown> = {};
  if (first('new_user_policy')) policy.newUserPolicy = first('new_user_policy');
  if (list('factors').length > 0) policy.allowedFactors = list('factors');
  if (first('bypass_none') === 'true') policy.bypassGroupIds = [];
  else if (list('bypass_groups').length > 0) policy.bypassGroupIds = list('bypass_groups');
  if (list('deny_groups').length > 0) policy.denyGroupIds = list('deny_groups');
  const rules = first('network')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const at = line.indexOf(':');
      return {
        action: at < 0 ? line : line.slice(0, at).trim(),
        ranges:
          at < 0
            ? []
            : line
                .slice(at + 1)
                .split(',')
                .map((r) => r.trim())
                .filter(Boolean),
      };
    });
  if (rules.length > 0) policy.networkRules = rules;
  return policy;
}

// ---- Emergency controls ----

export async function renderEmergency(c: ConsoleContext, view: PageView): Promise<SafeHtml> {
  const emergency = c.admin.extensions.emergency;
  if (!emergency) return notAvailablePage('Emergency controls');
  return emergencyPage({
    ...(await names(c)),
    controls: await emergency.listAll(),
    nowMs: c.admin.clock.nowMs(),
    csrfToken: view.actor.csrfToken,
  });
}

/** What the control would do and the advisor's warnings, with the form again to confirm. */
export async function previewEmergency(
  c: ConsoleContext,
  call: ActionCall,
): Promise<ActionOutcome> {
  const values = emergencyForm(call.form);
  const preview = await call.run('POST', '/admin/v1/emergency_controls/preview', {}, values);
  const request = emergencyRequestOf(
    parseParams(adminRoute('POST', '/admin/v1/emergency_controls/preview').params, values, {}),
  );
  return emergencyPreviewPage({
    what: describeScope(request.scope, await names(c)),
    durationMinutes: (request.durationMs ?? 3_600_000) / 60_000,
    reason: request.reason,
    warnings: (preview.response as { message: string }[]).map((f) => f.message),
    fields: Object.entries(values).flatMap(([name, list]) =>
      (list ?? []).map((v): [string, string] => [name, v]),
    ),
    csrfToken: call.actor.csrfToken,
  });
}

function describeScope(s: ReturnType<typeof emergencyRequestOf>['scope'], n: Names): string {
  return s.kind === 'app-bypass-groups'
    ? `Groups ${s.groupIds.map((g) => n.groups.find((x) => x.id === g)?.name ?? g).join(', ')} skip 2FA on application ${n.applications.find((a) => a.id === s.appId)?.name ?? s.appId}`
    : s.kind === 'users-to-bypass-group'
      ? `Move ${s.userIds.join(', ')} into bypass group ${n.groups.find((x) => x.id === s.groupId)?.name ?? s.groupId}`
      : `Switch the proxy at ${s.proxy} to primary-only mode`;
}

export async function startEmergency(_c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  await call.run(
    'POST',
    '/admin/v1/emergency_controls',
    {},
    {
      ...emergencyForm(call.form),
      ...pick(call.form, ['confirm']),
    },
  );
  return redirect('/admin/emergency', 'started');
}

export async function revertEmergency(
  _c: ConsoleContext,
  call: ActionCall,
): Promise<ActionOutcome> {
  await call.run(
    'POST',
    '/admin/v1/emergency_controls/:control_id/revert',
    { control_id: call.id },
    pick(call.form, ['reason']),
  );
  return redirect('/admin/emergency', 'reverted');
}

/** The Admin API parameters of an emergency form; usernames are typed comma-separated. */
function emergencyForm(form: ParamMap): ParamMap {
  const values = pick(form, [
    'kind',
    'reason',
    'duration_minutes',
    'app_id',
    'group_ids',
    'group_id',
    'user_ids',
    'app_ids',
    'proxy',
    'section',
  ]);
  const typed = form.user_ids_text?.[0];
  if (typed !== undefined) {
    values.user_ids = typed
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean);
  }
  return values;
}
