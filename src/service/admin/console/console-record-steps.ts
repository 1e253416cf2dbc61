// Console steps for the records: dashboard, users, groups, applications and the audit log.
import QRCode from 'qrcode';
import { adviseGroupStatusBypass } from '../../../operations/policy-advice.ts';
import {
  requireApplication,
  requireGroup,
  requireUser,
} from '../../../operations/record-lookups.ts';
import {
  applicationPage,
  applicationsPage,
  auditPage,
  dashboardPage,
  groupPage,
  groupsPage,
  secretPage,
  userPage,
  usersPage,
} from './console-pages.ts';
import {
  pick,
  redirect,
  type ActionCall,
  type ActionOutcome,
  type ConsoleContext,
  type PageView,
} from './console-step.ts';
import { trustedMarkup, type SafeHtml } from './html.ts';
import type { ParamMap } from '../../auth-api/request-params.ts';

type Query = Record<string, string | undefined>;

export async function renderDashboard(c: ConsoleContext, view: PageView): Promise<SafeHtml> {
  const { store, extensions } = c.admin;
  const [users, groups, applications] = await Promise.all([
    store.listUsers(),
    store.listGroups(),
    store.listApplications(),
  ]);
  return dashboardPage({
    users: users.length,
    groups,
    applications,
    emergencyAvailable: extensions.emergency !== undefined,
    activeControls: view.active,
  });
}

// ---- Users ----

export async function renderUsers(c: ConsoleContext, view: PageView): Promise<SafeHtml> {
  const query = view.req.query as Query;
  const search = query.search ?? '';
  const offset = Math.max(0, Number.parseInt(query.offset ?? '0', 10) || 0);
  const users = await c.admin.store.listUsers({ limit: 101, offset, search });
  return usersPage({
    users: users.slice(0, 100),
    search,
    offset,
    nextOffset: users.length > 100 ? offset + 100 : undefined,
    csrfToken: view.actor.csrfToken,
  });
}

export async function createUser(_c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  const r = await call.run(
    'POST',
    '/admin/v1/users',
    {},
    pick(call.form, ['username', 'realname', 'email']),
  );
  return redirect(`/admin/users/${(r.response as { user_id: string }).user_id}`, 'created');
}

export async function renderUser(c: ConsoleContext, view: PageView): Promise<SafeHtml> {
  const { store } = c.admin;
  const user = await requireUser(store, (view.req.params as { id: string }).id);
  const [groups, allGroups, tokens, codes, devices] = await Promise.all([
    store.listUserGroups(user.id),
    store.listGroups(),
    store.listOtpTokens(user.id),
    store.listBypassCodes(user.id),
    store.listDevices(user.id),
  ]);
  return userPage({
    user,
    groups,
    allGroups,
    tokens,
    codes,
    devices,
    csrfToken: view.actor.csrfToken,
  });
}

export async function saveUser(_c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  await call.run(
    'POST',
    '/admin/v1/users/:user_id',
    { user_id: call.id },
    pick(call.form, ['realname', 'email', 'status']),
  );
  return redirect(`/admin/users/${call.id}`, 'saved');
}

export async function saveUserAliases(
  _c: ConsoleContext,
  call: ActionCall,
): Promise<ActionOutcome> {
  const aliases = (call.form.aliases_text?.[0] ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  await call.run(
    'POST',
    '/admin/v1/users/:user_id/aliases',
    { user_id: call.id },
    { aliases: aliases.length ? aliases : [''] },
  );
  return redirect(`/admin/users/${call.id}`, 'saved');
}

export async function addUserToGroup(_c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  await call.run(
    'POST',
    '/admin/v1/users/:user_id/groups',
    { user_id: call.id },
    pick(call.form, ['group_id']),
  );
  return redirect(`/admin/users/${call.id}`, 'added');
}

export async function removeUserFromGroup(
  _c: ConsoleContext,
  call: ActionCall,
): Promise<ActionOutcome> {
  await call.run(
    'DELETE',
    '/admin/v1/users/:user_id/groups/:group_id',
    { user_id: call.id, group_id: call.sub },
    {},
  );
  return redirect(`/admin/users/${call.id}`, 'removed');
}

export async function removeDevice(_c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  await call.run(
    'DELETE',
    '/admin/v1/users/:user_id/devices/:device_id',
    { user_id: call.id, device_id: call.sub },
    {},
  );
  return redirect(`/admin/users/${call.id}`, 'removed');
}

export async function removeToken(_c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  await call.run(
    'DELETE',
    '/admin/v1/users/:user_id/tokens/:token_id',
    { user_id: call.id, token_id: call.sub },
    {},
  );
  return redirect(`/admin/users/${call.id}`, 'deleted');
}

export async function deleteUser(_c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  await call.run('DELETE', '/admin/v1/users/:user_id', { user_id: call.id }, {});
  return redirect('/admin/users', 'deleted');
}

export async function addTotpToken(_c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  const r = await call.run(
    'POST',
    '/admin/v1/users/:user_id/tokens/totp',
    { user_id: call.id },
    pick(call.form, ['name']),
  );
  const { secret, uri } = r.response as { secret: string; uri: string };
  const svg = await QRCode.toString(uri, { type: 'svg', margin: 1 });
  return secretPage({
    title: 'New TOTP token',
    intro: 'Scan the QR code with an authenticator app, or type the secret.',
    qrSvg: trustedMarkup(svg),
    lines: [`secret (base32): ${secret}`, uri],
    back: `/admin/users/${call.id}`,
  });
}

export async function issueBypassCodes(
  _c: ConsoleContext,
  call: ActionCall,
): Promise<ActionOutcome> {
  const r = await call.run(
    'POST',
    '/admin/v1/users/:user_id/bypass_codes',
    { user_id: call.id },
    pick(call.form, ['count', 'reuse_count', 'valid_secs']),
  );
  return secretPage({
    title: 'Bypass codes',
    intro: 'Earlier codes of this user no longer work.',
    lines: r.response as string[],
    back: `/admin/users/${call.id}`,
  });
}

export async function issueActivationCode(
  _c: ConsoleContext,
  call: ActionCall,
): Promise<ActionOutcome> {
  const r = await call.run(
    'POST',
    '/admin/v1/users/:user_id/devices/activation',
    { user_id: call.id },
    {},
  );
  const a = r.response as { activation_code: string; activation_url: string };
  const svg = await QRCode.toString(a.activation_code, { type: 'svg', margin: 1 });
  return secretPage({
    title: 'Activation code',
    intro: 'Activate the Airlock authenticator with this code or QR code.',
    qrSvg: trustedMarkup(svg),
    lines: [a.activation_code, a.activation_url],
    back: `/admin/users/${call.id}`,
  });
}

// ---- Groups ----

export async function renderGroups(c: ConsoleContext, view: PageView): Promise<SafeHtml> {
  return groupsPage({ groups: await c.admin.store.listGroups(), csrfToken: view.actor.csrfToken });
}

export async function createGroup(_c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  const r = await call.run('POST', '/admin/v1/groups', {}, pick(call.form, ['name', 'desc']));
  return redirect(`/admin/groups/${(r.response as { group_id: string }).group_id}`, 'created');
}

export async function renderGroup(c: ConsoleContext, view: PageView): Promise<SafeHtml> {
  const group = await requireGroup(c.admin.store, (view.req.params as { id: string }).id);
  return groupPage({
    group,
    members: await c.admin.store.listGroupMembers(group.id),
    csrfToken: view.actor.csrfToken,
  });
}

/** Bypass removes the second factor for every member: always asked to confirm first. */
export async function setGroupStatus(c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  const { store } = c.admin;
  const status = call.form.status?.[0];
  const group = await requireGroup(store, call.id);
  if (status === 'bypass' && group.status !== 'bypass' && call.form.confirm?.[0] !== 'true') {
    const warnings = await adviseGroupStatusBypass(store, group.id);
    return groupPage({
      group,
      members: await store.listGroupMembers(group.id),
      csrfToken: call.actor.csrfToken,
      pendingBypass:
        warnings.length > 0
          ? warnings.map((w) => w.message)
          : [
              'no application is reachable by this group now, but any that becomes reachable will be',
            ],
    });
  }
  await call.run(
    'POST',
    '/admin/v1/groups/:group_id',
    { group_id: group.id },
    pick(call.form, ['status']),
  );
  return redirect(`/admin/groups/${group.id}`, 'status');
}

export async function addGroupMember(_c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  await call.run(
    'POST',
    '/admin/v1/groups/:group_id/members',
    { group_id: call.id },
    pick(call.form, ['user_id']),
  );
  return redirect(`/admin/groups/${call.id}`, 'added');
}

export async function removeGroupMember(
  _c: ConsoleContext,
  call: ActionCall,
): Promise<ActionOutcome> {
  await call.run(
    'DELETE',
    '/admin/v1/groups/:group_id/members/:user_id',
    { group_id: call.id, user_id: call.sub },
    {},
  );
  return redirect(`/admin/groups/${call.id}`, 'removed');
}

export async function deleteGroup(_c: ConsoleContext, call: ActionCall): Promise<ActionOutcome> {
  await call.run('DELETE', '/admin/v1/groups/:group_id', { group_id: call.id }, {});
  return redirect('/admin/groups', 'deleted');
}

// ---- Applications ----

export async function renderApplications(c: ConsoleContext, view: PageView): Promise<SafeHtml> {
  return applicationsPage({
    applications: await c.admin.store.listApplications(),
    csrfToken: view.actor.csrfToken,
  });
}

export async function createApplication(
  c: ConsoleContext,
  call: ActionCall,
): Promise<ActionOutcome> {
  const values = pick(call.form, ['name', 'type']);
  const redirectUris = redirectUriLines(call.form);
  if (redirectUris.length > 0) values.redirect_uris = redirectUris;
  const r = await call.run('POST', '/admin/v1/applications', {}, values);
  const a = r.response as { app_id: string; ikey: string; skey: string; type: string };
  return secretPage({
    title: 'Application created',
    intro: 'Configure the integration with these keys and this API host.',
    lines: [
      `integration key (ikey): ${a.ikey}`,
      `secret key (skey): ${a.skey}`,
      `API host: ${c.admin.apiHost()}`,
      ...(a.type === 'web-sdk' ? ['Web SDK: client id = ikey, client secret = skey'] : []),
    ],
    back: `/admin/applications/${a.app_id}`,
  });
}

export async function renderApplication(c: ConsoleContext, view: PageView): Promise<SafeHtml> {
  const { store } = c.admin;
  const application = await requireApplication(store, (view.req.params as { id: string }).id);
  return applicationPage({
    application,
    groups: await store.listGroups(),
    csrfToken: view.actor.csrfToken,
  });
}

export async function saveApplication(
  _c: ConsoleContext,
  call: ActionCall,
): Promise<ActionOutcome> {
  const values = pick(call.form, [
    'new_user_policy',
    'restriction_level',
    'rate_limit',
    'verified_push',
    'allow_v1_signature',
  ]);
  if (call.form.groups_sent) values.groups = call.form.groups ?? [''];
  if (call.form.redirect_uris_text) values.redirect_uris = redirectUriLines(call.form);
  if (call.form.remember_device_hours) {
    values.remember_device_hours = call.form.remember_device_hours;
  }
  await call.run('POST', '/admin/v1/applications/:app_id', { app_id: call.id }, values);
  return redirect(`/admin/applications/${call.id}`, 'saved');
}

/** The console's redirect URI box: one URI per line, blank lines ignored. */
function redirectUriLines(form: ParamMap): string[] {
  const text = form.redirect_uris_text?.[0] ?? '';
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

export async function rotateApplicationSecret(
  _c: ConsoleContext,
  call: ActionCall,
): Promise<ActionOutcome> {
  const r = await call.run(
    'POST',
    '/admin/v1/applications/:app_id/rotate_secret',
    { app_id: call.id },
    {},
  );
  const a = r.response as { ikey: string; skey: string };
  return secretPage({
    title: 'New secret key',
    intro: 'The old secret key stops working within a second.',
    lines: [`integration key (ikey): ${a.ikey}`, `secret key (skey): ${a.skey}`],
    back: `/admin/applications/${call.id}`,
  });
}

// ---- Audit ----

export async function renderAudit(c: ConsoleContext, view: PageView): Promise<SafeHtml> {
  const query = view.req.query as Query;
  const sinceHours = Math.max(1, Number.parseInt(query.since_hours ?? '24', 10) || 24);
  const events = await c.admin.store.listAudit({
    sinceMs: c.admin.clock.nowMs() - sinceHours * 3_600_000,
    afterId: query.cursor ? Number(query.cursor) || 0 : undefined,
    username: query.username || undefined,
    action: query.action || undefined,
    limit: 100,
  });
  return auditPage({
    events,
    username: query.username ?? '',
    action: query.action ?? '',
    sinceHours,
    nextCursor: events.length === 100 ? events.at(-1)?.id : undefined,
  });
}
