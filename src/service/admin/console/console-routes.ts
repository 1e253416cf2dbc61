// The browser console under /admin/: server-rendered pages over the same route handlers as the
// Admin API (so both audit alike and cannot drift), with session, CSRF and security headers.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import type { EmergencyControl } from '../../../core/emergency-control.ts';
import { AirlockError } from '../../../core/error-registry.ts';
import type { Policy } from '../../../core/policy.ts';
import { readRequestParams, type ParamMap } from '../../auth-api/request-params.ts';
import {
  checkCsrf,
  clearedSessionCookie,
  hashToken,
  loadSession,
  readCookie,
  SESSION_COOKIE,
  sessionCookie,
  submittedCsrfToken,
  type AdminActor,
} from '../admin-auth.ts';
import type { AdminContext } from '../admin-context.ts';
import { loginAdmin } from '../admin-login.ts';
import { adviseGroupStatusBypass } from '../../../operations/policy-advice.ts';
import {
  requireApplication,
  requireGroup,
  requireUser,
} from '../../../operations/record-lookups.ts';
import { parseParams, type AdminResult } from '../admin-route.ts';
import { adminRoute } from '../routes/all-routes.ts';
import { emergencyRequestOf } from '../routes/extension-routes.ts';
import { CONSOLE_CSS, CONSOLE_JS } from './console-assets.ts';
import {
  applicationPage,
  applicationsPage,
  auditPage,
  dashboardPage,
  groupPage,
  groupsPage,
  layout,
  loginPage,
  notAvailablePage,
  secretPage,
  userPage,
  usersPage,
  type NavKey,
  type Names,
} from './console-pages.ts';
import { html, trustedMarkup, type SafeHtml } from './html.ts';
import {
  emergencyPage,
  emergencyPreviewPage,
  policiesPage,
  policyConfirmPage,
  policyEditPage,
} from './policy-pages.ts';

type SessionActor = Extract<AdminActor, { kind: 'session' }>;

/** Strict CSP: no inline script or style, nothing from elsewhere, no framing, forms post here only. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const NOTICES = {
  created: 'Created.',
  saved: 'Saved.',
  added: 'Added.',
  removed: 'Removed.',
  deleted: 'Deleted.',
  status: 'Status changed.',
  'logged-out': 'You are logged out.',
  reverted: 'Reverted.',
  started: 'Started.',
  cleared: 'Policy removed.',
} as const;
type Notice = keyof typeof NOTICES;

export function registerConsole(admin: FastifyInstance, ctx: AdminContext): void {
  admin.addHook('onSend', async (req, reply) => {
    if (req.url.startsWith('/admin/v1/')) return;
    void reply.header('Content-Security-Policy', CONSOLE_CSP);
    void reply.header('X-Frame-Options', 'DENY');
    void reply.header('Referrer-Policy', 'no-referrer');
    void reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    void reply.header('Cross-Origin-Resource-Policy', 'same-origin');
  });

  admin.get('/assets/console.css', async (_req, reply) =>
    reply.type('text/css; charset=utf-8').send(CONSOLE_CSS),
  );
  admin.get('/assets/console.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').send(CONSOLE_JS),
  );

  admin.get('/', async (req, reply) =>
    reply.redirect(readCookie(req, SESSION_COOKIE) ? '/admin/dashboard' : '/admin/login', 303),
  );

  admin.get('/login', async (_req, reply) =>
    sendPage(reply, frame(ctx, 'Log in', undefined, undefined, []), loginPage()),
  );

  admin.post('/login', async (req, reply) => {
    checkOrigin(req);
    const form = readRequestParams(req).values;
    const field = (name: string) => form[name]?.[0] ?? '';
    try {
      const loggedIn = await loginAdmin(
        {
          username: field('username'),
          password: field('password'),
          code: field('code'),
          ip: req.ip,
        },
        {
          store: ctx.store,
          clock: ctx.clock,
          random: ctx.random,
          limiter: ctx.loginLimiter,
          options: ctx.options,
        },
      );
      // A fresh token at every login (no session fixation); an earlier session of this browser ends.
      const previous = readCookie(req, SESSION_COOKIE);
      if (previous) await ctx.store.deleteAdminSession(hashToken(previous));
      await ctx.store.deleteExpiredAdminSessions(
        ctx.clock.nowMs(),
        ctx.clock.nowMs() - ctx.options.sessionIdleSeconds * 1000,
      );
      void reply.header(
        'Set-Cookie',
        sessionCookie(loggedIn.sessionToken, ctx.options.sessionMaxSeconds),
      );
      return reply.redirect('/admin/dashboard', 303);
    } catch (err) {
      if (
        err instanceof AirlockError &&
        (err.code === 'ADMIN_LOGIN_FAILED' || err.code === 'ADMIN_RATE_LIMITED')
      ) {
        const f = frame(ctx, 'Log in', undefined, undefined, []);
        f.error =
          err.code === 'ADMIN_RATE_LIMITED' ? 'Too many attempts; wait a minute.' : err.message;
        return sendPage(reply.code(err.status), f, loginPage());
      }
      throw err;
    }
  });

  admin.post('/logout', async (req, reply) => {
    const actor = await requireSession(ctx, req, true);
    await ctx.store.deleteAdminSession(actor.session.idHash);
    void reply.header('Set-Cookie', clearedSessionCookie());
    return reply.redirect('/admin/login?notice=logged-out', 303);
  });

  page(admin, ctx, '/dashboard', 'dashboard', 'Dashboard', async (_req, _actor, active) => {
    const [users, groups, applications] = await Promise.all([
      ctx.store.listUsers(),
      ctx.store.listGroups(),
      ctx.store.listApplications(),
    ]);
    return dashboardPage({
      users: users.length,
      groups,
      applications,
      emergencyAvailable: ctx.extensions.emergency !== undefined,
      activeControls: active,
    });
  });

  // ---- Users ----
  page(admin, ctx, '/users', 'users', 'Users', async (req, actor) => {
    const query = req.query as Record<string, string | undefined>;
    const search = query.search ?? '';
    const offset = Math.max(0, Number.parseInt(query.offset ?? '0', 10) || 0);
    const users = await ctx.store.listUsers({ limit: 101, offset, search });
    return usersPage({
      users: users.slice(0, 100),
      search,
      offset,
      nextOffset: users.length > 100 ? offset + 100 : undefined,
      csrfToken: actor.csrfToken,
    });
  });
  action(admin, ctx, '/users', async (call) => {
    const r = await call.run(
      'POST',
      '/admin/v1/users',
      {},
      pick(call.form, ['username', 'realname', 'email']),
    );
    return redirect(`/admin/users/${(r.response as { user_id: string }).user_id}`, 'created');
  });
  page(admin, ctx, '/users/:id', 'users', 'User', async (req, actor) => {
    const user = await requireUser(ctx.store, (req.params as { id: string }).id);
    const [groups, allGroups, tokens, codes, devices] = await Promise.all([
      ctx.store.listUserGroups(user.id),
      ctx.store.listGroups(),
      ctx.store.listOtpTokens(user.id),
      ctx.store.listBypassCodes(user.id),
      ctx.store.listDevices(user.id),
    ]);
    return userPage({
      user,
      groups,
      allGroups,
      tokens,
      codes,
      devices,
      csrfToken: actor.csrfToken,
    });
  });
  action(admin, ctx, '/users/:id', async (call) => {
    await call.run(
      'POST',
      '/admin/v1/users/:user_id',
      { user_id: call.id },
      pick(call.form, ['realname', 'email', 'status']),
    );
    return redirect(`/admin/users/${call.id}`, 'saved');
  });
  action(admin, ctx, '/users/:id/aliases', async (call) => {
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
  });
  action(admin, ctx, '/users/:id/groups', async (call) => {
    await call.run(
      'POST',
      '/admin/v1/users/:user_id/groups',
      { user_id: call.id },
      pick(call.form, ['group_id']),
    );
    return redirect(`/admin/users/${call.id}`, 'added');
  });
  action(admin, ctx, '/users/:id/groups/:sub/remove', async (call) => {
    await call.run(
      'DELETE',
      '/admin/v1/users/:user_id/groups/:group_id',
      { user_id: call.id, group_id: call.sub },
      {},
    );
    return redirect(`/admin/users/${call.id}`, 'removed');
  });
  action(admin, ctx, '/users/:id/devices/:sub/remove', async (call) => {
    await call.run(
      'DELETE',
      '/admin/v1/users/:user_id/devices/:device_id',
      { user_id: call.id, device_id: call.sub },
      {},
    );
    return redirect(`/admin/users/${call.id}`, 'removed');
  });
  action(admin, ctx, '/users/:id/tokens/:sub/remove', async (call) => {
    await call.run(
      'DELETE',
      '/admin/v1/users/:user_id/tokens/:token_id',
      { user_id: call.id, token_id: call.sub },
      {},
    );
    return redirect(`/admin/users/${call.id}`, 'deleted');
  });
  action(admin, ctx, '/users/:id/delete', async (call) => {
    await call.run('DELETE', '/admin/v1/users/:user_id', { user_id: call.id }, {});
    return redirect('/admin/users', 'deleted');
  });
  action(admin, ctx, '/users/:id/tokens/totp', async (call) => {
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
  });
  action(admin, ctx, '/users/:id/bypass-codes', async (call) => {
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
  });
  action(admin, ctx, '/users/:id/devices/activation', async (call) => {
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
  });

  // ---- Groups ----
  page(admin, ctx, '/groups', 'groups', 'Groups', async (_req, actor) =>
    groupsPage({ groups: await ctx.store.listGroups(), csrfToken: actor.csrfToken }),
  );
  action(admin, ctx, '/groups', async (call) => {
    const r = await call.run('POST', '/admin/v1/groups', {}, pick(call.form, ['name', 'desc']));
    return redirect(`/admin/groups/${(r.response as { group_id: string }).group_id}`, 'created');
  });
  page(admin, ctx, '/groups/:id', 'groups', 'Group', async (req, actor) => {
    const group = await requireGroup(ctx.store, (req.params as { id: string }).id);
    return groupPage({
      group,
      members: await ctx.store.listGroupMembers(group.id),
      csrfToken: actor.csrfToken,
    });
  });
  action(admin, ctx, '/groups/:id/status', async (call) => {
    const status = call.form.status?.[0];
    const group = await requireGroup(ctx.store, call.id);
    if (status === 'bypass' && group.status !== 'bypass' && call.form.confirm?.[0] !== 'true') {
      const warnings = await adviseGroupStatusBypass(ctx.store, group.id);
      // Always ask: bypass removes the second factor for every member.
      return groupPage({
        group,
        members: await ctx.store.listGroupMembers(group.id),
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
  });
  action(admin, ctx, '/groups/:id/members', async (call) => {
    await call.run(
      'POST',
      '/admin/v1/groups/:group_id/members',
      { group_id: call.id },
      pick(call.form, ['user_id']),
    );
    return redirect(`/admin/groups/${call.id}`, 'added');
  });
  action(admin, ctx, '/groups/:id/members/:sub/remove', async (call) => {
    await call.run(
      'DELETE',
      '/admin/v1/groups/:group_id/members/:user_id',
      { group_id: call.id, user_id: call.sub },
      {},
    );
    return redirect(`/admin/groups/${call.id}`, 'removed');
  });
  action(admin, ctx, '/groups/:id/delete', async (call) => {
    await call.run('DELETE', '/admin/v1/groups/:group_id', { group_id: call.id }, {});
    return redirect('/admin/groups', 'deleted');
  });

  // ---- Applications ----
  page(admin, ctx, '/applications', 'applications', 'Applications', async (_req, actor) =>
    applicationsPage({
      applications: await ctx.store.listApplications(),
      csrfToken: actor.csrfToken,
    }),
  );
  action(admin, ctx, '/applications', async (call) => {
    const r = await call.run(
      'POST',
      '/admin/v1/applications',
      {},
      pick(call.form, ['name', 'type']),
    );
    const a = r.response as { app_id: string; ikey: string; skey: string };
    return secretPage({
      title: 'Application created',
      intro: 'Configure the integration with these keys and this API host.',
      lines: [
        `integration key (ikey): ${a.ikey}`,
        `secret key (skey): ${a.skey}`,
        `API host: ${ctx.apiHost()}`,
      ],
      back: `/admin/applications/${a.app_id}`,
    });
  });
  page(admin, ctx, '/applications/:id', 'applications', 'Application', async (req, actor) => {
    const application = await requireApplication(ctx.store, (req.params as { id: string }).id);
    return applicationPage({
      application,
      groups: await ctx.store.listGroups(),
      csrfToken: actor.csrfToken,
    });
  });
  action(admin, ctx, '/applications/:id', async (call) => {
    const values = pick(call.form, [
      'new_user_policy',
      'restriction_level',
      'rate_limit',
      'verified_push',
    ]);
    if (call.form.groups_sent) values.groups = call.form.groups ?? [''];
    await call.run('POST', '/admin/v1/applications/:app_id', { app_id: call.id }, values);
    return redirect(`/admin/applications/${call.id}`, 'saved');
  });
  action(admin, ctx, '/applications/:id/rotate-secret', async (call) => {
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
  });

  // ---- Audit ----
  page(admin, ctx, '/audit', 'audit', 'Audit log', async (req) => {
    const query = req.query as Record<string, string | undefined>;
    const sinceHours = Math.max(1, Number.parseInt(query.since_hours ?? '24', 10) || 24);
    const events = await ctx.store.listAudit({
      sinceMs: ctx.clock.nowMs() - sinceHours * 3_600_000,
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
  });

  // ---- Policies and emergency controls (extensions) ----
  page(admin, ctx, '/policies', 'policies', 'Policies', async () => {
    const policies = ctx.extensions.policies;
    if (!policies) return notAvailablePage('Policies');
    const { global, applications } = await policies.list();
    return policiesPage({ ...(await names(ctx)), global, applicationPolicies: applications });
  });
  admin.get('/policies/edit', async (req, reply) => {
    await requireSession(ctx, req, false);
    const app = (req.query as { app?: string }).app ?? '';
    return reply.redirect(`/admin/policies/${encodeURIComponent(app)}`, 303);
  });
  page(admin, ctx, '/policies/:id', 'policies', 'Policy', async (req, actor) => {
    const policies = ctx.extensions.policies;
    if (!policies) return notAvailablePage('Policies');
    const scope = (req.params as { id: string }).id;
    if (scope !== 'global') await requireApplication(ctx.store, scope);
    const { global, applications } = await policies.list();
    const policy =
      scope === 'global' ? global : applications.find((a) => a.appId === scope)?.policy;
    return policyEditPage({
      ...(await names(ctx)),
      scope,
      policy: policy ?? undefined,
      csrfToken: actor.csrfToken,
    });
  });
  action(admin, ctx, '/policies/:id', async (call) => {
    const policy = JSON.stringify(policyFromForm(call.form));
    const preview = await call.run(
      'POST',
      '/admin/v1/policies/:scope/preview',
      { scope: call.id },
      { policy: [policy] },
    );
    const warnings = (preview.response as { message: string }[]).map((f) => f.message);
    if (warnings.length > 0) {
      return policyConfirmPage({
        ...(await names(ctx)),
        scope: call.id,
        policy: JSON.parse(policy) as Policy,
        warnings,
        csrfToken: call.actor.csrfToken,
      });
    }
    await call.run('POST', '/admin/v1/policies/:scope', { scope: call.id }, { policy: [policy] });
    return redirect(`/admin/policies/${call.id}`, 'saved');
  });
  action(admin, ctx, '/policies/:id/apply', async (call) => {
    await call.run(
      'POST',
      '/admin/v1/policies/:scope',
      { scope: call.id },
      pick(call.form, ['policy', 'confirm']),
    );
    return redirect(`/admin/policies/${call.id}`, 'saved');
  });
  action(admin, ctx, '/policies/:id/clear', async (call) => {
    await call.run('DELETE', '/admin/v1/policies/:scope', { scope: call.id }, {});
    return redirect('/admin/policies', 'cleared');
  });

  page(admin, ctx, '/emergency', 'emergency', 'Emergency controls', async (_req, actor) => {
    const emergency = ctx.extensions.emergency;
    if (!emergency) return notAvailablePage('Emergency controls');
    return emergencyPage({
      ...(await names(ctx)),
      controls: await emergency.listAll(),
      nowMs: ctx.clock.nowMs(),
      csrfToken: actor.csrfToken,
    });
  });
  action(admin, ctx, '/emergency/preview', async (call) => {
    const values = emergencyForm(call.form);
    const preview = await call.run('POST', '/admin/v1/emergency_controls/preview', {}, values);
    const request = emergencyRequestOf(
      parseParams(adminRoute('POST', '/admin/v1/emergency_controls/preview').params, values, {}),
    );
    const n = await names(ctx);
    const s = request.scope;
    const what =
      s.kind === 'app-bypass-groups'
        ? `Groups ${s.groupIds.map((g) => n.groups.find((x) => x.id === g)?.name ?? g).join(', ')} skip 2FA on application ${n.applications.find((a) => a.id === s.appId)?.name ?? s.appId}`
        : s.kind === 'users-to-bypass-group'
          ? `Move ${s.userIds.join(', ')} into bypass group ${n.groups.find((x) => x.id === s.groupId)?.name ?? s.groupId}`
          : `Switch the proxy at ${s.proxy} to primary-only mode`;
    return emergencyPreviewPage({
      what,
      durationMinutes: (request.durationMs ?? 3_600_000) / 60_000,
      reason: request.reason,
      warnings: (preview.response as { message: string }[]).map((f) => f.message),
      fields: Object.entries(values).flatMap(([name, list]) =>
        (list ?? []).map((v): [string, string] => [name, v]),
      ),
      csrfToken: call.actor.csrfToken,
    });
  });
  action(admin, ctx, '/emergency/start', async (call) => {
    await call.run(
      'POST',
      '/admin/v1/emergency_controls',
      {},
      {
        ...emergencyForm(call.form),
        ...pick(call.form, ['confirm']),
      },
    );
    return redirect('/admin/emergency', 'started');
  });
  action(admin, ctx, '/emergency/:id/revert', async (call) => {
    await call.run(
      'POST',
      '/admin/v1/emergency_controls/:control_id/revert',
      { control_id: call.id },
      pick(call.form, ['reason']),
    );
    return redirect('/admin/emergency', 'reverted');
  });
}

/** Group and application names, to show instead of ids. */
async function names(ctx: AdminContext): Promise<Names> {
  const [groups, applications] = await Promise.all([
    ctx.store.listGroups(),
    ctx.store.listApplications(),
  ]);
  return { groups, applications };
}

/** The policy the console's form describes; empty fields are left unset. */
function policyFromForm(form: ParamMap): Record<string, unknown> {
  const first = (name: string) => form[name]?.[0]?.trim() ?? '';
  const list = (name: string) => (form[name] ?? []).filter(Boolean);
  const policy: Record<string, unknown> = {};
  if (first('new_user_policy')) policy.newUserPolicy = first('new_user_policy');
  if (list('factors').length > 0) policy.allowedFactors = list('factors');
  if (first('bypass_none') === 'true') policy.bypassGroupIds = [];
  else if (list('bypass_groups').length > 0) policy.bypassGroupIds = list('bypass_groups');
  if (list('deny_groups').length > 0) policy.denyGroupIds = list('deny_groups');
  const rules = first('network')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const at = line.indexOf(':');
      return {
        action: at < 0 ? line : line.slice(0, at).trim(),
        ranges:
          at < 0
            ? []
            : line
                .slice(at + 1)
                .split(',')
                .map((r) => r.trim())
                .filter(Boolean),
      };
    });
  if (rules.length > 0) policy.networkRules = rules;
  return policy;
}

/** The Admin API parameters of an emergency form; usernames are typed comma-separated. */
function emergencyForm(form: ParamMap): ParamMap {
  const values = pick(form, [
    'kind',
    'reason',
    'duration_minutes',
    'app_id',
    'group_ids',
    'group_id',
    'user_ids',
    'app_ids',
    'proxy',
    'section',
  ]);
  const typed = form.user_ids_text?.[0];
  if (typed !== undefined) {
    values.user_ids = typed
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean);
  }
  return values;
}

/** Renders an error of a console request: to the login page when the session is gone. */
export async function sendConsoleError(
  ctx: AdminContext,
  req: FastifyRequest,
  reply: FastifyReply,
  error: AirlockError,
): Promise<FastifyReply> {
  if (error.code === 'ADMIN_SESSION_EXPIRED' || error.code === 'ADMIN_MISSING_CREDENTIALS') {
    void reply.header('Set-Cookie', clearedSessionCookie());
    return reply.redirect('/admin/login', 303);
  }
  const f = frame(ctx, 'Error', undefined, undefined, []);
  f.error = error.expose ? error.message : 'Internal server error';
  void req;
  return sendPage(
    reply.code(error.status),
    f,
    html`<h1>Something went wrong</h1>
      <p><a href="/admin/dashboard">Back to the dashboard</a></p>`,
  );
}

interface ActionCall {
  actor: SessionActor;
  form: ParamMap;
  id: string;
  sub: string;
  run(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    pathParams: Record<string, string>,
    values: ParamMap,
  ): Promise<AdminResult>;
}

type ActionOutcome = { redirect: string } | SafeHtml;

function redirect(to: string, notice: Notice): ActionOutcome {
  return { redirect: `${to}?notice=${notice}` };
}

function pick(form: ParamMap, names: string[]): ParamMap {
  const out: ParamMap = {};
  for (const name of names) if (form[name] !== undefined) out[name] = form[name];
  return out;
}

/** A GET page behind the session; expired sessions go to the login page. */
function page(
  admin: FastifyInstance,
  ctx: AdminContext,
  url: string,
  current: NavKey,
  title: string,
  render: (
    req: FastifyRequest,
    actor: SessionActor,
    active: EmergencyControl[],
  ) => Promise<SafeHtml>,
): void {
  admin.get(url, async (req, reply) => {
    const actor = await requireSession(ctx, req, false);
    const active = await activeControls(ctx);
    const body = await render(req, actor, active);
    const f = frame(ctx, title, current, actor, active);
    if (active.length > 0) f.controlNames = await names(ctx);
    const notice = (req.query as { notice?: string }).notice;
    if (notice !== undefined && notice in NOTICES) f.notice = NOTICES[notice as Notice];
    return sendPage(reply, f, body);
  });
}

/** A form POST behind the session and its CSRF token. */
function action(
  admin: FastifyInstance,
  ctx: AdminContext,
  url: string,
  handle: (call: ActionCall) => Promise<ActionOutcome>,
): void {
  admin.post(url, async (req, reply) => {
    const actor = await requireSession(ctx, req, true);
    const form = readRequestParams(req).values;
    const { id = '', sub = '' } = req.params as { id?: string; sub?: string };
    const call: ActionCall = {
      actor,
      form,
      id,
      sub,
      async run(method, path, pathParams, values) {
        const route = adminRoute(method, path);
        const params = parseParams(route.params, values, pathParams);
        return route.handler({ ctx, actor, params, ip: req.ip });
      },
    };
    const outcome = await handle(call);
    if (!(outcome instanceof Object) || !('redirect' in outcome)) {
      const active = await activeControls(ctx);
      const f = frame(ctx, 'Airlock', undefined, actor, active);
      if (active.length > 0) f.controlNames = await names(ctx);
      return sendPage(reply, f, outcome);
    }
    return reply.redirect(outcome.redirect, 303);
  });
}

async function requireSession(
  ctx: AdminContext,
  req: FastifyRequest,
  write: boolean,
): Promise<SessionActor> {
  if (write) checkOrigin(req);
  const raw = readRequestParams(req);
  const actor = await loadSession(req, {
    store: ctx.store,
    clock: ctx.clock,
    dateWindowSeconds: ctx.dateWindowSeconds,
    options: ctx.options,
  });
  if (!actor) throw new AirlockError('ADMIN_MISSING_CREDENTIALS');
  if (write) checkCsrf(actor, submittedCsrfToken(req, raw));
  return actor;
}

/**
 * Defence in depth beside the CSRF token and SameSite=Strict: a browser's cross-site POST says
 * where it comes from, and that must be this host.
 */
function checkOrigin(req: FastifyRequest): void {
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new AirlockError('ADMIN_CSRF');
  }
  if (host !== req.headers.host) throw new AirlockError('ADMIN_CSRF');
}

async function activeControls(ctx: AdminContext): Promise<EmergencyControl[]> {
  return ctx.extensions.emergency ? ctx.extensions.emergency.listActive(ctx.clock.nowMs()) : [];
}

function frame(
  _ctx: AdminContext,
  title: string,
  current: NavKey | undefined,
  actor: SessionActor | undefined,
  active: readonly EmergencyControl[],
) {
  return {
    title,
    current,
    who: actor ? { username: actor.admin.username, csrfToken: actor.csrfToken } : undefined,
    activeControls: active,
    notice: undefined as string | undefined,
    error: undefined as string | undefined,
    controlNames: undefined as Names | undefined,
  };
}

function sendPage(reply: FastifyReply, f: ReturnType<typeof frame>, body: SafeHtml): FastifyReply {
  return reply.type('text/html; charset=utf-8').send(layout(f, body));
}
