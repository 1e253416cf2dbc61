// The console's outage pages: the DR plan (the same renderer as `airlock dr-plan`).
import { DEFAULT_TEMPLATES } from '../../../core/user-messages.ts';
import { loadDrPlan, renderDrPlan } from '../../../operations/dr-plan.ts';
import type { ConsoleContext, PageView } from './console-step.ts';
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
