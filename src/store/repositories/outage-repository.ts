// Outage operations' records: templates, incidents and updates, subscriptions, overrides, reports.
import type { Selectable } from 'kysely';
import type {
  ComponentStatus,
  Incident,
  IncidentImpact,
  IncidentStatus,
  IncidentUpdate,
  Subscription,
  SubscriptionKind,
} from '../../core/incident.ts';
import type { MessageKind, MessageLanguage } from '../../core/user-messages.ts';
import type {
  ComponentOverride,
  HealthReport,
  NewIncident,
  StoredTemplate,
} from '../outage-store.ts';
import type { IncidentsTable } from '../schema.ts';
import { Repository } from './repository.ts';
import { translateWriteError } from './write-errors.ts';

export class OutageRepository extends Repository {
  async listMessageTemplates(): Promise<StoredTemplate[]> {
    const rows = await this.db
      .selectFrom('message_templates')
      .selectAll()
      .orderBy('kind')
      .orderBy('language')
      .execute();
    return rows.map((r) => ({
      kind: r.kind as MessageKind,
      language: r.language as MessageLanguage,
      subject: r.subject,
      body: r.body,
      updatedAtMs: Number(r.updated_at_ms),
      updatedBy: r.updated_by,
    }));
  }

  async putMessageTemplate(t: StoredTemplate): Promise<void> {
    const values = {
      subject: t.subject,
      body: t.body,
      updated_at_ms: t.updatedAtMs,
      updated_by: t.updatedBy,
    };
    await this.db
      .insertInto('message_templates')
      .values({ kind: t.kind, language: t.language, ...values })
      .onConflict((oc) => oc.columns(['kind', 'language']).doUpdateSet(values))
      .execute();
  }

  async deleteMessageTemplate(kind: MessageKind, language: MessageLanguage): Promise<boolean> {
    const r = await this.db
      .deleteFrom('message_templates')
      .where('kind', '=', kind)
      .where('language', '=', language)
      .executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async createIncident(input: NewIncident, firstUpdate: { body: string }): Promise<Incident> {
    const row = await this.db
      .insertInto('incidents')
      .values({
        title: input.title,
        status: input.status,
        impact: input.impact,
        app_ids: JSON.stringify(input.appIds),
        component_ids: JSON.stringify(input.componentIds),
        factor: input.factor,
        created_at_ms: input.createdAtMs,
        updated_at_ms: input.createdAtMs,
        resolved_at_ms: input.status === 'resolved' ? input.createdAtMs : null,
        created_by: input.createdBy,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const id = Number(row.id);
    await this.db
      .insertInto('incident_updates')
      .values({
        incident_id: id,
        status: input.status,
        body: firstUpdate.body,
        created_at_ms: input.createdAtMs,
        actor: input.createdBy,
      })
      .execute();
    const created = await this.getIncident(id);
    if (!created) throw new Error('incident insert returned no row');
    return created;
  }

  async getIncident(id: number): Promise<Incident | undefined> {
    const row = await this.db
      .selectFrom('incidents')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toIncident(row);
  }

  async listIncidents(query: { open?: boolean; limit?: number } = {}): Promise<Incident[]> {
    let q = this.db.selectFrom('incidents').selectAll();
    if (query.open === true) q = q.where('status', '!=', 'resolved');
    const rows = await q
      .orderBy('id', 'desc')
      .limit(Math.min(Math.max(1, query.limit ?? 50), 500))
      .execute();
    return rows.map(toIncident);
  }

  async addIncidentUpdate(
    incidentId: number,
    expectedStatus: IncidentStatus,
    update: { status: IncidentStatus; body: string; createdAtMs: number; actor: string },
  ): Promise<Incident | undefined> {
    const moved = await this.db
      .updateTable('incidents')
      .set({
        status: update.status,
        updated_at_ms: update.createdAtMs,
        resolved_at_ms: update.status === 'resolved' ? update.createdAtMs : null,
      })
      .where('id', '=', incidentId)
      .where('status', '=', expectedStatus)
      .executeTakeFirst();
    if (moved.numUpdatedRows !== 1n) return undefined;
    await this.db
      .insertInto('incident_updates')
      .values({
        incident_id: incidentId,
        status: update.status,
        body: update.body,
        created_at_ms: update.createdAtMs,
        actor: update.actor,
      })
      .execute();
    return this.getIncident(incidentId);
  }

  async listIncidentUpdates(incidentId: number): Promise<IncidentUpdate[]> {
    const rows = await this.db
      .selectFrom('incident_updates')
      .selectAll()
      .where('incident_id', '=', incidentId)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      incidentId: Number(r.incident_id),
      status: r.status as IncidentStatus,
      body: r.body,
      createdAtMs: Number(r.created_at_ms),
      actor: r.actor,
    }));
  }

  async createSubscription(s: Subscription): Promise<Subscription> {
    try {
      await this.db
        .insertInto('status_subscriptions')
        .values({ id: s.id, kind: s.kind, target: s.target, created_at_ms: s.createdAtMs })
        .execute();
    } catch (err) {
      throw translateWriteError(err, 'subscription', { target: 'this address' });
    }
    return s;
  }

  async listSubscriptions(): Promise<Subscription[]> {
    const rows = await this.db
      .selectFrom('status_subscriptions')
      .selectAll()
      .orderBy('created_at_ms')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind as SubscriptionKind,
      target: r.target,
      createdAtMs: Number(r.created_at_ms),
    }));
  }

  async deleteSubscription(id: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('status_subscriptions')
      .where('id', '=', id)
      .executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async putComponentOverride(o: ComponentOverride): Promise<void> {
    const values = {
      status: o.status,
      reason: o.reason,
      actor: o.actor,
      created_at_ms: o.createdAtMs,
    };
    await this.db
      .insertInto('component_overrides')
      .values({ component_id: o.componentId, ...values })
      .onConflict((oc) => oc.column('component_id').doUpdateSet(values))
      .execute();
  }

  async deleteComponentOverride(componentId: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('component_overrides')
      .where('component_id', '=', componentId)
      .executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async listComponentOverrides(): Promise<ComponentOverride[]> {
    const rows = await this.db
      .selectFrom('component_overrides')
      .selectAll()
      .orderBy('component_id')
      .execute();
    return rows.map((r) => ({
      componentId: r.component_id,
      status: r.status as ComponentStatus,
      reason: r.reason,
      actor: r.actor,
      createdAtMs: Number(r.created_at_ms),
    }));
  }

  async putHealthReport(report: HealthReport, appId: string): Promise<boolean> {
    const values = {
      kind: report.kind,
      report: JSON.stringify(report),
      received_at_ms: report.receivedAtMs,
    };
    // One statement, so two applications reporting one name at once cannot both own it.
    const result = await this.db
      .insertInto('health_reports')
      .values({ reporter: report.reporter, app_id: appId, ...values })
      .onConflict((oc) =>
        oc.column('reporter').doUpdateSet(values).where('health_reports.app_id', '=', appId),
      )
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async listHealthReports(): Promise<HealthReport[]> {
    const rows = await this.db
      .selectFrom('health_reports')
      .selectAll()
      .orderBy('reporter')
      .execute();
    return rows.map((r) => JSON.parse(r.report) as HealthReport);
  }
}

function toIncident(row: Selectable<IncidentsTable>): Incident {
  return {
    id: Number(row.id),
    title: row.title,
    status: row.status as IncidentStatus,
    impact: row.impact as IncidentImpact,
    appIds: JSON.parse(row.app_ids) as string[],
    componentIds: JSON.parse(row.component_ids) as string[],
    factor: row.factor,
    createdAtMs: Number(row.created_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
    resolvedAtMs: row.resolved_at_ms === null ? null : Number(row.resolved_at_ms),
    createdBy: row.created_by,
  };
}
