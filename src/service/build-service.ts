// Builds the service's Fastify app from its dependencies; only bin code listens.
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { EMERGENCY_DEFAULT_LIMITS, type EmergencyLimits } from '../core/emergency-control.ts';
import { AirlockError, isAirlockError } from '../core/error-registry.ts';
import { isLoopbackHost } from '../core/loopback-host.ts';
import { TokenBuckets } from '../core/token-bucket.ts';
import { DEFAULT_LOCKOUT_DURATION_SECONDS } from '../core/lockout.ts';
import { DEFAULT_SOURCE_LIMITS, SourceFailureLimits } from '../core/source-limits.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Random } from '../runtime/random.ts';
import type { SyslogSender } from '../runtime/syslog-sender.ts';
import { httpPost, type HttpPost } from '../runtime/http-post.ts';
import type { MailSender } from '../runtime/mail-sender.ts';
import { loginBudgetStore } from '../store/memory-rate-buckets.ts';
import type { Store } from '../store/store.ts';
import { WriteBatcher } from '../store/write-batcher.ts';
import { DEFAULT_ADMIN_OPTIONS, type AdminOptions } from './admin/admin-context.ts';
import type { AdminExtensions } from './admin/admin-extensions.ts';
import { registerAdmin } from './admin/admin-routes.ts';
import { createPolicyExtensions } from './admin/policy-extensions.ts';
import { ApplicationCache } from './auth-api/application-cache.ts';
import type { AuthApiContext, AuthApiOptions } from './auth-api/auth-api-context.ts';
import { createAuthApiMetrics } from './auth-api/auth-api-metrics.ts';
import { registerAuthApiRoutes } from './auth-api/auth-api-routes.ts';
import { registerRestV1Routes } from './auth-api/rest-v1-routes.ts';
import { createLocalAuthApi, type LocalAuthApi } from './auth-api/local-auth-api.ts';
import { createPreauthAuthStep, registerPreauthAuthRoute } from './auth-api/preauth-auth-route.ts';
import { sendFail } from './auth-api/envelope.ts';
import { FactorHealthBoard } from '../core/factor-health.ts';
import { createProviders, type FactorsConfig } from '../factors/factors-config.ts';
import { verifyTwilioSignature } from '../factors/twilio-signature.ts';
import { generateId } from '../runtime/random.ts';
import { registerAuthenticatorWeb } from './authenticator-web-routes.ts';
import { registerFactorStatus, registerProviderCallbacks } from './push/provider-routes.ts';
import { PhoneFlow } from './push/phone-flow.ts';
import { registerEnrollmentPages } from './enrollment-pages.ts';
import { createAuditFollower } from './audit-follower.ts';
import { createAuditForwarder } from './siem/audit-forwarder.ts';
import { createIncidentNotifier, type IncidentNotifier } from './status/incident-notifier.ts';
import {
  DEFAULT_STATUS_PAGE_OPTIONS,
  registerStatusRoutes,
  type StatusPageOptions,
} from './status/status-routes.ts';
import { AccessDecision } from './policy/access-decision.ts';
import { buildServiceOpenApiDocument, SERVICE_OPENAPI_PATH } from './service-openapi.ts';
import { createSerializerCompiler } from './response-serializer.ts';
import { EmergencyRunner } from '../operations/emergency-runner.ts';
import type { DrPlanSection } from '../operations/dr-plan.ts';
import { registerDeviceRoutes } from './push/device-routes.ts';
import { OobHub } from './push/oob-hub.ts';
import { DEFAULT_PUSH_OPTIONS, PushFlow } from './push/push-flow.ts';
import { registerOAuthRoutes } from './prompt/oauth-routes.ts';
import { createPromptAuthApi } from './prompt/prompt-auth-api.ts';
import type { PromptContext } from './prompt/prompt-context.ts';
import { registerPromptRoutes } from './prompt/prompt-routes.ts';

export interface ServiceDeps {
  store: Store;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** Key for hashing bypass codes; derived from the secret key. */
  bypassPepper: Buffer;
  /**
   * Policies and emergency controls for the Admin API and console; default: the service's own
   * engine (createPolicyExtensions). `{}` leaves them out (the routes answer 501).
   */
  adminExtensions?: AdminExtensions;
  /** The SIEM output (`airlock serve --syslog-target`): audit events as RFC 5424 syslog. */
  siem?: SyslogSender;
  /** SMTP for the status page's e-mail subscribers (`serve --smtp`); none = e-mail skipped. */
  statusMail?: MailSender;
  /** Sends the status page's webhooks; default `httpPost` over fetch. */
  post?: HttpPost;
}

export interface ServiceOptions extends AuthApiOptions {
  /** How long an application's credentials are cached (CLI changes apply within this time). */
  applicationCacheTtlMs: number;
  /** How long policies and emergency controls are cached (changes apply within this time). */
  policyCacheTtlMs: number;
  /** Largest request body accepted. */
  bodyLimitBytes: number;
  /**
   * Addresses or CIDRs of the TLS terminator (`serve --trust-proxy`): X-Forwarded-For is honoured
   * from these peers only, and `req.ip` is then the forwarded client. Undefined = never honoured.
   */
  trustProxy?: readonly string[] | undefined;
  /** TLS material; undefined = plain HTTP (loopback or behind a TLS terminator only). */
  https: { cert: string; key: string } | undefined;
  /** Longest long poll of GET /device/v1/requests. */
  deviceMaxWaitSeconds: number;
  pushTimeoutSeconds: number;
  pushRatePerMinute: number;
  pushBurst: number;
  /** SMS / voice providers and health thresholds (factors.json); undefined = none configured. */
  factors?: FactorsConfig | undefined;
  /** `host:port` in the provider callback URLs; default `apiHost`. Read per call. */
  callbackHost?: string | undefined;
  /**
   * How often expired pushes are swept to `timeout` and emergency controls past their expiry are
   * reverted (0 = never; tests sweep by hand). Due controls are also reverted at start-up.
   */
  sweepIntervalMs: number;
  /** The public status page (docs/status-page.md). */
  statusPage?: StatusPageOptions | undefined;
  /** Signs the status page's webhooks; '' or undefined = unsigned. */
  statusWebhookSecret?: string | undefined;
  /** Proxy sections the console's DR plan shows (`serve --proxy-config`). */
  proxySections?: readonly DrPlanSection[] | undefined;
  /** How often new audit events are sent to the SIEM (with `deps.siem`). */
  siemIntervalMs: number;
  /** Admin API and console: sessions, login limits, whether the console is served. */
  admin: AdminOptions;
  /**
   * The longest (and default) duration of an emergency control, for the runner behind the Admin
   * API and the console: what `airlock serve` reads from AIRLOCK_EMERGENCY_MAX_DURATION, as the
   * `airlock emergency` commands do (config/emergency-limits.ts). Default: 24 hours (1 hour).
   */
  emergencyLimits?: EmergencyLimits | undefined;
}

export const DEFAULT_SERVICE_OPTIONS = {
  dateWindowSeconds: 300,
  authStatusWaitSeconds: 20,
  deviceMaxWaitSeconds: 30,
  pushTimeoutSeconds: DEFAULT_PUSH_OPTIONS.pushTimeoutSeconds,
  pushRatePerMinute: DEFAULT_PUSH_OPTIONS.pushRatePerMinute,
  pushBurst: DEFAULT_PUSH_OPTIONS.pushBurst,
  sweepIntervalMs: 1_000,
  siemIntervalMs: 1_000,
  lockoutThreshold: 10,
  lockoutDurationSeconds: DEFAULT_LOCKOUT_DURATION_SECONDS,
  sourceLimits: DEFAULT_SOURCE_LIMITS,
  enrollValidSeconds: 86_400,
  rateLimitBurstFactor: 2,
  applicationCacheTtlMs: 1_000,
  policyCacheTtlMs: 1_000,
  bodyLimitBytes: 64 * 1024,
  admin: DEFAULT_ADMIN_OPTIONS,
} as const;

/** A route as Fastify registered it, with the response schemas it serializes with. */
export interface ServedRoute {
  method: string;
  url: string;
  /** `schema.response` by status (`200`, `4xx`, …); undefined when the route declares none. */
  response: Record<string, unknown> | undefined;
}

export interface Service {
  server: FastifyInstance;
  /** Every route the app serves, as registered (the OpenAPI documents are checked against it). */
  routes: readonly ServedRoute[];
  metrics: Registry;
  /** The Auth API in-process, for a proxy in this process (local-auth-api.ts). */
  localAuthApi: LocalAuthApi;
  push: PushFlow;
  hub: OobHub;
  /** Policies and emergency overlays as logins see them. */
  access: AccessDecision;
  /** Starts and reverts emergency controls; `sweep()` reverts the due ones. */
  emergencies: EmergencyRunner;
  /** Delivery health per (factor, provider). */
  factorHealth: FactorHealthBoard;
  phone: PhoneFlow;
  /** Tells status subscribers of incident changes; `deliverOnce()` runs one pass. */
  incidentNotifier: IncidentNotifier;
}

/** How long the result stream's events are kept for a reconnecting stream (docs/multi-node.md). */
export const RESULT_EVENTS_KEEP_MS = 10 * 60_000;
/** Shared push budgets untouched this long (or twice their refill time) are forgotten. */
const RATE_BUCKETS_KEEP_MS = 60 * 60_000;

export function buildService(deps: ServiceDeps, options: ServiceOptions): Service {
  const server = Fastify({
    loggerInstance: deps.logger,
    // Per-request lines off: outcomes go to the audit log, rejections are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    // Only the terminator's own addresses: every audit record, login limit, policy network rule and
    // the /metrics check below read the client's address from req.ip.
    ...(options.trustProxy?.length ? { trustProxy: [...options.trustProxy] } : {}),
    ...(options.https ? { https: { cert: options.https.cert, key: options.https.key } } : {}),
  }) as unknown as FastifyInstance;
  // Request schemas (querystring, path parameters) are TypeBox declarations, checked by TypeBox.
  server.setValidatorCompiler(TypeBoxValidatorCompiler);
  server.setSerializerCompiler(
    createSerializerCompiler((m) => {
      deps.logger.error(
        { method: m.method, url: m.url, status: m.httpStatus, err: m.error },
        'answer does not fit its response schema; written unchecked',
      );
    }),
  );
  const routes: ServedRoute[] = [];
  server.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      routes.push({
        method,
        url: route.url,
        response: (route.schema as { response?: Record<string, unknown> } | undefined)?.response,
      });
    }
  });
  const metrics = new Registry();
  const authApiMetrics = createAuthApiMetrics(metrics);

  // Bodies are kept raw: signature v4/v5 hash the bytes exactly as received.
  server.removeAllContentTypeParsers();
  server.addContentTypeParser(
    ['application/x-www-form-urlencoded', 'application/json'],
    { parseAs: 'buffer' },
    (_req, body, done) => done(null, body),
  );

  server.setErrorHandler((error: FastifyError | AirlockError, req, reply) => {
    const airlockError = toAirlockError(error);
    authApiMetrics.rejections.inc({ reason: airlockError.code });
    if (airlockError.status >= 500) req.log.error({ err: error }, 'request failed');
    else
      req.log.warn(
        {
          code: airlockError.code,
          detail: airlockError.detail,
          path: req.url.split('?')[0] /* never the query: it may hold a passcode */,
        },
        'request rejected',
      );
    const retryAfter = retryAfterOf(airlockError);
    if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter));
    return sendFail(reply, airlockError);
  });
  server.setNotFoundHandler((_req, reply) => sendFail(reply, new AirlockError('AUTH_NOT_FOUND')));

  const writes = new WriteBatcher(deps.store);
  const rateLimits = new TokenBuckets();
  const hub = new OobHub({
    clock: deps.clock,
    store: deps.store,
    onError: (err) => deps.logger.error({ err }, 'push wake-ups or result stream failed'),
    onHeld: (heldMs) =>
      deps.logger.warn(
        { heldMs },
        'result stream held back by an older open PostgreSQL transaction (a long BEGIN, an import, even in another database of the server): results reach the streams when it ends; see pg_stat_activity (docs/multi-node.md)',
      ),
  });
  // The result stream's head and the other nodes' wake-ups, before the first request.
  server.addHook('onReady', async () => {
    await hub.start();
  });
  server.addHook('onClose', (_instance, done) => {
    hub.stop();
    done();
  });
  const access = new AccessDecision(deps.store, deps.clock, options.policyCacheTtlMs);
  const emergencies = new EmergencyRunner({
    store: deps.store,
    clock: deps.clock,
    random: deps.random,
    logger: deps.logger,
    limits: options.emergencyLimits ?? EMERGENCY_DEFAULT_LIMITS,
    onChange: () => access.invalidate(),
  });
  // A restart loses no revert: controls that expired while the service was down end before it serves.
  server.addHook('onReady', async () => {
    await emergencies.sweep();
  });
  const factorHealth = new FactorHealthBoard(options.factors?.health ?? {});
  const providers = options.factors
    ? createProviders(options.factors, {
        clock: deps.clock,
        newId: () => generateId(deps.random, 'MS'),
        health: factorHealth,
      })
    : { sms: undefined, phone: undefined };
  const phoneSettings = options.factors?.phone;
  // One budget for pushes, calls and SMS: in the database only when other nodes share it.
  const budgets = loginBudgetStore(deps.store);
  const phone = new PhoneFlow({
    store: deps.store,
    budgets,
    writes,
    clock: deps.clock,
    random: deps.random,
    hub,
    bypassPepper: deps.bypassPepper,
    providers,
    // Twilio signs its callbacks with the auth token; other providers rely on the URL's secret.
    ...(phoneSettings?.provider === 'twilio'
      ? {
          verifyCallbackSignature: (
            url: string,
            params: URLSearchParams,
            header: string | undefined,
          ) => verifyTwilioSignature(phoneSettings.authToken, url, params, header),
        }
      : {}),
    options: {
      apiHost: () => options.callbackHost ?? options.apiHost,
      smsPasscodeCount: options.factors?.smsPasscodes.count ?? 10,
      smsPasscodeValidSeconds: options.factors?.smsPasscodes.validSeconds ?? 3600,
      callTimeoutSeconds: options.pushTimeoutSeconds,
      ratePerMinute: options.pushRatePerMinute,
      burst: options.pushBurst,
    },
  });
  const push = new PushFlow({
    store: deps.store,
    budgets,
    writes,
    clock: deps.clock,
    random: deps.random,
    hub,
    onUndelivered: (factor) =>
      factorHealth.record(factor, 'authenticator', 'failed', 0, deps.clock.nowMs()),
    // Derived from the bypass-code pepper: a service secret every node of one database shares.
    loginKeySecret: createHmac('sha256', deps.bypassPepper).update('airlock login key').digest(),
    options: {
      pushTimeoutSeconds: options.pushTimeoutSeconds,
      pushRatePerMinute: options.pushRatePerMinute,
      pushBurst: options.pushBurst,
      lockoutThreshold: options.lockoutThreshold,
      lockoutDurationSeconds: options.lockoutDurationSeconds,
    },
  });
  const authApi: AuthApiContext = {
    store: deps.store,
    writes,
    clock: deps.clock,
    random: deps.random,
    logger: deps.logger,
    applications: new ApplicationCache(deps.store, deps.clock, options.applicationCacheTtlMs),
    access,
    rateLimits,
    sourceLimits: new SourceFailureLimits(options.sourceLimits),
    metrics: authApiMetrics,
    bypassPepper: deps.bypassPepper,
    push,
    phone,
    factorHealth,
    options,
  };
  const authApiSteps = registerAuthApiRoutes(server, authApi);
  registerRestV1Routes(server, authApi, authApiSteps);
  const preauthAuth = createPreauthAuthStep(authApiSteps);
  registerPreauthAuthRoute(authApiSteps, preauthAuth);
  // A co-located proxy's transport (`airlock start`): the same steps without TLS, HTTP, signing.
  const localAuthApi = createLocalAuthApi(authApi, authApiSteps, preauthAuth);
  server.addHook('onClose', (_instance, done) => {
    localAuthApi.close();
    done();
  });
  registerDeviceRoutes(server, {
    store: deps.store,
    writes,
    clock: deps.clock,
    random: deps.random,
    hub,
    push,
    options: {
      dateWindowSeconds: options.dateWindowSeconds,
      maxWaitSeconds: options.deviceMaxWaitSeconds,
    },
    onDelivered: (request, latencyMs) =>
      factorHealth.record('push', 'authenticator', 'delivered', latencyMs, deps.clock.nowMs()),
  });
  registerProviderCallbacks(server, {
    phone,
    clock: deps.clock,
    apiHost: () => options.callbackHost ?? options.apiHost,
  });
  registerFactorStatus(server, metrics, factorHealth, deps.clock);
  if (options.sweepIntervalMs > 0) {
    let sweeps = 0;
    const refillMs = (options.pushBurst / Math.max(options.pushRatePerMinute, 1e-9)) * 60_000;
    const budgetKeepMs = Math.max(RATE_BUCKETS_KEEP_MS, 2 * refillMs);
    const timer = setInterval(() => {
      push.sweep(deps.clock.nowMs()).catch((err: unknown) => {
        deps.logger.error({ err }, 'push expiry sweep failed');
      });
      emergencies.sweep().catch((err: unknown) => {
        deps.logger.error({ err }, 'emergency control sweep failed');
      });
      // A signal lost between nodes delays a stream's result by one sweep at most.
      void hub.pollResults();
      // Expired Web SDK records (used jtis and states, ended logins) need no hurry: every 60th.
      if (++sweeps % 60 === 0) {
        deps.store.purgeExpiredPromptRecords(deps.clock.nowMs()).catch((err: unknown) => {
          deps.logger.error({ err }, 'web sdk record sweep failed');
        });
        // A result stream resumes within this window after a reconnect (docs/multi-node.md).
        deps.store
          .pruneResultEvents(deps.clock.nowMs() - RESULT_EVENTS_KEEP_MS)
          .catch((err: unknown) => {
            deps.logger.error({ err }, 'result event sweep failed');
          });
        // Only budgets that have refilled are forgotten (forgetting those changes nothing).
        budgets.pruneRateBuckets(deps.clock.nowMs() - budgetKeepMs).catch((err: unknown) => {
          deps.logger.error({ err }, 'push budget sweep failed');
        });
      }
    }, options.sweepIntervalMs);
    timer.unref();
    server.addHook('onClose', (_instance, done) => {
      clearInterval(timer);
      done();
    });
  }
  // Web SDK v4: the OIDC endpoints and the hosted prompt (docs/web-sdk.md).
  const promptContext: PromptContext = {
    store: deps.store,
    clock: deps.clock,
    random: deps.random,
    logger: deps.logger,
    authApi: createPromptAuthApi(server, { clock: deps.clock, apiHost: () => options.apiHost }),
    factorHealth,
    options: { apiHost: () => options.apiHost, allowedHosts: options.allowedHosts },
  };
  registerOAuthRoutes(server, promptContext);
  registerPromptRoutes(server, promptContext);
  const statusPage = options.statusPage ?? DEFAULT_STATUS_PAGE_OPTIONS;
  registerStatusRoutes(server, {
    store: deps.store,
    clock: deps.clock,
    factorHealth,
    apiHost: () => options.apiHost,
    options: statusPage,
  });
  const incidentNotifier = followAuditLog(server, deps, options);
  registerEnrollmentPages(server);
  registerAuthenticatorWeb(server);
  registerAdmin(server, {
    store: deps.store,
    clock: deps.clock,
    random: deps.random,
    logger: deps.logger,
    bypassPepper: deps.bypassPepper,
    loginLimiter: new TokenBuckets(),
    extensions:
      deps.adminExtensions ??
      createPolicyExtensions({
        store: deps.store,
        clock: deps.clock,
        random: deps.random,
        bypassPepper: deps.bypassPepper,
        emergencies,
        access,
      }),
    options: options.admin,
    dateWindowSeconds: options.dateWindowSeconds,
    allowedHosts: options.allowedHosts,
    apiHost: () => options.apiHost,
    proxySections: options.proxySections,
  });

  // Metrics only for loopback callers: a scraper runs beside the service (or behind its own proxy).
  const trusted = Boolean(options.trustProxy?.length);
  server.get('/metrics', async (req, reply) => {
    if (!metricsCallerAllowed(req.ip, req.headers, trusted)) {
      throw new AirlockError('AUTH_NOT_FOUND');
    }
    return reply.type(metrics.contentType).send(await metrics.metrics());
  });
  const openApi = JSON.stringify(buildServiceOpenApiDocument());
  server.get(SERVICE_OPENAPI_PATH, async (_req, reply) =>
    reply.type('application/json').send(openApi),
  );
  return {
    server,
    routes,
    metrics,
    localAuthApi,
    push,
    hub,
    access,
    emergencies,
    factorHealth,
    phone,
    incidentNotifier,
  };
}

/**
 * A local scraper: the client's address (the forwarded one behind a trusted terminator) is a
 * loopback address. Without --trust-proxy a request carrying a forwarding header came through a
 * proxy, so its loopback peer says nothing about the client: refused.
 */
function metricsCallerAllowed(
  ip: string,
  headers: Record<string, string | string[] | undefined>,
  trustProxy: boolean,
): boolean {
  // An address, not a name: a forwarded "localhost" is no proof of anything.
  if (isIP(ip) === 0 || !isLoopbackHost(ip)) return false;
  if (trustProxy) return true;
  return ['x-forwarded-for', 'forwarded', 'x-real-ip'].every((h) => headers[h] === undefined);
}

function toAirlockError(error: FastifyError | AirlockError): AirlockError {
  if (isAirlockError(error)) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AirlockError('AUTH_BODY_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AirlockError('AUTH_UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AirlockError('AUTH_INVALID_PARAMETERS', 'body');
  }
  if (error.validation) {
    // A request schema refused it: name the parameter, as the handlers' own checks do.
    const first = error.validation[0];
    const name = first?.instancePath.replace(/^\//, '').split('/')[0];
    return new AirlockError('AUTH_INVALID_PARAMETERS', name || error.validationContext);
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new AirlockError('AUTH_INVALID_PARAMETERS', error.message);
  }
  return new AirlockError('AUTH_INTERNAL', undefined, { cause: error });
}

function retryAfterOf(error: AirlockError): number | undefined {
  const cause = error.cause as { retryAfterSeconds?: unknown } | undefined;
  return typeof cause?.retryAfterSeconds === 'number' ? cause.retryAfterSeconds : undefined;
}

/**
 * The audit log's one follower and its subscribers: the status page's notifier, and the SIEM
 * output with `deps.siem`. It runs every `siemIntervalMs` with a SIEM, else every
 * `sweepIntervalMs` (0 = by hand: `deliverOnce()`); the last events go out when the server closes.
 */
function followAuditLog(
  server: FastifyInstance,
  deps: ServiceDeps,
  options: ServiceOptions,
): IncidentNotifier {
  const follower = createAuditFollower({
    store: deps.store,
    clock: deps.clock,
    onError: (subscriber, err) => deps.logger.error({ err }, `${subscriber} failed`),
  });
  const incidentNotifier = createIncidentNotifier({
    store: deps.store,
    follower,
    post: deps.post ?? httpPost,
    mail: deps.statusMail,
    webhookSecret: options.statusWebhookSecret ?? '',
    pageUrl: () => `https://${options.apiHost}/status`,
    onProblem: (message) => deps.logger.warn(message),
  });
  const siem = deps.siem ? createAuditForwarder(deps.siem) : undefined;
  if (siem) follower.subscribe(siem);
  const intervalMs = siem ? options.siemIntervalMs : options.sweepIntervalMs;
  if (intervalMs > 0) follower.start(intervalMs);
  server.addHook('onClose', async () => {
    await follower.stop();
    await siem?.close();
    incidentNotifier.close();
  });
  return incidentNotifier;
}
