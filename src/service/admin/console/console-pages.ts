// The console's pages: pure functions from data to HTML (no I/O), all text escaped by html``.
import type { EmergencyControl } from '../../../core/emergency-control.ts';
import {
  APPLICATION_TYPES,
  GROUP_STATUSES,
  NEW_USER_POLICIES,
  RESTRICTION_LEVELS,
  USER_STATUSES,
  type Application,
  type AuditEvent,
  type BypassCode,
  type Device,
  type Group,
  type OtpToken,
  type User,
} from '../../../core/model.ts';
import { CSRF_FIELD } from '../admin-auth.ts';
import { html, type SafeHtml } from './html.ts';

export const NAV = [
  ['dashboard', 'Dashboard'],
  ['users', 'Users'],
  ['groups', 'Groups'],
  ['applications', 'Applications'],
  ['policies', 'Policies'],
  ['emergency', 'Emergency'],
  ['dr-plan', 'DR plan'],
  ['incidents', 'Incidents'],
  ['templates', 'Messages'],
  ['subscriptions', 'Subscriptions'],
  ['audit', 'Audit log'],
] as const;
export type NavKey = (typeof NAV)[number][0];

export interface PageFrame {
  title: string;
  current: NavKey | undefined;
  /** Undefined on the login page. */
  who?: { username: string; csrfToken: string } | undefined;
  notice?: string | undefined;
  error?: string | undefined;
  /** Emergency controls in effect: a banner on every page. */
  activeControls: readonly EmergencyControl[];
  /** To name the groups and applications of the controls in the banner. */
  controlNames?: Names | undefined;
}

const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('.000Z', 'Z');

export function layout(frame: PageFrame, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <title>${frame.title} · Airlock admin</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/admin/assets/console.css" />
        <script src="/admin/assets/console.js" defer></script>
      </head>
      <body>
        ${frame.who ? topBar(frame) : ''}
        ${frame.activeControls.length > 0 ? emergencyBanner(frame.activeControls, frame.controlNames) : ''}
        <main>
          ${frame.notice ? html`<div class="notice" role="status">${frame.notice}</div>` : ''}
          ${frame.error ? html`<div class="error" role="alert">${frame.error}</div>` : ''} ${body}
        </main>
      </body>
    </html>`.value;
}

function topBar(frame: PageFrame): SafeHtml {
  return html`<header class="top">
    <span class="brand">Airlock admin</span>
    <nav>
      ${NAV.map(([key, label]) => html`<a href="/admin/${key}" class="${key === frame.current ? 'current' : ''}">${label}</a>`)}
    </nav>
    <span class="who"
      >${frame.who?.username}
      <form class="inline" method="post" action="/admin/logout">
        ${csrf(frame.who?.csrfToken ?? '')}<button type="submit">Log out</button>
      </form></span
    >
  </header>`;
}

function emergencyBanner(
  controls: readonly EmergencyControl[],
  names: Names = { groups: [], applications: [] },
): SafeHtml {
  return html`<div class="banner-emergency" role="alert" id="emergency-banner">
    ${controls.length === 1 ? 'An emergency control is' : `${controls.length} emergency controls are`}
    in effect:
    ${controls.map((c) => html`<span>${describeControl(c, names)} until ${iso(c.expiresAtMs)} (${c.reason}); </span>`)}
    <a href="/admin/emergency">review or revert</a>
  </div>`;
}

/** Ids shown as names where the console knows them. */
export interface Names {
  groups: readonly Group[];
  applications: readonly Application[];
}

const groupName = (n: Names, id: string) => n.groups.find((g) => g.id === id)?.name ?? id;
const appName = (n: Names, id: string) => n.applications.find((a) => a.id === id)?.name ?? id;

/** What a control does, with names. */
export function describeControl(c: EmergencyControl, n: Names): string {
  switch (c.scope.kind) {
    case 'app-bypass-groups':
      return `groups ${c.scope.groupIds.map((g) => groupName(n, g)).join(', ')} skip 2FA on application ${appName(n, c.scope.appId)}`;
    case 'users-to-bypass-group':
      return `${c.scope.addedUserIds.length} user(s) added to bypass group ${groupName(n, c.scope.groupId)}`;
    case 'primary-only':
      return `proxy ${c.scope.proxy}${c.scope.section ? ` [${c.scope.section}]` : ''} in primary-only mode`;
  }
}

export function csrf(token: string): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${token}" />`;
}

function statusBadge(status: string): SafeHtml {
  return html`<span class="status status-${status.replace(' ', '-')}">${status}</span>`;
}

function options(values: readonly string[], selected: string | undefined): SafeHtml[] {
  return values.map(
    (v) => html`<option value="${v}" ${v === selected ? html`selected` : ''}>${v}</option>`,
  );
}

export function loginPage(): SafeHtml {
  return html`<div class="login">
    <h1>Airlock admin</h1>
    <form method="post" action="/admin/login" autocomplete="off">
      <label for="username">Username</label
      ><input type="text" id="username" name="username" required autocomplete="username" />
      <label for="password">Password</label
      ><input
        type="password"
        id="password"
        name="password"
        required
        autocomplete="current-password"
      />
      <label for="code">Authenticator code</label
      ><input
        type="text"
        id="code"
        name="code"
        required
        inputmode="numeric"
        pattern="[0-9]{6}"
        autocomplete="one-time-code"
      />
      <button type="submit">Log in</button>
    </form>
  </div>`;
}

export function dashboardPage(data: {
  users: number;
  groups: Group[];
  applications: readonly Application[];
  emergencyAvailable: boolean;
  activeControls: readonly EmergencyControl[];
}): SafeHtml {
  const bypass = data.groups.filter((g) => g.status === 'bypass');
  return html`<h1>Dashboard</h1>
    <section class="card" id="emergency-area">
      <h2>Emergency controls</h2>
      ${
        !data.emergencyAvailable
          ? html`<p class="muted">
              Emergency controls are not available in this installation yet.
            </p>`
          : data.activeControls.length === 0
            ? html`<p>None in effect.</p>`
            : html`<ul>
                ${data.activeControls.map((c) => html`<li>${describeControl(c, data)}, until ${iso(c.expiresAtMs)}</li>`)}
              </ul>`
      }
    </section>
    ${
      bypass.length > 0
        ? html`<div class="warning" role="alert">
            Groups in bypass (their members skip 2FA):
            ${bypass.map((g) => html`<a href="/admin/groups/${g.id}">${g.name}</a> `)}
          </div>`
        : ''
    }
    <table>
      <tr>
        <th>Users</th>
        <th>Groups</th>
        <th>Applications</th>
      </tr>
      <tr>
        <td><a href="/admin/users">${data.users}</a></td>
        <td><a href="/admin/groups">${data.groups.length}</a></td>
        <td><a href="/admin/applications">${data.applications.length}</a></td>
      </tr>
    </table>`;
}

export function usersPage(data: {
  users: User[];
  search: string;
  offset: number;
  nextOffset: number | undefined;
  csrfToken: string;
}): SafeHtml {
  const query = (offset: number) =>
    `/admin/users?search=${encodeURIComponent(data.search)}&offset=${offset}`;
  return html`<h1>Users</h1>
    <form method="get" action="/admin/users" class="row">
      <div>
        <label for="search">Search</label>
        <input
          type="search"
          id="search"
          name="search"
          value="${data.search}"
          placeholder="username, alias, name, e-mail"
        />
      </div>
      <button type="submit" class="secondary">Search</button>
    </form>
    <table id="users">
      <tr>
        <th>Username</th>
        <th>Name</th>
        <th>E-mail</th>
        <th>Status</th>
        <th>Aliases</th>
      </tr>
      ${data.users.map(
        (u) =>
          html`<tr>
            <td><a href="/admin/users/${u.id}">${u.username}</a></td>
            <td>${u.realName ?? ''}</td>
            <td>${u.email ?? ''}</td>
            <td>${statusBadge(u.status)}</td>
            <td>${u.aliases.join(', ')}</td>
          </tr>`,
      )}
    </table>
    <div class="pager">
      ${data.offset > 0 ? html`<a href="${query(Math.max(0, data.offset - 100))}">Previous</a>` : ''}
      ${data.nextOffset !== undefined ? html`<a href="${query(data.nextOffset)}">Next</a>` : ''}
    </div>
    <form class="card" method="post" action="/admin/users">
      ${csrf(data.csrfToken)}
      <h2>New user</h2>
      <div class="row">
        <div>
          <label for="new-username">Username</label
          ><input type="text" id="new-username" name="username" required />
        </div>
        <div>
          <label for="new-realname">Name</label
          ><input type="text" id="new-realname" name="realname" />
        </div>
        <div>
          <label for="new-email">E-mail</label><input type="text" id="new-email" name="email" />
        </div>
        <button type="submit">Create user</button>
      </div>
    </form>`;
}

export function userPage(data: {
  user: User;
  groups: Group[];
  allGroups: Group[];
  tokens: OtpToken[];
  codes: BypassCode[];
  devices: Device[];
  csrfToken: string;
}): SafeHtml {
  const { user, csrfToken } = data;
  const base = `/admin/users/${user.id}`;
  const others = data.allGroups.filter((g) => !data.groups.some((m) => m.id === g.id));
  return html`<h1>User ${user.username}</h1>
    <table>
      <tr>
        <th>User id</th>
        <td>${user.id}</td>
      </tr>
      <tr>
        <th>Status</th>
        <td>${statusBadge(user.status)}</td>
      </tr>
      <tr>
        <th>Name</th>
        <td>${user.realName ?? ''}</td>
      </tr>
      <tr>
        <th>E-mail</th>
        <td>${user.email ?? ''}</td>
      </tr>
      <tr>
        <th>Aliases</th>
        <td>${user.aliases.join(', ')}</td>
      </tr>
      <tr>
        <th>Failed second factors in a row</th>
        <td>${user.failedAttempts}</td>
      </tr>
      <tr>
        <th>Created</th>
        <td>${iso(user.createdAtMs)}</td>
      </tr>
    </table>
    <form class="card" method="post" action="${base}">
      ${csrf(csrfToken)}
      <h2>Details and status</h2>
      <div class="row">
        <div>
          <label for="realname">Name</label
          ><input type="text" id="realname" name="realname" value="${user.realName ?? ''}" />
        </div>
        <div>
          <label for="email">E-mail</label
          ><input type="text" id="email" name="email" value="${user.email ?? ''}" />
        </div>
        <div>
          <label for="status">Status</label
          ><select id="status" name="status">
            ${options(USER_STATUSES, user.status)}
          </select>
        </div>
        <button type="submit">Save</button>
      </div>
    </form>
    <form class="card" method="post" action="${base}/aliases">
      ${csrf(csrfToken)}
      <h2>Aliases</h2>
      <div class="row">
        <div>
          <label for="aliases">Aliases (comma-separated)</label
          ><input type="text" id="aliases" name="aliases_text" value="${user.aliases.join(', ')}" />
        </div>
        <button type="submit">Save aliases</button>
      </div>
    </form>
    <h2>Groups</h2>
    <table id="user-groups">
      <tr>
        <th>Group</th>
        <th>Status</th>
        <th></th>
      </tr>
      ${data.groups.map(
        (g) =>
          html`<tr>
            <td><a href="/admin/groups/${g.id}">${g.name}</a></td>
            <td>${statusBadge(g.status)}</td>
            <td>
              <form class="inline" method="post" action="${base}/groups/${g.id}/remove">
                ${csrf(csrfToken)}<button class="secondary" type="submit">Remove</button>
              </form>
            </td>
          </tr>`,
      )}
    </table>
    ${
      others.length > 0
        ? html`<form class="card" method="post" action="${base}/groups">
            ${csrf(csrfToken)}
            <div class="row">
              <div>
                <label for="group_id">Add to group</label>
                <select id="group_id" name="group_id">
                  ${others.map((g) => html`<option value="${g.id}">${g.name} (${g.status})</option>`)}
                </select>
              </div>
              <button type="submit">Add</button>
            </div>
          </form>`
        : ''
    }
    <h2>Devices</h2>
    <table id="user-devices">
      <tr>
        <th>Name</th>
        <th>Platform</th>
        <th>Last seen</th>
        <th></th>
      </tr>
      ${data.devices.map(
        (d) =>
          html`<tr>
            <td>${d.name}</td>
            <td>${d.platform}</td>
            <td>${iso(d.lastSeenAtMs)}</td>
            <td>
              <form
                class="inline"
                method="post"
                action="${base}/devices/${d.id}/remove"
                data-confirm="Remove this device?"
              >
                ${csrf(csrfToken)}<button class="danger" type="submit">Remove</button>
              </form>
            </td>
          </tr>`,
      )}
    </table>
    <form class="card" method="post" action="${base}/devices/activation">
      ${csrf(csrfToken)}<button type="submit">Make an activation code</button>
    </form>
    <h2>Passcode tokens</h2>
    <table id="user-tokens">
      <tr>
        <th>Type</th>
        <th>Name</th>
        <th>Created</th>
        <th></th>
      </tr>
      ${data.tokens.map(
        (t) =>
          html`<tr>
            <td>${t.type}</td>
            <td>${t.name ?? ''}</td>
            <td>${iso(t.createdAtMs)}</td>
            <td>
              <form
                class="inline"
                method="post"
                action="${base}/tokens/${t.id}/remove"
                data-confirm="Delete this token?"
              >
                ${csrf(csrfToken)}<button class="danger" type="submit">Delete</button>
              </form>
            </td>
          </tr>`,
      )}
    </table>
    <form class="card" method="post" action="${base}/tokens/totp">
      ${csrf(csrfToken)}
      <div class="row">
        <div>
          <label for="token-name">New TOTP token, label</label
          ><input type="text" id="token-name" name="name" />
        </div>
        <button type="submit">Add TOTP token</button>
      </div>
    </form>
    <h2>Bypass codes</h2>
    <p>
      ${data.codes.length} code(s) on
      file${data.codes.length > 0 ? html`, expiring ${iso(data.codes[0]?.expiresAtMs)}` : ''}.
    </p>
    <form
      class="card"
      method="post"
      action="${base}/bypass-codes"
      data-confirm="Replace every bypass code of this user?"
    >
      ${csrf(csrfToken)}
      <div class="row">
        <div>
          <label for="count">How many</label
          ><input type="number" id="count" name="count" value="10" min="1" max="100" />
        </div>
        <div>
          <label for="reuse_count">Uses each (0 = unlimited)</label
          ><input type="number" id="reuse_count" name="reuse_count" value="1" min="0" />
        </div>
        <div>
          <label for="valid_secs">Valid for (seconds, empty = no expiry)</label
          ><input type="number" id="valid_secs" name="valid_secs" min="60" />
        </div>
        <button type="submit">Generate bypass codes</button>
      </div>
    </form>
    <form
      class="card"
      method="post"
      action="${base}/delete"
      data-confirm="Delete this user with everything it has?"
    >
      ${csrf(csrfToken)}<button class="danger" type="submit">Delete user</button>
    </form>`;
}

export function groupsPage(data: { groups: Group[]; csrfToken: string }): SafeHtml {
  return html`<h1>Groups</h1>
    <table id="groups">
      <tr>
        <th>Name</th>
        <th>Status</th>
        <th>Description</th>
      </tr>
      ${data.groups.map(
        (g) =>
          html`<tr>
            <td><a href="/admin/groups/${g.id}">${g.name}</a></td>
            <td>${statusBadge(g.status)}</td>
            <td>${g.description ?? ''}</td>
          </tr>`,
      )}
    </table>
    <form class="card" method="post" action="/admin/groups">
      ${csrf(data.csrfToken)}
      <h2>New group</h2>
      <div class="row">
        <div>
          <label for="name">Name</label><input type="text" id="name" name="name" required />
        </div>
        <div><label for="desc">Description</label><input type="text" id="desc" name="desc" /></div>
        <button type="submit">Create group</button>
      </div>
    </form>`;
}

export function groupPage(data: {
  group: Group;
  members: User[];
  csrfToken: string;
  /** The advisor's warnings for a pending change to bypass, to confirm. */
  pendingBypass?: string[] | undefined;
}): SafeHtml {
  const { group, csrfToken } = data;
  const base = `/admin/groups/${group.id}`;
  return html`<h1>Group ${group.name}</h1>
    <p>
      Status: ${statusBadge(group.status)} <span class="muted">${group.description ?? ''}</span>
    </p>
    ${
      data.pendingBypass
        ? html`<form class="card warning" method="post" action="${base}/status" id="confirm-bypass">
            ${csrf(csrfToken)}
            <h2>Put "${group.name}" in bypass?</h2>
            <p>Members of a group in bypass skip two-factor authentication. The advisor warns:</p>
            <ul>
              ${data.pendingBypass.map((w) => html`<li class="advisor-warning">${w}</li>`)}
            </ul>
            <input type="hidden" name="status" value="bypass" /><input
              type="hidden"
              name="confirm"
              value="true"
            />
            <button type="submit" class="danger">Yes, put it in bypass</button>
            <a href="${base}">Cancel</a>
          </form>`
        : ''
    }
    <form class="card" method="post" action="${base}/status">
      ${csrf(csrfToken)}
      <div class="row">
        <div>
          <label for="status">Status</label
          ><select id="status" name="status">
            ${options(GROUP_STATUSES, group.status)}
          </select>
        </div>
        <button type="submit">Change status</button>
      </div>
      <p class="muted">
        Bypass: members skip 2FA in every application the group can reach. For a time-limited bypass
        use an emergency control.
      </p>
    </form>
    <h2>Members</h2>
    <table id="members">
      <tr>
        <th>Username</th>
        <th>Status</th>
        <th></th>
      </tr>
      ${data.members.map(
        (u) =>
          html`<tr>
            <td><a href="/admin/users/${u.id}">${u.username}</a></td>
            <td>${statusBadge(u.status)}</td>
            <td>
              <form class="inline" method="post" action="${base}/members/${u.id}/remove">
                ${csrf(csrfToken)}<button class="secondary" type="submit">Remove</button>
              </form>
            </td>
          </tr>`,
      )}
    </table>
    <form class="card" method="post" action="${base}/members">
      ${csrf(csrfToken)}
      <div class="row">
        <div>
          <label for="user_id">Add member (username)</label
          ><input type="text" id="user_id" name="user_id" required />
        </div>
        <button type="submit">Add</button>
      </div>
    </form>
    <form class="card" method="post" action="${base}/delete" data-confirm="Delete this group?">
      ${csrf(csrfToken)}<button class="danger" type="submit">Delete group</button>
    </form>`;
}

export function applicationsPage(data: {
  applications: Application[];
  csrfToken: string;
}): SafeHtml {
  return html`<h1>Applications</h1>
    <table id="applications">
      <tr>
        <th>Name</th>
        <th>Integration key</th>
        <th>Type</th>
        <th>New users</th>
        <th>Restriction level</th>
      </tr>
      ${data.applications.map(
        (a) =>
          html`<tr>
            <td><a href="/admin/applications/${a.id}">${a.name}</a></td>
            <td>${a.ikey}</td>
            <td>${a.type}</td>
            <td>${a.newUserPolicy}</td>
            <td>${a.restrictionLevel}</td>
          </tr>`,
      )}
    </table>
    <form class="card" method="post" action="/admin/applications">
      ${csrf(data.csrfToken)}
      <h2>New application</h2>
      <div class="row">
        <div>
          <label for="name">Name</label><input type="text" id="name" name="name" required />
        </div>
        <div>
          <label for="type">Type</label
          ><select id="type" name="type">
            ${options(APPLICATION_TYPES, 'auth-api')}
          </select>
        </div>
        <div>
          <label for="redirect_uris_text">Redirect URIs (web-sdk; one per line)</label
          ><textarea id="redirect_uris_text" name="redirect_uris_text" rows="2"></textarea>
        </div>
        <button type="submit">Create application</button>
      </div>
    </form>`;
}

export function applicationPage(data: {
  application: Application;
  groups: Group[];
  csrfToken: string;
}): SafeHtml {
  const a = data.application;
  const base = `/admin/applications/${a.id}`;
  return html`<h1>Application ${a.name}</h1>
    <table>
      <tr>
        <th>Integration key</th>
        <td>${a.ikey}</td>
      </tr>
      <tr>
        <th>Type</th>
        <td>${a.type}</td>
      </tr>
      <tr>
        <th>Created</th>
        <td>${iso(a.createdAtMs)}</td>
      </tr>
    </table>
    <form class="card" method="post" action="${base}">
      ${csrf(data.csrfToken)}
      <h2>Settings</h2>
      <label for="new_user_policy">Users without a second factor</label
      ><select id="new_user_policy" name="new_user_policy">
        ${options(NEW_USER_POLICIES, a.newUserPolicy)}
      </select>
      <label for="restriction_level">Restriction level</label
      ><select id="restriction_level" name="restriction_level">
        ${options(RESTRICTION_LEVELS, a.restrictionLevel)}
      </select>
      <label for="rate_limit">Auth API requests per second (0 = unlimited)</label
      ><input
        type="number"
        id="rate_limit"
        name="rate_limit"
        min="0"
        value="${a.rateLimitPerSecond}"
      />
      <label for="verified_push">Verified push</label
      ><select id="verified_push" name="verified_push">
        ${options(['true', 'false'], String(a.verifiedPush))}
      </select>
      <label for="allow_v1_signature"
        >Signature v1 on /rest/v1 (Duo Authentication Proxy; no signed date, replayable)</label
      ><select id="allow_v1_signature" name="allow_v1_signature">
        ${options(['true', 'false'], String(a.allowV1Signature))}
      </select>
      <label for="groups">Allowed groups (none selected = every user)</label>
      <select
        id="groups"
        name="groups"
        multiple
        size="${Math.min(8, Math.max(2, data.groups.length))}"
      >
        ${data.groups.map((g) => html`<option value="${g.id}" ${a.allowedGroupIds.includes(g.id) ? html`selected` : ''}>${g.name}</option>`)}
      </select>
      <input type="hidden" name="groups_sent" value="1" />
      ${
        a.type === 'web-sdk'
          ? html`<label for="redirect_uris_text">Redirect URIs (one per line)</label
              ><textarea id="redirect_uris_text" name="redirect_uris_text" rows="3">
${a.redirectUris.join('\n')}</textarea>
              <label for="remember_device_hours">Remember devices for (hours; 0 = never)</label
              ><input
                type="number"
                id="remember_device_hours"
                name="remember_device_hours"
                min="0"
                max="720"
                value="${a.rememberDeviceHours}"
              />`
          : ''
      }
      <p><button type="submit">Save settings</button></p>
    </form>
    <form
      class="card"
      method="post"
      action="${base}/rotate-secret"
      data-confirm="Replace the secret key? The old one stops working."
    >
      ${csrf(data.csrfToken)}<button class="danger" type="submit">Rotate secret key</button>
    </form>`;
}

export function auditPage(data: {
  events: AuditEvent[];
  username: string;
  action: string;
  sinceHours: number;
  nextCursor: number | undefined;
}): SafeHtml {
  const next =
    data.nextCursor === undefined
      ? ''
      : html`<a
          href="/admin/audit?username=${encodeURIComponent(data.username)}&action=${encodeURIComponent(data.action)}&since_hours=${data.sinceHours}&cursor=${data.nextCursor}"
          >Next page</a
        >`;
  return html`<h1>Audit log</h1>
    <form method="get" action="/admin/audit" class="row">
      <div>
        <label for="username">User</label
        ><input type="text" id="username" name="username" value="${data.username}" />
      </div>
      <div>
        <label for="action">Action</label
        ><input
          type="text"
          id="action"
          name="action"
          value="${data.action}"
          placeholder="e.g. group.set-status"
        />
      </div>
      <div>
        <label for="since_hours">Last hours</label
        ><input
          type="number"
          id="since_hours"
          name="since_hours"
          min="1"
          value="${data.sinceHours}"
        />
      </div>
      <button type="submit" class="secondary">Filter</button>
    </form>
    <table id="audit">
      <tr>
        <th>Time (UTC)</th>
        <th>Actor</th>
        <th>Action</th>
        <th>Target</th>
        <th>User</th>
        <th>Result</th>
        <th>Detail</th>
      </tr>
      ${data.events.map(
        (e) =>
          html`<tr>
            <td>${iso(e.tsMs)}</td>
            <td>${e.actor}</td>
            <td>${e.action}</td>
            <td>${e.targetType ?? ''} ${e.targetId ?? ''}</td>
            <td>${e.username ?? ''}</td>
            <td>${e.result ?? ''}</td>
            <td><code>${JSON.stringify(e.detail)}</code></td>
          </tr>`,
      )}
    </table>
    <div class="pager">${next}</div>`;
}

export function notAvailablePage(what: string): SafeHtml {
  return html`<h1>${what}</h1>
    <section class="card" id="not-available">
      <p>${what} are not available in this installation yet.</p>
    </section>`;
}

/** A secret shown once (skey, TOTP secret, bypass codes, activation code). */
export function secretPage(data: {
  title: string;
  intro: string;
  lines: string[];
  qrSvg?: SafeHtml | undefined;
  back: string;
}): SafeHtml {
  return html`<h1>${data.title}</h1>
    <p>${data.intro}</p>
    ${data.qrSvg ? html`<div class="qr">${data.qrSvg}</div>` : ''}
    <div class="secret" id="secret">${data.lines.map((l) => html`<div>${l}</div>`)}</div>
    <p class="warning">This is shown only now: copy it before leaving the page.</p>
    <p><a href="${data.back}">Back</a></p>`;
}
