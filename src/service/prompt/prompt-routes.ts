// The hosted prompt (/frame/v4/<login id>): the policy decision first, then the user's factors,
// each run through the Auth API in process (prompt-auth-api.ts); the login ends with a single-use
// authorization code and a redirect to the application's registered redirect URI.
import { fastifyResponseSchema } from '../api-schema.ts';
import { PROMPT_OPERATIONS } from './oauth-schemas.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthFactor } from '../../core/factor-health.ts';
import type { Application, User } from '../../core/model.ts';
import {
  AUTHORIZATION_CODE_TTL_SECONDS,
  callbackUrl,
  isRegisteredRedirectUri,
  type PromptOutcome,
} from '../../core/web-sdk.ts';
import { LOGIN_CSS, LOGIN_JS } from '../../pages/login-assets.ts';
import type { PromptLogin } from '../../store/store.ts';
import { param, readRequestParams, type ParamMap } from '../auth-api/request-params.ts';
import { sha256 } from './client-assertion.ts';
import type { PromptContext } from './prompt-context.ts';
import { sendPromptPage, setPromptHeaders } from './prompt-headers.ts';
import { chooseLanguage, t, type MessageKey, type PromptLanguage } from './prompt-messages.ts';
import {
  deniedPage,
  enrollPage,
  errorPage,
  factorPage,
  waitingPage,
  type FactorChoices,
  type PromptFrame,
} from './prompt-pages.ts';

/** A prompt request whose login is open: the login, its application and the page frame. */
interface OpenLogin {
  ctx: PromptContext;
  req: FastifyRequest;
  reply: FastifyReply;
  login: PromptLogin;
  idHash: string;
  app: Application;
  frame: PromptFrame;
  form: ParamMap;
  nowMs: number;
  /** The browser's address, passed to the Auth API as `ipaddr` (policies, audit, limits). */
  ip: string;
  redirectOrigin: string;
}

type Step = (open: OpenLogin) => Promise<unknown>;

const LOGIN_ID = /^[A-Za-z0-9_-]{43}$/;
const TXID = /^[A-Za-z0-9-]{1,64}$/;
const REMEMBER_COOKIE_PREFIX = 'airlock_rd_';

export function registerPromptRoutes(server: FastifyInstance, ctx: PromptContext): void {
  server.get('/frame/assets/prompt.css', (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(LOGIN_CSS),
  );
  server.get('/frame/assets/prompt.js', (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(LOGIN_JS),
  );
  const steps: [method: 'GET' | 'POST', suffix: string, step: Step][] = [
    ['GET', '', showPrompt],
    ['POST', '/passcode', submitPasscode],
    ['POST', '/push', (o) => startOutOfBand(o, 'push')],
    ['POST', '/phone', (o) => startOutOfBand(o, 'phone')],
    ['POST', '/sms', sendSmsPasscodes],
    ['GET', '/status', reportStatus],
    ['POST', '/complete', completeOutOfBand],
    ['POST', '/return', returnToApplication],
  ];
  for (const [method, suffix, step] of steps) {
    const url = `/frame/v4/:id${suffix}`;
    const op = Object.values(PROMPT_OPERATIONS).find((o) => o.method === method && o.path === url);
    server.route({
      method,
      url,
      // The status poll answers JSON, serialized with its declaration; the rest are HTML.
      ...(op ? { schema: { response: fastifyResponseSchema(op.responses) } } : {}),
      handler: async (req, reply) => {
        const open = await openLogin(ctx, req, reply);
        if (!open) return reply;
        return step(open);
      },
    });
  }
}

/** The login named by the URL, pending and unexpired, of an application that still allows it. */
async function openLogin(
  ctx: PromptContext,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<OpenLogin | undefined> {
  const lang = chooseLanguage(req.headers['accept-language']);
  const fail = (status: number, message: MessageKey) => {
    void sendPromptPage(reply.code(status), errorPage(lang, message));
    return undefined;
  };
  const id = (req.params as { id?: string }).id ?? '';
  if (!LOGIN_ID.test(id)) return fail(404, 'errorNotFound');
  const idHash = sha256(id);
  const nowMs = ctx.clock.nowMs();
  const login = await ctx.store.getPromptLogin(idHash);
  if (!login || login.expiresAtMs <= nowMs) return fail(410, 'errorExpired');
  if (login.status !== 'pending') return fail(410, 'errorEnded');
  const app = await ctx.store.getApplication(login.appId);
  if (!app || app.type !== 'web-sdk') return fail(400, 'errorUnknownClient');
  if (!isRegisteredRedirectUri(app.redirectUris, login.redirectUri)) {
    return fail(400, 'errorRedirectUri');
  }
  return {
    ctx,
    req,
    reply,
    login,
    idHash,
    app,
    frame: { lang, base: `/frame/v4/${id}`, appName: app.name, username: login.username },
    // Form fields of a POST, or the query of a GET (the status poll's txid).
    form: readRequestParams(req).values,
    nowMs,
    ip: req.ip,
    redirectOrigin: new URL(login.redirectUri).origin,
  };
}

function page(o: OpenLogin, html: string, status = 200): FastifyReply {
  return sendPromptPage(o.reply.code(status), html, { redirectOrigin: o.redirectOrigin });
}

function unavailable(o: OpenLogin): FastifyReply {
  return page(o, errorPage(o.frame.lang, 'errorUnavailable'), 503);
}

// ---- the decision, then the factors ----

/** Preauth decides first: allow, deny, enroll, or the factors the user may use. */
async function showPrompt(o: OpenLogin): Promise<unknown> {
  const answer = await o.ctx.authApi.call(o.app, 'POST', '/auth/v2/preauth', {
    username: o.login.username,
    ipaddr: o.ip,
  });
  if (!answer.ok) return isOutage(answer.code) ? unavailable(o) : denyByPolicy(o);
  const result = answer.response.result;
  if (result === 'allow') {
    return finishLogin(o, {
      result: 'allow',
      status: 'allow',
      statusMsg: text(answer.response.status_msg),
      factor: 'bypass',
      reason: 'allowed_by_policy',
      txid: o.ctx.random.uuid(),
    });
  }
  if (result === 'enroll') return enroll(o);
  if (result !== 'auth') return denyByPolicy(o);
  if (await isRemembered(o)) {
    await auditRemembered(o);
    return finishLogin(o, {
      result: 'allow',
      status: 'allow',
      statusMsg: 'Remembered device',
      factor: 'remembered_device',
      reason: 'remembered_device',
      txid: o.ctx.random.uuid(),
    });
  }
  return renderFactors(o, answer.response, undefined, undefined);
}

function renderFactors(
  o: OpenLogin,
  preauth: Record<string, unknown>,
  error: MessageKey | undefined,
  notice: MessageKey | undefined,
): FastifyReply {
  const factors = factorChoices(preauth);
  return page(
    o,
    factorPage(o.frame, {
      factors,
      healthMessage: healthMessage(o, factors),
      error,
      notice,
      rememberHours: o.app.rememberDeviceHours,
    }),
  );
}

/** Re-reads the factors (a device may have gone) and shows them with a message. */
async function showFactorsAgain(
  o: OpenLogin,
  error: MessageKey | undefined,
  notice?: MessageKey,
): Promise<unknown> {
  const answer = await o.ctx.authApi.call(o.app, 'POST', '/auth/v2/preauth', {
    username: o.login.username,
    ipaddr: o.ip,
  });
  if (!answer.ok) return isOutage(answer.code) ? unavailable(o) : denyByPolicy(o);
  if (answer.response.result !== 'auth') return showPrompt(o);
  return renderFactors(o, answer.response, error, notice);
}

async function submitPasscode(o: OpenLogin): Promise<unknown> {
  const passcode = (param(o.form, 'passcode') ?? '').trim();
  if (passcode === '' || passcode.length > 64) return showFactorsAgain(o, 'wrongPasscode');
  const answer = await o.ctx.authApi.call(o.app, 'POST', '/auth/v2/auth', {
    username: o.login.username,
    factor: 'passcode',
    passcode,
    ipaddr: o.ip,
  });
  if (!answer.ok)
    return isOutage(answer.code) ? unavailable(o) : showFactorsAgain(o, 'wrongPasscode');
  const { result, status, status_msg: statusMsg } = answer.response;
  if (result === 'allow') {
    await rememberIfAsked(o);
    return finishLogin(o, {
      result: 'allow',
      status: String(status),
      statusMsg: String(statusMsg),
      factor: 'passcode',
      reason: 'valid_passcode',
      txid: o.ctx.random.uuid(),
    });
  }
  if (status === 'locked_out')
    return page(
      o,
      deniedPage(o.frame, { message: 'lockedOut', txid: undefined, canRetry: false }),
      403,
    );
  return showFactorsAgain(o, 'wrongPasscode');
}

/** Push or phone call, async: the page then follows it live (status) or on Continue (complete). */
async function startOutOfBand(o: OpenLogin, factor: 'push' | 'phone'): Promise<unknown> {
  const device = param(o.form, 'device') ?? 'auto';
  const answer = await o.ctx.authApi.call(o.app, 'POST', '/auth/v2/auth', {
    username: o.login.username,
    factor,
    device: /^[A-Za-z0-9_-]{1,64}$/.test(device) ? device : 'auto',
    async: '1',
    ipaddr: o.ip,
    type: 'Login request',
    display_username: o.login.username,
  });
  if (!answer.ok)
    return isOutage(answer.code)
      ? unavailable(o)
      : showFactorsAgain(o, factor === 'push' ? 'pushFailed' : 'denied');
  const txid = text(answer.response.txid);
  const request = await o.ctx.store.getOobRequest(txid);
  const deviceRecord = request ? await o.ctx.store.getDevice(request.deviceId) : undefined;
  return page(
    o,
    waitingPage(o.frame, {
      txid,
      started: factor === 'push' ? 'pushSent' : 'callStarted',
      deviceName: deviceRecord?.name ?? '',
      verificationCode: request?.verificationCode ?? null,
      remember: param(o.form, 'remember') === '1',
    }),
  );
}

async function sendSmsPasscodes(o: OpenLogin): Promise<unknown> {
  const device = param(o.form, 'device') ?? 'auto';
  const answer = await o.ctx.authApi.call(o.app, 'POST', '/auth/v2/auth', {
    username: o.login.username,
    factor: 'sms',
    device: /^[A-Za-z0-9_-]{1,64}$/.test(device) ? device : 'auto',
    ipaddr: o.ip,
  });
  if (!answer.ok) return isOutage(answer.code) ? unavailable(o) : showFactorsAgain(o, 'pushFailed');
  return showFactorsAgain(o, undefined, 'smsSent');
}

/** Live status for the page's script: the Auth API's auth_status (a long poll), localised. */
async function reportStatus(o: OpenLogin): Promise<unknown> {
  const txid = param(o.form, 'txid') ?? '';
  if (!(await txidBelongs(o, txid))) return o.reply.code(404).send({ done: true, result: 'deny' });
  const answer = await o.ctx.authApi.call(o.app, 'GET', '/auth/v2/auth_status', { txid });
  setPromptHeaders(o.reply, o.redirectOrigin);
  if (!answer.ok)
    return o.reply.code(503).send({ done: false, message: t(o.frame.lang, 'waiting') });
  const result = String(answer.response.result);
  const status = String(answer.response.status);
  const done = result !== 'waiting';
  return o.reply.send({
    done,
    result,
    message: t(o.frame.lang, done ? statusMessage(result, status) : 'waiting'),
  });
}

/** The push or call's answer as stored: allow ends the login; deny shows why. */
async function completeOutOfBand(o: OpenLogin): Promise<unknown> {
  const txid = param(o.form, 'txid') ?? '';
  if (!(await txidBelongs(o, txid))) return showFactorsAgain(o, 'denied');
  const tx = await o.ctx.store.getAuthTransaction(txid);
  if (!tx) return showFactorsAgain(o, 'denied');
  if (tx.result === 'waiting') {
    const request = await o.ctx.store.getOobRequest(txid);
    const device = request ? await o.ctx.store.getDevice(request.deviceId) : undefined;
    return page(
      o,
      waitingPage(o.frame, {
        txid,
        started: tx.factor === 'phone' ? 'callStarted' : 'pushSent',
        deviceName: device?.name ?? '',
        verificationCode: request?.verificationCode ?? null,
        remember: param(o.form, 'remember') === '1',
      }),
    );
  }
  if (tx.result === 'allow') {
    await rememberIfAsked(o);
    return finishLogin(o, {
      result: 'allow',
      status: tx.status,
      statusMsg: tx.statusMsg,
      factor: tx.factor === 'phone' ? 'phone_call' : 'duo_push',
      reason: 'user_approved',
      txid,
    });
  }
  const message = statusMessage(tx.result, tx.status);
  return page(o, deniedPage(o.frame, { message, txid, canRetry: tx.status !== 'locked_out' }), 403);
}

/** The user gives up (or was denied): the application gets a code whose result is deny. */
async function returnToApplication(o: OpenLogin): Promise<unknown> {
  const txid = param(o.form, 'txid');
  const tx =
    txid !== undefined && (await txidBelongs(o, txid))
      ? await o.ctx.store.getAuthTransaction(txid)
      : undefined;
  if (tx && tx.result === 'deny') {
    return finishLogin(o, {
      result: 'deny',
      status: tx.status,
      statusMsg: tx.statusMsg,
      factor: tx.factor === 'phone' ? 'phone_call' : 'duo_push',
      reason: tx.status === 'fraud' ? 'user_marked_fraud' : 'user_denied',
      txid: tx.txid,
    });
  }
  const user = await findUser(o);
  const status = user?.status === 'locked out' ? 'locked_out' : 'deny';
  return finishLogin(o, {
    result: 'deny',
    status,
    statusMsg: status === 'locked_out' ? 'Your account is locked out.' : 'Login not completed.',
    factor: 'n/a',
    reason: status === 'locked_out' ? 'locked_out' : 'user_cancelled',
    txid: o.ctx.random.uuid(),
  });
}

/** Preauth said deny (or the name is ambiguous): why, from the user's status, and the way back. */
async function denyByPolicy(o: OpenLogin): Promise<unknown> {
  const user = await findUser(o);
  const message: MessageKey =
    user?.status === 'locked out'
      ? 'lockedOut'
      : user?.status === 'disabled'
        ? 'accountDisabled'
        : 'accessDenied';
  return page(o, deniedPage(o.frame, { message, txid: undefined, canRetry: false }), 403);
}

/** New user, policy enroll: an activation link for the authenticator, then back to the prompt. */
async function enroll(o: OpenLogin): Promise<unknown> {
  const answer = await o.ctx.authApi.call(o.app, 'POST', '/auth/v2/enroll', {
    username: o.login.username,
  });
  if (!answer.ok) return denyByPolicy(o);
  return page(o, enrollPage(o.frame, { activationUrl: text(answer.response.activation_url) }));
}

// ---- the end of a login ----

/** Ends the login once with a single-use code (60 s) and sends the browser back to the app. */
async function finishLogin(
  o: OpenLogin,
  end: Pick<PromptOutcome, 'result' | 'status' | 'statusMsg' | 'factor' | 'reason' | 'txid'>,
): Promise<unknown> {
  const user = await findUser(o);
  const groups = user ? await o.ctx.store.listUserGroups(user.id) : [];
  const outcome: PromptOutcome = {
    ...end,
    endedAtMs: o.nowMs,
    user: { name: o.login.username, key: user?.id ?? null, groups: groups.map((g) => g.name) },
    application: { name: o.app.name, key: o.app.ikey },
    accessDevice: { ip: o.ip },
    authDevice: { name: null },
  };
  const code = o.ctx.random.bytes(32).toString('base64url');
  const ended = await o.ctx.store.finishPromptLogin(o.idHash, {
    status: end.result,
    outcome: JSON.stringify(outcome),
    codeHash: sha256(code),
    codeExpiresAtMs: o.nowMs + AUTHORIZATION_CODE_TTL_SECONDS * 1000,
  });
  // A second tab or a replayed form: the login has its code already; this one is not issued.
  if (!ended) return page(o, errorPage(o.frame.lang, 'errorEnded'), 410);
  setPromptHeaders(o.reply, o.redirectOrigin);
  return o.reply.redirect(
    callbackUrl(o.login.redirectUri, code, o.login.state, o.login.useDuoCode),
    303,
  );
}

// ---- helpers ----

/**
 * The Auth API could not answer (5xx) or the application is over its rate limit (429): the
 * prompt says "try again", never "access denied", and nothing is decided.
 */
function isOutage(duoCode: number): boolean {
  return duoCode >= 50000 || duoCode === 42901;
}

/** A string field of an Auth API answer; '' when absent or not a string. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

async function findUser(o: OpenLogin): Promise<User | undefined> {
  try {
    return await o.ctx.store.findUser(o.login.username, o.app.usernameNormalization);
  } catch {
    return undefined; // ambiguous: no one user
  }
}

/** A txid this login started: its push or call is for this application and this login's user. */
async function txidBelongs(o: OpenLogin, txid: string): Promise<boolean> {
  if (!TXID.test(txid)) return false;
  const user = await findUser(o);
  if (!user) return false;
  const tx = await o.ctx.store.getAuthTransaction(txid);
  return tx !== undefined && tx.appId === o.app.id && tx.userId === user.id;
}

function factorChoices(preauth: Record<string, unknown>): FactorChoices {
  const devices = Array.isArray(preauth.devices)
    ? (preauth.devices as { device?: unknown; display_name?: unknown; capabilities?: unknown }[])
    : [];
  const first = (capability: string) => {
    const d = devices.find(
      (x) => Array.isArray(x.capabilities) && x.capabilities.includes(capability),
    );
    return d ? { device: String(d.device), name: String(d.display_name ?? d.device) } : undefined;
  };
  return { push: first('push'), phone: first('phone'), sms: first('sms'), passcode: true };
}

/** "Push is having problems. Use a passcode instead." for degraded factors the user has. */
function healthMessage(o: OpenLogin, factors: FactorChoices): string | undefined {
  const degraded = new Set<AuthFactor>(o.ctx.factorHealth.degradedFactors(o.nowMs));
  const offered: AuthFactor[] = [];
  if (factors.push) offered.push('push');
  if (factors.phone) offered.push('phone');
  if (factors.sms) offered.push('sms');
  const bad = offered.filter((f) => degraded.has(f));
  if (bad.length === 0) return undefined;
  const good: AuthFactor[] = [...offered.filter((f) => !degraded.has(f)), 'passcode'];
  const lang = o.frame.lang;
  const join = (list: AuthFactor[]) =>
    list.map((f) => factorName(lang, f)).join(` ${t(lang, 'or')} `);
  return t(lang, 'factorProblem', { factors: join(bad), alternatives: join(good) });
}

function factorName(lang: PromptLanguage, factor: AuthFactor): string {
  const key: Record<AuthFactor, MessageKey> = {
    push: 'factorPush',
    phone: 'factorPhone',
    sms: 'factorSms',
    passcode: 'factorPasscode',
  };
  return t(lang, key[factor]);
}

/** The catalogue's words for an Auth API result and status. */
function statusMessage(result: string, status: string): MessageKey {
  if (result === 'allow') return 'approved';
  switch (status) {
    case 'timeout':
      return 'timedOut';
    case 'fraud':
      return 'fraud';
    case 'push_failed':
      return 'pushFailed';
    case 'locked_out':
      return 'lockedOut';
    default:
      return 'denied';
  }
}

function rememberCookieName(app: Application): string {
  return `${REMEMBER_COOKIE_PREFIX}${app.ikey}`;
}

function readCookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** "Remember this device": only when the application allows it (off by default). */
async function isRemembered(o: OpenLogin): Promise<boolean> {
  if (o.app.rememberDeviceHours <= 0) return false;
  const token = readCookie(o.req, rememberCookieName(o.app));
  if (token === undefined || !LOGIN_ID.test(token)) return false;
  const user = await findUser(o);
  if (!user) return false;
  return o.ctx.store.isDeviceRemembered(sha256(token), o.app.id, user.id, o.nowMs);
}

async function rememberIfAsked(o: OpenLogin): Promise<void> {
  if (o.app.rememberDeviceHours <= 0 || param(o.form, 'remember') !== '1') return;
  const user = await findUser(o);
  if (!user) return;
  const token = o.ctx.random.bytes(32).toString('base64url');
  const maxAgeSeconds = o.app.rememberDeviceHours * 3600;
  await o.ctx.store.rememberDevice({
    tokenHash: sha256(token),
    appId: o.app.id,
    userId: user.id,
    expiresAtMs: o.nowMs + maxAgeSeconds * 1000,
  });
  void o.reply.header(
    'set-cookie',
    `${rememberCookieName(o.app)}=${token}; Max-Age=${maxAgeSeconds}; Path=/frame/v4; HttpOnly; Secure; SameSite=Lax`,
  );
}

async function auditRemembered(o: OpenLogin): Promise<void> {
  const user = await findUser(o);
  await o.ctx.store.appendAudit({
    tsMs: o.nowMs,
    actor: `app:${o.app.ikey}`,
    action: 'auth.remembered-device',
    targetType: user ? 'user' : null,
    targetId: user?.id ?? null,
    appId: o.app.id,
    username: user?.username ?? o.login.username,
    result: 'allow',
    ip: o.ip,
    detail: { clientIp: o.ip },
  });
}
