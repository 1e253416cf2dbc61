// The Admin API's and the console's policies and emergency controls, on the engine the Auth API
// and the CLI use: the store's policies, the EmergencyRunner, the AccessDecision cache, and the
// advisor of operations/policy-advice.ts. Validates and audits like `airlock policy` and
// `airlock emergency`.
import type { Finding } from '../../core/advisor.ts';
import { planExpiry, type EmergencyControl } from '../../core/emergency-control.ts';
import { AirlockError, isAirlockError } from '../../core/error-registry.ts';
import type { Policy } from '../../core/policy.ts';
import { decodePolicy } from '../../core/policy-decode.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { Random } from '../../runtime/random.ts';
import type { OperationContext } from '../../operations/operation-context.ts';
import { clearPolicy, policyScope, setPolicy } from '../../operations/policy-operations.ts';
import { resolveEmergencyRequest } from '../../operations/emergency-operations.ts';
import { GLOBAL_POLICY_SCOPE, type Store } from '../../store/store.ts';
import type { AccessDecision } from '../policy/access-decision.ts';
import type { EmergencyRunner } from '../../operations/emergency-runner.ts';
import { adviseEmergency, advisePolicyChange } from '../../operations/policy-advice.ts';
import type {
  AdminExtensions,
  EmergencyAdmin,
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
      const r = await resolveEmergencyRequest(store, request);
      // The runner's configured maximum, checked before the administrator is asked to confirm.
      const { errors } = planExpiry(r, clock.nowMs(), emergencies.limits);
      if (errors.length > 0) throw new AirlockError('ADMIN_INVALID_PARAMETERS', errors.join('; '));
      return adviseEmergency(store, r.scope, {
        actor: '(preview)',
        reason: r.reason,
        nowMs: clock.nowMs(),
        namedAppIds: r.namedAppIds,
      });
    },

    async start(request, actor): Promise<EmergencyControl> {
      const r = await resolveEmergencyRequest(store, request);
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
