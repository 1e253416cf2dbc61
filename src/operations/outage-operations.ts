// Outage operations performed and audited once: the user-message templates (edit, reset),
// incidents and their updates, status subscriptions and component overrides. The CLI, the
// Admin API and the console call these; subscribers hear of each incident change through the
// `IncidentListener` given (the service's status page delivers them).
import { AirlockError } from '../core/error-registry.ts';
import {
  canUpdateIncident,
  INCIDENT_IMPACTS,
  INCIDENT_STATUSES,
  isComponentStatus,
  isEmailAddress,
  isIncidentImpact,
  isIncidentStatus,
  isSubscriptionKind,
  COMPONENT_STATUSES,
  SUBSCRIPTION_KINDS,
  type Incident,
  type IncidentStatus,
  type IncidentUpdate,
  type Subscription,
} from '../core/incident.ts';
import {
  DEFAULT_TEMPLATES,
  isMessageKind,
  isMessageLanguage,
  MESSAGE_KINDS,
  MESSAGE_LANGUAGES,
  MESSAGE_VARIABLES,
  unknownVariables,
  type MessageKind,
  type MessageTemplate,
} from '../core/user-messages.ts';
import { generateId } from '../runtime/random.ts';
import type { Store } from '../store/store.ts';
import { auditEvent, type OperationContext } from './operation-context.ts';

const invalid = (problems: string[]) => new AirlockError('OUTAGE_INVALID', problems.join('; '));

/** Every template in use: the edited ones over the defaults, in kind and language order. */
export async function loadMessageTemplates(
  store: Store,
): Promise<(MessageTemplate & { edited: boolean })[]> {
  const stored = await store.listMessageTemplates();
  return DEFAULT_TEMPLATES.map((d) => {
    const s = stored.find((t) => t.kind === d.kind && t.language === d.language);
    return s
      ? { kind: s.kind, language: s.language, subject: s.subject, body: s.body, edited: true }
      : { ...d, edited: false };
  });
}

/** The templates of one kind, for renderers that take a lookup. */
export function templatesOfKind(
  all: readonly MessageTemplate[],
): (kind: MessageKind) => MessageTemplate[] {
  return (kind) => all.filter((t) => t.kind === kind);
}

export async function setMessageTemplate(
  ctx: OperationContext,
  input: { kind: string; language: string; subject: string; body: string },
): Promise<MessageTemplate> {
  const problems: string[] = [];
  if (!isMessageKind(input.kind)) problems.push(`kind must be one of ${MESSAGE_KINDS.join(', ')}`);
  if (!isMessageLanguage(input.language))
    problems.push(`language must be one of ${MESSAGE_LANGUAGES.join(', ')}`);
  for (const [field, text] of [
    ['subject', input.subject],
    ['body', input.body],
  ] as const) {
    if (text.trim() === '') problems.push(`${field} must not be empty`);
    const unknown = unknownVariables(text);
    if (unknown.length > 0) {
      problems.push(
        `${field} uses unknown variable${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `{${u}}`).join(', ')}; known: ${MESSAGE_VARIABLES.map((v) => `{${v}}`).join(', ')}`,
      );
    }
  }
  if (problems.length > 0 || !isMessageKind(input.kind) || !isMessageLanguage(input.language)) {
    throw invalid(problems);
  }
  const template = {
    kind: input.kind,
    language: input.language,
    subject: input.subject,
    body: input.body,
  };
  await ctx.store.transaction(async (tx) => {
    await tx.putMessageTemplate({
      ...template,
      updatedAtMs: ctx.clock.nowMs(),
      updatedBy: ctx.actor,
    });
    await tx.appendAudit(
      auditEvent(
        ctx,
        'template.set',
        { type: 'message-template', id: `${input.kind}/${input.language}` },
        template,
      ),
    );
  });
  return template;
}

/** Back to the default text; false when it was not edited. */
export async function resetMessageTemplate(
  ctx: OperationContext,
  input: { kind: string; language: string },
): Promise<boolean> {
  if (!isMessageKind(input.kind) || !isMessageLanguage(input.language)) {
    throw invalid([`no template ${input.kind}/${input.language}`]);
  }
  const { kind, language } = input;
  return ctx.store.transaction(async (tx) => {
    const removed = await tx.deleteMessageTemplate(kind, language);
    if (removed) {
      await tx.appendAudit(
        auditEvent(
          ctx,
          'template.reset',
          { type: 'message-template', id: `${kind}/${language}` },
          {},
        ),
      );
    }
    return removed;
  });
}

/** Told of every incident change once it is committed (the status page's subscriptions). */
export type IncidentListener = (incident: Incident, update: IncidentUpdate) => void;

export interface NewIncidentInput {
  title: string;
  body: string;
  status?: string | undefined;
  impact?: string | undefined;
  /** Application names, ids or ikeys. */
  apps?: readonly string[] | undefined;
  factor?: string | undefined;
  componentIds?: readonly string[] | undefined;
}

export async function createIncident(
  ctx: OperationContext,
  input: NewIncidentInput,
  listener?: IncidentListener,
): Promise<Incident> {
  const problems: string[] = [];
  if (input.title.trim() === '') problems.push('title must not be empty');
  if (input.body.trim() === '') problems.push('the first update needs a text');
  const status = input.status ?? 'investigating';
  if (!isIncidentStatus(status))
    problems.push(`status must be one of ${INCIDENT_STATUSES.join(', ')}`);
  const impact = input.impact ?? 'minor';
  if (!isIncidentImpact(impact))
    problems.push(`impact must be one of ${INCIDENT_IMPACTS.join(', ')}`);
  const factor = input.factor ?? null;
  if (factor !== null && !['push', 'sms', 'phone', 'passcode'].includes(factor)) {
    problems.push('factor must be push, sms, phone or passcode');
  }
  const appIds = await resolveApps(ctx.store, input.apps ?? [], problems);
  if (problems.length > 0 || !isIncidentStatus(status) || !isIncidentImpact(impact)) {
    throw invalid(problems);
  }
  const { incident, update } = await ctx.store.transaction(async (tx) => {
    const created = await tx.createIncident(
      {
        title: input.title.trim(),
        status,
        impact: impact,
        appIds,
        factor,
        componentIds: [...(input.componentIds ?? [])],
        createdAtMs: ctx.clock.nowMs(),
        createdBy: ctx.actor,
      },
      { body: input.body },
    );
    const [first] = await tx.listIncidentUpdates(created.id);
    await tx.appendAudit(
      auditEvent(
        ctx,
        'incident.create',
        { type: 'incident', id: String(created.id) },
        {
          title: created.title,
          status,
          impact,
          appIds,
          factor,
          // Which update subscribers are told of (the status page's notifier reads it).
          updateId: first?.id,
        },
      ),
    );
    return { incident: created, update: first as IncidentUpdate };
  });
  listener?.(incident, update);
  return incident;
}

export async function updateIncident(
  ctx: OperationContext,
  id: number,
  input: { status: string; body: string },
  listener?: IncidentListener,
): Promise<Incident> {
  const current = await ctx.store.getIncident(id);
  if (!current) throw new AirlockError('ADMIN_NOT_FOUND', `no incident ${id}`);
  const problems: string[] = [];
  if (!isIncidentStatus(input.status)) {
    problems.push(`status must be one of ${INCIDENT_STATUSES.join(', ')}`);
  }
  if (input.body.trim() === '') problems.push('an update needs a text');
  if (isIncidentStatus(input.status) && !canUpdateIncident(current.status, input.status)) {
    problems.push(`incident ${id} is resolved: open a new incident`);
  }
  if (problems.length > 0 || !isIncidentStatus(input.status)) throw invalid(problems);
  const status: IncidentStatus = input.status;
  const { incident, update } = await ctx.store.transaction(async (tx) => {
    const moved = await tx.addIncidentUpdate(id, current.status, {
      status,
      body: input.body,
      createdAtMs: ctx.clock.nowMs(),
      actor: ctx.actor,
    });
    if (!moved) throw new AirlockError('OUTAGE_CONFLICT', `incident ${id}`);
    const updates = await tx.listIncidentUpdates(id);
    await tx.appendAudit(
      auditEvent(
        ctx,
        'incident.update',
        { type: 'incident', id: String(id) },
        {
          from: current.status,
          to: status,
          updateId: updates[updates.length - 1]?.id,
        },
      ),
    );
    return { incident: moved, update: updates[updates.length - 1] as IncidentUpdate };
  });
  listener?.(incident, update);
  return incident;
}

export async function subscribe(
  ctx: OperationContext,
  input: { kind: string; target: string },
): Promise<Subscription> {
  if (!isSubscriptionKind(input.kind)) {
    throw invalid([`kind must be one of ${SUBSCRIPTION_KINDS.join(', ')}`]);
  }
  const target = input.target.trim();
  if (input.kind === 'email' && !isEmailAddress(target)) throw invalid(['not an e-mail address']);
  if (input.kind === 'webhook' && !/^https?:\/\/[^\s]+$/.test(target)) {
    throw invalid(['a webhook must be an http:// or https:// URL']);
  }
  const subscription: Subscription = {
    id: generateId(ctx.random, 'SB'),
    kind: input.kind,
    target,
    createdAtMs: ctx.clock.nowMs(),
  };
  await ctx.store.transaction(async (tx) => {
    await tx.createSubscription(subscription);
    // The target may carry a token (webhook) or be personal (e-mail): only its kind is audited.
    await tx.appendAudit(
      auditEvent(
        ctx,
        'status.subscribe',
        { type: 'subscription', id: subscription.id },
        {
          kind: subscription.kind,
        },
      ),
    );
  });
  return subscription;
}

export async function unsubscribe(ctx: OperationContext, id: string): Promise<boolean> {
  return ctx.store.transaction(async (tx) => {
    const removed = await tx.deleteSubscription(id);
    if (removed) {
      await tx.appendAudit(auditEvent(ctx, 'status.unsubscribe', { type: 'subscription', id }, {}));
    }
    return removed;
  });
}

/** A manual status for a component, over what is measured; `null` removes the override. */
export async function overrideComponent(
  ctx: OperationContext,
  componentId: string,
  input: { status: string | null; reason: string },
): Promise<void> {
  if (input.status !== null && !isComponentStatus(input.status)) {
    throw invalid([`status must be one of ${COMPONENT_STATUSES.join(', ')}`]);
  }
  if (input.status !== null && input.reason.trim() === '') throw invalid(['a reason is required']);
  const status = input.status;
  await ctx.store.transaction(async (tx) => {
    if (status === null) {
      await tx.deleteComponentOverride(componentId);
    } else {
      await tx.putComponentOverride({
        componentId,
        status,
        reason: input.reason,
        actor: ctx.actor,
        createdAtMs: ctx.clock.nowMs(),
      });
    }
    await tx.appendAudit(
      auditEvent(
        ctx,
        'status.override',
        { type: 'component', id: componentId },
        {
          status,
          reason: input.reason,
        },
      ),
    );
  });
}

async function resolveApps(
  store: Store,
  refs: readonly string[],
  problems: string[],
): Promise<string[]> {
  if (refs.length === 0) return [];
  const apps = await store.listApplications();
  const ids: string[] = [];
  for (const ref of refs) {
    const app = apps.find((a) => a.id === ref || a.ikey === ref || a.name === ref);
    if (app) ids.push(app.id);
    else problems.push(`no application ${JSON.stringify(ref)}`);
  }
  return ids;
}
