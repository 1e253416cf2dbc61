// The console's outage pages: the DR plan (the same renderer as `airlock dr-plan`) and the status
// page's incidents (open, update), through the Admin API's routes as every console form.
import { INCIDENT_IMPACTS, INCIDENT_STATUSES } from '../../../core/incident.ts';
import { DEFAULT_TEMPLATES } from '../../../core/user-messages.ts';
import { loadDrPlan, renderDrPlan } from '../../../operations/dr-plan.ts';
import { csrf } from './console-pages.ts';
import {
  pick,
  redirect,
  type ActionCall,
  type ActionOutcome,
  type ConsoleContext,
  type PageView,
} from './console-step.ts';
import { html, trustedMarkup, type SafeHtml } from './html.ts';

export async function renderDrPlanPage(c: ConsoleContext, _view: PageView): Promise<SafeHtml> {
  const sections = c.admin.proxySections ?? [];
  const entries = await loadDrPlan(c.admin.store, sections);
  // The renderer escapes every text it writes (operations/dr-plan.ts toHtml).
  const plan = renderDrPlan(entries, {
    format: 'html',
    templates: (kind) => DEFAULT_TEMPLATES.filter((t) => t.kind === kind),
    generatedAt: new Date(c.admin.clock.nowMs()).toISOString(),
  });
  return html`<section class="card dr-plan" id="dr-plan">
    ${
      sections.length === 0
        ? html`<p class="muted">
            No proxy configuration was given to the service (<code
              >airlock serve --proxy-config</code
            >): proxy sections are not shown.
            <code>airlock dr-plan --proxy-config FILE</code> prints the same plan with them.
          </p>`
        : ''
    }
    ${trustedMarkup(plan)}
  </section>`;
}

const when = (ms: number | null) => (ms === null ? '—' : new Date(ms).toISOString());

export async function renderIncidents(c: ConsoleContext, view: PageView): Promise<SafeHtml> {
  const incidents = await c.admin.store.listIncidents({ limit: 50 });
  const token = view.actor.csrfToken;
  const rows = await Promise.all(
    incidents.map(async (i) => {
      const updates = await c.admin.store.listIncidentUpdates(i.id);
      return html`<section class="card incident" id="incident-${i.id}">
        <h2>#${i.id} ${i.title}</h2>
        <p>
          ${i.status} · impact ${i.impact}${i.factor ? ` · factor ${i.factor}` : ''} · opened
          ${when(i.createdAtMs)} by ${i.createdBy}
        </p>
        <ul>
          ${updates.map((u) => html`<li><b>${u.status}</b> ${when(u.createdAtMs)} (${u.actor}): ${u.body}</li>`)}
        </ul>
        ${
          i.status === 'resolved'
            ? ''
            : html`<form method="post" action="/admin/incidents/${String(i.id)}/update" class="row">
                ${csrf(token)}
                <select name="status">
                  ${INCIDENT_STATUSES.map((s) => html`<option value="${s}">${s}</option>`)}
                </select>
                <input name="message" required placeholder="what changed" />
                <button type="submit">Add update</button>
              </form>`
        }
      </section>`;
    }),
  );
  return html`<h1>Incidents</h1>
    <p>Shown on the public <a href="/status">status page</a>; subscribers hear of each update.</p>
    <section class="card">
      <h2>Open an incident</h2>
      <form method="post" action="/admin/incidents" id="incident-create">
        ${csrf(token)}
        <label>Title <input name="title" required /></label>
        <label>First update <input name="message" required /></label>
        <label
          >Impact
          <select name="impact">
            ${INCIDENT_IMPACTS.map((s) => html`<option value="${s}" ${s === 'minor' ? 'selected' : ''}>${s}</option>`)}
          </select></label
        >
        <label
          >Failing factor <input name="factor" placeholder="push, sms, phone (optional)"
        /></label>
        <button type="submit">Open</button>
      </form>
    </section>
    ${rows.length === 0 ? html`<p>No incidents.</p>` : rows}`;
}

export async function createIncidentStep(
  _c: ConsoleContext,
  call: ActionCall,
): Promise<ActionOutcome> {
  const form = pick(call.form, ['title', 'message', 'impact', 'factor']);
  if (form.factor?.[0] === '') delete form.factor;
  await call.run('POST', '/admin/v1/incidents', {}, form);
  return redirect('/admin/incidents', 'created');
}

export async function updateIncidentStep(
  _c: ConsoleContext,
  call: ActionCall,
): Promise<ActionOutcome> {
  await call.run(
    'POST',
    '/admin/v1/incidents/:incident_id/updates',
    { incident_id: call.id },
    pick(call.form, ['status', 'message']),
  );
  return redirect('/admin/incidents', 'saved');
}
