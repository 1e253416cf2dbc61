// Auth API v2 endpoints (docs/design/auth-api.md §1): each handler is a short list of named steps.
import { parseHealthReport, storeHealthReport } from '../status/health-report.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AirlockError } from '../../core/error-registry.ts';
import type { Application, Device, DeviceCapability, OobContext, User } from '../../core/model.ts';
import type { FailureSource } from '../../core/lockout.ts';
import type { PolicyDecision } from '../../core/policy.ts';
import { sourceLimitMessage, type SourceLimitScope } from '../../core/source-limits.ts';
import { generateId } from '../../runtime/random.ts';
import { isStoreError } from '../../store/store-error.ts';
import type { AuthSubject, Store } from '../../store/store.ts';
import { normalizeUsername } from '../../core/username.ts';
import type { AuthApiContext } from './auth-api-context.ts';
import { sendOk } from './envelope.ts';
import { checkPasscode } from './passcode-check.ts';
import { resultEvent } from '../push/oob-shared.ts';
import { factorNotAllowedMessage, requestedFactor } from '../policy/access-decision.ts';
import {
  loginKeyParam,
  param,
  pushTimeoutParam,
  readRequestParams,
  requireParam,
  type ParamMap,
  type RequestParams,
} from './request-params.ts';
import { verifyRequest } from './verify-request.ts';
import {
  AUTH_API_OPERATIONS as OPS,
  type AuthResponse,
  type AuthStatusResponse,
  type EnrollResponse,
  type PreauthDevice,
  type PreauthResponse,
  type TimeResponse,
} from './auth-api-schemas.ts';
import { routeSchema, type ApiOperation } from '../api-schema.ts';
import { steerAwayMessage, steerFactors, type AuthFactor } from '../../core/factor-health.ts';
import {
  deviceCapabilities,
  maskPhoneNumber,
  type PhoneFactorsAvailable,
} from '../../core/device-capabilities.ts';
import { parseActivationCode, renderActivationCode } from '../../core/activation-code.ts';

export type SignedHandler = (call: SignedCall) => unknown;

/** What a step of a login reads: the caller's application, parameters, time and address. */
export interface StepCall {
  app: Application;
  params: ParamMap;
  nowMs: number;
  /** The address the request came from (`req.ip`), recorded in audit events as `clientIp`. */
  clientIp: string;
  /**
   * preauth_auth: preauth's step leaves the subject and decision here and /auth's step, in the
   * same call with the same parameters, takes them instead of reading and deciding again.
   */
  loaded?: LoadedLogin | undefined;
}

/** A login's subject and policy decision, once preauth's step has them (`StepCall.loaded`). */
export interface LoadedLogin {
  subject?: AuthSubject | undefined;
  decision?: PolicyDecision;
}

export type StepHandler = (call: StepCall) => Promise<unknown>;

/** One signed request once its caller is authenticated and admitted. */
export interface SignedCall extends StepCall {
  req: FastifyRequest;
  reply: FastifyReply;
}

/**
 * The steps of the Auth API that other surfaces of the same API reuse (the legacy /rest/v1 of
 * Duo's Authentication Proxy, rest-v1-routes.ts; the in-process transport of a co-located proxy,
 * local-auth-api.ts; the one-call passcode login, preauth-auth-route.ts): the same decisions,
 * lockout, audit and limits.
 */
export interface AuthApiSteps {
  /** The per-application rate limit, after the signature; throws AUTH_RATE_LIMITED. */
  admit(app: Application, nowMs: number): void;
  /** Registers a route checked as every signed endpoint: signature, date, host, rate limit. */
  signedRoute(op: ApiOperation, handler: SignedHandler): void;
  preauth: StepHandler;
  auth: StepHandler;
  authStatus: StepHandler;
}

/** An auth_results event id a client may resume after (`after=`): its place in the store's order. */
export const RESULT_EVENT_ID = /^[0-9a-z]{1,16}\.[0-9]{1,15}$/;

/** Factor tokens Duo Unix sends as `prompt=`: `push1` = push to the first device of preauth's list. */
const PROMPT_FACTOR_TOKEN = /^(push|phone|sms|verified_push)([1-9][0-9]{0,2})$/;

export function registerAuthApiRoutes(server: FastifyInstance, ctx: AuthApiContext): AuthApiSteps {
  // Each route serializes its answers with the schemas of its declaration (auth-api-schemas.ts).
  const signed = (op: ApiOperation, handler: SignedHandler): void => {
    server.route({
      method: op.method,
      url: op.path,
      schema: routeSchema(op),
      handler: async (req, reply) => {
        const nowMs = ctx.clock.nowMs();
        const request = readRequestParams(req);
        const app = await authenticateCaller(req, request, nowMs);
        const response = await handler({
          req,
          reply,
          app,
          params: request.values,
          nowMs,
          clientIp: req.ip,
        });
        if (reply.sent) return reply;
        return sendOk(reply, response);
      },
    });
  };

  async function authenticateCaller(req: FastifyRequest, request: RequestParams, nowMs: number) {
    const verified = await verifyRequest(req, request, {
      applications: ctx.applications,
      nowMs,
      dateWindowSeconds: ctx.options.dateWindowSeconds,
      allowedHosts: ctx.options.allowedHosts,
    });
    const app = verified.application;
    admit(app, nowMs);
    return app;
  }

  /** Per-application limit, checked after the signature so a forged ikey cannot drain a real budget. */
  function admit(app: Application, nowMs: number): void {
    if (app.rateLimitPerSecond > 0) {
      const taken = ctx.rateLimits.take(app.id, nowMs, {
        ratePerSecond: app.rateLimitPerSecond,
        burst: Math.max(1, app.rateLimitPerSecond * ctx.options.rateLimitBurstFactor),
      });
      if (!taken.ok) {
        throw new AirlockError('AUTH_RATE_LIMITED', undefined, {
          message: `Too many requests; retry after ${taken.retryAfterSeconds}s`,
          cause: { retryAfterSeconds: taken.retryAfterSeconds },
        });
      }
    }
  }

  // ping: unsigned liveness, also used by clients to measure clock offset.
  server.route({
    method: OPS.ping.method,
    url: OPS.ping.path,
    schema: routeSchema(OPS.ping),
    handler: async (_req, reply) =>
      sendOk(reply, { time: Math.floor(ctx.clock.nowMs() / 1000) } satisfies TimeResponse),
  });

  // check: readiness; proves the caller's ikey, skey and clock are right.
  signed(OPS.check, ({ nowMs }): TimeResponse => ({ time: Math.floor(nowMs / 1000) }));

  // Airlock extension: a proxy or gateway reports its health for the status page (docs/status-page.md).
  signed(OPS.healthReport, async ({ app, params, nowMs }) => {
    const report = parseHealthReport(
      {
        kind: param(params, 'kind'),
        name: param(params, 'name'),
        status: param(params, 'status'),
        detail: param(params, 'detail'),
      },
      nowMs,
    );
    await storeHealthReport(ctx.store, report, app);
    return { time: Math.floor(nowMs / 1000) };
  });

  signed(OPS.logo, async ({ reply }) => {
    if (!ctx.options.logoPng) throw new AirlockError('AUTH_LOGO_NOT_FOUND');
    return reply.code(200).type('image/png').send(ctx.options.logoPng);
  });

  signed(OPS.enroll, async ({ app, params, nowMs }): Promise<EnrollResponse> => {
    const validSeconds = parseValidSeconds(
      param(params, 'valid_secs'),
      ctx.options.enrollValidSeconds,
    );
    const given = param(params, 'username');
    // The new user gets the name as the application means it (EXAMPLE\alice → alice under
    // simple normalization), so that enrolling a variant of an existing name cannot make a
    // second, shadow user: the lookup below is the one every login makes.
    const username =
      given === undefined
        ? `user-${generateId(ctx.random, '', 12).toLowerCase()}`
        : normalizeUsername(given, app.usernameNormalization);
    if (username === '') throw new AirlockError('AUTH_INVALID_PARAMETERS', 'username');
    const code = generateId(ctx.random, '', 20);
    const expiresAtMs = nowMs + validSeconds * 1000;
    const user = await ctx.store.transaction(async (tx) => {
      if (await findUserOrAmbiguous(tx, username, app)) {
        throw new AirlockError('AUTH_USERNAME_TAKEN', 'username');
      }
      const created = await tx.createUser({ id: generateId(ctx.random, 'DU'), username });
      await tx.createEnrollment({
        activationCode: code,
        userId: created.id,
        appId: app.id,
        state: 'waiting',
        expiresAtMs,
      });
      await tx.appendAudit(audit(app, nowMs, 'user.enroll', created, 'waiting', { expiresAtMs }));
      return created;
    });
    const host = ctx.options.apiHost;
    return {
      activation_barcode: `https://${host}/frame/qr?value=${encodeURIComponent(renderActivationCode(code, host))}`,
      activation_code: renderActivationCode(code, host),
      activation_url: `https://${host}/activate/${code}`,
      expiration: Math.floor(expiresAtMs / 1000),
      user_id: user.id,
      username: user.username,
    };
  });

  signed(OPS.enrollStatus, async ({ app, params, nowMs }) => {
    const userId = requireParam(params, 'user_id');
    const code = parseActivationCode(requireParam(params, 'activation_code'));
    const enrollment = code ? await ctx.store.getEnrollment(code) : undefined;
    if (
      !enrollment ||
      enrollment.userId !== userId ||
      enrollment.appId !== app.id ||
      enrollment.expiresAtMs <= nowMs
    )
      return 'invalid';
    return enrollment.state;
  });

  const preauth: StepHandler = async (call) => {
    const { app, params, nowMs, clientIp } = call;
    const subject = await loadSubject(app, params);
    const user = subject?.user;
    const decision = await decide(app, subject, nowMs, param(params, 'ipaddr'));
    if (call.loaded) Object.assign(call.loaded, { subject, decision });
    if (decision.result !== 'auth') {
      // A preauth that ends the login (allow, deny, enroll) is an authentication outcome: audit it.
      await ctx.writes.run((tx) =>
        tx.appendAudit(
          audit(app, nowMs, 'auth.preauth', user, decision.result, {
            reason: decision.reason,
            username: param(params, 'username'),
            ...accessContext(clientIp, params),
          }),
        ),
      );
      ctx.metrics.requests.inc({ endpoint: 'preauth', outcome: decision.result });
    }
    return preauthResponse(
      decision,
      user,
      subject,
      {
        available: ctx.phone.available,
        degraded: ctx.factorHealth.degradedFactors(nowMs),
        nowMs,
      },
      params,
      ctx.options.apiHost,
    );
  };
  signed(OPS.preauth, preauth);

  // auth: load the subject, decide by policy, refuse a factor the policy does not allow, run the
  // factor (or answer by policy), finish.
  const auth: StepHandler = async ({ app, params, nowMs, clientIp, loaded }) => {
    const subject = loaded?.decision ? loaded.subject : await loadSubject(app, params);
    const decision =
      loaded?.decision ?? (await decide(app, subject, nowMs, param(params, 'ipaddr')));
    const login: AuthLogin = {
      app,
      params,
      nowMs,
      subject,
      user: subject?.user,
      decision,
      isAsync: param(params, 'async') === '1',
      access: accessContext(clientIp, params),
    };
    const ran = (await refuseDisallowedFactor(login)) ?? (await runFactor(login));
    if ('response' in ran) return ran.response;
    return finish(ran.outcome, login.isAsync, app, login.user, ran.factor);
  };
  signed(OPS.auth, auth);

  /**
   * A policy's allowedFactors: refuse the factor asked for, not the user (another one may be
   * allowed). Undefined when the request asks for no particular factor or an allowed one.
   */
  async function refuseDisallowedFactor(login: AuthLogin): Promise<FactorRun | undefined> {
    const { app, user, decision, params, nowMs, access } = login;
    const asked = requestedFactor(param(params, 'factor'), param(params, 'prompt'));
    if (
      decision.result !== 'auth' ||
      !asked ||
      param(params, 'factor') === 'auto' ||
      decision.allowedFactors.includes(asked)
    ) {
      return undefined;
    }
    const refused = await answerByPolicy(
      app,
      user,
      {
        result: 'deny',
        reason: 'factor-not-allowed',
        statusMsg: factorNotAllowedMessage(asked, decision.allowedFactors),
      },
      params,
      nowMs,
      { ...access, factor: asked },
    );
    return { outcome: refused, factor: asked };
  }

  /** The factor the request asks for on the user's device, or the policy's answer without one. */
  async function runFactor(login: AuthLogin): Promise<FactorRun> {
    const { app, user, subject, decision, params, nowMs, access } = login;
    const factor =
      decision.result === 'auth' && subject
        ? resolveFactor(params, subject, {
            available: ctx.phone.available,
            degraded: () => ctx.factorHealth.degradedFactors(nowMs),
            allowed: decision.allowedFactors,
          })
        : undefined;
    if (factor?.kind === 'sms' && subject) {
      const sent = await ctx.phone.sendSmsPasscodes({
        app,
        user: subject.user,
        device: factor.device,
        access,
        nowMs,
      });
      return { outcome: sent, factor: 'sms' };
    }
    if ((factor?.kind === 'phone' || factor?.kind === 'push') && subject) {
      return outOfBandFactor(login, subject, factor.kind, factor.device);
    }
    const outcome =
      factor?.kind === 'passcode' && subject
        ? await authenticateSecondFactor(app, subject, factor.passcode, nowMs, access)
        : await answerByPolicy(app, user, decision, params, nowMs, access);
    return { outcome, factor: param(params, 'factor') ?? '' };
  }

  /**
   * Push or phone call: starts it; async=1 answers the txid at once, a blocking call waits for the
   * user's answer until the transaction expires.
   */
  async function outOfBandFactor(
    login: AuthLogin,
    subject: AuthSubject,
    kind: 'push' | 'phone',
    device: Device,
  ): Promise<FactorRun> {
    const { app, params, nowMs, access, isAsync } = login;
    if (kind === 'push' && app.verifiedPush && !isAsync) {
      // The user must see the code before approving; a blocking call cannot show it.
      throw new AirlockError('AUTH_INVALID_PARAMETERS', 'verified push needs async=1');
    }
    const request = {
      app,
      user: subject.user,
      device,
      context: pushContext(app, subject.user, params),
      access,
      nowMs,
    };
    const started =
      kind === 'push'
        ? await ctx.push.start({
            ...request,
            loginKey: loginKeyParam(params),
            timeoutSeconds: pushTimeoutParam(params),
          })
        : await ctx.phone.startCall(request);
    if (!('txid' in started)) return { outcome: started, factor: kind };
    ctx.metrics.requests.inc({
      endpoint: 'auth',
      outcome: kind === 'push' ? 'pushed' : 'calling',
    });
    if (isAsync) return { response: { txid: started.txid } };
    const outcome = await ctx.push.waitForOutcome(started.txid, started.expiresAtMs);
    return {
      response: outcome ?? { result: 'deny', status: 'timeout', status_msg: 'Login timed out.' },
    };
  }

  /** Counts the answer; for async=1, stores it as a finished transaction and answers its txid. */
  async function finish(
    outcome: AuthOutcome,
    isAsync: boolean,
    app: Application,
    user: User | undefined,
    factor: string,
  ): Promise<AuthResponse> {
    ctx.metrics.requests.inc({ endpoint: 'auth', outcome: outcome.result });
    if (!isAsync) return outcome;
    const txid = ctx.random.uuid();
    await ctx.writes.run(async (tx) => {
      await tx.createAuthTransaction({
        txid,
        appId: app.id,
        // An unknown user has no row to refer to; the policy's answer is final all the same.
        userId: user?.id ?? null,
        factor,
        result: outcome.result,
        status: outcome.status,
        statusMsg: outcome.status_msg,
      });
      await tx.appendResultEvent(resultEvent(app.id, txid, outcome, ctx.clock.nowMs()));
    });
    ctx.push.resultsWritten();
    return { txid };
  }

  const authStatus: StepHandler = async ({ app, params }): Promise<AuthStatusResponse> => {
    const txid = requireParam(params, 'txid');
    let tx = await ctx.store.getAuthTransaction(txid);
    // Another application's transaction is as unknown as a made-up one.
    if (!tx || tx.appId !== app.id) throw new AirlockError('AUTH_INVALID_PARAMETERS', 'txid');
    if (tx.result === 'waiting') {
      // Long poll: answer when the push is answered or expires, or after the poll window.
      await ctx.push.waitForOutcome(
        txid,
        ctx.clock.nowMs() + ctx.options.authStatusWaitSeconds * 1000,
      );
      tx = (await ctx.store.getAuthTransaction(txid)) ?? tx;
    }
    return { result: tx.result, status: tx.status, status_msg: tx.statusMsg, auth_delayed: false };
  };
  signed(OPS.authStatus, authStatus);

  // Airlock extension (docs/auth-api.md): one event stream of the application's push results, so
  // a proxy waits for thousands of pushes on one connection instead of one auth_status each.
  // Open streams end when the server closes (a restart): the proxy reconnects and resumes.
  const openStreams = new Set<{ end(): void }>();
  server.addHook('preClose', (done) => {
    for (const res of openStreams) res.end();
    done();
  });
  signed(OPS.authResults, ({ req, reply, app, params }) => {
    const after = param(params, 'after');
    if (after !== undefined && !RESULT_EVENT_ID.test(after)) {
      throw new AirlockError('AUTH_INVALID_PARAMETERS', 'after');
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': airlock auth results\n\n');
    const send = (result: object, id: string) =>
      res.write(`id: ${id}\ndata: ${JSON.stringify(result)}\n\n`);
    // After a reconnect, first what was committed since the client's last event id (any node's);
    // if that cannot be read, the stream ends and the client reconnects with the same id.
    const unsubscribe = ctx.push.subscribe(app.id, send, after, () => res.end());
    const heartbeat = setInterval(() => res.write(': ping\n\n'), 15_000);
    heartbeat.unref();
    openStreams.add(res);
    req.raw.once('close', () => {
      openStreams.delete(res);
      clearInterval(heartbeat);
      unsubscribe();
    });
    return undefined;
  });

  /**
   * The user a request names: by user_id, or by username under the application's username
   * normalization (case-insensitive always; see src/core/username.ts for why that is a security
   * property). A name that means several users is refused, never treated as an unknown user.
   */
  async function loadSubject(app: Application, params: ParamMap): Promise<AuthSubject | undefined> {
    const username = param(params, 'username');
    const userId = param(params, 'user_id');
    if (username !== undefined && userId !== undefined) {
      throw new AirlockError('AUTH_INVALID_PARAMETERS', 'give username or user_id, not both');
    }
    if (userId !== undefined) {
      const subject = await readSubject({ userId });
      if (!subject) throw new AirlockError('AUTH_INVALID_PARAMETERS', 'user_id');
      return subject;
    }
    if (username === undefined || username === '')
      throw new AirlockError('AUTH_MISSING_PARAMETERS', 'username');
    return readSubject({ username, normalization: app.usernameNormalization });
  }

  /** The store's read of a login's subject; what it refuses becomes a 4xx, never a 500. */
  async function readSubject(
    ref: Parameters<Store['loadAuthSubject']>[0],
  ): Promise<AuthSubject | undefined> {
    try {
      return await ctx.store.loadAuthSubject(ref);
    } catch (err) {
      if (isStoreError(err, 'STORE_AMBIGUOUS_USERNAME')) {
        throw new AirlockError('AUTH_USERNAME_AMBIGUOUS', 'username', { cause: err });
      }
      // Finding 9 (docs/security.md): a token secret altered or copied from another row. Deny:
      // a 500 would be "service unreachable", which failmode=safe lets through.
      if (isStoreError(err, 'STORE_SECRET_UNREADABLE')) {
        ctx.logger.error({ code: err.code }, `login refused: ${err.message}`);
        throw new AirlockError('AUTH_USER_SECRET_UNREADABLE', undefined, { cause: err });
      }
      throw err;
    }
  }

  /** The global and application policies, emergency overlays and the user decide (policy.ts). */
  async function decide(
    app: Application,
    subject: AuthSubject | undefined,
    nowMs: number,
    clientIp: string | undefined,
  ): Promise<PolicyDecision> {
    return ctx.access.decide(app, subject, { nowMs, clientIp, phoneFactors: ctx.phone.available });
  }

  /**
   * A passcode: the source's budget first (core/source-limits.ts), then the check. An attempt
   * that does not fail gives its reservation back, so only failures spend a source's budget.
   */
  async function authenticateSecondFactor(
    app: Application,
    subject: AuthSubject,
    passcode: string,
    nowMs: number,
    access: Record<string, string | undefined>,
  ): Promise<AuthOutcome> {
    const source = failureSource(app, access.ipaddr);
    const admitted = ctx.sourceLimits.admitWhenSettled(subject.user.id, source, nowMs);
    const admission = admitted instanceof Promise ? await admitted : admitted;
    if (!admission.ok) return refuseSource(app, subject.user, source, admission, nowMs, access);
    let failed = false;
    try {
      const checked = await checkSecondFactor(app, subject, passcode, source, nowMs, access);
      failed = checked.failed;
      return checked.outcome;
    } finally {
      if (failed) admission.spend();
      else admission.refund();
    }
  }

  /**
   * The source is past its budget: refused before the passcode is looked at, and not counted
   * towards the user's lockout, so one source can slow a user's logins from it but not lock the
   * user out. A `deny`, never an error: a client in failmode safe must not let a 429 through.
   */
  async function refuseSource(
    app: Application,
    user: User,
    source: FailureSource,
    refusal: { scope: SourceLimitScope; retryAfterSeconds: number },
    nowMs: number,
    access: Record<string, string | undefined>,
  ): Promise<AuthOutcome> {
    await ctx.writes.run((tx) =>
      tx.appendAudit(
        audit(app, nowMs, 'auth.passcode', user, 'deny', {
          reason: 'source-limited',
          scope: refusal.scope,
          retryAfterSeconds: refusal.retryAfterSeconds,
          ...access,
        }),
      ),
    );
    return {
      result: 'deny',
      status: 'deny',
      status_msg: sourceLimitMessage(source, refusal.retryAfterSeconds),
    };
  }

  async function checkSecondFactor(
    app: Application,
    subject: AuthSubject,
    passcode: string,
    source: FailureSource,
    nowMs: number,
    access: Record<string, string | undefined>,
  ): Promise<{ outcome: AuthOutcome; failed: boolean }> {
    const user = subject.user;
    // Group commit: the claim of the code, the failure count and the audit event commit together,
    // with other concurrent logins, before the answer leaves.
    return ctx.writes.run(async (tx) => {
      // The subject was read before this transaction: a concurrent login may have locked the user
      // out (or an admin disabled it) since. Decide on the status as the transaction sees it, so
      // a burst of guesses cannot outrun the lockout.
      const status = await tx.getUserStatus(user.id);
      if (status === 'locked out' || status === 'disabled' || status === undefined) {
        await tx.appendAudit(
          audit(app, nowMs, 'auth.passcode', user, 'deny', {
            reason: `user-${status ?? 'deleted'}`,
            ...access,
          }),
        );
        const outcome: AuthOutcome =
          status === 'locked out'
            ? { result: 'deny', status: 'locked_out', status_msg: 'Your account is locked out.' }
            : { result: 'deny', status: 'deny', status_msg: 'Your account is disabled.' };
        return { outcome, failed: false };
      }
      const check = await checkPasscode(tx, subject, passcode, {
        nowMs,
        bypassPepper: ctx.bypassPepper,
      });
      if (check.ok) {
        if (user.failedAttempts > 0) await tx.resetSecondFactorFailures(user.id);
        await tx.appendAudit(
          audit(app, nowMs, 'auth.passcode', user, 'allow', {
            method: check.method,
            credentialId: check.credentialId,
            ...access,
          }),
        );
        return {
          outcome: { result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' },
          failed: false,
        };
      }
      const failure = await tx.recordSecondFactorFailure(user.id, ctx.options.lockoutThreshold, {
        lockoutDurationSeconds: ctx.options.lockoutDurationSeconds,
        source,
      });
      await tx.appendAudit(
        audit(app, nowMs, 'auth.passcode', user, 'deny', {
          reason: check.reason,
          failedAttempts: failure.failedAttempts,
          ...access,
        }),
      );
      if (failure.lockedOut) {
        // Names where the failures came from (finding 3): an administrator sees whether one
        // address or many led to the lockout.
        await tx.appendAudit(
          audit(app, nowMs, 'user.lockout', user, 'locked out', {
            failedAttempts: failure.failedAttempts,
            lockedUntilMs: failure.lockout.untilMs,
            sources: failure.lockout.sources,
            ...access,
          }),
        );
        return {
          outcome: {
            result: 'deny',
            status: 'locked_out',
            status_msg: 'Too many failed attempts. Your account is locked out.',
          },
          failed: true,
        };
      }
      return {
        outcome: {
          result: 'deny',
          status: 'deny',
          status_msg: 'Incorrect passcode. Please try again.',
        },
        failed: true,
      };
    });
  }

  async function answerByPolicy(
    app: Application,
    user: User | undefined,
    /** A policy decision, or a refusal of the factor asked for (reason `factor-not-allowed`). */
    decision: { result: PolicyDecision['result']; reason: string; statusMsg: string },
    params: ParamMap,
    nowMs: number,
    access: Record<string, string | undefined>,
  ): Promise<AuthOutcome> {
    const outcome: AuthOutcome =
      decision.result === 'allow'
        ? {
            result: 'allow',
            status: decision.reason === 'new-user-allow' ? 'allow' : 'bypass',
            status_msg: decision.statusMsg,
          }
        : {
            result: 'deny',
            status: decision.reason === 'user-locked-out' ? 'locked_out' : 'deny',
            status_msg: decision.statusMsg,
          };
    await ctx.writes.run((tx) =>
      tx.appendAudit(
        audit(app, nowMs, 'auth.policy', user, outcome.result, {
          reason: decision.reason,
          username: param(params, 'username'),
          ...access,
        }),
      ),
    );
    return outcome;
  }

  return { admit, signedRoute: signed, preauth, auth, authStatus };
}

interface AuthOutcome {
  result: 'allow' | 'deny';
  status: string;
  status_msg: string;
}

/** One /auth request once its subject is loaded and the policy has decided. */
interface AuthLogin {
  app: Application;
  params: ParamMap;
  nowMs: number;
  subject: AuthSubject | undefined;
  user: User | undefined;
  decision: PolicyDecision;
  isAsync: boolean;
  access: Record<string, string | undefined>;
}

/**
 * What a factor step ends with: an outcome that `finish` counts (and stores for async=1) under the
 * factor's name, or a response already complete (a push's txid, or its awaited answer).
 */
type FactorRun = { outcome: AuthOutcome; factor: string } | { response: AuthResponse };

type ResolvedFactor =
  { kind: 'passcode'; passcode: string } | { kind: 'push' | 'phone' | 'sms'; device: Device };

/** What the user's devices can do now: which factors have providers, which are degraded. */
interface FactorContext {
  available: PhoneFactorsAvailable;
  /** Asked only by factor=auto, so a passcode login does not pay for the health report. */
  degraded: () => readonly string[];
  /** The policy's allowed factors, for factor=auto's pick. */
  allowed: readonly string[];
}

/**
 * What `factor` (and `device`, or Duo Unix's `factor=prompt&prompt=<token or passcode>`) asks for,
 * with the device it names; "no capable device" when the user has none for it. factor=auto picks
 * push, then a phone call, on the first capable device — a degraded factor only when nothing else
 * is left (per-factor health steers users away from it).
 */
function resolveFactor(params: ParamMap, subject: AuthSubject, f: FactorContext): ResolvedFactor {
  const factor = requireParam(params, 'factor');
  const can = (kind: 'push' | 'phone' | 'sms', d: Device) =>
    kind === 'push' ? canPush(d) : d.phoneNumber !== null && f.available[kind];
  const onDevice = (kind: 'push' | 'phone' | 'sms'): ResolvedFactor => {
    const wanted = param(params, 'device') ?? 'auto';
    const device =
      wanted === 'auto'
        ? subject.devices.find((d) => can(kind, d))
        : subject.devices.find((d) => d.id === wanted && can(kind, d));
    if (!device) throw new AirlockError('AUTH_NO_CAPABLE_DEVICE', 'no capable device');
    return { kind, device };
  };
  switch (factor) {
    case 'passcode':
      return { kind: 'passcode', passcode: requireParam(params, 'passcode') };
    case 'prompt': {
      const prompt = requireParam(params, 'prompt');
      const token = PROMPT_FACTOR_TOKEN.exec(prompt);
      if (!token) return { kind: 'passcode', passcode: prompt };
      const kind = token[1] === 'verified_push' ? 'push' : (token[1] as 'push' | 'phone' | 'sms');
      const device = subject.devices[Number(token[2]) - 1];
      if (!device || !can(kind, device)) {
        throw new AirlockError('AUTH_NO_CAPABLE_DEVICE', 'no capable device');
      }
      return { kind, device };
    }
    case 'auto': {
      const kinds = steerFactors(
        (['push', 'phone'] as const).filter((k) => f.allowed.includes(k)),
        f.degraded(),
      );
      for (const kind of kinds) {
        const device = subject.devices.find((d) => can(kind, d));
        if (device) return { kind, device };
      }
      throw new AirlockError('AUTH_NO_CAPABLE_DEVICE', 'no capable device');
    }
    case 'push':
    case 'phone':
    case 'sms':
      return onDevice(factor);
    default:
      throw new AirlockError('AUTH_INVALID_PARAMETERS', 'factor');
  }
}

function canPush(device: Device): boolean {
  return device.publicKeyJwk !== null;
}

/** What the authenticator shows: docs/design/auth-api.md §1.6's push fields, checked. */
function pushContext(app: Application, user: User, params: ParamMap): OobContext {
  const pushinfo = param(params, 'pushinfo') ?? '';
  if (pushinfo.length > 20_000) throw new AirlockError('AUTH_INVALID_PARAMETERS', 'pushinfo');
  const pairs = [...new URLSearchParams(pushinfo)].slice(0, 50);
  const text = (name: string, max: number) => {
    const v = param(params, name);
    if (v !== undefined && v.length > max) throw new AirlockError('AUTH_INVALID_PARAMETERS', name);
    return v;
  };
  return {
    application: app.name,
    username: user.username,
    displayUsername: text('display_username', 200) ?? user.username,
    type: text('type', 100) ?? 'Login request',
    ipaddr: text('ipaddr', 64) ?? null,
    hostname: text('hostname', 255) ?? null,
    pushinfo: pairs,
  };
}

function preauthResponse(
  decision: PolicyDecision,
  user: User | undefined,
  subject: AuthSubject | undefined,
  factors: { available: PhoneFactorsAvailable; degraded: readonly AuthFactor[]; nowMs: number },
  params: ParamMap,
  apiHost: string,
): PreauthResponse {
  const devices = subject?.devices ?? [];
  const base = { result: decision.result, status_msg: decision.statusMsg };
  if (decision.result === 'enroll') {
    return { ...base, enroll_portal_url: `https://${apiHost}/enroll` };
  }
  if (decision.result !== 'auth' || !user) return base;
  const nextSms = nextSmsCode(subject, factors.nowMs);
  const listed = devices.map((d): PreauthDevice => ({
    device: d.id,
    type: 'phone',
    number: maskPhoneNumber(d.phoneNumber),
    name: d.name,
    display_name: d.phoneNumber ? `${d.name} (${maskPhoneNumber(d.phoneNumber)})` : d.name,
    // Degraded factors last: clients that take the first capability take a healthy one.
    capabilities: steerFactors(
      allowedCapabilities(deviceCapabilities(d, factors.available), decision.allowedFactors),
      factors.degraded,
    ),
    ...(nextSms && nextSms.deviceId === d.id ? { sms_nextcode: nextSms.firstDigit } : {}),
  }));
  // "SMS is having problems — use push or a passcode." when one of the user's factors is degraded.
  const usable = new Set<AuthFactor>(['passcode']);
  for (const d of listed) {
    for (const c of d.capabilities) if (c === 'push' || c === 'sms' || c === 'phone') usable.add(c);
  }
  const steer = steerAwayMessage(factors.degraded, [...usable]);
  const response: PreauthResponse = {
    ...base,
    ...(steer ? { status_msg: steer } : {}),
    devices: listed,
  };
  if (param(params, 'text_prompt') === '1') {
    // Duo Unix prints `text` and sends back either a menu key from `factors` or a passcode.
    const factors: Record<string, string> = {};
    const lines: string[] = [];
    const menu: Record<string, string> = {};
    listed.forEach((d, i) => {
      for (const [kind, label] of [
        ['push', 'Push to'],
        ['phone', 'Phone call to'],
        ['sms', 'SMS passcodes to'],
      ] as const) {
        if (!d.capabilities.includes(kind)) continue;
        const key = String(lines.length + 1);
        menu[key] = `${kind}${i + 1}`;
        lines.push(` ${key}. ${label} ${d.display_name}`);
      }
    });
    // Autopush's default: the first healthy push or call.
    const first = Object.values(menu).find((t) => !t.startsWith('sms'));
    Object.assign(factors, menu, first ? { default: first } : {});
    response.prompt = {
      text:
        `Airlock two-factor login for ${user.username}\n\n` +
        (lines.length > 0
          ? `Enter a passcode or select one of the following options:\n\n${lines.join('\n')}\n\nPasscode or option (1-${lines.length}): `
          : 'Enter a passcode: '),
      factors,
    };
  }
  return response;
}

/**
 * The capabilities the policy's allowed factors leave: a factor the application does not allow is
 * not offered (`mobile_otp` is a passcode; `auto` stays while push or phone does).
 */
function allowedCapabilities(
  capabilities: readonly DeviceCapability[],
  allowed: readonly string[],
): DeviceCapability[] {
  const kept = capabilities.filter((c) =>
    c === 'auto' ? false : c === 'mobile_otp' ? allowed.includes('passcode') : allowed.includes(c),
  );
  return kept.includes('push') || kept.includes('phone') ? ['auto', ...kept] : kept;
}

/** The SMS passcode to use next (lowest number, unexpired): preauth's sms_nextcode. */
function nextSmsCode(subject: AuthSubject | undefined, nowMs: number) {
  return subject?.smsPasscodes
    .filter((c) => c.expiresAtMs > nowMs)
    .sort((a, b) => a.seq - b.seq)[0];
}

function parseValidSeconds(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1 || n > 31_536_000) {
    throw new AirlockError('AUTH_INVALID_PARAMETERS', 'valid_secs');
  }
  return n;
}

/** Where a second factor comes from: the application, and the end user's IP when it gives one. */
function failureSource(app: Application, ipaddr: string | undefined): FailureSource {
  const ip = ipaddr?.trim().toLowerCase();
  return { appId: app.id, ip: ip === undefined || ip === '' ? null : ip };
}

function accessContext(clientIp: string, params: ParamMap): Record<string, string | undefined> {
  return { ipaddr: param(params, 'ipaddr'), hostname: param(params, 'hostname'), clientIp };
}

function audit(
  app: Application,
  nowMs: number,
  action: string,
  user: User | undefined,
  result: string,
  detail: Record<string, unknown>,
) {
  const { username, ...rest } = detail;
  return {
    tsMs: nowMs,
    actor: `app:${app.ikey}`,
    action,
    targetType: user ? 'user' : null,
    targetId: user?.id ?? null,
    appId: app.id,
    username: user?.username ?? (typeof username === 'string' ? username : null),
    result,
    ip: typeof rest.ipaddr === 'string' ? rest.ipaddr : null,
    detail: rest,
  };
}

/** Whether a name already means a user (or several): either way /enroll may not create it. */
async function findUserOrAmbiguous(store: Store, username: string, app: Application) {
  try {
    return (await store.findUser(username, app.usernameNormalization)) !== undefined;
  } catch (err) {
    if (isStoreError(err, 'STORE_AMBIGUOUS_USERNAME')) return true;
    throw err;
  }
}
