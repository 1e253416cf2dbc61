// The gateway's HTTP app: the login portal (password against the directory, second factor through
// the Auth API, failmode per application), logout, and the forward-auth endpoints reverse proxies
// ask. `buildGatewayApp(deps)` returns the Fastify app; only start-gateway.ts listens.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { GatewayAppConfig, GatewayConfig } from '../config/gateway-config-model.ts';
import { primaryOnlyState } from '../core/primary-only.ts';
import { LOGIN_CSS, LOGIN_JS } from '../pages/login-assets.ts';
import { readPrimaryOnly } from '../runtime/primary-only-state-file.ts';
import {
  matchApp,
  sessionOpensApp,
  validateReturnUrl,
  type SecondFactorKind,
} from './access-rules.ts';
import { dropUntrustedForwarding, isTrustedProxy } from './client-address.ts';
import { forwardAuth } from './forward-auth.ts';
import { serializeCookie } from './http-cookies.ts';
import {
  LOGIN_COOKIE,
  checkedForm,
  clearLogin,
  currentLogin,
  currentSession,
  endLogin,
  frame,
  messagePageFor,
  endLoginWithError,
  sameOrigin,
  sendFormError,
  sendPage,
  setLoginCookie,
  setSessionCookie,
  type Gate,
  type GatewayAppDeps,
} from './portal-gate.ts';
import { t, type MessageKey } from './portal-messages.ts';
import { deviceFor, factorPageFor } from './portal-factor-page.ts';
import {
  failmodeBannerPage,
  loggedInPage,
  messagePage,
  pushWaitPage,
  signInPage,
} from './portal-pages.ts';
import {
  checkPasscode,
  outOfBandResult,
  sendSmsPasscodes,
  startOutOfBand,
  startSecondFactor,
  type SecondFactorContext,
  type SecondFactorStep,
} from './second-factor.ts';
import { createSealer, tokensEqual } from './session-seal.ts';
import type { DirectoryUser, PendingLogin } from './session-store.ts';

export { LOGIN_COOKIE, type GatewayAppDeps };

/** Passcodes a login may get wrong before it must start again. */
export const MAX_PASSCODE_FAILURES = 3;
const FORM_BODY_LIMIT = 8 * 1024;

/**
 * The app a login without a return address (or with one no app claims) is held to: both factors,
 * failing secure.
 */
const PORTAL_APP: GatewayAppConfig = {
  name: 'portal',
  section: 'gateway',
  hosts: [],
  paths: ['/'],
  restriction: 'two_factor',
  failmode: 'secure',
  failmodeExplicit: false,
};

export function buildGatewayApp(deps: GatewayAppDeps): FastifyInstance {
  const { gateway } = deps.config;
  const gate: Gate = {
    deps,
    base: gateway.portalUrl.pathname,
    sessionSealer: createSealer(gateway.sessionSecret, gateway.cookieName, deps.random),
    loginSealer: createSealer(gateway.sessionSecret, LOGIN_COOKIE, deps.random),
    csp: portalCsp(deps.config),
  };
  const app = Fastify({
    logger: false,
    bodyLimit: FORM_BODY_LIMIT,
    // request.ip: X-Forwarded-For only from trusted_proxies (docs/gateway.md); else the peer.
    trustProxy: (address: string) => isTrustedProxy(gateway.trustedProxies, address),
    serverFactory: (handler) => createServer(deps, handler),
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, body, done) => done(null, new URLSearchParams(body as string)),
  );
  app.addHook('onSend', async (_request, reply) => {
    void reply.header('Cache-Control', 'no-store');
    void reply.header('X-Content-Type-Options', 'nosniff');
    // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on the portal's own
    // POSTs, and the Origin check needs the real one. Nothing leaks to the applications either way.
    void reply.header('Referrer-Policy', 'same-origin');
    void reply.header('X-Frame-Options', 'DENY');
    void reply.header('Content-Security-Policy', gate.csp);
  });
  app.setNotFoundHandler(async (request, reply) =>
    sendPage(reply, 404, messagePageFor(gate, request, 'errorHeading', 'errorNotFound')),
  );
  app.setErrorHandler(async (error, request, reply) => {
    deps.events.line(
      `portal error on ${request.method} ${request.url.split('?')[0]}: ${error instanceof Error ? error.message : String(error)}`,
    );
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    return sendPage(
      reply,
      status >= 400 && status < 500 ? status : 500,
      messagePageFor(gate, request, 'errorHeading', 'errorUnavailable'),
    );
  });

  const b = gate.base;
  app.get(`${b}assets/portal.css`, async (_q, reply) =>
    reply.type('text/css; charset=utf-8').send(LOGIN_CSS),
  );
  app.get(`${b}assets/portal.js`, async (_q, reply) =>
    reply.type('text/javascript; charset=utf-8').send(LOGIN_JS),
  );
  app.get(b, async (request, reply) => showPortal(gate, request, reply));
  app.get(`${b}login`, async (request, reply) => showSignIn(gate, request, reply));
  app.post(`${b}login`, async (request, reply) => submitPassword(gate, request, reply));
  app.post(`${b}login/passcode`, async (request, reply) => submitPasscode(gate, request, reply));
  app.post(`${b}login/push`, async (request, reply) =>
    submitOutOfBand(gate, request, reply, 'push'),
  );
  app.post(`${b}login/phone`, async (request, reply) =>
    submitOutOfBand(gate, request, reply, 'phone'),
  );
  app.post(`${b}login/sms`, async (request, reply) => submitSms(gate, request, reply));
  app.get(`${b}login/push/status`, async (request, reply) => pushStatus(gate, request, reply));
  app.post(`${b}login/push/complete`, async (request, reply) => completePush(gate, request, reply));
  app.get(`${b}oidc-login/:uid`, async (request, reply) => showOidcSignIn(gate, request, reply));
  app.get(`${b}logout`, async (request, reply) => showPortal(gate, request, reply));
  app.post(`${b}logout`, async (request, reply) => logout(gate, request, reply));
  app.get(`${b}authz/auth-request`, async (request, reply) =>
    forwardAuth(gate, request, reply, 'auth-request'),
  );
  app.get(`${b}authz/forward-auth`, async (request, reply) =>
    forwardAuth(gate, request, reply, 'forward-auth'),
  );
  return app;
}

/**
 * The HTTP(S) server: requests under the OpenID Connect provider's path go to it (it parses its own
 * bodies), everything else to the Fastify app.
 */
function createServer(
  deps: GatewayAppDeps,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): http.Server {
  const { gateway } = deps.config;
  const oidc = deps.oidc;
  const dispatch = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const mount = oidc?.mountPath;
    if (
      oidc &&
      mount &&
      (url === mount || url.startsWith(`${mount}/`) || url.startsWith(`${mount}?`))
    ) {
      // The provider builds its URLs from X-Forwarded-Proto/-Host: only a trusted proxy's count.
      dropUntrustedForwarding(gateway.trustedProxies, req);
      oidc.handle(req, res);
    } else handler(req, res);
  };
  return gateway.tlsCertPem && gateway.tlsKeyPem
    ? https.createServer({ cert: gateway.tlsCertPem, key: gateway.tlsKeyPem }, dispatch)
    : http.createServer(dispatch);
}

/**
 * Strict CSP: nothing inline, no framing, forms post to the portal or (after a login, by redirect)
 * to a protected application.
 */
function portalCsp(config: GatewayConfig): string {
  const targets = [
    ...new Set([
      ...config.apps.flatMap((a) => a.hosts).map((h) => `https://${h}:*`),
      // After a login for an OpenID Connect client, the code goes to its redirect URI.
      ...(config.oidc?.clients ?? []).flatMap((c) => c.redirectUris.map((u) => new URL(u).origin)),
    ]),
  ];
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self'",
    `form-action 'self' ${targets.join(' ')}`.trim(),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

// ---------------------------------------------------------------------------------------------
// Portal steps
// ---------------------------------------------------------------------------------------------

/** `GET /`: who is logged in (and the logout form), or the sign-in page. */
async function showPortal(gate: Gate, request: FastifyRequest, reply: FastifyReply) {
  const session = currentSession(gate, request);
  if (!session) return reply.redirect(`${gate.base}login`, 303);
  const f = frame(gate, request);
  const banner =
    session.secondFactor === 'skipped-failmode'
      ? t(f.lang, 'failmodeBanner', {
          app: 'Airlock',
          minutes: Math.ceil((session.expiresAtMs - gate.deps.clock.nowMs()) / 60_000),
        })
      : undefined;
  return sendPage(
    reply,
    200,
    loggedInPage(f, {
      username: session.user.username,
      csrf: session.csrf,
      ...(banner ? { banner } : {}),
    }),
  );
}

/** `GET /login?rd=`: validate the return address, skip the login if a session already opens it. */
async function showSignIn(gate: Gate, request: FastifyRequest, reply: FastifyReply) {
  const { rd } = request.query as { rd?: unknown };
  const rdText = typeof rd === 'string' ? rd : undefined;
  const returnTo = validateReturnUrl(
    rdText,
    gate.deps.config.apps,
    gate.deps.config.gateway.portalUrl,
  );
  if (rdText !== undefined && rdText !== '' && returnTo === undefined) {
    // No redirect anywhere: the address is not one this gateway protects.
    return sendPage(reply, 400, messagePageFor(gate, request, 'errorHeading', 'returnNotAllowed'));
  }
  const app = returnTo
    ? matchApp(gate.deps.config.apps, returnTo.host, returnTo.pathname)
    : undefined;
  const session = currentSession(gate, request);
  if (session && returnTo && app && sessionOpensApp(app, session)) {
    return reply.redirect(returnTo.href, 303);
  }
  if (session && returnTo === undefined) return reply.redirect(gate.base, 303);
  const login = gate.deps.sessions.createLogin({ returnTo: returnTo?.href, appName: app?.name });
  setLoginCookie(gate, reply, login);
  return sendPage(
    reply,
    200,
    signInPage(frame(gate, request), { csrf: login.csrf, appName: app?.name, username: '' }),
  );
}

/** `GET /oidc-login/:uid`: the provider's login page for one authorization request. */
async function showOidcSignIn(gate: Gate, request: FastifyRequest, reply: FastifyReply) {
  const { uid } = request.params as { uid: string };
  const client = gate.deps.oidc ? await gate.deps.oidc.interactionClient(uid) : undefined;
  if (!client) {
    return sendPage(reply, 400, messagePageFor(gate, request, 'errorHeading', 'errorExpired'));
  }
  const login = gate.deps.sessions.createLogin({
    returnTo: undefined,
    appName: undefined,
    oidc: { uid, clientId: client.clientId },
  });
  setLoginCookie(gate, reply, login);
  return sendPage(
    reply,
    200,
    signInPage(frame(gate, request), { csrf: login.csrf, appName: client.clientId, username: '' }),
  );
}

/** `POST /login`: the password against the directory, then the application's second factor. */
async function submitPassword(gate: Gate, request: FastifyRequest, reply: FastifyReply) {
  const form = checkedForm(gate, request);
  if (form.error) return sendFormError(gate, request, reply, form);
  const { login, fields } = form;
  const username = (fields.get('username') ?? '').trim();
  const password = fields.get('password') ?? '';
  const app = appOf(gate, login);
  const f = frame(gate, request);
  const primary = await gate.deps.primary.authenticate({
    username,
    password,
    clientIp: request.ip,
  });
  if (primary.kind !== 'accept') {
    const error = primary.kind === 'reject';
    recordLogin(
      gate,
      request,
      app,
      username,
      error ? 'deny' : 'error',
      error ? 'bad-password' : `directory-${primary.reason}`,
    );
    if (!error) {
      return sendPage(
        reply,
        503,
        messagePageFor(gate, request, 'errorHeading', 'directoryUnavailable', true),
      );
    }
    return sendPage(
      reply,
      401,
      signInPage(f, { csrf: login.csrf, appName: login.appName, username, error: 'badPassword' }),
    );
  }
  const user: DirectoryUser = {
    username: primary.username ?? username,
    groups: primary.groups,
    email: primary.email,
  };
  login.user = user;
  if (app.restriction === 'deny') {
    recordLogin(gate, request, app, user.username, 'deny', 'app-denies');
    return endLoginWithError(gate, request, reply, login, 403, 'accessDenied');
  }
  if (app.restriction !== 'two_factor') {
    return finishLogin(
      gate,
      request,
      reply,
      login,
      app,
      { kind: 'allow', secondFactor: 'bypass', amr: ['pwd'] },
      'none',
    );
  }
  const step = await startSecondFactor(factorContext(gate, request, app, user));
  if (step.kind === 'choose') {
    login.devices = step.devices;
    login.preauthStatus = step.statusMsg;
    return sendPage(reply, 200, factorPageFor(gate, request, login, app));
  }
  return finishLogin(gate, request, reply, login, app, step);
}

/** `POST /login/passcode`. */
async function submitPasscode(gate: Gate, request: FastifyRequest, reply: FastifyReply) {
  const form = checkedForm(gate, request, true);
  if (form.error) return sendFormError(gate, request, reply, form);
  const { login, fields } = form;
  const user = login.user!;
  const app = appOf(gate, login);
  const passcode = (fields.get('passcode') ?? '').trim();
  if (!/^[0-9]{6,10}$/.test(passcode)) {
    return sendPage(
      reply,
      401,
      factorPageFor(gate, request, login, app, { error: 'wrongPasscode' }),
    );
  }
  const step = await checkPasscode(factorContext(gate, request, app, user), passcode);
  if (step.kind === 'retry') {
    login.passcodeFailures += 1;
    recordLogin(gate, request, app, user.username, 'deny', 'wrong-passcode');
    if (login.passcodeFailures >= MAX_PASSCODE_FAILURES) {
      return endLoginWithError(gate, request, reply, login, 401, 'tooManyAttempts', {
        again: true,
      });
    }
    return sendPage(
      reply,
      401,
      factorPageFor(gate, request, login, app, { error: 'wrongPasscode' }),
    );
  }
  return finishLogin(gate, request, reply, login, app, step);
}

/** `POST /login/push`, `POST /login/phone`: an async push or call to the login's device for it. */
async function submitOutOfBand(
  gate: Gate,
  request: FastifyRequest,
  reply: FastifyReply,
  factor: 'push' | 'phone',
) {
  const form = checkedForm(gate, request, true);
  if (form.error) return sendFormError(gate, request, reply, form);
  const { login } = form;
  const app = appOf(gate, login);
  const device = deviceFor(login, factor);
  if (!device) return sendPage(reply, 400, factorPageFor(gate, request, login, app));
  const step = await startOutOfBand(
    factorContext(gate, request, app, login.user!),
    factor,
    device.device,
  );
  if (step.kind !== 'push-sent') return finishLogin(gate, request, reply, login, app, step);
  login.outOfBand = { txid: step.txid, factor, deviceName: device.name };
  return sendPage(reply, 200, waitPageFor(gate, request, login));
}

/** `POST /login/sms`: SMS passcodes to the login's device for them; then a passcode logs in. */
async function submitSms(gate: Gate, request: FastifyRequest, reply: FastifyReply) {
  const form = checkedForm(gate, request, true);
  if (form.error) return sendFormError(gate, request, reply, form);
  const { login } = form;
  const app = appOf(gate, login);
  const device = deviceFor(login, 'sms');
  if (!device) return sendPage(reply, 400, factorPageFor(gate, request, login, app));
  const step = await sendSmsPasscodes(
    factorContext(gate, request, app, login.user!),
    device.device,
  );
  if (step.kind === 'sms-sent') {
    return sendPage(reply, 200, factorPageFor(gate, request, login, app, { notice: 'smsSent' }));
  }
  if (step.kind === 'sms-failed') {
    return sendPage(reply, 502, factorPageFor(gate, request, login, app, { error: 'smsFailed' }));
  }
  return finishLogin(gate, request, reply, login, app, step);
}

/** `GET /login/push/status`: JSON for the page's script; never ends the login itself. */
async function pushStatus(gate: Gate, request: FastifyRequest, reply: FastifyReply) {
  const login = currentLogin(gate, request);
  if (!login?.user || login.outOfBand === undefined) return reply.code(404).send({ done: true });
  const step = await outOfBandResult(
    factorContext(gate, request, appOf(gate, login), login.user),
    login.outOfBand.txid,
    login.outOfBand.factor,
  );
  const f = frame(gate, request);
  if (step.kind === 'waiting') return reply.send({ done: false, message: t(f.lang, 'waiting') });
  return reply.send({ done: true, message: step.kind === 'allow' ? t(f.lang, 'approved') : '' });
}

/** `POST /login/push/complete`: the push's or call's answer decides. */
async function completePush(gate: Gate, request: FastifyRequest, reply: FastifyReply) {
  const form = checkedForm(gate, request, true);
  if (form.error) return sendFormError(gate, request, reply, form);
  const { login } = form;
  const app = appOf(gate, login);
  const pending = login.outOfBand;
  if (pending === undefined) return sendPage(reply, 400, factorPageFor(gate, request, login, app));
  const step = await outOfBandResult(
    factorContext(gate, request, app, login.user!),
    pending.txid,
    pending.factor,
  );
  if (step.kind === 'waiting') return sendPage(reply, 200, waitPageFor(gate, request, login));
  return finishLogin(gate, request, reply, login, app, step);
}

function waitPageFor(gate: Gate, request: FastifyRequest, login: PendingLogin): string {
  return pushWaitPage(frame(gate, request), {
    csrf: login.csrf,
    device: login.outOfBand?.deviceName ?? '',
    factor: login.outOfBand?.factor ?? 'push',
  });
}

/** Acts on a settled second-factor step: a session, a failmode session, or a refusal page. */
async function finishLogin(
  gate: Gate,
  request: FastifyRequest,
  reply: FastifyReply,
  login: PendingLogin,
  app: GatewayAppConfig,
  step: SecondFactorStep,
  secondFactorOverride?: SecondFactorKind,
) {
  const f = frame(gate, request);
  const user = login.user!;
  const { gateway } = gate.deps.config;
  switch (step.kind) {
    case 'allow': {
      const secondFactor = secondFactorOverride ?? step.secondFactor;
      const checked = secondFactor === 'otp' || secondFactor === 'push' || secondFactor === 'phone';
      const target = await continueTo(gate, login, step.amr, checked);
      if (target === undefined) return expired(gate, request, reply, login);
      const session = gate.deps.sessions.createSession({ user, secondFactor, amr: step.amr });
      recordLogin(gate, request, app, user.username, 'allow', 'service-answered', secondFactor);
      setSessionCookie(gate, reply, session);
      clearLogin(gate, reply, login);
      return reply.redirect(target, 303);
    }
    case 'failmode-allow': {
      const target = await continueTo(gate, login, ['pwd'], false);
      if (target === undefined) return expired(gate, request, reply, login);
      const session = gate.deps.sessions.createSession({
        user,
        secondFactor: 'skipped-failmode',
        amr: ['pwd'],
        lifetimeMs: gateway.failmodeSessionLifetimeMs,
      });
      recordFailmode(gate, request, app, user.username, step, 'allow');
      recordLogin(
        gate,
        request,
        app,
        user.username,
        'allow',
        step.decision.reason,
        'skipped-failmode',
      );
      setSessionCookie(gate, reply, session);
      clearLogin(gate, reply, login);
      return sendPage(
        reply,
        200,
        failmodeBannerPage(f, {
          appName: app.name,
          minutes: Math.ceil((session.expiresAtMs - session.createdAtMs) / 60_000),
          continueTo: target,
        }),
      );
    }
    case 'failmode-deny':
      recordFailmode(gate, request, app, user.username, step, 'deny');
      recordLogin(gate, request, app, user.username, 'deny', step.decision.reason);
      return endLoginWithError(gate, request, reply, login, 503, 'failmodeRefused', {
        again: true,
        values: { app: app.name },
      });
    case 'enroll':
      recordLogin(gate, request, app, user.username, 'deny', 'enroll');
      return endLogin(
        gate,
        reply,
        login,
        403,
        messagePage(f, {
          heading: 'errorHeading',
          message: t(f.lang, 'enrollRequired'),
          kind: 'warning',
        }),
      );
    case 'deny': {
      recordLogin(gate, request, app, user.username, 'deny', step.reason);
      const unavailable = step.reason === 'auth-timeout' || step.reason === 'auth-network-failure';
      const key: MessageKey = unavailable
        ? 'errorUnavailable'
        : step.reason === 'push-deny' || step.reason === 'phone-deny'
          ? 'denied'
          : 'accessDenied';
      return endLoginWithError(gate, request, reply, login, unavailable ? 503 : 403, key, {
        again: true,
      });
    }
    default:
      // choose / retry / push-sent / waiting are handled by their routes; anything else refuses.
      return endLoginWithError(gate, request, reply, login, 403, 'accessDenied', { again: true });
  }
}

/** The OpenID Connect authorization this login was for has expired: start again at the client. */
function expired(gate: Gate, request: FastifyRequest, reply: FastifyReply, login: PendingLogin) {
  return endLogin(
    gate,
    reply,
    login,
    400,
    messagePageFor(gate, request, 'errorHeading', 'errorExpired'),
  );
}

/** `POST /logout`: the session ends here (a copied cookie dies with it) and its cookie is cleared. */
async function logout(gate: Gate, request: FastifyRequest, reply: FastifyReply) {
  const session = currentSession(gate, request);
  const fields = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
  if (session) {
    if (!sameOrigin(gate, request) || !tokensEqual(fields.get('csrf') ?? '', session.csrf)) {
      return sendPage(reply, 403, messagePageFor(gate, request, 'errorHeading', 'errorForm'));
    }
    gate.deps.sessions.deleteSession(session.id);
    gate.deps.oidc?.endLogin(session.user.username);
    gate.deps.events.line(`logout: ${session.user.username}`);
  }
  const { gateway } = gate.deps.config;
  void reply.header(
    'Set-Cookie',
    serializeCookie(gateway.cookieName, '', { domain: gateway.cookieDomain, maxAgeSeconds: 0 }),
  );
  const f = frame(gate, request);
  return sendPage(
    reply,
    200,
    messagePage(f, {
      heading: 'logOut',
      message: t(f.lang, 'loggedOut'),
      kind: 'status',
      again: true,
    }),
  );
}

function appOf(gate: Gate, login: PendingLogin): GatewayAppConfig {
  if (login.oidc !== undefined) {
    const clientId = login.oidc.clientId;
    const client = gate.deps.config.oidc?.clients.find((c) => c.clientId === clientId);
    // An OpenID Connect client is an application of its own: both factors, its failmode.
    return client
      ? { ...PORTAL_APP, name: clientId, section: client.section, failmode: client.failmode }
      : PORTAL_APP;
  }
  return gate.deps.config.apps.find((a) => a.name === login.appName) ?? PORTAL_APP;
}

/**
 * Where the browser goes once logged in: back into the OpenID Connect flow (the login recorded on
 * its interaction), else the return address or the portal.
 */
async function continueTo(
  gate: Gate,
  login: PendingLogin,
  amr: readonly string[],
  secondFactorChecked: boolean,
): Promise<string | undefined> {
  if (login.oidc === undefined) return login.returnTo ?? gate.base;
  return gate.deps.oidc?.completeInteraction(login.oidc.uid, login.user!, {
    amr,
    secondFactorChecked,
  });
}

function factorContext(
  gate: Gate,
  request: FastifyRequest,
  app: GatewayAppConfig,
  user: DirectoryUser,
): SecondFactorContext {
  return {
    api: gate.deps.api,
    failmode: app.failmode,
    username: user.username,
    ipaddr: request.ip,
    // The switch `airlock proxy primary-only` writes: read per login, a tiny file.
    primaryOnly: primaryOnlyState(
      readPrimaryOnly(gate.deps.config.main.stateDir),
      gate.deps.clock.nowMs(),
    ).active,
  };
}

function recordLogin(
  gate: Gate,
  request: FastifyRequest,
  app: GatewayAppConfig,
  username: string,
  result: 'allow' | 'deny' | 'error',
  reason: string,
  secondFactor?: SecondFactorKind,
): void {
  gate.deps.events.login({
    app: app.name,
    username,
    result,
    reason,
    ...(secondFactor ? { second_factor: secondFactor } : {}),
    client_ip: request.ip,
    msg: `login ${result} for ${username} to [app:${app.name}]: ${reason}`,
  });
}

function recordFailmode(
  gate: Gate,
  request: FastifyRequest,
  app: GatewayAppConfig,
  username: string,
  step: Extract<SecondFactorStep, { kind: 'failmode-allow' | 'failmode-deny' }>,
  action: 'allow' | 'deny',
): void {
  gate.deps.events.failmode({
    app: app.name,
    username,
    failmode: step.decision.effectiveFailmode,
    action,
    reason: step.decision.reason,
    cause: step.cause,
    client_ip: request.ip,
    msg: step.decision.logMessage,
  });
}
