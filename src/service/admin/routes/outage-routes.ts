// /admin/v1/incidents, /admin/v1/status_subscriptions, /admin/v1/status_components: the status
// page's incidents (with updates), subscriptions and manual component overrides.
import {
  COMPONENT_STATUSES,
  INCIDENT_IMPACTS,
  INCIDENT_STATUSES,
  SUBSCRIPTION_KINDS,
  type Incident,
  type IncidentUpdate,
  type Subscription,
} from '../../../core/incident.ts';
import {
  createIncident,
  overrideComponent,
  subscribe,
  unsubscribe,
  updateIncident,
} from '../../../operations/outage-operations.ts';
import { AirlockError } from '../../../core/error-registry.ts';
import {
  operationContext,
  type AdminRoute,
  type JsonSchema,
  type ParamSpec,
} from '../admin-route.ts';

const time = { type: 'integer', description: 'seconds since the Unix epoch' };
const nullableTime = { type: ['integer', 'null'], description: 'seconds since the Unix epoch' };
const strings = { type: 'array', items: { type: 'string' } };

const INCIDENT_UPDATE_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['update_id', 'status', 'body', 'created', 'actor'],
  properties: {
    update_id: { type: 'integer' },
    status: { type: 'string', enum: [...INCIDENT_STATUSES] },
    body: { type: 'string' },
    created: time,
    actor: { type: 'string' },
  },
};

const INCIDENT_SCHEMA: JsonSchema = {
  type: 'object',
  required: [
    'incident_id',
    'title',
    'status',
    'impact',
    'app_ids',
    'factor',
    'component_ids',
    'created',
    'updated',
    'resolved',
    'created_by',
  ],
  properties: {
    incident_id: { type: 'integer' },
    title: { type: 'string' },
    status: { type: 'string', enum: [...INCIDENT_STATUSES] },
    impact: { type: 'string', enum: [...INCIDENT_IMPACTS] },
    app_ids: strings,
    factor: { type: ['string', 'null'] },
    component_ids: strings,
    created: time,
    updated: time,
    resolved: nullableTime,
    created_by: { type: 'string' },
    updates: { type: 'array', items: INCIDENT_UPDATE_SCHEMA },
  },
};

const SUBSCRIPTION_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['subscription_id', 'kind', 'target', 'created'],
  properties: {
    subscription_id: { type: 'string' },
    kind: { type: 'string', enum: [...SUBSCRIPTION_KINDS] },
    target: { type: 'string' },
    created: time,
  },
};

const seconds = (ms: number) => Math.floor(ms / 1000);

function incidentView(i: Incident, updates?: readonly IncidentUpdate[]) {
  return {
    incident_id: i.id,
    title: i.title,
    status: i.status,
    impact: i.impact,
    app_ids: i.appIds,
    factor: i.factor,
    component_ids: i.componentIds,
    created: seconds(i.createdAtMs),
    updated: seconds(i.updatedAtMs),
    resolved: i.resolvedAtMs === null ? null : seconds(i.resolvedAtMs),
    created_by: i.createdBy,
    ...(updates
      ? {
          updates: updates.map((u) => ({
            update_id: u.id,
            status: u.status,
            body: u.body,
            created: seconds(u.createdAtMs),
            actor: u.actor,
          })),
        }
      : {}),
  };
}

function subscriptionView(s: Subscription) {
  return { subscription_id: s.id, kind: s.kind, target: s.target, created: seconds(s.createdAtMs) };
}

const INCIDENT_ID: ParamSpec = {
  name: 'incident_id',
  in: 'path',
  type: 'string',
  required: true,
  description: 'incident number',
};

function incidentId(text: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(text))
    throw new AirlockError('ADMIN_INVALID_PARAMETERS', 'incident_id');
  return Number(text);
}

/** Outage operations' errors in the Admin API's own codes (400, 409), never a 500. */
function adminErrorOf(err: unknown): unknown {
  if (!(err instanceof AirlockError)) return err;
  if (err.code === 'OUTAGE_INVALID')
    return new AirlockError('ADMIN_INVALID_PARAMETERS', err.detail, { cause: err });
  if (err.code === 'OUTAGE_CONFLICT')
    return new AirlockError('ADMIN_CONFLICT', err.detail, { cause: err });
  return err;
}

/** Each handler with its errors mapped by `adminErrorOf`. */
export function mapped(routes: readonly AdminRoute[]): AdminRoute[] {
  return routes.map((r) => ({
    ...r,
    handler: async (call) => {
      try {
        return await r.handler(call);
      } catch (err) {
        throw adminErrorOf(err);
      }
    },
  }));
}

export const OUTAGE_ROUTES: readonly AdminRoute[] = mapped([
  {
    method: 'GET',
    path: '/admin/v1/incidents',
    tag: 'status',
    summary: 'List incidents, newest first (Airlock)',
    params: [{ name: 'open', in: 'query', type: 'boolean', description: 'unresolved only' }],
    response: { type: 'array', items: INCIDENT_SCHEMA },
    async handler({ ctx, params }) {
      const list = await ctx.store.listIncidents({
        open: params.optBool('open') === true,
      });
      return { response: list.map((i) => incidentView(i)) };
    },
  },
  {
    method: 'GET',
    path: '/admin/v1/incidents/:incident_id',
    tag: 'status',
    summary: 'One incident with its updates, oldest first (Airlock)',
    params: [INCIDENT_ID],
    response: INCIDENT_SCHEMA,
    async handler({ ctx, params }) {
      const id = incidentId(params.str('incident_id'));
      const incident = await ctx.store.getIncident(id);
      if (!incident) throw new AirlockError('ADMIN_NOT_FOUND', `incident ${id}`);
      return { response: incidentView(incident, await ctx.store.listIncidentUpdates(id)) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/incidents',
    tag: 'status',
    summary: 'Open an incident; status subscribers are told (Airlock)',
    params: [
      {
        name: 'title',
        in: 'body',
        type: 'string',
        required: true,
        max: 200,
        description: 'headline',
      },
      {
        name: 'message',
        in: 'body',
        type: 'string',
        required: true,
        max: 4000,
        description: 'first update',
      },
      {
        name: 'status',
        in: 'body',
        type: 'string',
        enum: INCIDENT_STATUSES,
        description: 'default investigating',
      },
      {
        name: 'impact',
        in: 'body',
        type: 'string',
        enum: INCIDENT_IMPACTS,
        description: 'default minor',
      },
      {
        name: 'apps',
        in: 'body',
        type: 'string[]',
        description: 'affected applications (names, ids or ikeys); none = all',
      },
      {
        name: 'factor',
        in: 'body',
        type: 'string',
        enum: ['push', 'sms', 'phone', 'passcode'],
        description: 'the failing factor',
      },
      {
        name: 'components',
        in: 'body',
        type: 'string[]',
        description: 'affected status page component ids',
      },
    ],
    response: INCIDENT_SCHEMA,
    async handler(call) {
      const { params } = call;
      const incident = await createIncident(operationContext(call), {
        title: params.str('title'),
        body: params.str('message'),
        status: params.optStr('status'),
        impact: params.optStr('impact'),
        apps: params.optList('apps'),
        factor: params.optStr('factor'),
        componentIds: params.optList('components'),
      });
      return { response: incidentView(incident) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/incidents/:incident_id/updates',
    tag: 'status',
    summary: 'Add an update (investigating, identified, monitoring, resolved) (Airlock)',
    params: [
      INCIDENT_ID,
      {
        name: 'status',
        in: 'body',
        type: 'string',
        required: true,
        enum: INCIDENT_STATUSES,
        description: 'the incident’s new status',
      },
      {
        name: 'message',
        in: 'body',
        type: 'string',
        required: true,
        max: 4000,
        description: 'what changed',
      },
    ],
    response: INCIDENT_SCHEMA,
    async handler(call) {
      const { params } = call;
      const incident = await updateIncident(
        operationContext(call),
        incidentId(params.str('incident_id')),
        {
          status: params.str('status'),
          body: params.str('message'),
        },
      );
      return { response: incidentView(incident) };
    },
  },
  {
    method: 'GET',
    path: '/admin/v1/status_subscriptions',
    tag: 'status',
    summary: 'Status subscriptions (Airlock)',
    params: [],
    response: { type: 'array', items: SUBSCRIPTION_SCHEMA },
    async handler({ ctx }) {
      return { response: (await ctx.store.listSubscriptions()).map(subscriptionView) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/status_subscriptions',
    tag: 'status',
    summary: 'Subscribe an e-mail address or a webhook to incident updates (Airlock)',
    params: [
      {
        name: 'kind',
        in: 'body',
        type: 'string',
        required: true,
        enum: SUBSCRIPTION_KINDS,
        description: 'email or webhook',
      },
      {
        name: 'target',
        in: 'body',
        type: 'string',
        required: true,
        max: 2000,
        description: 'address or http(s) URL',
      },
    ],
    response: SUBSCRIPTION_SCHEMA,
    async handler(call) {
      const s = await subscribe(operationContext(call), {
        kind: call.params.str('kind'),
        target: call.params.str('target'),
      });
      return { response: subscriptionView(s) };
    },
  },
  {
    method: 'DELETE',
    path: '/admin/v1/status_subscriptions/:subscription_id',
    tag: 'status',
    summary: 'Remove a subscription (Airlock)',
    params: [
      { name: 'subscription_id', in: 'path', type: 'string', required: true, description: 'id' },
    ],
    response: {
      type: 'object',
      required: ['removed'],
      properties: { removed: { type: 'boolean' } },
    },
    async handler(call) {
      return {
        response: {
          removed: await unsubscribe(operationContext(call), call.params.str('subscription_id')),
        },
      };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/status_components/:component_id/override',
    tag: 'status',
    summary:
      'Set a component’s status by hand, over what is measured; status "measured" removes it (Airlock)',
    params: [
      {
        name: 'component_id',
        in: 'path',
        type: 'string',
        required: true,
        description: 'e.g. auth-api, proxy-vpn1',
      },
      {
        name: 'status',
        in: 'body',
        type: 'string',
        required: true,
        enum: [...COMPONENT_STATUSES, 'measured'],
        description: 'the status to show',
      },
      {
        name: 'reason',
        in: 'body',
        type: 'string',
        max: 500,
        description: 'why (required unless measured)',
      },
    ],
    response: {
      type: 'object',
      required: ['component_id', 'status'],
      properties: { component_id: { type: 'string' }, status: { type: 'string' } },
    },
    async handler(call) {
      const status = call.params.str('status');
      const componentId = call.params.str('component_id');
      await overrideComponent(operationContext(call), componentId, {
        status: status === 'measured' ? null : status,
        reason: call.params.optStr('reason') ?? '',
      });
      return { response: { component_id: componentId, status } };
    },
  },
]);
