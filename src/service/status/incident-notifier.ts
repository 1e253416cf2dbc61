// Tells status subscribers of each incident change (created, updated, resolved) by e-mail and
// webhook, whichever surface made it (CLI, Admin API, console): a follower of the audit log
// (service/audit-follower.ts) for `incident.create` and `incident.update`, as the SIEM output is.
import { createHmac } from 'node:crypto';
import type { Incident, IncidentUpdate, Subscription } from '../../core/incident.ts';
import type { AuditEvent } from '../../core/model.ts';
import type { HttpPost } from '../../runtime/http-post.ts';
import type { MailSender } from '../../runtime/mail-sender.ts';
import type { Store } from '../../store/store.ts';
import type { AuditFollower, AuditSubscriber } from '../audit-follower.ts';

/** The audit actions whose incident updates go to subscribers. */
const INCIDENT_ACTIONS = ['incident.create', 'incident.update'] as const;

export interface IncidentNotifierDeps {
  store: Store;
  /** The audit log's follower: the notifier subscribes to it for the incident events. */
  follower: AuditFollower;
  post: HttpPost;
  /** Without one, e-mail subscribers are skipped (and said so once). */
  mail?: MailSender | undefined;
  /** Signs webhook bodies (`X-Airlock-Signature: sha256=…`); '' = unsigned. */
  webhookSecret: string;
  /** The status page's address, for the messages. */
  pageUrl: () => string;
  onProblem: (message: string) => void;
}

export interface IncidentNotifier {
  /**
   * One pass of the audit follower (every subscriber's): delivers the incident changes committed
   * since the last pass; returns how many deliveries were made.
   */
  deliverOnce(): Promise<number>;
  /** Closes the SMTP connection (after the follower has stopped). */
  close(): void;
}

/** The e-mail of one update: subject `[Status] <title>: <status>`. */
export function incidentMail(incident: Incident, update: IncidentUpdate, pageUrl: string) {
  return {
    subject: `[Status] ${incident.title}: ${update.status}`,
    text: `${update.body}\n\nIncident #${incident.id} (impact ${incident.impact}) is ${update.status}.\n${pageUrl}\n`,
  };
}

/** The webhook body: Statuspage's incident webhook shape (`incident` with its newest update). */
export function incidentWebhookBody(incident: Incident, update: IncidentUpdate) {
  return {
    meta: { generated_at: new Date(update.createdAtMs).toISOString() },
    incident: {
      id: String(incident.id),
      name: incident.title,
      status: incident.status,
      impact: incident.impact,
      created_at: new Date(incident.createdAtMs).toISOString(),
      updated_at: new Date(incident.updatedAtMs).toISOString(),
      resolved_at:
        incident.resolvedAtMs === null ? null : new Date(incident.resolvedAtMs).toISOString(),
      incident_updates: [
        {
          id: String(update.id),
          status: update.status,
          body: update.body,
          created_at: new Date(update.createdAtMs).toISOString(),
        },
      ],
    },
  };
}

export function createIncidentNotifier(deps: IncidentNotifierDeps): IncidentNotifier {
  let delivered = 0;
  let warnedNoMail = false;

  const deliver = async (sub: Subscription, incident: Incident, update: IncidentUpdate) => {
    if (sub.kind === 'email') {
      if (!deps.mail) {
        if (!warnedNoMail) deps.onProblem('e-mail subscribers skipped: no SMTP server configured');
        warnedNoMail = true;
        return false;
      }
      await deps.mail.send({ to: [sub.target], ...incidentMail(incident, update, deps.pageUrl()) });
      return true;
    }
    const body = JSON.stringify(incidentWebhookBody(incident, update));
    const headers: Record<string, string> = deps.webhookSecret
      ? {
          'X-Airlock-Signature': `sha256=${createHmac('sha256', deps.webhookSecret).update(body).digest('hex')}`,
        }
      : {};
    const res = await deps.post(sub.target, body, headers, 10_000);
    if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}`);
    return true;
  };

  /** One incident event: its update to every subscription. */
  const tell = async (event: AuditEvent) => {
    const incident = await deps.store.getIncident(Number(event.targetId));
    if (!incident) return;
    const updates = await deps.store.listIncidentUpdates(incident.id);
    // The update this event recorded: named by the event; for events written before it
    // named one, the one written at the event's time.
    const named = Number(event.detail.updateId);
    const update =
      updates.find((u) => u.id === named) ??
      [...updates].reverse().find((u) => u.createdAtMs <= event.tsMs) ??
      updates.at(-1);
    if (!update) return;
    // The incident as this update left it: by the time a pass reads an event the incident
    // may have moved on, and each subscriber message tells the step it was sent for.
    const asOfUpdate = { ...incident, status: update.status };
    for (const sub of await deps.store.listSubscriptions()) {
      try {
        if (await deliver(sub, asOfUpdate, update)) delivered += 1;
      } catch (err) {
        // A webhook URL may carry a token: name the subscription, not its target.
        deps.onProblem(
          `status subscription ${sub.id} (${sub.kind}): incident ${incident.id} not delivered: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  };

  const subscriber: AuditSubscriber = {
    name: 'status subscriptions',
    actions: INCIDENT_ACTIONS,
    async handle(events) {
      for (const event of events) await tell(event);
    },
  };
  deps.follower.subscribe(subscriber);
  return {
    async deliverOnce() {
      const before = delivered;
      await deps.follower.followOnce();
      return delivered - before;
    },
    close: () => deps.mail?.close(),
  };
}
