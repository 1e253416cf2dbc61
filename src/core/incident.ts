// Incidents on the status page and the user messages: Atlassian Statuspage's vocabulary
// (docs/outage-playbook.md), the order of an incident's updates, and subscriptions.

export const INCIDENT_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];
export const isIncidentStatus = (v: unknown): v is IncidentStatus =>
  typeof v === 'string' && (INCIDENT_STATUSES as readonly string[]).includes(v);

/** Statuspage's incident `impact`. */
export const INCIDENT_IMPACTS = ['none', 'minor', 'major', 'critical'] as const;
export type IncidentImpact = (typeof INCIDENT_IMPACTS)[number];
export const isIncidentImpact = (v: unknown): v is IncidentImpact =>
  typeof v === 'string' && (INCIDENT_IMPACTS as readonly string[]).includes(v);

/** Statuspage's component `status`. */
export const COMPONENT_STATUSES = [
  'operational',
  'degraded_performance',
  'partial_outage',
  'major_outage',
  'under_maintenance',
] as const;
export type ComponentStatus = (typeof COMPONENT_STATUSES)[number];
export const isComponentStatus = (v: unknown): v is ComponentStatus =>
  typeof v === 'string' && (COMPONENT_STATUSES as readonly string[]).includes(v);

export interface Incident {
  id: number;
  title: string;
  status: IncidentStatus;
  impact: IncidentImpact;
  /** Ids of the affected applications (for the user messages). */
  appIds: string[];
  /** The factor that fails (`push`, `sms`, `phone`), for the factor-outage message; null = none. */
  factor: string | null;
  /** Status page components affected (ids). */
  componentIds: string[];
  createdAtMs: number;
  updatedAtMs: number;
  resolvedAtMs: number | null;
  createdBy: string;
}

export interface IncidentUpdate {
  id: number;
  incidentId: number;
  status: IncidentStatus;
  body: string;
  createdAtMs: number;
  actor: string;
}

export const SUBSCRIPTION_KINDS = ['email', 'webhook'] as const;
export type SubscriptionKind = (typeof SUBSCRIPTION_KINDS)[number];
export const isSubscriptionKind = (v: unknown): v is SubscriptionKind =>
  typeof v === 'string' && (SUBSCRIPTION_KINDS as readonly string[]).includes(v);

export interface Subscription {
  id: string;
  kind: SubscriptionKind;
  /** An e-mail address or an http(s) URL. */
  target: string;
  createdAtMs: number;
}

/**
 * Whether an incident in `from` may get an update in `to`: any status while it is open (an
 * incident can go back to investigating), nothing once it is resolved.
 */
export function canUpdateIncident(from: IncidentStatus, to: IncidentStatus): boolean {
  void to;
  return from !== 'resolved';
}

/** A plausible e-mail address (one @, a dot in the domain, no spaces or angle brackets). */
export function isEmailAddress(v: string): boolean {
  return /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(v) && v.length <= 254;
}
