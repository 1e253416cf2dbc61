// Every Admin API route, in the order of the OpenAPI document.
import type { AdminRoute } from '../admin-route.ts';
import { APPLICATION_ROUTES } from './application-routes.ts';
import { AUDIT_ROUTES } from './audit-routes.ts';
import { EXTENSION_ROUTES } from './extension-routes.ts';
import { GROUP_ROUTES } from './group-routes.ts';
import { LOG_ROUTES } from './log-routes.ts';
import { USER_ROUTES } from './user-routes.ts';
import { OUTAGE_ROUTES } from './outage-routes.ts';
import { TEMPLATE_ROUTES } from './template-routes.ts';

export const ADMIN_ROUTES: readonly AdminRoute[] = [
  ...USER_ROUTES,
  ...GROUP_ROUTES,
  ...APPLICATION_ROUTES,
  ...AUDIT_ROUTES,
  ...LOG_ROUTES,
  ...EXTENSION_ROUTES,
  ...OUTAGE_ROUTES,
  ...TEMPLATE_ROUTES,
];

/** The route for `method` and `path` (table syntax); throws when there is none (a bug). */
export function adminRoute(method: AdminRoute['method'], path: string): AdminRoute {
  const route = ADMIN_ROUTES.find((r) => r.method === method && r.path === path);
  if (!route) throw new Error(`no admin route ${method} ${path}`);
  return route;
}
