// The browser console under /admin/: server-rendered pages over the same route handlers as the
// Admin API (so both audit alike and cannot drift), with session, CSRF and security headers.
// The routes are a table (CONSOLE_STEPS); each page or form step is a named function.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EmergencyControl } from '../../../core/emergency-control.ts';
import { AirlockError } from '../../../core/error-registry.ts';
import { readRequestParams } from '../../auth-api/request-params.ts';
import {
  checkCsrf,
  clearedSessionCookie,
  hashToken,
  loadSession,
  readCookie,
  SESSION_COOKIE,
  sessionCookie,
  submittedCsrfToken,
} from '../admin-auth.ts';
import type { AdminContext } from '../admin-context.ts';
import { loginAdmin } from '../admin-login.ts';
import { parseParams } from '../admin-route.ts';
import { adminRoute } from '../routes/all-routes.ts';
import { CONSOLE_CSS, CONSOLE_JS } from './console-assets.ts';
import { layout, loginPage, type Names, type NavKey } from './console-pages.ts';
import {
  applyPolicy,
  clearPolicy,
  previewEmergency,
  renderEmergency,
  renderPolicies,
  renderPolicy,
  revertEmergency,
  savePolicy,
  startEmergency,
} from './console-policy-steps.ts';
import {
  addGroupMember,
  addTotpToken,
  addUserToGroup,
  createApplication,
  createGroup,
  createUser,
  deleteGroup,
  deleteUser,
  issueActivationCode,
  issueBypassCodes,
  removeDevice,
  removeGroupMember,
  removeToken,
  removeUserFromGroup,
  renderApplication,
  renderApplications,
  renderAudit,
  renderDashboard,
  renderGroup,
  renderGroups,
  renderUser,
  renderUsers,
  rotateApplicationSecret,
  saveApplication,
  saveUser,
  saveUserAliases,
  setGroupStatus,
} from './console-record-steps.ts';
import {
  action,
  consoleContext,
  names,
  NOTICES,
  page,
  type ActionCall,
  type ConsoleContext,
  type ConsoleStep,
  type Notice,
  type SessionActor,
} from './console-step.ts';
import { html, type SafeHtml } from './html.ts';
import {
  createIncidentStep,
  renderDrPlanPage,
  renderIncidents,
  updateIncidentStep,
} from './outage-steps.ts';
import {
  renderSubscriptions,
  renderTemplates,
  resetTemplateStep,
  saveTemplateStep,
  subscribeStep,
  unsubscribeStep,
} from './message-steps.ts';

/** Strict CSP: no inline script or style, nothing from elsewhere, no framing, forms post here only. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Every page (GET, behind the session) and form step (POST, behind session and CSRF token). */
const CONSOLE_STEPS: readonly ConsoleStep[] = [
  page('/dashboard', 'dashboard', 'Dashboard', renderDashboard),

  page('/users', 'users', 'Users', renderUsers),
  action('/users', createUser),
  page('/users/:id', 'users', 'User', renderUser),
  action('/users/:id', saveUser),
  action('/users/:id/aliases', saveUserAliases),
  action('/users/:id/groups', addUserToGroup),
  action('/users/:id/groups/:sub/remove', removeUserFromGroup),
  action('/users/:id/devices/:sub/remove', removeDevice),
  action('/users/:id/tokens/:sub/remove', removeToken),
  action('/users/:id/delete', deleteUser),
  action('/users/:id/tokens/totp', addTotpToken),
  action('/users/:id/bypass-codes', issueBypassCodes),
  action('/users/:id/devices/activation', issueActivationCode),

  page('/groups', 'groups', 'Groups', renderGroups),
  action('/groups', createGroup),
  page('/groups/:id', 'groups', 'Group', renderGroup),
  action('/groups/:id/status', setGroupStatus),
  action('/groups/:id/members', addGroupMember),
  action('/groups/:id/members/:sub/remove', removeGroupMember),
  action('/groups/:id/delete', deleteGroup),

  page('/applications', 'applications', 'Applications', renderApplications),
  action('/applications', createApplication),
  page('/applications/:id', 'applications', 'Application', renderApplication),
  action('/applications/:id', saveApplication),
  action('/applications/:id/rotate-secret', rotateApplicationSecret),

  page('/audit', 'audit', 'Audit log', renderAudit),

  page('/policies', 'policies', 'Policies', renderPolicies),
  page('/policies/:id', 'policies', 'Policy', renderPolicy),
  action('/policies/:id', savePolicy),
  action('/policies/:id/apply', applyPolicy),
  action('/policies/:id/clear', clearPolicy),

  page('/emergency', 'emergency', 'Emergency controls', renderEmergency),
  page('/dr-plan', 'dr-plan', 'DR plan', renderDrPlanPage),
  page('/incidents', 'incidents', 'Incidents', renderIncidents),
  action('/incidents', createIncidentStep),
  action('/incidents/:id/update', updateIncidentStep),
  page('/templates', 'templates', 'User messages', renderTemplates),
  action('/templates/:id/:sub', saveTemplateStep),
  action('/templates/:id/:sub/reset', resetTemplateStep),
  page('/subscriptions', 'subscriptions', 'Status subscriptions', renderSubscriptions),
  action('/subscriptions', subscribeStep),
  action('/subscriptions/:id/remove', unsubscribeStep),
  action('/emergency/preview', previewEmergency),
  action('/emergency/start', startEmergency),
  action('/emergency/:id/revert', revertEmergency),
];

type Handler = (c: ConsoleContext, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** Routes outside the session's page/step pattern: assets, the entry point, login and logout. */
const CONSOLE_ROUTES: readonly { method: 'GET' | 'POST'; url: string; handler: Handler }[] = [
  { method: 'GET', url: '/assets/console.css', handler: sendCss },
  { method: 'GET', url: '/assets/console.js', handler: sendJs },
  { method: 'GET', url: '/', handler: enter },
  { method: 'GET', url: '/login', handler: showLogin },
  { method: 'POST', url: '/login', handler: handleLogin },
  { method: 'POST', url: '/logout', handler: handleLogout },
  { method: 'GET', url: '/policies/edit', handler: choosePolicy },
];

export function registerConsole(admin: FastifyInstance, ctx: AdminContext): void {
  const c = consoleContext(ctx);
  admin.addHook('onSend', addSecurityHeaders);
  for (const route of CONSOLE_ROUTES) {
    admin.route({
      method: route.method,
      url: route.url,
      handler: async (req, reply) => route.handler(c, req, reply),
    });
  }
  for (const step of CONSOLE_STEPS) {
    if (step.kind === 'page') {
      admin.get(step.url, async (req, reply) => runPage(c, step, req, reply));
    } else {
      admin.post(step.url, async (req, reply) => runAction(c, step, req, reply));
    }
  }
}

function addSecurityHeaders(
  req: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: (err: null, payload: unknown) => void,
): void {
  if (!req.url.startsWith('/admin/v1/')) {
    void reply.header('Content-Security-Policy', CONSOLE_CSP);
    void reply.header('X-Frame-Options', 'DENY');
    void reply.header('Referrer-Policy', 'no-referrer');
    void reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    void reply.header('Cross-Origin-Resource-Policy', 'same-origin');
  }
  done(null, payload);
}

async function sendCss(_c: ConsoleContext, _req: FastifyRequest, reply: FastifyReply) {
  return reply.type('text/css; charset=utf-8').send(CONSOLE_CSS);
}

async function sendJs(_c: ConsoleContext, _req: FastifyRequest, reply: FastifyReply) {
  return reply.type('text/javascript; charset=utf-8').send(CONSOLE_JS);
}

async function enter(_c: ConsoleContext, req: FastifyRequest, reply: FastifyReply) {
  return reply.redirect(readCookie(req, SESSION_COOKIE) ? '/admin/dashboard' : '/admin/login', 303);
}

async function showLogin(_c: ConsoleContext, _req: FastifyRequest, reply: FastifyReply) {
  return sendPage(reply, frame('Log in', undefined, undefined, []), loginPage());
}

/** Password + TOTP; a fresh session token (no fixation), or the login page with the error. */
async function handleLogin(c: ConsoleContext, req: FastifyRequest, reply: FastifyReply) {
  checkOrigin(req);
  const form = readRequestParams(req).values;
  const field = (name: string) => form[name]?.[0] ?? '';
  const { store, clock, options } = c.admin;
  try {
    const loggedIn = await loginAdmin(
      { username: field('username'), password: field('password'), code: field('code'), ip: req.ip },
      c.login,
    );
    // An earlier session of this browser ends.
    const previous = readCookie(req, SESSION_COOKIE);
    if (previous) await store.deleteAdminSession(hashToken(previous));
    await store.deleteExpiredAdminSessions(
      clock.nowMs(),
      clock.nowMs() - options.sessionIdleSeconds * 1000,
    );
    void reply.header(
      'Set-Cookie',
      sessionCookie(loggedIn.sessionToken, options.sessionMaxSeconds),
    );
    return reply.redirect('/admin/dashboard', 303);
  } catch (err) {
    if (
      err instanceof AirlockError &&
      (err.code === 'ADMIN_LOGIN_FAILED' || err.code === 'ADMIN_RATE_LIMITED')
    ) {
      const f = frame('Log in', undefined, undefined, []);
      f.error =
        err.code === 'ADMIN_RATE_LIMITED' ? 'Too many attempts; wait a minute.' : err.message;
      const retryAfter = (err.cause as { retryAfterSeconds?: unknown } | undefined)
        ?.retryAfterSeconds;
      if (typeof retryAfter === 'number') void reply.header('Retry-After', String(retryAfter));
      return sendPage(reply.code(err.status), f, loginPage());
    }
    throw err;
  }
}

async function handleLogout(c: ConsoleContext, req: FastifyRequest, reply: FastifyReply) {
  const actor = await requireSession(c, req, true);
  await c.admin.store.deleteAdminSession(actor.session.idHash);
  void reply.header('Set-Cookie', clearedSessionCookie());
  return reply.redirect('/admin/login?notice=logged-out', 303);
}

/** The policies page's application picker (a GET form) lands on that application's policy. */
async function choosePolicy(c: ConsoleContext, req: FastifyRequest, reply: FastifyReply) {
  await requireSession(c, req, false);
  const app = (req.query as { app?: string }).app ?? '';
  return reply.redirect(`/admin/policies/${encodeURIComponent(app)}`, 303);
}

/** A GET page behind the session; expired sessions go to the login page. */
async function runPage(
  c: ConsoleContext,
  step: Extract<ConsoleStep, { kind: 'page' }>,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const actor = await requireSession(c, req, false);
  const active = await activeControls(c);
  const body = await step.render(c, { req, actor, active });
  const f = frame(step.title, step.nav, actor, active);
  if (active.length > 0) f.controlNames = await names(c);
  const notice = (req.query as { notice?: string }).notice;
  if (notice !== undefined && notice in NOTICES) f.notice = NOTICES[notice as Notice];
  return sendPage(reply, f, body);
}

/** A form POST behind the session and its CSRF token: a redirect, or a page to show. */
async function runAction(
  c: ConsoleContext,
  step: Extract<ConsoleStep, { kind: 'action' }>,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const actor = await requireSession(c, req, true);
  const { id = '', sub = '' } = req.params as { id?: string; sub?: string };
  const call: ActionCall = {
    actor,
    form: readRequestParams(req).values,
    id,
    sub,
    async run(method, path, pathParams, values) {
      const route = adminRoute(method, path);
      const params = parseParams(route.params, values, pathParams);
      return route.handler({ ctx: c.admin, actor, params, ip: req.ip });
    },
  };
  const outcome = await step.handle(c, call);
  if (!(outcome instanceof Object) || !('redirect' in outcome)) {
    const active = await activeControls(c);
    const f = frame('Airlock', undefined, actor, active);
    if (active.length > 0) f.controlNames = await names(c);
    return sendPage(reply, f, outcome);
  }
  return reply.redirect(outcome.redirect, 303);
}

/** The session of the request's cookie; for a write also its origin and CSRF token. */
async function requireSession(
  c: ConsoleContext,
  req: FastifyRequest,
  write: boolean,
): Promise<SessionActor> {
  if (write) checkOrigin(req);
  const raw = readRequestParams(req);
  const actor = await loadSession(req, c.session);
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

/** Renders an error of a console request: to the login page when the session is gone. */
export async function sendConsoleError(
  _ctx: AdminContext,
  _req: FastifyRequest,
  reply: FastifyReply,
  error: AirlockError,
): Promise<FastifyReply> {
  if (error.code === 'ADMIN_SESSION_EXPIRED' || error.code === 'ADMIN_MISSING_CREDENTIALS') {
    void reply.header('Set-Cookie', clearedSessionCookie());
    return reply.redirect('/admin/login', 303);
  }
  const f = frame('Error', undefined, undefined, []);
  f.error = error.expose ? error.message : 'Internal server error';
  return sendPage(
    reply.code(error.status),
    f,
    html`<h1>Something went wrong</h1>
      <p><a href="/admin/dashboard">Back to the dashboard</a></p>`,
  );
}

async function activeControls(c: ConsoleContext): Promise<EmergencyControl[]> {
  const { extensions, clock } = c.admin;
  return extensions.emergency ? extensions.emergency.listActive(clock.nowMs()) : [];
}

function frame(
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
