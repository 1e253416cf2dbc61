// The console's policy and emergency-control pages: pure functions from data to HTML (no I/O).
import type { EmergencyControl } from '../../../core/emergency-control.ts';
import { NEW_USER_POLICIES } from '../../../core/model.ts';
import { FACTORS, type Policy } from '../../../core/policy.ts';
import { csrf, describeControl, type Names } from './console-pages.ts';
import { html, type SafeHtml } from './html.ts';

const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('.000Z', 'Z');

const groupName = (n: Names, id: string) => n.groups.find((g) => g.id === id)?.name ?? id;
const appName = (n: Names, id: string) => n.applications.find((a) => a.id === id)?.name ?? id;

function summary(p: Policy | undefined, n: Names): SafeHtml {
  if (!p) return html`<span class="muted">no policy</span>`;
  const unset = '(not set)';
  const groups = (ids: readonly string[] | undefined) =>
    ids === undefined ? unset : ids.map((g) => groupName(n, g)).join(', ') || '(none)';
  return html`<dl class="policy">
    <dt>Users without a second factor</dt>
    <dd>${p.newUserPolicy ?? unset}</dd>
    <dt>Allowed factors</dt>
    <dd>${p.allowedFactors?.join(', ') ?? unset}</dd>
    <dt>Bypass groups</dt>
    <dd>${groups(p.bypassGroupIds)}</dd>
    <dt>Deny groups</dt>
    <dd>${groups(p.denyGroupIds)}</dd>
    <dt>Network rules</dt>
    <dd>
      ${p.networkRules?.map((r) => `${r.action}: ${r.ranges.join(', ')}`).join('; ') ?? unset}
    </dd>
  </dl>`;
}

export function policiesPage(
  data: Names & {
    global: Policy | null;
    applicationPolicies: { appId: string; policy: Policy }[];
  },
): SafeHtml {
  return html`<h1>Policies</h1>
    <p class="muted">
      The global policy applies to every application; an application policy overrides it field by
      field (deny groups and deny network rules add up). See docs/policies.md.
    </p>
    <section class="card" id="policy-global">
      <h2>Global policy</h2>
      ${summary(data.global ?? undefined, data)}
      <p><a class="button" href="/admin/policies/global">Edit global policy</a></p>
    </section>
    <h2>Application policies</h2>
    <table id="application-policies">
      <tr>
        <th>Application</th>
        <th>Policy</th>
        <th></th>
      </tr>
      ${data.applicationPolicies.map(
        (a) =>
          html`<tr>
            <td>${appName(data, a.appId)}</td>
            <td>${summary(a.policy, data)}</td>
            <td><a href="/admin/policies/${a.appId}">Edit</a></td>
          </tr>`,
      )}
    </table>
    <form class="card" method="get" action="/admin/policies/edit">
      <div class="row">
        <div>
          <label for="app">Edit the policy of application</label
          ><select id="app" name="app">
            ${data.applications.map((a) => html`<option value="${a.id}">${a.name}</option>`)}
          </select>
        </div>
        <button type="submit">Edit</button>
      </div>
    </form>`;
}

/** The form of one policy; `scope` is "global" or an application id. */
export function policyEditPage(
  data: Names & {
    scope: string;
    policy: Policy | undefined;
    csrfToken: string;
  },
): SafeHtml {
  const p = data.policy ?? {};
  const isApp = data.scope !== 'global';
  const title = isApp ? `Policy of application ${appName(data, data.scope)}` : 'Global policy';
  const base = `/admin/policies/${data.scope}`;
  const groupOptions = (selected: readonly string[] | undefined) =>
    data.groups.map(
      (g) =>
        html`<option value="${g.id}" ${selected?.includes(g.id) ? html`selected` : ''}>
          ${g.name}
        </option>`,
    );
  const size = Math.min(8, Math.max(2, data.groups.length));
  return html`<h1>${title}</h1>
    <form class="card" method="post" action="${base}" id="policy-form">
      ${csrf(data.csrfToken)}
      <label for="new_user_policy">Users without a second factor</label
      ><select id="new_user_policy" name="new_user_policy">
        <option value="">(not set${isApp ? ': global policy or application setting' : ''})</option>
        ${NEW_USER_POLICIES.map((v) => html`<option value="${v}" ${p.newUserPolicy === v ? html`selected` : ''}>${v}</option>`)}
      </select>
      <fieldset>
        <legend>Allowed second factors (none ticked = not set: all)</legend>
        ${FACTORS.map(
          (f) =>
            html`<label class="check"
              ><input
                type="checkbox"
                name="factors"
                value="${f}"
                ${p.allowedFactors?.includes(f) ? html`checked` : ''}
              />
              ${f}</label
            >`,
        )}
      </fieldset>
      <label for="bypass_groups">Bypass groups: members skip 2FA (none selected = not set)</label>
      <select id="bypass_groups" name="bypass_groups" multiple size="${size}">
        ${groupOptions(p.bypassGroupIds)}
      </select>
      ${
        isApp
          ? html`<label class="check"
              ><input
                type="checkbox"
                name="bypass_none"
                value="true"
                ${p.bypassGroupIds?.length === 0 ? html`checked` : ''}
              />
              No bypass group on this application (overrides the global list)</label
            >`
          : ''
      }
      <label for="deny_groups">Deny groups: members are denied (none selected = not set)</label>
      <select id="deny_groups" name="deny_groups" multiple size="${size}">
        ${groupOptions(p.denyGroupIds)}
      </select>
      <label for="network">Network rules, one per line: allow|require-2fa|deny: RANGE, RANGE</label>
      <textarea id="network" name="network" rows="4" cols="60">
${(p.networkRules ?? []).map((r) => `${r.action}: ${r.ranges.join(', ')}`).join('\n')}</textarea>
      <p><button type="submit">Save policy</button></p>
    </form>
    ${
      data.policy
        ? html`<form
            class="card"
            method="post"
            action="${base}/clear"
            data-confirm="Remove this policy?"
          >
            ${csrf(data.csrfToken)}<button class="danger" type="submit">Remove this policy</button>
          </form>`
        : ''
    }
    <p><a href="/admin/policies">Back to policies</a></p>`;
}

/** The advisor's warnings about a policy change, and the explicit confirmation it needs. */
export function policyConfirmPage(
  data: Names & {
    scope: string;
    policy: Policy;
    warnings: string[];
    csrfToken: string;
  },
): SafeHtml {
  const base = `/admin/policies/${data.scope}`;
  return html`<h1>Apply this policy?</h1>
    ${summary(data.policy, data)}
    <form class="card warning" method="post" action="${base}/apply" id="confirm-policy">
      ${csrf(data.csrfToken)}
      <p>The advisor warns that this change widens access:</p>
      <ul>
        ${data.warnings.map((w) => html`<li class="advisor-warning">${w}</li>`)}
      </ul>
      <input type="hidden" name="policy" value="${JSON.stringify(data.policy)}" />
      <label class="check"
        ><input type="checkbox" name="confirm" value="true" required id="confirm" /> I have read the
        warnings and want to apply it anyway</label
      >
      <button type="submit" class="danger">Apply policy</button>
      <a href="${base}">Cancel</a>
    </form>`;
}

export function emergencyPage(
  data: Names & {
    controls: EmergencyControl[];
    nowMs: number;
    csrfToken: string;
  },
): SafeHtml {
  const groups = data.groups.map((g) => html`<option value="${g.id}">${g.name}</option>`);
  const apps = data.applications.map((a) => html`<option value="${a.id}">${a.name}</option>`);
  const size = Math.min(6, Math.max(2, data.groups.length));
  const common = html`<div class="row">
    <div>
      <label>Reason (shown in the banner and the audit log)</label
      ><input type="text" name="reason" required maxlength="500" />
    </div>
    <div>
      <label>Duration in minutes (reverts itself)</label
      ><input type="number" name="duration_minutes" min="1" value="60" required />
    </div>
  </div>`;
  const active = data.controls.filter((c) => c.state === 'active');
  const ended = data.controls.filter((c) => c.state !== 'active');
  return html`<h1>Emergency controls</h1>
    <p class="muted">
      Temporary, audited measures for an outage. Each has a reason and an expiry and is undone by
      itself; revert it earlier here.
    </p>
    <h2>In effect</h2>
    ${
      active.length === 0
        ? html`<p id="no-active">None.</p>`
        : html`<table id="controls">
            <tr>
              <th>What</th>
              <th>Reason</th>
              <th>Started by</th>
              <th>Ends</th>
              <th>Revert</th>
            </tr>
            ${active.map(
              (c) =>
                html`<tr>
                  <td>${describeControl(c, data)}</td>
                  <td>${c.reason}</td>
                  <td>${c.actor}</td>
                  <td>${iso(c.expiresAtMs)}</td>
                  <td>
                    <form method="post" action="/admin/emergency/${c.id}/revert" class="revert">
                      ${csrf(data.csrfToken)}
                      <input
                        type="text"
                        name="reason"
                        required
                        maxlength="500"
                        placeholder="why it ends now"
                        aria-label="Reason for the revert"
                      />
                      <button type="submit" class="danger">Revert now</button>
                    </form>
                  </td>
                </tr>`,
            )}
          </table>`
    }
    <h2>Start a control</h2>
    <form class="card" method="post" action="/admin/emergency/preview" id="start-bypass-groups">
      ${csrf(data.csrfToken)}<input type="hidden" name="kind" value="app-bypass-groups" />
      <h3>Bypass groups on one application</h3>
      <p class="muted">Members of these groups skip 2FA on this application only.</p>
      <div class="row">
        <div>
          <label for="bg-app">Application</label
          ><select id="bg-app" name="app_id">
            ${apps}
          </select>
        </div>
        <div>
          <label for="bg-groups">Groups</label
          ><select id="bg-groups" name="group_ids" multiple size="${size}" required>
            ${groups}
          </select>
        </div>
      </div>
      ${common}
      <p><button type="submit">Preview</button></p>
    </form>
    <form class="card" method="post" action="/admin/emergency/preview" id="start-bypass-users">
      ${csrf(data.csrfToken)}<input type="hidden" name="kind" value="users-to-bypass-group" />
      <h3>Move users into a bypass group</h3>
      <p class="muted">
        At the end only the users this control added are moved back. The advisor warns about every
        application the group reaches that you do not name.
      </p>
      <div class="row">
        <div>
          <label for="bu-group">Bypass group</label
          ><select id="bu-group" name="group_id">
            ${groups}
          </select>
        </div>
        <div>
          <label for="bu-users">Usernames (comma-separated)</label
          ><input type="text" id="bu-users" name="user_ids_text" required />
        </div>
        <div>
          <label for="bu-apps">Applications you mean to open</label
          ><select id="bu-apps" name="app_ids" multiple size="${size}">
            ${apps}
          </select>
        </div>
      </div>
      ${common}
      <p><button type="submit">Preview</button></p>
    </form>
    <form class="card" method="post" action="/admin/emergency/preview" id="start-primary-only">
      ${csrf(data.csrfToken)}<input type="hidden" name="kind" value="primary-only" />
      <h3>Proxy primary-only mode</h3>
      <p class="muted">
        The proxy lets users in on their primary password alone (at most 4 hours); it reads its
        state directory within a second.
      </p>
      <label for="po-proxy">The proxy's state_dir (absolute path, on this host)</label
      ><input type="text" id="po-proxy" name="proxy" required />
      ${common}
      <p><button type="submit">Preview</button></p>
    </form>
    ${
      ended.length > 0
        ? html`<h2>Ended</h2>
            <table id="ended-controls">
              <tr>
                <th>What</th>
                <th>Reason</th>
                <th>Started by</th>
                <th>State</th>
                <th>Ended</th>
                <th>By</th>
                <th>Why</th>
              </tr>
              ${ended.map(
                (c) =>
                  html`<tr>
                    <td>${describeControl(c, data)}</td>
                    <td>${c.reason}</td>
                    <td>${c.actor}</td>
                    <td>${c.state}</td>
                    <td>${iso(c.endedAtMs)}</td>
                    <td>${c.endedBy ?? ''}</td>
                    <td>${c.endReason ?? ''}</td>
                  </tr>`,
              )}
            </table>`
        : ''
    }`;
}

/** The preview step: what will happen, the advisor's findings, and the explicit confirmation. */
export function emergencyPreviewPage(data: {
  what: string;
  durationMinutes: number;
  reason: string;
  warnings: string[];
  /** The form's fields, sent again with the confirmation. */
  fields: [string, string][];
  csrfToken: string;
}): SafeHtml {
  return html`<h1>Start this emergency control?</h1>
    <form class="card warning" method="post" action="/admin/emergency/start" id="confirm-emergency">
      ${csrf(data.csrfToken)}
      <p><strong>${data.what}</strong> for ${data.durationMinutes} minutes: ${data.reason}</p>
      ${
        data.warnings.length > 0
          ? html`<p>The advisor warns:</p>
              <ul>
                ${data.warnings.map((w) => html`<li class="advisor-warning">${w}</li>`)}
              </ul>`
          : html`<p id="no-findings">The advisor has no findings.</p>`
      }
      ${data.fields.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`)}
      <label class="check"
        ><input type="checkbox" name="confirm" value="true" required id="confirm" /> I have read
        this and want to start the control</label
      >
      <button type="submit" class="danger">Start control</button>
      <a href="/admin/emergency">Cancel</a>
    </form>`;
}
