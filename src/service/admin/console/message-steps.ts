// The console's pages for what users and subscribers are told: the user-message templates (view,
// edit, reset each kind in English and German) and the status page's subscriptions (list, add,
// remove), through the Admin API's routes as every console form (so src/operations/ audits them).
import { MESSAGE_VARIABLES, type MessageTemplate } from '../../../core/user-messages.ts';
import { SUBSCRIPTION_KINDS } from '../../../core/incident.ts';
import { loadMessageTemplates } from '../../../operations/outage-operations.ts';
import { csrf } from './console-pages.ts';
import {
  pick,
  redirect,
  type ActionCall,
  type ActionOutcome,
  type ConsoleContext,
  type PageView,
} from './console-step.ts';
import { html, type SafeHtml } from './html.ts';

const when = (ms: number) => new Date(ms).toISOString();

export async function renderTemplates(c: ConsoleContext, view: PageView): Promise<SafeHtml> {
  const templates = await loadMessageTemplates(c.admin.store);
  const token = view.actor.csrfToken;
  return html`<h1>User messages</h1>
    <p>
      The outage guide's messages that <code>airlock notify draft|send</code> write to users, one
      per kind and language. Variables:
      ${MESSAGE_VARIABLES.map((v, i) => html`${i > 0 ? ', ' : ''}<code>{${v}}</code>`)}.
    </p>
    ${templates.map((t) => templateCard(t, token))}`;
}

function templateCard(t: MessageTemplate & { edited: boolean }, token: string): SafeHtml {
  const key = `${t.kind}/${t.language}`;
  return html`<section class="card template" id="template-${t.kind}-${t.language}">
    <h2>${t.kind} (${t.language})${t.edited ? ' · edited' : ' · default'}</h2>
    <form method="post" action="/admin/templates/${key}">
      ${csrf(token)}
      <label>Subject <input type="text" name="subject" required value="${t.subject}" /></label>
      <label>Text <textarea name="body" rows="4" required>${t.body}</textarea></label>
      <button type="submit">Save</button>
    </form>
    ${
      t.edited
        ? html`<form class="inline" method="post" action="/admin/templates/${key}/reset">
            ${csrf(token)}<button class="danger" type="submit">Back to the default</button>
          </form>`
        : ''
    }
  </section>`;
}

export async function saveTemplateStep(
  _c: ConsoleContext,
  call: ActionCall,
): Promise<ActionOutcome> {
  await call.run(
    'POST',
    '/admin/v1/message_templates/:kind/:language',
    { kind: call.id, language: call.sub },
    pick(call.form, ['subject', 'body']),
  );
  return redirect('/admin/templates', 'saved');
}

export async function resetTemplateStep(
  _c: ConsoleContext,
  call: ActionCall,
): Promise<ActionOutcome> {
  await call.run(
    'DELETE',
    '/admin/v1/message_templates/:kind/:language',
    { kind: call.id, language: call.sub },
    {},
  );
  return redirect('/admin/templates', 'saved');
}

export async function renderSubscriptions(c: ConsoleContext, view: PageView): Promise<SafeHtml> {
  const subscriptions = await c.admin.store.listSubscriptions();
  const token = view.actor.csrfToken;
  return html`<h1>Status subscriptions</h1>
    <p>
      Each gets every incident change on the <a href="/status">status page</a>: e-mail through the
      service's SMTP server, webhooks as Statuspage-shaped JSON.
    </p>
    <section class="card">
      <h2>Subscribe</h2>
      <form method="post" action="/admin/subscriptions" id="subscription-create" class="row">
        ${csrf(token)}
        <select name="kind">
          ${SUBSCRIPTION_KINDS.map((k) => html`<option value="${k}">${k}</option>`)}
        </select>
        <input type="text" name="target" required placeholder="address or https:// URL" />
        <button type="submit">Add</button>
      </form>
    </section>
    ${
      subscriptions.length === 0
        ? html`<p>No subscriptions.</p>`
        : html`<table>
            <thead>
              <tr>
                <th>Kind</th>
                <th>Target</th>
                <th>Since</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              ${subscriptions.map(
                (s) =>
                  html`<tr id="subscription-${s.id}">
                    <td>${s.kind}</td>
                    <td>${s.target}</td>
                    <td>${when(s.createdAtMs)}</td>
                    <td>
                      <form
                        class="inline"
                        method="post"
                        action="/admin/subscriptions/${s.id}/remove"
                      >
                        ${csrf(token)}<button class="danger" type="submit">Remove</button>
                      </form>
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }`;
}

export async function subscribeStep(_c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  await call.run('POST', '/admin/v1/status_subscriptions', {}, pick(call.form, ['kind', 'target']));
  return redirect('/admin/subscriptions', 'added');
}

export async function unsubscribeStep(
  _c: ConsoleContext,
  call: ActionCall,
): Promise<ActionOutcome> {
  await call.run(
    'DELETE',
    '/admin/v1/status_subscriptions/:subscription_id',
    { subscription_id: call.id },
    {},
  );
  return redirect('/admin/subscriptions', 'removed');
}
