// The DR plan from the live configuration: the store's applications, groups and policies, the proxy
// sections given, and the advisor's findings; rendered as Markdown or HTML by one renderer that the
// CLI (`airlock dr-plan`) and the console share.
import { lintSnapshot } from '../core/advisor.ts';
import {
  buildDrPlan,
  restrictionLevelText,
  type DrPlanEntry,
  type DrPlanInput,
} from '../core/dr-plan.ts';
import {
  MESSAGE_LANGUAGES,
  renderTemplate,
  type MessageKind,
  type MessageTemplate,
} from '../core/user-messages.ts';
import { appPolicyScope, GLOBAL_POLICY_SCOPE, type Store } from '../store/store.ts';
import { advisorSnapshot } from './policy-advice.ts';

export type DrPlanSection = DrPlanInput['proxySections'][number];

export const DR_PLAN_FORMATS = ['md', 'html'] as const;
export type DrPlanFormat = (typeof DR_PLAN_FORMATS)[number];

/** Every application's plan entry, from the store and the given proxy sections. */
export async function loadDrPlan(
  store: Store,
  proxySections: readonly DrPlanSection[],
): Promise<DrPlanEntry[]> {
  const [apps, groups, policies] = await Promise.all([
    store.listApplications(),
    store.listGroups(),
    store.listPolicies(),
  ]);
  const byScope = new Map(policies.map((p) => [p.scope, p.policy]));
  const snapshot = await advisorSnapshot(
    store,
    proxySections.map((s) => ({
      proxy: s.proxy,
      section: s.section,
      ikey: s.ikey,
      failmode: s.failmode,
    })),
  );
  return buildDrPlan({
    applications: apps.map((a) => ({
      id: a.id,
      name: a.name,
      ikey: a.ikey,
      type: a.type,
      restrictionLevel: a.restrictionLevel,
      allowedGroupIds: a.allowedGroupIds,
      policy: byScope.get(appPolicyScope(a.id)),
    })),
    globalPolicy: byScope.get(GLOBAL_POLICY_SCOPE),
    groups: groups.map((g) => ({ id: g.id, name: g.name, status: g.status })),
    proxySections,
    findings: lintSnapshot(snapshot),
  });
}

/** A plan as a neutral document: headings, paragraphs, lists and code lines. */
type Block =
  | { kind: 'h1' | 'h2' | 'h3' | 'p'; text: string }
  | { kind: 'ul'; items: string[] }
  | { kind: 'code'; lines: string[] }
  | { kind: 'quote'; lines: string[] };

function planBlocks(
  entries: readonly DrPlanEntry[],
  templates: (kind: MessageKind) => readonly MessageTemplate[],
  generatedAt: string,
): Block[] {
  const blocks: Block[] = [
    { kind: 'h1', text: 'Airlock DR plan' },
    {
      kind: 'p',
      text: `Generated ${generatedAt} from the live configuration. Unreachable: the service cannot be reached, failmode applies. Degraded: the service answers but logins fail or are slow, failmode does not apply.`,
    },
  ];
  if (entries.length === 0) blocks.push({ kind: 'p', text: 'No applications.' });
  for (const e of entries) {
    blocks.push(
      { kind: 'h2', text: e.application.name },
      {
        kind: 'p',
        text: `Restriction level: ${restrictionLevelText(e.application.restrictionLevel)} (expected failmode: ${e.expectedFailmode}); type: ${e.application.type}.`,
      },
      { kind: 'h3', text: 'Failmode: where it is enforced' },
      {
        kind: 'ul',
        items: e.enforcement.map(
          (x) =>
            `${x.label}: ${x.failmode === undefined ? 'failmode unknown' : `failmode=${x.failmode}`}${x.notes.length > 0 ? ` (${x.notes.join('; ')})` : ''}`,
        ),
      },
      { kind: 'h3', text: 'When the service is unreachable' },
      { kind: 'ul', items: e.unreachable },
      { kind: 'h3', text: 'When the service is degraded' },
      { kind: 'ul', items: e.degraded },
      { kind: 'h3', text: 'Who may bypass, and how' },
      { kind: 'p', text: e.bypass.rule },
    );
    if (e.bypass.commands.length > 0) blocks.push({ kind: 'code', lines: e.bypass.commands });
    blocks.push({ kind: 'h3', text: 'Revert checklist' }, { kind: 'ul', items: e.revert });
    blocks.push({ kind: 'h3', text: 'Message to users' });
    for (const kind of e.templates) {
      for (const t of templates(kind)) {
        const filled = renderTemplate(t, { application: e.application.name });
        blocks.push({
          kind: 'quote',
          lines: [`${kind} (${t.language}) — ${filled.subject}`, filled.body],
        });
      }
    }
    blocks.push({ kind: 'h3', text: 'Contradictions (advisor)' });
    blocks.push(
      e.findings.length === 0
        ? { kind: 'p', text: 'None.' }
        : { kind: 'ul', items: e.findings.map((f) => `${f.severity}: [${f.code}] ${f.message}`) },
    );
  }
  return blocks;
}

export interface RenderDrPlanOptions {
  format: DrPlanFormat;
  /** The templates in use per kind (stored or default), every language. */
  templates: (kind: MessageKind) => readonly MessageTemplate[];
  generatedAt: string;
  /** Languages of the messages shown; default both. */
  languages?: readonly (typeof MESSAGE_LANGUAGES)[number][];
}

/** The plan as Markdown or as an HTML fragment (the console wraps it in its page). */
export function renderDrPlan(
  entries: readonly DrPlanEntry[],
  options: RenderDrPlanOptions,
): string {
  const languages = options.languages ?? MESSAGE_LANGUAGES;
  const blocks = planBlocks(
    entries,
    (kind) => options.templates(kind).filter((t) => languages.includes(t.language)),
    options.generatedAt,
  );
  return options.format === 'md' ? toMarkdown(blocks) : toHtml(blocks);
}

function toMarkdown(blocks: readonly Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'h1':
        out.push(`# ${b.text}`, '');
        break;
      case 'h2':
        out.push(`## ${b.text}`, '');
        break;
      case 'h3':
        out.push(`### ${b.text}`, '');
        break;
      case 'p':
        out.push(b.text, '');
        break;
      case 'ul':
        out.push(...b.items.map((i) => `- ${i}`), '');
        break;
      case 'code':
        out.push('```sh', ...b.lines, '```', '');
        break;
      case 'quote':
        out.push(...b.lines.map((l) => `> ${l}`), '');
        break;
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function toHtml(blocks: readonly Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'h1':
      case 'h2':
      case 'h3':
      case 'p':
        out.push(`<${b.kind}>${escapeHtml(b.text)}</${b.kind}>`);
        break;
      case 'ul':
        out.push(`<ul>${b.items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`);
        break;
      case 'code':
        out.push(`<pre><code>${b.lines.map(escapeHtml).join('\n')}</code></pre>`);
        break;
      case 'quote':
        out.push(
          `<blockquote>${b.lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}</blockquote>`,
        );
        break;
    }
  }
  return `${out.join('\n')}\n`;
}
