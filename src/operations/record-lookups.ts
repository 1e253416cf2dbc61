// Finds the user, group or application an admin change names, the same way on every surface:
// by id first, then by name (username or alias; group name; application ikey or name).
import { AirlockError } from '../core/error-registry.ts';
import type { Application, Group, User } from '../core/model.ts';
import type { Store } from '../store/store.ts';

/** By user id, else by username or alias (as the store matches them). ADMIN_NOT_FOUND if none. */
export async function requireUser(store: Store, ref: string): Promise<User> {
  const user = (await store.getUser(ref)) ?? (await store.findUser(ref));
  if (!user) throw new AirlockError('ADMIN_NOT_FOUND', `no user "${ref}"`);
  return user;
}

/** By group id, else by name. ADMIN_NOT_FOUND if none. */
export async function requireGroup(store: Store, ref: string): Promise<Group> {
  const group = await store.getGroup(ref);
  if (!group) throw new AirlockError('ADMIN_NOT_FOUND', `no group "${ref}"`);
  return group;
}

/** By application id, else by ikey or name. ADMIN_NOT_FOUND if none. */
export async function requireApplication(store: Store, ref: string): Promise<Application> {
  const app = await store.getApplication(ref);
  if (!app) throw new AirlockError('ADMIN_NOT_FOUND', `no application "${ref}"`);
  return app;
}

/** The ids of several groups named by id or name; the first unknown one fails. */
export async function requireGroupIds(store: Store, refs: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of refs) ids.push((await requireGroup(store, ref)).id);
  return ids;
}
