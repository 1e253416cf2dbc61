// Duo's Admin API log endpoints, filled from the audit log: what SIEM connectors written for Duo
// pull (docs/admin-api.md, Logs). Shapes in duo-log-views.ts.
import { AirlockError } from '../../../core/error-registry.ts';
import type { AuditEvent } from '../../../core/model.ts';
import type { AuditQuery, Store } from '../../../store/store.ts';
import type { AdminRoute, JsonSchema, Params } from '../admin-route.ts';
import {
  ADMINISTRATOR_ACTOR_PREFIXES,
  AUTH_LOG_ACTIONS,
  AUTH_LOG_RESULTS,
  TELEPHONY_LOG_ACTIONS,
  administratorLogEntry,
  authLogEntry,
  telephonyLogEntry,
} from '../duo-log-views.ts';

/** Duo's largest page: 1000 entries (v2 `limit`, and every v1 answer). */
export const LOG_MAX_LIMIT = 1000;
const AUTH_LOG_DEFAULT_LIMIT = 100;

const str = { type: 'string' };
const nullableStr = { type: ['string', 'null'] };
const location = {
  type: 'object',
  required: ['city', 'country', 'state'],
  properties: { city: str, country: str, state: str },
};
const seconds = { type: 'integer', description: 'seconds since the Unix epoch' };

const AUTH_LOG_ENTRY: JsonSchema = {
  type: 'object',
  required: [
    'access_device',
    'application',
    'auth_device',
    'event_type',
    'factor',
    'isotimestamp',
    'reason',
    'result',
    'timestamp',
    'txid',
    'user',
  ],
  properties: {
    access_device: {
      type: 'object',
      required: ['ip', 'location'],
      properties: { ip: nullableStr, hostname: nullableStr, location },
    },
    alias: str,
    application: {
      type: 'object',
      required: ['key', 'name'],
      properties: { key: { type: 'string', description: 'the ikey' }, name: str },
    },
    auth_device: {
      type: 'object',
      required: ['name'],
      properties: {
        ip: nullableStr,
        location,
        name: { type: ['string', 'null'], description: 'the device id, for push and calls' },
      },
    },
    email: str,
    event_type: { type: 'string', enum: ['authentication'] },
    factor: {
      type: 'string',
      description:
        'duo_push, phone_call, passcode, hardware_token, bypass_code, sms_passcode, trusted_network, not_available',
    },
    isotimestamp: { type: 'string', format: 'date-time' },
    ood_software: { type: 'null' },
    reason: { type: 'string', description: "Duo's reason vocabulary (docs/admin-api.md)" },
    result: { type: 'string', enum: [...AUTH_LOG_RESULTS] },
    timestamp: seconds,
    trusted_endpoint_status: str,
    txid: str,
    user: {
      type: 'object',
      required: ['key', 'name'],
      properties: {
        groups: { type: 'array', items: str },
        key: { type: ['string', 'null'], description: 'user id; null for an unknown user' },
        name: str,
      },
    },
    airlock_reason: {
      type: ['string', 'null'],
      description: "Airlock's own reason (e.g. emergency-bypass-group), beside Duo's",
    },
  },
};

const AUTH_LOG_RESPONSE: JsonSchema = {
  type: 'object',
  required: ['authlogs', 'metadata'],
  properties: {
    authlogs: { type: 'array', items: AUTH_LOG_ENTRY },
    metadata: {
      type: 'object',
      required: ['next_offset', 'total_objects'],
      properties: {
        next_offset: {
          type: ['array', 'null'],
          items: str,
          description: '[timestamp in ms, event id] of the last entry; null on the last page',
        },
        total_objects: { type: 'integer', description: 'entries between mintime and maxtime' },
      },
    },
  },
};

const ADMINISTRATOR_LOG_RESPONSE: JsonSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['action', 'description', 'object', 'timestamp', 'username'],
    properties: {
      action: { type: 'string', description: 'e.g. user_create, integration_update' },
      description: { type: 'string', description: 'JSON text of the change' },
      object: nullableStr,
      timestamp: seconds,
      username: { type: 'string', description: 'administrator, Admin API key or cli:<os user>' },
    },
  },
};

const TELEPHONY_LOG_RESPONSE: JsonSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['context', 'credits', 'phone', 'timestamp', 'type'],
    properties: {
      context: str,
      credits: { type: 'integer' },
      phone: { type: 'string', description: 'masked: XXX-XXX-1234' },
      timestamp: seconds,
      type: { type: 'string', enum: ['sms', 'phone'] },
    },
  },
};

const V1_MINTIME = {
  name: 'mintime',
  in: 'query',
  type: 'integer',
  min: 0,
  description:
    'entries at or after this time (seconds since the epoch); at most 1000, oldest first',
} as const;

export const LOG_ROUTES: readonly AdminRoute[] = [
  {
    method: 'GET',
    path: '/admin/v2/logs/authentication',
    tag: 'logs',
    summary:
      "Authentication log in Duo's v2 shape; page with `metadata.next_offset` as `next_offset`",
    params: [
      {
        name: 'mintime',
        in: 'query',
        type: 'integer',
        required: true,
        min: 0,
        description: 'entries at or after this time (ms since the epoch)',
      },
      {
        name: 'maxtime',
        in: 'query',
        type: 'integer',
        required: true,
        min: 0,
        description: 'entries at or before this time (ms since the epoch)',
      },
      {
        name: 'limit',
        in: 'query',
        type: 'integer',
        min: 1,
        max: LOG_MAX_LIMIT,
        description: `page size (default ${AUTH_LOG_DEFAULT_LIMIT})`,
      },
      {
        name: 'next_offset',
        in: 'query',
        type: 'string[]',
        max: 2,
        description: 'metadata.next_offset of the previous page (two values, or "ms,id")',
      },
      {
        name: 'sort',
        in: 'query',
        type: 'string',
        enum: ['ts:desc', 'ts:asc'],
        description: 'ts:desc (default, newest first) or ts:asc',
      },
      {
        name: 'users',
        in: 'query',
        type: 'string[]',
        max: 100,
        description: 'only these user ids',
      },
      {
        name: 'applications',
        in: 'query',
        type: 'string[]',
        max: 100,
        description: 'only these applications (integration keys)',
      },
      {
        name: 'event_types',
        in: 'query',
        type: 'string[]',
        max: 2,
        description: 'authentication (every entry) or enrollment (none: not logged here)',
      },
    ],
    response: AUTH_LOG_RESPONSE,
    async handler({ ctx, params }) {
      const query = authLogQuery(params);
      const limit = params.optInt('limit') ?? AUTH_LOG_DEFAULT_LIMIT;
      const descending = query.order === 'desc';
      const [events, total, apps] = await Promise.all([
        ctx.store.listAudit({ ...query, limit }),
        ctx.store.countAudit(query),
        ctx.store.listApplications(),
      ]);
      const last = events.at(-1);
      const more =
        last !== undefined &&
        events.length === limit &&
        (
          await ctx.store.listAudit({
            ...query,
            ...(descending ? { beforeId: last.id } : { afterId: last.id }),
            limit: 1,
          })
        ).length > 0;
      const byId = new Map(apps.map((a) => [a.id, a]));
      return {
        response: {
          authlogs: events.map((e) => authLogEntry(e, byId)),
          metadata: {
            next_offset: more ? [String(last.tsMs), String(last.id)] : null,
            total_objects: total,
          },
        },
      };
    },
  },
  {
    method: 'GET',
    path: '/admin/v1/logs/administrator',
    tag: 'logs',
    summary:
      "Administrator log in Duo's v1 shape: changes made in the console, with Admin API keys and with the airlock commands",
    params: [V1_MINTIME],
    response: ADMINISTRATOR_LOG_RESPONSE,
    async handler({ ctx, params }) {
      const events = await firstThousand(
        ctx.store,
        {
          sinceMs: (params.optInt('mintime') ?? 0) * 1000,
          actorPrefixes: ADMINISTRATOR_ACTOR_PREFIXES,
        },
        () => true,
      );
      return { response: events.map(administratorLogEntry) };
    },
  },
  {
    method: 'GET',
    path: '/admin/v1/logs/telephony',
    tag: 'logs',
    summary: "Telephony log in Duo's v1 shape: SMS passcodes sent and calls placed",
    params: [V1_MINTIME],
    response: TELEPHONY_LOG_RESPONSE,
    async handler({ ctx, params }) {
      const events = await firstThousand(
        ctx.store,
        { sinceMs: (params.optInt('mintime') ?? 0) * 1000, actions: TELEPHONY_LOG_ACTIONS },
        // A refused SMS (the user's budget spent) sent nothing.
        (e) => e.result === 'sent' || e.result === 'calling',
      );
      return { response: events.map(telephonyLogEntry) };
    },
  },
];

/** The audit query of an authentication log request: its window, filters and order. */
function authLogQuery(params: Params): AuditQuery {
  const mintime = params.optInt('mintime') ?? 0;
  const maxtime = params.optInt('maxtime') ?? 0;
  if (maxtime < mintime)
    throw new AirlockError('ADMIN_INVALID_PARAMETERS', 'maxtime: before mintime');
  const eventTypes = params.optList('event_types');
  const order = params.optStr('sort') === 'ts:asc' ? 'asc' : 'desc';
  const cursor = nextOffsetId(params.optList('next_offset'));
  return {
    sinceMs: mintime,
    // Duo's maxtime is inclusive.
    untilMs: maxtime + 1,
    // Enrollments are not part of this log: asking only for them selects nothing.
    actions:
      eventTypes !== undefined && eventTypes.length > 0 && !eventTypes.includes('authentication')
        ? []
        : AUTH_LOG_ACTIONS,
    ...(params.optList('users')?.length ? { targetIds: params.optList('users') } : {}),
    ...(params.optList('applications')?.length ? { appIds: params.optList('applications') } : {}),
    ...(cursor === undefined ? {} : order === 'desc' ? { beforeId: cursor } : { afterId: cursor }),
    order,
  };
}

/** The event id of `next_offset`: `[ms, id]` as two values, or one `ms,id`. */
function nextOffsetId(values: readonly string[] | undefined): number | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const parts = values.length === 1 ? (values[0] ?? '').split(',') : values;
  const id = parts[1];
  if (parts.length !== 2 || id === undefined || !/^[0-9]{1,15}$/.test(id)) {
    throw new AirlockError('ADMIN_INVALID_PARAMETERS', 'next_offset');
  }
  return Number(id);
}

/** Duo's v1 logs: the first 1000 matching entries from `sinceMs`, oldest first. */
async function firstThousand(
  store: Store,
  query: AuditQuery,
  keep: (e: AuditEvent) => boolean,
): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  let afterId: number | undefined;
  for (;;) {
    const batch = await store.listAudit({
      ...query,
      ...(afterId === undefined ? {} : { afterId }),
      limit: LOG_MAX_LIMIT,
    });
    out.push(...batch.filter(keep));
    const last = batch.at(-1);
    if (out.length >= LOG_MAX_LIMIT || batch.length < LOG_MAX_LIMIT || last === undefined) {
      return out.slice(0, LOG_MAX_LIMIT);
    }
    afterId = last.id;
  }
}
