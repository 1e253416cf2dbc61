// Emergency controls as an administrator asks for them: the request, its references resolved the
// same way on every surface. The EmergencyRunner (emergency-runner.ts) plans, applies and audits.
import { isAbsolute } from 'node:path';
import type { EmergencyScopeRequest } from '../core/emergency-control.ts';
import { AirlockError } from '../core/error-registry.ts';
import type { Store } from '../store/store.ts';
import { isBypassGroup } from './policy-advice.ts';

export interface EmergencyStartRequest {
  scope: EmergencyScopeRequest;
  reason: string;
  /** Neither given = the default duration of core/emergency-control.ts. */
  durationMs?: number | undefined;
  /**
   * users-to-bypass-group: the applications the administrator means to open; the advisor warns
   * about every other application the group reaches.
   */
  namedAppIds?: readonly string[] | undefined;
}

type AppBypassScope = Extract<EmergencyScopeRequest, { kind: 'app-bypass-groups' }>;
type UsersToGroupScope = Extract<EmergencyScopeRequest, { kind: 'users-to-bypass-group' }>;

export interface ResolvedEmergencyRequest extends EmergencyStartRequest {
  scope: EmergencyScopeRequest;
  namedAppIds: string[];
}

/**
 * The request with every reference resolved to an id: applications by id, ikey or name, groups by
 * id or name, users by id, username or alias. Every problem in one ADMIN_INVALID_PARAMETERS.
 */
export async function resolveEmergencyRequest(
  store: Store,
  request: EmergencyStartRequest,
): Promise<ResolvedEmergencyRequest> {
  const errors: string[] = [];
  const namedAppIds = await resolveNamedApps(store, request.namedAppIds ?? [], errors);
  const scope = await resolveScope(store, request.scope, errors);
  if (request.reason.trim() === '') errors.push('reason: a reason is required');
  if (errors.length > 0) throw new AirlockError('ADMIN_INVALID_PARAMETERS', errors.join('; '));
  return { ...request, scope, namedAppIds };
}

async function resolveScope(
  store: Store,
  scope: EmergencyScopeRequest,
  errors: string[],
): Promise<EmergencyScopeRequest> {
  switch (scope.kind) {
    case 'app-bypass-groups':
      return resolveAppBypass(store, scope, errors);
    case 'users-to-bypass-group':
      return resolveUsersToGroup(store, scope, errors);
    case 'primary-only':
      if (!isAbsolute(scope.proxy)) {
        errors.push(
          `proxy: must be the absolute path of the proxy's state_dir; got "${scope.proxy}"`,
        );
      }
      return scope;
  }
}

async function resolveNamedApps(
  store: Store,
  refs: readonly string[],
  errors: string[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) {
    const app = await store.getApplication(ref);
    if (app) ids.push(app.id);
    else errors.push(`app_ids: no application "${ref}"`);
  }
  return ids;
}

async function resolveAppBypass(
  store: Store,
  scope: AppBypassScope,
  errors: string[],
): Promise<AppBypassScope> {
  const app = scope.appId === '' ? undefined : await store.getApplication(scope.appId);
  if (!app) errors.push(`app_id: no application "${scope.appId}"`);
  if (scope.groupIds.length === 0) errors.push('group_ids: name at least one group');
  const groupIds: string[] = [];
  for (const ref of scope.groupIds) {
    const g = await store.getGroup(ref);
    if (g) groupIds.push(g.id);
    else errors.push(`group_ids: no group "${ref}"`);
  }
  return { kind: scope.kind, appId: app?.id ?? scope.appId, groupIds };
}

async function resolveUsersToGroup(
  store: Store,
  scope: UsersToGroupScope,
  errors: string[],
): Promise<UsersToGroupScope> {
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
    // The one lookup order of every admin change: id, then username or alias.
    const u = (await store.getUser(ref)) ?? (await store.findUser(ref));
    if (u) userIds.push(u.id);
    else errors.push(`user_ids: no user "${ref}"`);
  }
  return { kind: scope.kind, groupId: group?.id ?? scope.groupId, userIds };
}
