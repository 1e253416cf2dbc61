// Finds the user, group or application a route names, or answers ADMIN_NOT_FOUND.
import { AirlockError } from '../../core/error-registry.ts';
import type { Application, Group, User } from '../../core/model.ts';
import type { Store } from '../../store/store.ts';

/** By user id, else by username or alias. */
export async function requireUser(store: Store, ref: string): Promise<User> {
  const user = (await store.getUser(ref)) ?? (await store.findUser(ref));
  if (!user) throw new AirlockError('ADMIN_NOT_FOUND', `user ${ref}`);
  return user;
}

/** By group id or name. */
export async function requireGroup(store: Store, ref: string): Promise<Group> {
  const group = await store.getGroup(ref);
  if (!group) throw new AirlockError('ADMIN_NOT_FOUND', `group ${ref}`);
  return group;
}

/** By application id, ikey or name. */
export async function requireApplication(store: Store, ref: string): Promise<Application> {
  const app = await store.getApplication(ref);
  if (!app) throw new AirlockError('ADMIN_NOT_FOUND', `application ${ref}`);
  return app;
}
