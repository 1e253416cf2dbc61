// /admin/v1/audit: the audit log, paged by time and an id cursor.
import type { AdminRoute } from '../admin-route.ts';
import { listOf } from '../admin-schemas.ts';
import { auditView } from '../admin-views.ts';

export const AUDIT_MAX_LIMIT = 1000;

export const AUDIT_ROUTES: readonly AdminRoute[] = [
  {
    method: 'GET',
    path: '/admin/v1/audit',
    tag: 'audit',
    summary:
      'Audit events, oldest first. `metadata.next_cursor`, when present, is the `cursor` of the next page',
    params: [
      {
        name: 'since',
        in: 'query',
        type: 'integer',
        min: 0,
        description: 'from this time (ms since the epoch, inclusive)',
      },
      {
        name: 'until',
        in: 'query',
        type: 'integer',
        min: 0,
        description: 'before this time (ms since the epoch, exclusive)',
      },
      {
        name: 'limit',
        in: 'query',
        type: 'integer',
        min: 1,
        max: AUDIT_MAX_LIMIT,
        description: 'page size (default 100)',
      },
      {
        name: 'cursor',
        in: 'query',
        type: 'integer',
        min: 0,
        description: 'next_cursor of the previous page',
      },
      { name: 'username', in: 'query', type: 'string', description: 'only events about this user' },
      {
        name: 'action',
        in: 'query',
        type: 'string',
        description: 'only this action, e.g. group.set-status',
      },
    ],
    response: listOf('AuditEvent'),
    async handler({ ctx, params }) {
      const limit = params.optInt('limit') ?? 100;
      const events = await ctx.store.listAudit({
        afterId: params.optInt('cursor'),
        sinceMs: params.optInt('since'),
        untilMs: params.optInt('until'),
        username: params.optStr('username') || undefined,
        action: params.optStr('action') || undefined,
        limit,
      });
      const last = events.at(-1);
      return {
        response: events.map(auditView),
        metadata: events.length === limit && last ? { next_cursor: last.id } : {},
      };
    },
  },
];
