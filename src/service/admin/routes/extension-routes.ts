// /admin/v1/policies and /admin/v1/emergency_controls: answered by the AdminExtensions when
// plugged in, ADMIN_NOT_AVAILABLE (501) until then.
import { AirlockError } from '../../../core/error-registry.ts';
import { EMERGENCY_KINDS, type EmergencyScopeRequest } from '../../../core/emergency-control.ts';
import type { AdminContext } from '../admin-context.ts';
import type {
  EmergencyAdmin,
  EmergencyStartRequest,
  PolicyAdmin,
  PolicyScope,
} from '../admin-extensions.ts';
import type { AdminRoute, Params, ParamSpec } from '../admin-route.ts';
import Type from 'typebox';
import { nullable } from '../../api-schema.ts';
import { listOf, ref } from '../admin-schemas.ts';
import { findingView } from '../admin-views.ts';

const POLICY_SCOPE: ParamSpec = {
  name: 'scope',
  in: 'path',
  type: 'string',
  required: true,
  description: '"global", or an application id',
};

const EMERGENCY_PARAMS: readonly ParamSpec[] = [
  {
    name: 'kind',
    in: 'body',
    type: 'string',
    required: true,
    enum: EMERGENCY_KINDS,
    description: 'what to do',
  },
  {
    name: 'reason',
    in: 'body',
    type: 'string',
    required: true,
    max: 500,
    description: 'why (shown in the banner and the audit log)',
  },
  {
    name: 'duration_minutes',
    in: 'body',
    type: 'integer',
    min: 1,
    // No fixed maximum here: the service's configured one (AIRLOCK_EMERGENCY_MAX_DURATION) applies.
    description:
      'when it reverts itself (default 60; at most AIRLOCK_EMERGENCY_MAX_DURATION, default 24 hours)',
  },
  { name: 'app_id', in: 'body', type: 'string', description: 'app-bypass-groups: the application' },
  {
    name: 'group_ids',
    in: 'body',
    type: 'string[]',
    max: 100,
    description: 'app-bypass-groups: groups that skip 2FA there',
  },
  {
    name: 'group_id',
    in: 'body',
    type: 'string',
    description: 'users-to-bypass-group: the bypass group',
  },
  {
    name: 'user_ids',
    in: 'body',
    type: 'string[]',
    max: 10_000,
    description: 'users-to-bypass-group: users to move in',
  },
  {
    name: 'app_ids',
    in: 'body',
    type: 'string[]',
    max: 100,
    description:
      'users-to-bypass-group: the applications meant to open; the advisor warns about the others the group reaches',
  },
  {
    name: 'proxy',
    in: 'body',
    type: 'string',
    description: "primary-only: the proxy's state_dir (absolute path)",
  },
  {
    name: 'section',
    in: 'body',
    type: 'string',
    description: 'primary-only: one section of it (default: all)',
  },
];

export function policiesOf(ctx: AdminContext): PolicyAdmin {
  const policies = ctx.extensions.policies;
  if (!policies) throw new AirlockError('ADMIN_NOT_AVAILABLE', 'policies');
  return policies;
}

export function emergencyOf(ctx: AdminContext): EmergencyAdmin {
  const emergency = ctx.extensions.emergency;
  if (!emergency) throw new AirlockError('ADMIN_NOT_AVAILABLE', 'emergency controls');
  return emergency;
}

const POLICY_BODY: ParamSpec = {
  name: 'policy',
  in: 'body',
  type: 'string',
  required: true,
  max: 64_000,
  description: 'the policy as JSON text (docs/policies.md); groups by id or name',
};

function policyOf(params: Params): unknown {
  try {
    return JSON.parse(params.str('policy'));
  } catch {
    throw new AirlockError('ADMIN_INVALID_PARAMETERS', 'policy: not valid JSON');
  }
}

function scopeOf(params: Params): PolicyScope {
  const scope = params.str('scope');
  return scope === 'global' ? { kind: 'global' } : { kind: 'application', appId: scope };
}

/** The request of an emergency control from its form or API parameters. */
export function emergencyRequestOf(params: Params): EmergencyStartRequest {
  const kind = params.str('kind') as EmergencyScopeRequest['kind'];
  const need = (name: string) => params.str(name);
  let scope: EmergencyScopeRequest;
  switch (kind) {
    case 'app-bypass-groups':
      scope = { kind, appId: need('app_id'), groupIds: params.optList('group_ids') ?? [] };
      break;
    case 'users-to-bypass-group':
      scope = { kind, groupId: need('group_id'), userIds: params.optList('user_ids') ?? [] };
      break;
    case 'primary-only':
      scope = { kind, proxy: need('proxy'), section: params.optStr('section') || undefined };
      break;
  }
  const minutes = params.optInt('duration_minutes');
  return {
    scope,
    reason: params.str('reason'),
    durationMs: minutes === undefined ? undefined : minutes * 60_000,
    namedAppIds: params.optList('app_ids'),
  };
}

export const EXTENSION_ROUTES: readonly AdminRoute[] = [
  {
    method: 'GET',
    path: '/admin/v1/policies',
    tag: 'policies',
    summary: 'The global policy and every application policy',
    params: [],
    response: Type.Object({
      global: nullable(ref('Policy')),
      applications: Type.Array(Type.Object({ app_id: Type.String(), policy: ref('Policy') })),
    }),
    async handler({ ctx }) {
      const { global, applications } = await policiesOf(ctx).list();
      return {
        response: {
          global,
          applications: applications.map((a) => ({ app_id: a.appId, policy: a.policy })),
        },
      };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/policies/:scope',
    tag: 'policies',
    summary:
      'Set the global policy or an application policy (`policy` is a JSON object as text); when the advisor warns, confirm=true is required',
    params: [
      POLICY_SCOPE,
      POLICY_BODY,
      {
        name: 'confirm',
        in: 'body',
        type: 'boolean',
        description: 'apply despite the advisor findings',
      },
    ],
    response: ref('Policy'),
    async handler({ ctx, params, actor }) {
      const policies = policiesOf(ctx);
      const scope = scopeOf(params);
      const policy = policyOf(params);
      const findings = (await policies.preview?.(scope, policy)) ?? [];
      if (findings.length > 0 && params.optBool('confirm') !== true) {
        throw new AirlockError(
          'ADMIN_INVALID_PARAMETERS',
          `confirm: the advisor warns: ${findings.map((f) => f.message).join('; ')}`,
        );
      }
      return { response: await policies.set(scope, policy, actor.actor) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/policies/:scope/preview',
    tag: 'policies',
    summary: "The advisor's findings for a policy change, before applying it",
    params: [POLICY_SCOPE, POLICY_BODY],
    response: listOf('Finding'),
    async handler({ ctx, params }) {
      const policies = policiesOf(ctx);
      const findings = (await policies.preview?.(scopeOf(params), policyOf(params))) ?? [];
      return { response: findings.map(findingView) };
    },
  },
  {
    method: 'DELETE',
    path: '/admin/v1/policies/:scope',
    tag: 'policies',
    summary: 'Remove the global policy or an application policy',
    params: [POLICY_SCOPE],
    response: ref('Deleted'),
    async handler({ ctx, params, actor }) {
      return { response: { deleted: await policiesOf(ctx).clear(scopeOf(params), actor.actor) } };
    },
  },
  {
    method: 'GET',
    path: '/admin/v1/emergency_controls',
    tag: 'emergency controls',
    summary: 'Emergency controls: those in effect, or all with state=all',
    params: [
      {
        name: 'state',
        in: 'query',
        type: 'string',
        enum: ['active', 'all'],
        description: 'default active',
      },
    ],
    response: listOf('EmergencyControl'),
    async handler({ ctx, params }) {
      const emergency = emergencyOf(ctx);
      const all = params.optStr('state') === 'all';
      return {
        response: all ? await emergency.listAll() : await emergency.listActive(ctx.clock.nowMs()),
      };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/emergency_controls/preview',
    tag: 'emergency controls',
    summary: "The advisor's findings for an emergency control, before starting it",
    params: EMERGENCY_PARAMS,
    response: listOf('Finding'),
    async handler({ ctx, params }) {
      const findings = await emergencyOf(ctx).preview(emergencyRequestOf(params));
      return { response: findings.map(findingView) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/emergency_controls',
    tag: 'emergency controls',
    summary: 'Start an emergency control; when the advisor warns, confirm=true is required',
    params: [
      ...EMERGENCY_PARAMS,
      {
        name: 'confirm',
        in: 'body',
        type: 'boolean',
        description: 'start despite the advisor findings',
      },
    ],
    response: ref('EmergencyControl'),
    async handler({ ctx, params, actor }) {
      const emergency = emergencyOf(ctx);
      const request = emergencyRequestOf(params);
      const findings = await emergency.preview(request);
      if (findings.length > 0 && params.optBool('confirm') !== true) {
        throw new AirlockError(
          'ADMIN_INVALID_PARAMETERS',
          `confirm: the advisor warns: ${findings.map((f) => f.message).join('; ')}`,
        );
      }
      return { response: await emergency.start(request, actor.actor) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/emergency_controls/:control_id/revert',
    tag: 'emergency controls',
    summary: 'Revert an emergency control now, exactly',
    params: [
      { name: 'control_id', in: 'path', type: 'string', required: true, description: 'control id' },
      { name: 'reason', in: 'body', type: 'string', max: 500, description: 'why it ends early' },
    ],
    response: ref('EmergencyControl'),
    async handler({ ctx, params, actor }) {
      const control = await emergencyOf(ctx).revert(
        params.str('control_id'),
        actor.actor,
        params.optStr('reason') || 'reverted by an administrator',
      );
      return { response: control };
    },
  },
];
