// The Admin API's and the console's policies and emergency controls, on the engine the Auth API
// and the CLI use: the store's policies, the EmergencyRunner, the AccessDecision cache, and the
// advisor of operations/policy-advice.ts. Validates and audits like `airlock policy` and
// `airlock emergency`.
import { isAbsolute } from 'node:path';
import type { Finding } from '../../core/advisor.ts';
import type { EmergencyControl, EmergencyScopeRequest } from '../../core/emergency-control.ts';
import { AirlockError, isAirlockError } from '../../core/error-registry.ts';
import type { Policy } from '../../core/policy.ts';
import { decodePolicy } from '../../core/policy-decode.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { Random } from '../../runtime/random.ts';
import type { OperationContext } from '../../operations/operation-context.ts';
import { clearPolicy, policyScope, setPolicy } from '../../operations/policy-operations.ts';
import { GLOBAL_POLICY_SCOPE, type Store } from '../../store/store.ts';
import type { AccessDecision } from '../policy/access-decision.ts';
import type { EmergencyRunner } from '../../operations/emergency-runner.ts';
import {
  adviseEmergency,
  advisePolicyChange,
  isBypassGroup,
} from '../../operations/policy-advice.ts';
import type {
  AdminExtensions,
  EmergencyAdmin,
  EmergencyStartRequest,
  PolicyAdmin,
  PolicyScope,
} from './admin-extensions.ts';

export interface PolicyExtensionsDeps {
  store: Store;
  clock: Clock;
  random: Random;
  bypassPepper: Buffer;
  /** The service's runner: its onChange drops the policy cache. */
  emergencies: EmergencyRunner;
  /** Invalidated after every policy change, so logins see it at once. */
  access: AccessDecision;
}

export function createPolicyExtensions(deps: PolicyExtensionsDeps): AdminExtensions {
  return {
    policies: createPolicyAdmin(deps),
    emergency: createEmergencyAdmin(deps),
  };
}

function createPolicyAdmin(deps: PolicyExtensionsDeps): PolicyAdmin {
  const { store, access } = deps;
  /** The store scope of an API scope; the application may be named by id, name or ikey. */
  const storeScope = (scope: PolicyScope): Promise<string> =>
    policyScope(deps, scope.kind === 'global' ? undefined : scope.appId);
  /** Decodes, validates and resolves group names to ids; every problem in one error. */
  const decode = async (value: unknown): Promise<Policy> => {
    const decoded = decodePolicy(value);
    const errors = [...decoded.errors];
    const resolve = async (field: 'bypassGroupIds' | 'denyGroupIds') => {
      const refs = decoded.policy[field];
      if (refs === undefined) return {};
      const ids: string[] = [];
      for (const ref of refs) {
        const g = await store.getGroup(ref);
        if (g) ids.push(g.id);
        else errors.push(`${field}: no group "${ref}"`);
      }
      return { [field]: ids };
    };
    const policy: Policy = {
      ...decoded.policy,
      ...(await resolve('bypassGroupIds')),
      ...(await resolve('denyGroupIds')),
    };
    if (errors.length > 0) throw new AirlockError('ADMIN_INVALID_PARAMETERS', errors.join('; '));
    return policy;
  };

  return {
    async list() {
      let global: Policy | null = null;
      const applications: { appId: string; policy: Policy }[] = [];
      for (const p of await store.listPolicies()) {
        if (p.scope === GLOBAL_POLICY_SCOPE) global = p.policy;
        else if (p.scope.startsWith('app:'))
          applications.push({ appId: p.scope.slice(4), policy: p.policy });
      }
      return { global, applications };
    },

    async preview(scope, value) {
      const key = await storeScope(scope);
      const next = await decode(value);
      const before = (await store.getPolicy(key))?.policy ?? {};
      return advisePolicyChange(store, key, before, next);
    },

    async set(scope, value, actor) {
      const key = await storeScope(scope);
      const next = await decode(value);
      const saved = await setPolicy(operationContext(deps, actor), key, next);
      access.invalidate();
      return saved.policy;
    },

    async clear(scope, actor) {
      const key = await storeScope(scope);
      const gone = await clearPolicy(operationContext(deps, actor), key);
      access.invalidate();
      return gone;
    },
  };
}

function createEmergencyAdmin({ store, clock, emergencies }: PolicyExtensionsDeps): EmergencyAdmin {
  /** The request with every reference resolved to an id; every problem in one error. */
  const resolveRequest = async (request: EmergencyStartRequest) => {
    const errors: string[] = [];
    const scope = request.scope;
    let resolved: EmergencyScopeRequest = scope;
    const namedAppIds: string[] = [];
    for (const ref of request.namedAppIds ?? []) {
      const app = await store.getApplication(ref);
      if (app) namedAppIds.push(app.id);
      else errors.push(`app_ids: no application "${ref}"`);
    }
    if (scope.kind === 'app-bypass-groups') {
      const app = scope.appId === '' ? undefined : await store.getApplication(scope.appId);
      if (!app) errors.push(`app_id: no application "${scope.appId}"`);
      if (scope.groupIds.length === 0) errors.push('group_ids: name at least one group');
      const groupIds: string[] = [];
      for (const ref of scope.groupIds) {
        const g = await store.getGroup(ref);
        if (g) groupIds.push(g.id);
        else errors.push(`group_ids: no group "${ref}"`);
      }
      resolved = { kind: scope.kind, appId: app?.id ?? scope.appId, groupIds };
    } else if (scope.kind === 'users-to-bypass-group') {
      const group = scope.groupId === '' ? undefined : await store.getGroup(scope.groupId);
      if (!group) errors.push(`group_id: no group "${scope.groupId}"`);
      else if (!(await isBypassGroup(store, group.id))) {
        errors.push(
          `group_id: group "${group.name}" is not a bypass group: its status is ${group.status} and no policy lists it as a bypass group`,
        );
      }
      if (scope.userIds.length === 0) errors.push('user_ids: name at least one user');
      const userIds: string[] = [];
      for (const ref of scope.userIds) {
        const u = (await store.getUser(ref)) ?? (await store.findUser(ref));
        if (u) userIds.push(u.id);
        else errors.push(`user_ids: no user "${ref}"`);
      }
      resolved = { kind: scope.kind, groupId: group?.id ?? scope.groupId, userIds };
    } else if (!isAbsolute(scope.proxy)) {
      errors.push(
        `proxy: must be the absolute path of the proxy's state_dir; got "${scope.proxy}"`,
      );
    }
    if (request.reason.trim() === '') errors.push('reason: a reason is required');
    if (errors.length > 0) throw new AirlockError('ADMIN_INVALID_PARAMETERS', errors.join('; '));
    return { ...request, scope: resolved, namedAppIds };
  };

  return {
    async listActive(nowMs) {
      return (await store.listEmergencyControls({ state: 'active' })).filter(
        (c) => c.expiresAtMs > nowMs,
      );
    },

    async listAll() {
      return (await store.listEmergencyControls()).reverse();
    },

    async preview(request): Promise<Finding[]> {
      const r = await resolveRequest(request);
      return adviseEmergency(store, r.scope, {
        actor: '(preview)',
        reason: r.reason,
        nowMs: clock.nowMs(),
        namedAppIds: r.namedAppIds,
      });
    },

    async start(request, actor): Promise<EmergencyControl> {
      const r = await resolveRequest(request);
      try {
        const { control } = await emergencies.start({
          scope: r.scope,
          reason: r.reason,
          actor,
          durationMs: r.durationMs,
        });
        return control;
      } catch (err) {
        throw toAdminError(err);
      }
    },

    async revert(id, actor, reason) {
      try {
        return (await emergencies.revert(id, { by: actor, why: reason })).control;
      } catch (err) {
        throw toAdminError(err);
      }
    },
  };
}

/** The runner speaks EMERGENCY_* and STORE_*; the Admin API answers in ADMIN_* codes. */
function toAdminError(err: unknown): unknown {
  if (!isAirlockError(err)) return err;
  const detail = err.message
    .replace(/^emergency control refused:\n\s*/, '')
    .replace(/\n\s*/g, '; ');
  switch (err.code) {
    case 'EMERGENCY_INVALID':
      return new AirlockError('ADMIN_INVALID_PARAMETERS', detail, { cause: err });
    case 'EMERGENCY_CONFLICT':
      return new AirlockError('ADMIN_CONFLICT', detail, { cause: err });
    case 'STORE_NOT_FOUND':
      return new AirlockError('ADMIN_NOT_FOUND', detail.replace(/ \(try: .*\)$/, ''), {
        cause: err,
      });
    default:
      return err;
  }
}

/** The operations' context for a change made through these extensions (no caller address). */
function operationContext(deps: PolicyExtensionsDeps, actor: string): OperationContext {
  const { store, clock, random, bypassPepper } = deps;
  return { store, clock, random, bypassPepper, actor, ip: null };
}
