// What a console page or form step gets: the console context (built once), the session's actor,
// the form, and `run` to call an Admin API route's handler exactly as the API would.
import type { FastifyRequest } from 'fastify';
import type { EmergencyControl } from '../../../core/emergency-control.ts';
import type { ParamMap } from '../../auth-api/request-params.ts';
import type { AdminActor, AdminAuthDeps } from '../admin-auth.ts';
import type { AdminContext } from '../admin-context.ts';
import type { LoginDeps } from '../admin-login.ts';
import type { AdminResult } from '../admin-route.ts';
import type { Names, NavKey } from './console-pages.ts';
import type { SafeHtml } from './html.ts';

export type SessionActor = Extract<AdminActor, { kind: 'session' }>;

/** The console's dependencies, built once per service from the Admin context. */
export interface ConsoleContext {
  admin: AdminContext;
  /** What a login needs (store, clock, random, limiter, options). */
  login: LoginDeps;
  /** What reading a session cookie needs. */
  session: AdminAuthDeps;
}

export function consoleContext(ctx: AdminContext): ConsoleContext {
  return {
    admin: ctx,
    login: {
      store: ctx.store,
      clock: ctx.clock,
      random: ctx.random,
      limiter: ctx.loginLimiter,
      options: ctx.options,
    },
    session: {
      store: ctx.store,
      clock: ctx.clock,
      dateWindowSeconds: ctx.dateWindowSeconds,
      options: ctx.options,
    },
  };
}

export const NOTICES = {
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
export type Notice = keyof typeof NOTICES;

/** What a GET page renders from. */
export interface PageView {
  req: FastifyRequest;
  actor: SessionActor;
  /** Emergency controls in effect now. */
  active: EmergencyControl[];
}

/** A form POST behind the session and its CSRF token. */
export interface ActionCall {
  actor: SessionActor;
  form: ParamMap;
  /** The `:id` and `:sub` path segments ('' when absent). */
  id: string;
  sub: string;
  run(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    pathParams: Record<string, string>,
    values: ParamMap,
  ): Promise<AdminResult>;
}

export type ActionOutcome = { redirect: string } | SafeHtml;

/** One console route as data: a page behind the session, or a form step behind session + CSRF. */
export type ConsoleStep =
  | {
      kind: 'page';
      url: string;
      nav: NavKey;
      title: string;
      render(c: ConsoleContext, view: PageView): Promise<SafeHtml>;
    }
  | {
      kind: 'action';
      url: string;
      handle(c: ConsoleContext, call: ActionCall): Promise<ActionOutcome>;
    };

export function page(
  url: string,
  nav: NavKey,
  title: string,
  render: (c: ConsoleContext, view: PageView) => Promise<SafeHtml>,
): ConsoleStep {
  return { kind: 'page', url, nav, title, render };
}

export function action(
  url: string,
  handle: (c: ConsoleContext, call: ActionCall) => Promise<ActionOutcome>,
): ConsoleStep {
  return { kind: 'action', url, handle };
}

export function redirect(to: string, notice: Notice): ActionOutcome {
  return { redirect: `${to}?notice=${notice}` };
}

export function pick(form: ParamMap, names: string[]): ParamMap {
  const out: ParamMap = {};
  for (const name of names) if (form[name] !== undefined) out[name] = form[name];
  return out;
}

/** Group and application names, to show instead of ids. */
export async function names(c: ConsoleContext): Promise<Names> {
  const [groups, applications] = await Promise.all([
    c.admin.store.listGroups(),
    c.admin.store.listApplications(),
  ]);
  return { groups, applications };
}
