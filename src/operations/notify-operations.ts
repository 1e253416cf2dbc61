// Telling users about an incident: when (the guide's rule), what (one message per audience, from
// each application's failmode or the factor that is down) and sending it (SMTP, webhook; audited).
import { createHmac } from 'node:crypto';
import { buildDrPlan } from '../core/dr-plan.ts';
import { AirlockError } from '../core/error-registry.ts';
import type { Failmode } from '../core/failmode-decision.ts';
import type { Incident } from '../core/incident.ts';
import {
  adviseNotification,
  type BusinessHours,
  type NotifyAdviceResult,
} from '../core/notify-advice.ts';
import {
  factorName,
  otherFactorsText,
  renderTemplate,
  templateKindFor,
  type MessageKind,
  type MessageLanguage,
} from '../core/user-messages.ts';
import type { HttpPost } from '../runtime/http-post.ts';
import type { MailSender } from '../runtime/mail-sender.ts';
import type { Store } from '../store/store.ts';
import type { DrPlanSection } from './dr-plan.ts';
import { auditEvent, type OperationContext } from './operation-context.ts';
import { audienceEmails, type NotifyAudience } from './notify-audience.ts';
import { loadMessageTemplates } from './outage-operations.ts';

/** The factors a user can fall back on (docs/factors.md). */
const FACTORS = ['push', 'sms', 'phone', 'passcode'] as const;

/** `{expected_update}` when none is given: the guide's "usually fixed within 30 minutes". */
const DEFAULT_EXPECTED_UPDATE: Record<MessageLanguage, string> = {
  en: 'within 30 minutes',
  de: 'innerhalb von 30 Minuten',
};

export interface DraftedMessage {
  /** Who it is for: `users of vpn`, `users who sign in with sms`. */
  audience: string;
  /** The same audience, as `notify send` looks its users up. */
  reaches: NotifyAudience;
  kind: MessageKind;
  language: MessageLanguage;
  subject: string;
  body: string;
}

async function requireIncident(store: Store, id: number): Promise<Incident> {
  const incident = await store.getIncident(id);
  if (!incident) throw new AirlockError('ADMIN_NOT_FOUND', `no incident ${id}`);
  return incident;
}

/** The applications an incident affects: those it names, else every application. */
async function affectedApps(store: Store, incident: Incident) {
  const apps = await store.listApplications();
  return incident.appIds.length === 0 ? apps : apps.filter((a) => incident.appIds.includes(a.id));
}

/** Send now or wait, and why, for an incident now. */
export async function adviseIncident(
  store: Store,
  id: number,
  options: { nowMs: number; businessHours: BusinessHours; criticalApps: readonly string[] },
): Promise<{ incident: Incident; result: NotifyAdviceResult }> {
  const incident = await requireIncident(store, id);
  const apps = await affectedApps(store, incident);
  const critical = apps
    .filter((a) => options.criticalApps.some((c) => c === a.name || c === a.id || c === a.ikey))
    .map((a) => a.name);
  const result = adviseNotification({
    nowMs: options.nowMs,
    incident: { startedAtMs: incident.createdAtMs, resolved: incident.status === 'resolved' },
    criticalApplications: critical,
    businessHours: options.businessHours,
  });
  return { incident, result };
}

export interface DraftOptions {
  languages: readonly MessageLanguage[];
  /** `{expected_update}`; default "within 30 minutes" in each language. */
  expectedUpdate?: string | undefined;
  /** Proxy sections that enforce the applications' failmode (else the restriction level's). */
  proxySections?: readonly DrPlanSection[];
}

/**
 * One message per audience and language: a factor outage is one message to the users of that
 * factor (failmode is not invoked); otherwise one per affected application, by its failmode.
 */
export async function draftNotifications(
  store: Store,
  id: number,
  options: DraftOptions,
): Promise<{ incident: Incident; messages: DraftedMessage[] }> {
  const incident = await requireIncident(store, id);
  const templates = await loadMessageTemplates(store);
  const template = (kind: MessageKind, language: MessageLanguage) =>
    templates.find((t) => t.kind === kind && t.language === language) as (typeof templates)[0];
  const messages: DraftedMessage[] = [];
  const common = (language: MessageLanguage) => ({
    incident: `#${incident.id}`,
    expected_update: options.expectedUpdate ?? DEFAULT_EXPECTED_UPDATE[language],
  });
  if (incident.factor !== null) {
    const factor = incident.factor as (typeof FACTORS)[number];
    const others = FACTORS.filter((f) => f !== factor);
    for (const language of options.languages) {
      const text = renderTemplate(template('factor-outage', language), {
        ...common(language),
        factor: factorName(factor, language),
        other_factors: otherFactorsText(others, language),
      });
      messages.push({
        audience: `users who sign in with ${factor}`,
        reaches: { kind: 'factor', factor },
        kind: 'factor-outage',
        language,
        ...text,
      });
    }
    return { incident, messages };
  }
  const apps = await affectedApps(store, incident);
  const plan = buildDrPlan({
    applications: apps,
    groups: [],
    proxySections: options.proxySections ?? [],
    findings: [],
  });
  for (const entry of plan) {
    const enforced = entry.enforcement.flatMap((e) => (e.failmode ? [e.failmode] : []));
    // Where any enforcement point fails secure, users of it are denied: say so.
    const failmode: Failmode =
      enforced.length === 0
        ? entry.expectedFailmode
        : enforced.includes('secure')
          ? 'secure'
          : 'safe';
    const kind = templateKindFor(failmode);
    for (const language of options.languages) {
      const text = renderTemplate(template(kind, language), {
        ...common(language),
        application: entry.application.name,
      });
      messages.push({
        audience: `users of ${entry.application.name}`,
        reaches: { kind: 'application', appId: entry.application.id },
        kind,
        language,
        ...text,
      });
    }
  }
  return { incident, messages };
}

export interface SendOptions extends DraftOptions {
  /** With `mail`: also send every message here (a helpdesk, a distribution list). */
  to: readonly string[];
  /** With `mail`: send each message to its audience's users (default true). */
  toUsers?: boolean;
  mail?: MailSender | undefined;
  webhooks: readonly string[];
  /** Signs webhook bodies: `X-Airlock-Signature: sha256=<hex HMAC-SHA256>`; '' = unsigned. */
  webhookSecret?: string;
  post: HttpPost;
}

export interface SendReport {
  incidentId: number;
  messages: number;
  /** Per message: how many e-mail recipients it had (its audience's users and `--to`). */
  reached: { audience: string; language: string; emails: number }[];
  delivered: { channel: 'email' | 'webhook'; target: string; audience: string; language: string }[];
  failed: { channel: 'email' | 'webhook'; target: string; audience: string; error: string }[];
}

/** Drafts, delivers each message by e-mail and webhook, audits the result (`notify.send`). */
export async function sendNotifications(
  ctx: OperationContext,
  id: number,
  options: SendOptions,
): Promise<SendReport> {
  const { incident, messages } = await draftNotifications(ctx.store, id, options);
  const recipients = await recipientsOf(ctx.store, messages, options);
  if (recipients.every((r) => r.length === 0) && options.webhooks.length === 0) {
    throw new AirlockError('OUTAGE_INVALID', undefined, {
      message:
        'Invalid outage operation: no recipients: no user of the audiences has an e-mail address ' +
        '(or no SMTP server was given), no --to, no webhook',
    });
  }
  const report: SendReport = {
    incidentId: incident.id,
    messages: messages.length,
    delivered: [],
    failed: [],
    reached: [],
  };
  for (const [i, m] of messages.entries()) {
    const to = recipients[i] ?? [];
    report.reached.push({ audience: m.audience, language: m.language, emails: to.length });
    if (options.mail) await mailEach(options.mail, m, to, report);
    for (const url of options.webhooks) {
      const body = JSON.stringify({
        incident: incident.id,
        title: incident.title,
        audience: m.audience,
        kind: m.kind,
        language: m.language,
        subject: m.subject,
        body: m.body,
      });
      const headers: Record<string, string> = options.webhookSecret
        ? {
            'X-Airlock-Signature': `sha256=${createHmac('sha256', options.webhookSecret).update(body).digest('hex')}`,
          }
        : {};
      const target = new URL(url).origin;
      try {
        const res = await options.post(url, body, headers, 10_000);
        if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}`);
        report.delivered.push({
          channel: 'webhook',
          target,
          audience: m.audience,
          language: m.language,
        });
      } catch (err) {
        report.failed.push({
          channel: 'webhook',
          target,
          audience: m.audience,
          error: errorText(err),
        });
      }
    }
  }
  await ctx.store.appendAudit({
    ...auditEvent(
      ctx,
      'notify.send',
      { type: 'incident', id: String(incident.id) },
      {
        messages: messages.map((m, i) => ({
          audience: m.audience,
          kind: m.kind,
          language: m.language,
          emails: recipients[i]?.length ?? 0,
        })),
        delivered: report.delivered.length,
        failed: report.failed,
      },
    ),
    result: report.failed.length === 0 ? 'ok' : 'partial',
  });
  if (report.failed.length > 0) {
    throw new AirlockError('OUTAGE_DELIVERY_FAILED', undefined, {
      message: `Notification delivery failed: ${report.failed.map((f) => `${f.channel} ${f.target} (${f.audience}): ${f.error}`).join('; ')}`,
    });
  }
  return report;
}

/** Per message, its e-mail recipients: the audience's users (unless `toUsers: false`) and `to`. */
async function recipientsOf(
  store: Store,
  messages: readonly DraftedMessage[],
  options: SendOptions,
): Promise<string[][]> {
  if (!options.mail) return messages.map(() => []);
  const cache = new Map<string, Promise<string[]>>();
  const lookup = (audience: NotifyAudience) => {
    const key = JSON.stringify(audience);
    if (!cache.has(key)) cache.set(key, audienceEmails(store, audience));
    return cache.get(key)!;
  };
  return Promise.all(
    messages.map(async (m) => {
      const users = options.toUsers === false ? [] : await lookup(m.reaches);
      const seen = new Set(users.map((u) => u.toLowerCase()));
      return [...users, ...options.to.filter((t) => !seen.has(t.toLowerCase()))];
    }),
  );
}

/** One e-mail per recipient: users never see each other's addresses. */
async function mailEach(
  mail: MailSender,
  m: DraftedMessage,
  to: readonly string[],
  report: SendReport,
): Promise<void> {
  for (const target of to) {
    try {
      await mail.send({ to: [target], subject: m.subject, text: m.body });
      report.delivered.push({
        channel: 'email',
        target,
        audience: m.audience,
        language: m.language,
      });
    } catch (err) {
      report.failed.push({ channel: 'email', target, audience: m.audience, error: errorText(err) });
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
