// The status page's JSON documents in Atlassian Statuspage's shapes (docs/status-page.md), one
// TypeBox declaration each: the routes serialize with them and the service's OpenAPI document
// lists them. Unlike the Auth API they carry no Duo envelope: status tooling reads them as is.
import Type from 'typebox';
import { INCIDENT_IMPACTS, INCIDENT_STATUSES } from '../../core/incident.ts';
import { COMPONENT_STATUSES } from '../../core/status-page.ts';
import { closedSet, FAIL_CLASSES, nullable, type ApiOperation } from '../api-schema.ts';

const str = Type.String();
const time = nullable(Type.String({ description: 'ISO 8601' }));

const Page = Type.Object({
  id: str,
  name: str,
  url: str,
  time_zone: str,
  updated_at: time,
});

const Indicator = Type.Object({
  indicator: closedSet(['none', 'minor', 'major', 'critical'] as const),
  description: str,
});

const Component = Type.Object({
  id: str,
  name: str,
  status: closedSet(COMPONENT_STATUSES),
  created_at: time,
  updated_at: time,
  position: Type.Integer(),
  description: str,
  showcase: Type.Boolean(),
  start_date: Type.Null(),
  group_id: nullable(str),
  page_id: str,
  group: Type.Boolean(),
  only_show_if_degraded: Type.Boolean(),
  components: Type.Optional(Type.Array(str, { description: 'a group: its components' })),
});

const Incident = Type.Object({
  id: str,
  name: str,
  status: closedSet(INCIDENT_STATUSES),
  created_at: time,
  updated_at: time,
  monitoring_at: time,
  resolved_at: time,
  impact: closedSet(INCIDENT_IMPACTS),
  shortlink: str,
  started_at: time,
  page_id: str,
  incident_updates: Type.Array(
    Type.Object({
      id: str,
      status: closedSet(INCIDENT_STATUSES),
      body: str,
      incident_id: str,
      created_at: time,
      updated_at: time,
      display_at: time,
      affected_components: Type.Array(
        Type.Object({ code: str, name: str, old_status: str, new_status: str }),
      ),
      deliver_notifications: Type.Boolean(),
      custom_tweet: Type.Null(),
      tweet_id: Type.Null(),
    }),
  ),
  components: Type.Array(Component),
});

const statusDoc = (path: string, summary: string, schema: ReturnType<typeof Type.Object>) =>
  ({
    method: 'GET',
    path,
    tag: 'status page',
    summary,
    responses: { '200': { description: 'OK', schema }, ...FAIL_CLASSES },
  }) as const satisfies ApiOperation;

export const STATUS_PAGE_OPERATIONS = {
  status: statusDoc(
    '/api/v2/status.json',
    'The page and its overall indicator (Statuspage)',
    Type.Object({ page: Page, status: Indicator }),
  ),
  components: statusDoc(
    '/api/v2/components.json',
    'Every component and its status (Statuspage)',
    Type.Object({ page: Page, components: Type.Array(Component) }),
  ),
  incidents: statusDoc(
    '/api/v2/incidents.json',
    'The latest 50 incidents with their updates (Statuspage)',
    Type.Object({ page: Page, incidents: Type.Array(Incident) }),
  ),
  unresolved: statusDoc(
    '/api/v2/incidents/unresolved.json',
    'The incidents not yet resolved (Statuspage)',
    Type.Object({ page: Page, incidents: Type.Array(Incident) }),
  ),
  summary: statusDoc(
    '/api/v2/summary.json',
    'Page, components, unresolved incidents and indicator in one document (Statuspage)',
    Type.Object({
      page: Page,
      components: Type.Array(Component),
      incidents: Type.Array(Incident),
      scheduled_maintenances: Type.Array(Type.Never()),
      status: Indicator,
    }),
  ),
} as const;
