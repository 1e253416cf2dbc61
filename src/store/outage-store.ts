// The Store's part for outage operations (migration 0011): user-message templates, incidents and
// their updates, status subscriptions, component overrides, proxies' and gateways' health reports.
import type {
  ComponentStatus,
  Incident,
  IncidentImpact,
  IncidentStatus,
  IncidentUpdate,
  Subscription,
} from '../core/incident.ts';
import type { HealthReport } from '../core/status-page.ts';
import type { MessageKind, MessageLanguage, MessageTemplate } from '../core/user-messages.ts';

export interface StoredTemplate extends MessageTemplate {
  updatedAtMs: number;
  updatedBy: string;
}

export interface NewIncident {
  title: string;
  status: IncidentStatus;
  impact: IncidentImpact;
  appIds: string[];
  factor: string | null;
  componentIds: string[];
  createdAtMs: number;
  createdBy: string;
}

export interface ComponentOverride {
  componentId: string;
  status: ComponentStatus;
  reason: string;
  actor: string;
  createdAtMs: number;
}

export type { HealthReport } from '../core/status-page.ts';

export interface OutageStore {
  /** Edited templates only; a kind and language without one uses the default. */
  listMessageTemplates(): Promise<StoredTemplate[]>;
  putMessageTemplate(template: StoredTemplate): Promise<void>;
  deleteMessageTemplate(kind: MessageKind, language: MessageLanguage): Promise<boolean>;

  createIncident(input: NewIncident, firstUpdate: { body: string }): Promise<Incident>;
  getIncident(id: number): Promise<Incident | undefined>;
  /** Newest first; `open` = not resolved. */
  listIncidents(query?: { open?: boolean; limit?: number }): Promise<Incident[]>;
  /**
   * Adds an update and moves the incident to its status, only while the incident is in
   * `expectedStatus` (a concurrent update makes it return undefined).
   */
  addIncidentUpdate(
    incidentId: number,
    expectedStatus: IncidentStatus,
    update: { status: IncidentStatus; body: string; createdAtMs: number; actor: string },
  ): Promise<Incident | undefined>;
  /** Oldest first. */
  listIncidentUpdates(incidentId: number): Promise<IncidentUpdate[]>;

  createSubscription(subscription: Subscription): Promise<Subscription>;
  listSubscriptions(): Promise<Subscription[]>;
  deleteSubscription(id: string): Promise<boolean>;

  putComponentOverride(override: ComponentOverride): Promise<void>;
  deleteComponentOverride(componentId: string): Promise<boolean>;
  listComponentOverrides(): Promise<ComponentOverride[]>;

  /**
   * Stores the report for application `appId`. The first application to report a name owns it
   * until it is deleted; false (nothing stored) when another application owns it.
   */
  putHealthReport(report: HealthReport, appId: string): Promise<boolean>;
  listHealthReports(): Promise<HealthReport[]>;
}
