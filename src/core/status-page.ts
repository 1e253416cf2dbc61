// The status page's components and their status, derived from measured health with manual
// overrides, and the Atlassian-Statuspage-compatible JSON documents (docs/status-page.md).
import {
  COMPONENT_STATUSES,
  type ComponentStatus,
  type Incident,
  type IncidentImpact,
  type IncidentUpdate,
} from './incident.ts';
import type { RestrictionLevel } from './model.ts';

/** What a proxy or gateway reports about itself on the signed health endpoint. */
export interface HealthReport {
  /** `proxy:<name>` or `gateway:<name>`. */
  reporter: string;
  kind: 'proxy' | 'gateway';
  name: string;
  /** Its own view: `operational`, `degraded_performance`, … */
  status: ComponentStatus;
  detail: string;
  receivedAtMs: number;
}

export interface StatusInput {
  nowMs: number;
  /** A proxy or gateway silent for longer than this is `major_outage`. */
  silenceMs: number;
  /** Factor delivery health: configured pairs and measured ones. */
  factors: readonly { factor: string; provider: string; degraded: boolean; reason: string }[];
  reports: readonly HealthReport[];
  applications: readonly { id: string; name: string; restrictionLevel: RestrictionLevel }[];
  overrides: readonly { componentId: string; status: ComponentStatus; reason: string }[];
  /** Unresolved incidents. */
  openIncidents: readonly Incident[];
}

export interface StatusComponent {
  id: string;
  name: string;
  status: ComponentStatus;
  /** Why: the measurement, the silence, the override. */
  description: string;
  /** The group component it belongs to (application groups); null at top level. */
  groupId: string | null;
  /** Group components list their children. */
  children?: string[];
  position: number;
}

const SEVERITY: Record<ComponentStatus, number> = {
  operational: 0,
  under_maintenance: 1,
  degraded_performance: 2,
  partial_outage: 3,
  major_outage: 4,
};

const IMPACT_STATUS: Record<IncidentImpact, ComponentStatus> = {
  none: 'operational',
  minor: 'degraded_performance',
  major: 'partial_outage',
  critical: 'major_outage',
};

const LEVEL_NAMES: Record<RestrictionLevel, string> = {
  'most-restrictive': 'Applications: most restrictive',
  restrictive: 'Applications: restrictive',
  'less-restrictive': 'Applications: less restrictive',
};

export function worstStatus(statuses: readonly ComponentStatus[]): ComponentStatus {
  return statuses.reduce<ComponentStatus>(
    (worst, s) => (SEVERITY[s] > SEVERITY[worst] ? s : worst),
    'operational',
  );
}

/** The components, in page order: Auth API, factors, proxies and gateways, application groups. */
export function deriveComponents(input: StatusInput): StatusComponent[] {
  const components: Omit<StatusComponent, 'position'>[] = [];
  const incidentStatus = (id: string) =>
    worstStatus(
      input.openIncidents
        .filter((i) => i.componentIds.includes(id))
        .map((i) => IMPACT_STATUS[i.impact]),
    );
  components.push({
    id: 'auth-api',
    name: 'Auth API',
    status: 'operational',
    description: 'answering (this page is served by it)',
    groupId: null,
  });
  for (const f of input.factors) {
    components.push({
      id: `factor-${f.factor}-${f.provider}`,
      name: `${f.factor} via ${f.provider}`,
      status: f.degraded ? 'degraded_performance' : 'operational',
      description: f.reason,
      groupId: null,
    });
  }
  for (const r of input.reports) {
    const silentMs = input.nowMs - r.receivedAtMs;
    const silent = silentMs > input.silenceMs;
    components.push({
      id: `${r.kind}-${r.name}`,
      name: `${r.kind === 'proxy' ? 'Proxy' : 'Gateway'} ${r.name}`,
      status: silent ? 'major_outage' : r.status,
      description: silent
        ? `no report for ${Math.round(silentMs / 1000)} s (limit ${Math.round(input.silenceMs / 1000)} s)`
        : r.detail,
      groupId: null,
    });
  }
  for (const level of ['most-restrictive', 'restrictive', 'less-restrictive'] as const) {
    const apps = input.applications.filter((a) => a.restrictionLevel === level);
    if (apps.length === 0) continue;
    const groupId = `apps-${level}`;
    const children = apps.map((a) => {
      const affected = input.openIncidents.filter(
        (i) => i.appIds.length === 0 || i.appIds.includes(a.id),
      );
      return {
        id: `app-${a.id}`,
        name: a.name,
        status: worstStatus(affected.map((i) => IMPACT_STATUS[i.impact])),
        description:
          affected.length === 0 ? 'no open incident' : affected.map((i) => `#${i.id}`).join(', '),
        groupId,
      };
    });
    components.push({
      id: groupId,
      name: LEVEL_NAMES[level],
      status: worstStatus(children.map((c) => c.status)),
      description: `${apps.length} application(s)`,
      groupId: null,
      children: children.map((c) => c.id),
    });
    components.push(...children);
  }
  // Incidents that name a component, then manual overrides, over the measurement.
  return components.map((c, position) => {
    const override = input.overrides.find((o) => o.componentId === c.id);
    if (override) {
      return {
        ...c,
        status: override.status,
        description: `${override.reason} (set by hand)`,
        position,
      };
    }
    return { ...c, status: worstStatus([c.status, incidentStatus(c.id)]), position };
  });
}

/** Statuspage's page indicator from the worst component and the open incidents. */
export function pageIndicator(
  components: readonly StatusComponent[],
  openIncidents: readonly Incident[],
): { indicator: 'none' | 'minor' | 'major' | 'critical'; description: string } {
  const worst = worstStatus(components.map((c) => c.status));
  const fromComponents = (
    {
      operational: 'none',
      under_maintenance: 'none',
      degraded_performance: 'minor',
      partial_outage: 'major',
      major_outage: 'critical',
    } as const
  )[worst];
  const ranks = ['none', 'minor', 'major', 'critical'] as const;
  const fromIncidents = openIncidents.reduce<(typeof ranks)[number]>(
    (w, i) => (ranks.indexOf(i.impact) > ranks.indexOf(w) ? i.impact : w),
    'none',
  );
  const indicator =
    ranks.indexOf(fromIncidents) > ranks.indexOf(fromComponents) ? fromIncidents : fromComponents;
  const description = {
    none: 'All Systems Operational',
    minor: 'Minor Service Outage',
    major: 'Partial System Outage',
    critical: 'Major System Outage',
  }[indicator];
  return { indicator, description };
}

/** The `page` object every Statuspage document starts with. */
export interface StatusPageInfo {
  id: string;
  name: string;
  url: string;
  timeZone: string;
  updatedAtMs: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function pageJson(page: StatusPageInfo) {
  return {
    id: page.id,
    name: page.name,
    url: page.url,
    time_zone: page.timeZone,
    updated_at: iso(page.updatedAtMs),
  };
}

export function componentJson(c: StatusComponent, page: StatusPageInfo) {
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    created_at: iso(page.updatedAtMs),
    updated_at: iso(page.updatedAtMs),
    position: c.position + 1,
    description: c.description,
    showcase: true,
    start_date: null,
    group_id: c.groupId,
    page_id: page.id,
    group: c.children !== undefined,
    only_show_if_degraded: false,
    ...(c.children !== undefined ? { components: c.children } : {}),
  };
}

export function incidentJson(
  incident: Incident,
  updates: readonly IncidentUpdate[],
  components: readonly StatusComponent[],
  page: StatusPageInfo,
) {
  const affected = components.filter((c) => incident.componentIds.includes(c.id));
  const firstAt = (status: string) =>
    iso(updates.find((u) => u.status === status)?.createdAtMs ?? null);
  return {
    id: String(incident.id),
    name: incident.title,
    status: incident.status,
    created_at: iso(incident.createdAtMs),
    updated_at: iso(incident.updatedAtMs),
    monitoring_at: firstAt('monitoring'),
    resolved_at: iso(incident.resolvedAtMs),
    impact: incident.impact,
    shortlink: `${page.url}/incidents/${incident.id}`,
    started_at: iso(incident.createdAtMs),
    page_id: page.id,
    incident_updates: [...updates].reverse().map((u) => ({
      id: String(u.id),
      status: u.status,
      body: u.body,
      incident_id: String(incident.id),
      created_at: iso(u.createdAtMs),
      updated_at: iso(u.createdAtMs),
      display_at: iso(u.createdAtMs),
      affected_components: affected.map((c) => ({
        code: c.id,
        name: c.name,
        old_status: c.status,
        new_status: c.status,
      })),
      deliver_notifications: true,
      custom_tweet: null,
      tweet_id: null,
    })),
    components: affected.map((c) => componentJson(c, page)),
  };
}

export { COMPONENT_STATUSES };
