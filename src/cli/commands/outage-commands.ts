// `airlock incident …` and `airlock notify …`: incidents on the status page, and the guide's user
// messages (when to send, what to send, sending it).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { resolveBusinessHours } from '../../config/business-hours.ts';
import { AirlockError } from '../../core/error-registry.ts';
import { MESSAGE_LANGUAGES, type MessageLanguage } from '../../core/user-messages.ts';
import {
  adviseIncident,
  draftNotifications,
  sendNotifications,
  type DraftedMessage,
} from '../../operations/notify-operations.ts';
import {
  createIncident,
  loadMessageTemplates,
  overrideComponent,
  subscribe,
  unsubscribe,
  resetMessageTemplate,
  setMessageTemplate,
  updateIncident,
} from '../../operations/outage-operations.ts';
import { httpPost } from '../../runtime/http-post.ts';
import { createSmtpSender } from '../../runtime/mail-sender.ts';
import { withContext } from '../open-context.ts';
import { emit, isoTime, table } from '../output.ts';
import { choice, commonOptions, positiveInt, splitList, type CommonFlags } from './common.ts';
import { proxySections } from './dr-plan-command.ts';

const collect = (value: string, previous: string[] = []) => [...previous, value];
const usage = (message: string) => new AirlockError('CLI_USAGE', undefined, { message });

export function registerOutageCommands(program: Command): void {
  registerIncidentCommands(program);
  registerNotifyCommands(program);
  registerStatusCommands(program);
}

function registerStatusCommands(program: Command): void {
  const status = program
    .command('status')
    .description('the status page: subscriptions to incident updates, manual component status');
  commonOptions(
    status
      .command('subscribe <kind> <target>')
      .description('email ADDRESS or webhook URL: told of every incident update'),
  ).action(async (kind: string, target: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const s = await subscribe(ctx, { kind, target });
      emit(flags, s, () => `Subscribed ${s.kind} (${s.id}).`);
    }),
  );
  commonOptions(status.command('unsubscribe <id>').description('remove a subscription')).action(
    async (id: string, flags: CommonFlags) =>
      withContext(flags, async (ctx) => {
        const removed = await unsubscribe(ctx, id);
        emit(flags, { removed }, () => (removed ? 'Removed.' : `No subscription ${id}.`));
      }),
  );
  commonOptions(status.command('subscriptions').description('list subscriptions')).action(
    async (flags: CommonFlags) =>
      withContext(flags, async (ctx) => {
        const list = await ctx.store.listSubscriptions();
        const rows = list.map((s) => ({ id: s.id, kind: s.kind, target: s.target }));
        emit(flags, rows, () => table(rows, ['id', 'kind', 'target']));
      }),
  );
  commonOptions(
    status
      .command('override <component> <status>')
      .description(
        'show a component as STATUS (operational, degraded_performance, partial_outage, major_outage, under_maintenance) over what is measured; "measured" ends it',
      )
      .option('--reason <text>', 'why (required unless measured)', ''),
  ).action(async (component: string, value: string, flags: CommonFlags & { reason: string }) =>
    withContext(flags, async (ctx) => {
      await overrideComponent(ctx, component, {
        status: value === 'measured' ? null : value,
        reason: flags.reason,
      });
      emit(flags, { component, status: value }, () => `${component}: ${value}.`);
    }),
  );
}

function registerIncidentCommands(program: Command): void {
  const incident = program
    .command('incident')
    .description(
      'incidents on the status page: create, update (investigating → identified → monitoring → resolved), list',
    );

  commonOptions(
    incident
      .command('create')
      .description('open an incident; subscribers of a running service hear of it')
      .requiredOption('--title <text>', 'what users see as the headline')
      .requiredOption('--message <text>', 'the first update')
      .option('--status <status>', 'investigating|identified|monitoring|resolved', 'investigating')
      .option('--impact <impact>', 'none|minor|major|critical', 'minor')
      .option('--apps <names>', 'the affected applications (default: all)')
      .option(
        '--factor <factor>',
        'the factor that fails (push|sms|phone|passcode): a factor outage',
      )
      .option('--components <ids>', 'status page components affected, comma-separated'),
  ).action(
    async (
      flags: CommonFlags & {
        title: string;
        message: string;
        status: string;
        impact: string;
        apps?: string;
        factor?: string;
        components?: string;
      },
    ) =>
      withContext(flags, async (ctx) => {
        const created = await createIncident(ctx, {
          title: flags.title,
          body: flags.message,
          status: flags.status,
          impact: flags.impact,
          apps: splitList(flags.apps ?? ''),
          factor: flags.factor,
          componentIds: splitList(flags.components ?? ''),
        });
        emit(flags, created, () => `Created incident ${created.id} (${created.status}).`);
      }),
  );

  commonOptions(
    incident
      .command('update <id>')
      .description('add an update; its status becomes the incident’s')
      .requiredOption('--status <status>', 'investigating|identified|monitoring|resolved')
      .requiredOption('--message <text>', 'what changed'),
  ).action(async (id: string, flags: CommonFlags & { status: string; message: string }) =>
    withContext(flags, async (ctx) => {
      const updated = await updateIncident(ctx, incidentId(id), {
        status: flags.status,
        body: flags.message,
      });
      emit(flags, updated, () => `Incident ${updated.id} is ${updated.status}.`);
    }),
  );

  commonOptions(
    incident
      .command('list')
      .description('incidents, newest first')
      .option('--open', 'unresolved only'),
  ).action(async (flags: CommonFlags & { open?: boolean }) =>
    withContext(flags, async (ctx) => {
      const list = await ctx.store.listIncidents({ open: flags.open === true });
      const rows = list.map((i) => ({
        id: i.id,
        status: i.status,
        impact: i.impact,
        title: i.title,
        factor: i.factor,
        created: isoTime(i.createdAtMs),
        resolved: isoTime(i.resolvedAtMs),
      }));
      emit(flags, rows, () =>
        table(rows, ['id', 'status', 'impact', 'title', 'factor', 'created', 'resolved']),
      );
    }),
  );

  commonOptions(incident.command('show <id>').description('an incident and its updates')).action(
    async (id: string, flags: CommonFlags) =>
      withContext(flags, async (ctx) => {
        const found = await ctx.store.getIncident(incidentId(id));
        if (!found) throw new AirlockError('ADMIN_NOT_FOUND', `no incident ${id}`);
        const updates = await ctx.store.listIncidentUpdates(found.id);
        emit(flags, { ...found, updates }, () =>
          [
            `#${found.id} ${found.title} — ${found.status} (impact ${found.impact})`,
            ...updates.map(
              (u) => `  ${isoTime(u.createdAtMs)} ${u.status}: ${u.body} (${u.actor})`,
            ),
          ].join('\n'),
        );
      }),
  );
}

function registerNotifyCommands(program: Command): void {
  const notify = program
    .command('notify')
    .description(
      "the outage guide's user messages: when to send (advise), what (draft), sending (send), the templates",
    );

  commonOptions(
    notify
      .command('advise')
      .description(
        'send now or can wait, and why (time of day, weekday, quarter end, criticality, 20 minutes unresolved)',
      )
      .requiredOption('--incident <id>', 'the incident')
      .option('--critical <apps>', 'critical applications (env AIRLOCK_CRITICAL_APPS)')
      .option(
        '--time-zone <zone>',
        'business hours time zone (env AIRLOCK_BUSINESS_HOURS "ZONE HH-HH DAYS"; default UTC)',
      )
      .option('--hours <HH-HH>', 'business hours (default 08-18)')
      .option('--weekdays <days>', 'business days (default mon-fri)'),
  ).action(
    async (
      flags: CommonFlags & {
        incident: string;
        critical?: string;
        timeZone?: string;
        hours?: string;
        weekdays?: string;
      },
    ) => {
      const businessHours = resolveBusinessHours(flags, process.env);
      if (Array.isArray(businessHours)) throw usage(businessHours.join('\n'));
      await withContext(flags, async (ctx) => {
        const { incident, result } = await adviseIncident(ctx.store, incidentId(flags.incident), {
          nowMs: ctx.clock.nowMs(),
          businessHours,
          criticalApps: splitList(flags.critical ?? process.env.AIRLOCK_CRITICAL_APPS ?? ''),
        });
        emit(flags, { incident: incident.id, ...result }, () =>
          [
            `${result.advice === 'send-now' ? 'SEND NOW' : 'CAN WAIT'}: incident ${incident.id} (${incident.title})`,
            ...result.reasons.map((r) => `  - ${r}`),
            ...(result.recheckAtMs !== undefined
              ? [`  ask again at ${isoTime(result.recheckAtMs)} (20 minutes unresolved)`]
              : []),
          ].join('\n'),
        );
      });
    },
  );

  const draftOptions = (cmd: Command) =>
    cmd
      .requiredOption('--incident <id>', 'the incident')
      .option('--language <lang>', 'en, de or all', 'all')
      .option('--next-update <text>', 'fills {expected_update} (default: within 30 minutes)')
      .option(
        '--proxy-config <file>',
        'authproxy.cfg that enforces failmode (repeatable)',
        collect,
      );

  commonOptions(
    draftOptions(
      notify
        .command('draft')
        .description(
          'one message per audience, from each application’s failmode or the factor that is down',
        ),
    ),
  ).action(async (flags: CommonFlags & DraftFlags) =>
    withContext(flags, async (ctx) => {
      const { messages } = await draftNotifications(
        ctx.store,
        incidentId(flags.incident),
        draftOptionsOf(flags),
      );
      emit(flags, messages, () => formatMessages(messages));
    }),
  );

  commonOptions(
    draftOptions(
      notify
        .command('send')
        .description(
          'draft, then deliver each message to its audience (the users of the application or factor, by e-mail) and to webhooks; audited (notify.send)',
        ),
    )
      .option('--smtp <url>', 'smtp://[user:pass@]host:port or smtps://… (env AIRLOCK_SMTP_URL)')
      .option('--smtp-ca-file <file>', 'CA certificates (PEM) for the SMTP server')
      .option('--from <address>', 'sender address (env AIRLOCK_SMTP_FROM)')
      .option('--to <addresses>', 'comma-separated addresses that also get every message')
      .option('--no-users', 'do not e-mail the audiences’ users: only --to and webhooks')
      .option('--webhook <url>', 'POST each message as JSON here (repeatable)', collect)
      .option(
        '--webhook-secret-file <file>',
        'HMAC key file: X-Airlock-Signature on each webhook body',
      ),
  ).action(
    async (
      flags: CommonFlags &
        DraftFlags & {
          smtp?: string;
          smtpCaFile?: string;
          from?: string;
          to?: string;
          users?: boolean;
          webhook?: string[];
          webhookSecretFile?: string;
        },
    ) => {
      const smtpUrl = flags.smtp ?? process.env.AIRLOCK_SMTP_URL;
      const from = flags.from ?? process.env.AIRLOCK_SMTP_FROM;
      const to = splitList(flags.to ?? '');
      if (to.length > 0 && (smtpUrl === undefined || from === undefined)) {
        throw usage('--to needs --smtp and --from (or AIRLOCK_SMTP_URL and AIRLOCK_SMTP_FROM)');
      }
      const mail =
        smtpUrl !== undefined && from !== undefined
          ? createSmtpSender({
              url: smtpUrl,
              from,
              caPem: flags.smtpCaFile ? readFileSync(flags.smtpCaFile, 'utf8') : undefined,
            })
          : undefined;
      try {
        await withContext(flags, async (ctx) => {
          const report = await sendNotifications(ctx, incidentId(flags.incident), {
            ...draftOptionsOf(flags),
            to,
            toUsers: flags.users !== false,
            mail,
            webhooks: flags.webhook ?? [],
            webhookSecret: flags.webhookSecretFile
              ? readFileSync(flags.webhookSecretFile, 'utf8').trim()
              : '',
            post: httpPost,
          });
          emit(flags, report, () =>
            [
              `Sent ${report.messages} message(s) for incident ${report.incidentId}:`,
              ...report.reached.map(
                (r) => `  ${r.audience} (${r.language}): ${r.emails} e-mail recipient(s)`,
              ),
              ...report.delivered
                .filter((d) => d.channel === 'webhook')
                .map((d) => `  ${d.channel} ${d.target}: ${d.audience} (${d.language})`),
            ].join('\n'),
          );
        });
      } finally {
        mail?.close();
      }
    },
  );

  const template = notify
    .command('template')
    .description('the message templates (edited or default)');
  commonOptions(
    template.command('list').description('every template in use, edited ones marked'),
  ).action(async (flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const all = await loadMessageTemplates(ctx.store);
      emit(flags, all, () =>
        all
          .map(
            (t) =>
              `[${t.kind} ${t.language}${t.edited ? ', edited' : ''}]\nSubject: ${t.subject}\n${t.body}`,
          )
          .join('\n\n'),
      );
    }),
  );
  commonOptions(
    template
      .command('set <kind> <language>')
      .description(
        'edit a template; variables {application} {factor} {other_factors} {incident} {expected_update}',
      )
      .requiredOption('--subject <text>', 'the subject line')
      .requiredOption('--body <text>', 'the text'),
  ).action(
    async (
      kind: string,
      language: string,
      flags: CommonFlags & { subject: string; body: string },
    ) =>
      withContext(flags, async (ctx) => {
        const t = await setMessageTemplate(ctx, {
          kind,
          language,
          subject: flags.subject,
          body: flags.body,
        });
        emit(flags, t, () => `Saved template ${t.kind} (${t.language}).`);
      }),
  );
  commonOptions(
    template.command('reset <kind> <language>').description('back to the default text'),
  ).action(async (kind: string, language: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const reset = await resetMessageTemplate(ctx, { kind, language });
      emit(flags, { reset }, () => (reset ? 'Back to the default text.' : 'It was not edited.'));
    }),
  );
}

interface DraftFlags {
  incident: string;
  language: string;
  nextUpdate?: string;
  proxyConfig?: string[];
}

function draftOptionsOf(flags: DraftFlags) {
  const language = choice(flags.language, [...MESSAGE_LANGUAGES, 'all'] as const, '--language');
  const languages: MessageLanguage[] = language === 'all' ? [...MESSAGE_LANGUAGES] : [language];
  return {
    languages,
    expectedUpdate: flags.nextUpdate,
    proxySections: (flags.proxyConfig ?? []).flatMap((f) => proxySections(f)),
  };
}

/** The drafts as plain text, one block per audience and language. */
export function formatMessages(messages: readonly DraftedMessage[]): string {
  return messages
    .map(
      (m) => `== ${m.audience} (${m.kind}, ${m.language}) ==\nSubject: ${m.subject}\n\n${m.body}\n`,
    )
    .join('\n');
}

function incidentId(text: string): number {
  try {
    return positiveInt(text);
  } catch {
    throw usage(`an incident id is a number, got ${JSON.stringify(text)}`);
  }
}
