// Assembles the authentication proxy from a loaded authproxy.cfg: logs, metrics, alerts, primary
// authenticators, Auth API clients, primary-only watcher, one RADIUS server per server section,
// and the admin endpoint.
import { hostname as osHostname } from 'node:os';
import { Registry } from 'prom-client';
import type { AuthApiClient, AuthParams } from '../client/auth-api-client.ts';
import { apiHostsHealthStatus, startStatusReporter } from '../client/health-reporter.ts';
import type {
  ResilienceEvent,
  ResilientAuthApiClient,
} from '../client/resilient-auth-api-client.ts';
import { createSectionApiClient, describeResilienceEvent } from '../client/section-api-client.ts';
import {
  ConfigError,
  type AuthProxyConfig,
  type ClientConfig,
  type ServerConfig,
} from '../config/authproxy-config.ts';
import { isLoopbackHost } from '../core/loopback-host.ts';
import type { PrimaryOnlyState } from '../core/primary-only.ts';
import type { Clock } from '../runtime/clock.ts';
import { httpPost, unrefSleep, type HttpPost } from '../runtime/http-post.ts';
import type { Random } from '../runtime/random.ts';
import { openSyslogOutput } from '../runtime/syslog-sender.ts';
import { startAdminServer, type AdminServer, type ProxyStatus } from './admin-server.ts';
import { createAlertSender, type AlertSender } from './alerts.ts';
import { ChallengeStore } from './challenge-store.ts';
import { PushWaiter } from './push-waiter.ts';
import { createLoginFlow, type LoginAnswer, type LoginFlow } from './login-flow.ts';
import { startLdapServer, type LdapServer } from './ldap-server.ts';
import { createLdapUpstreamOpener } from './ldap-upstream.ts';
import { createAdClientPrimary } from './primary/ad-client-primary.ts';
import type { LdapDirectory } from './primary/ldap-primary.ts';
import type { PrimaryAuthenticator } from './primary/primary-authenticator.ts';
import { createRadiusPrimary } from './primary/radius-primary.ts';
import { PrimaryOnlyWatcher } from './primary-only-switch.ts';
import { openProxyLogs, type AuthEvent, type ProxyLogs } from './proxy-logs.ts';
import {
  BREAKER_STATE_VALUES,
  createProxyMetrics,
  type ProxyMetrics,
  type RequestResult,
} from './proxy-metrics.ts';
import { startRadiusServer, type RadiusServer } from './radius-server.ts';
import { restartOnlyChanges, type ReloadOutcome } from './reload-plan.ts';
import { withSiemOutput } from './siem-output.ts';
import { hostClientFactory, type CoLocatedService } from './api-transport.ts';

export const PROXY_NAME = 'Airlock Authentication Proxy';

export interface RunningProxy {
  /** One per server section, in file order: RADIUS, or LDAP (`protocol: 'ldap'`). */
  servers: Array<RadiusServer | LdapServer>;
  metrics: Registry;
  logs: ProxyLogs;
  primaryOnly: PrimaryOnlyWatcher;
  /** Where `GET /status` and `GET /metrics` answer (`[main] admin_listen`, port 0 resolved). */
  adminAddress: { address: string; port: number };
  alerts: AlertSender;
  /**
   * Applies a new configuration to new logins; logins in flight finish on the one they started
   * with. Refused, changing nothing, when it needs a restart (restartOnlyChanges) or its
   * primaries cannot be set up.
   */
  reload(next: AuthProxyConfig): Promise<ReloadOutcome>;
  /** Reads the configuration again with `ProxyDeps.loadConfig` and reloads it (SIGHUP, POST /reload). */
  reloadFromSource(): Promise<ReloadOutcome>;
  close(): Promise<void>;
}

export interface ProxyDeps {
  clock: Clock;
  random: Random;
  version: string;
  /** Sends webhook alerts; default: `httpPost` over fetch. */
  post?: HttpPost;
  /** Waits between webhook attempts; default: an unref()ed timer. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Reads the configuration file again for a reload; throws ConfigError listing every problem.
   * Without it, `reloadFromSource` refuses.
   */
  loadConfig?: () => AuthProxyConfig;
  /** The service in this process (`airlock start`): its API hosts get the in-process transport. */
  coLocated?: CoLocatedService;
}

/** How often failmode alerts held back by the rate limit are looked at. */
const FAILMODE_FLUSH_INTERVAL_MS = 5_000;

export async function startProxy(config: AuthProxyConfig, deps: ProxyDeps): Promise<RunningProxy> {
  const { clock } = deps;
  // A login writes several lines within one millisecond: format each millisecond once.
  let isoMs = Number.NaN;
  let iso = '';
  const nowIso = () => {
    const ms = clock.nowMs();
    if (ms !== isoMs) {
      isoMs = ms;
      iso = new Date(ms).toISOString();
    }
    return iso;
  };
  const fileLogs = openProxyLogs({
    logDir: config.main.logDir,
    maxSizeBytes: config.main.logMaxSizeBytes,
    maxFiles: config.main.logMaxFiles,
    authEvents: config.main.logAuthEvents,
    stdout: config.main.logStdout,
    nowIso,
  });
  const logs = openSiemOutput(config, fileLogs, clock, nowIso);
  for (const warning of config.warnings) logs.line(`WARNING: ${warning}`);
  const startedAtMs = clock.nowMs();

  const metrics = new Registry();
  const proxyMetrics = createProxyMetrics(metrics);
  const alerts = createAlertSender({
    urls: config.main.alertWebhookUrls,
    secret: config.main.alertWebhookSecret,
    post: deps.post ?? httpPost,
    sleep: deps.sleep ?? unrefSleep,
    clock,
    hostname: osHostname(),
    counters: { sent: proxyMetrics.alertsSent, dropped: proxyMetrics.alertsDropped },
    onProblem: (message) => logs.line(`WARNING: ${message}`),
  });

  const primaryOnly = new PrimaryOnlyWatcher({
    stateDir: config.main.stateDir,
    clock,
    onChange: (state, previous) =>
      reportPrimaryOnlyChange(logs, alerts, proxyMetrics, state, previous),
  });
  const initial = primaryOnly.initialState();
  proxyMetrics.primaryOnly.set(initial.active ? 1 : 0);
  if (initial.active) {
    logs.line(
      `Running in PRIMARY ONLY mode. Stopping in ${Math.ceil(initial.remainingMs / 60_000)} minutes (enabled by ${initial.record.actor}: ${initial.record.reason})`,
    );
  }
  primaryOnly.start();

  const challenges = new ChallengeStore(clock);
  const shared: SharedParts = { deps, logs, alerts, proxyMetrics, primaryOnly, challenges };
  const servers: Array<RadiusServer | LdapServer> = [];
  let generation: Generation | undefined;
  let admin: AdminServer | undefined;
  let live = config;
  /** Generations replaced by a reload that still run logins. */
  const retiring = new Set<Generation>();

  const close = async () => {
    primaryOnly.stop();
    await admin?.close();
    await Promise.all(servers.map((s) => s.close()));
    // Stopping: nothing waits for logins in flight (they get no answer, as before reloads existed).
    await Promise.all([generation, ...retiring].map((g) => g?.close() ?? Promise.resolve()));
    alerts.close();
    await logs.close();
  };

  const applyReload = (next: AuthProxyConfig): ReloadOutcome => {
    const errors = restartOnlyChanges(live, next);
    if (errors.length > 0) return refuseReload(logs, errors);
    let fresh: Generation;
    try {
      fresh = buildGeneration(next, shared);
    } catch (e) {
      return refuseReload(logs, [(e as Error).message]);
    }
    const previous = generation;
    generation = fresh;
    live = next;
    for (const warning of next.warnings) logs.line(`WARNING: ${warning}`);
    logs.line(
      `Configuration reloaded: ${next.servers.map((s) => `[${s.section}] failmode=${s.failmode}`).join(', ')}; logins in flight finish on the previous configuration`,
    );
    // Closed once its last login in flight has answered.
    if (previous) {
      retiring.add(previous);
      void previous.retire().then(() => retiring.delete(previous));
    }
    return { ok: true, sections: next.servers.map((s) => s.section) };
  };

  const reload = (next: AuthProxyConfig) => Promise.resolve(applyReload(next));

  const reloadFromSource = async (): Promise<ReloadOutcome> => {
    if (deps.loadConfig === undefined) {
      return refuseReload(logs, ['this proxy was started without a configuration file']);
    }
    let next: AuthProxyConfig;
    try {
      next = deps.loadConfig();
    } catch (e) {
      const errors = e instanceof ConfigError ? [...e.errors] : [(e as Error).message];
      return refuseReload(logs, errors);
    }
    return reload(next);
  };

  try {
    generation = buildGeneration(config, shared);
    const current = (name: string) => generation!.sections.get(name)!;
    for (const section of config.servers) {
      const failmodeText = `failmode=${section.failmode}${section.failmodeExplicit ? '' : ' (default)'}`;
      if (section.kind === 'ldap') {
        const server = await startLdapServer({
          section,
          // The current generation's directory and flows: a reload reaches new binds.
          directory: currentDirectory(() => current(section.section).directory!),
          // The bind on the client's own directory connection is the primary authentication.
          flowFor: (bindPrimary) => current(section.section).flowFor!(bindPrimary),
          openUpstream: createLdapUpstreamOpener(section.client, clock),
          logs: countingLogs(logs, alerts, proxyMetrics),
          metrics: proxyMetrics,
        });
        servers.push(server);
        logs.line(
          `[${section.section}] listening for LDAP on ${server.address.address}:${server.address.port}${server.sslAddress ? ` and LDAPS on ${server.sslAddress.address}:${server.sslAddress.port}` : ''}; directory: [${section.clientSection}]; ${failmodeText}; service: ${section.apiAuthority}`,
        );
        continue;
      }
      const server = await startRadiusServer({
        section,
        flow: generation.sections.get(section.section)!.flow,
        current: () => generation!.sections.get(section.section)!,
        logs,
        metrics: proxyMetrics,
        clock,
      });
      servers.push(server);
      logs.line(
        `[${section.section}] listening for RADIUS on ${server.address.address}:${server.address.port}; primary: [${section.clientSection}]; ${failmodeText}; service: ${section.apiAuthority}`,
      );
    }
    const listen = config.main.adminListen;
    if (!isLoopbackHost(listen.host)) {
      // Explicitly configured, so honoured; but /status and /metrics have no authentication.
      logs.line(
        `WARNING: [main] admin_listen ${listen.host}:${listen.port} is not a loopback address: /status and /metrics are readable, without authentication, by anyone who can reach it`,
      );
    }
    admin = await startAdminServer({
      listen,
      metrics,
      status: (): ProxyStatus => ({
        proxy: {
          version: deps.version,
          startedAt: new Date(startedAtMs).toISOString(),
          primaryOnly: primaryOnlyStatus(primaryOnly.state()),
        },
        sections: servers.map((server) => {
          const { section, api } = generation!.sections.get(server.section)!;
          return {
            section: section.section,
            failmode: section.failmode,
            listening: `${server.address.address}:${server.address.port}`,
            apiHosts: api.health(),
          };
        }),
      }),
      reload: reloadFromSource,
    });
    logs.line(
      `Admin endpoint: http://${admin.address.address.includes(':') ? `[${admin.address.address}]` : admin.address.address}:${admin.address.port}/status and /metrics`,
    );
  } catch (e) {
    await close();
    throw e;
  }
  const reporter = startProxyStatusReporter(
    config,
    () => [...generation!.sections.values()],
    deps,
    logs,
  );
  const sweep = setInterval(() => challenges.sweep(), 60_000);
  sweep.unref();
  const failmodeFlush = setInterval(() => alerts.flushFailmode(), FAILMODE_FLUSH_INTERVAL_MS);
  failmodeFlush.unref();
  logs.line(`${PROXY_NAME} ${deps.version} - Init Complete`);
  return {
    servers,
    metrics,
    logs,
    primaryOnly,
    adminAddress: admin.address,
    alerts,
    reload,
    reloadFromSource,
    close: async () => {
      reporter?.stop();
      clearInterval(sweep);
      clearInterval(failmodeFlush);
      alerts.flushFailmode();
      await close();
    },
  };
}

/**
 * `[main] status_report_interval`: the proxy's health to the service's status page, signed with
 * the current generation's first server section's keys and sent to its first API host
 * (docs/status-page.md): after a reload that rotated the skey, reports carry the new one.
 */
function startProxyStatusReporter(
  config: AuthProxyConfig,
  running: () => readonly { section: ServerConfig; api: ResilientAuthApiClient }[],
  deps: ProxyDeps,
  logs: ProxyLogs,
): { stop(): void } | undefined {
  const configured = config.servers[0];
  if (configured === undefined) return undefined;
  return startStatusReporter({
    kind: 'proxy',
    statusName: config.main.statusName,
    intervalMs: config.main.statusReportIntervalMs,
    keys: () => running()[0]?.section ?? configured,
    health: () =>
      apiHostsHealthStatus(
        running().map(({ section, api }) => ({ section: section.section, hosts: api.health() })),
      ),
    clock: deps.clock,
    userAgent: PROXY_NAME,
    onProblem: (message) => logs.line(`WARNING: ${message}`),
  });
}

/** `[main] syslog_target`: the auth events also go to the SIEM (docs/proxy-config.md). */
function openSiemOutput(
  config: AuthProxyConfig,
  logs: ProxyLogs,
  clock: Clock,
  nowIso: () => string,
): ProxyLogs {
  const syslog = config.main.syslog;
  if (!syslog) return logs;
  const hostname = osHostname();
  const sender = openSyslogOutput(syslog, clock, hostname, (text) => logs.line(text));
  return withSiemOutput(logs, sender, { nowIso, hostname });
}

/** What every generation of the configuration shares: logs, alerts, metrics, challenges. */
interface SharedParts {
  deps: ProxyDeps;
  logs: ProxyLogs;
  alerts: AlertSender;
  proxyMetrics: ProxyMetrics;
  primaryOnly: PrimaryOnlyWatcher;
  /** Shared, so a challenge answered after a reload finds the login it continues. */
  challenges: ChallengeStore;
}

export interface LiveSection {
  section: ServerConfig;
  flow: LoginFlow;
  api: ResilientAuthApiClient;
  /** LDAP sections: the directory that names a bound DN's user. */
  directory?: LdapDirectory;
  /** LDAP sections: a login flow whose primary is the bind on the client's own connection. */
  flowFor?: (bindPrimary: PrimaryAuthenticator) => LoginFlow;
}

/**
 * One configuration's primaries, Auth API clients, push waiters and login flows. A reload builds
 * a new one; the old one is retired: closed once the logins it is running have answered.
 */
interface Generation {
  sections: Map<string, LiveSection>;
  /** Waits for the logins in flight, then closes everything this generation opened. */
  retire(): Promise<void>;
  /** Closes everything now (the proxy stops). */
  close(): Promise<void>;
}

function buildGeneration(config: AuthProxyConfig, shared: SharedParts): Generation {
  const { deps, logs, alerts, proxyMetrics, primaryOnly, challenges } = shared;
  const { clock } = deps;
  const primaries = new Map<string, PrimaryAuthenticator | LdapDirectory | undefined>();
  const apis: ResilientAuthApiClient[] = [];
  const waiters: PushWaiter[] = [];
  const sections = new Map<string, LiveSection>();
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const loginEnded = () => {
    inFlight--;
    if (inFlight === 0) idle?.();
  };
  const answered = (answer: LoginAnswer) => {
    loginEnded();
    return answer;
  };
  const failed = (e: unknown): never => {
    loginEnded();
    throw e;
  };
  let closed: Promise<void> | undefined;
  const closeAll = () => (closed ??= closeParts());
  const closeParts = async () => {
    for (const w of waiters) w.close();
    for (const api of apis) {
      api.stopMonitor();
      api.close();
    }
    await Promise.all([...primaries.values()].map((p) => (p ? p.close() : Promise.resolve())));
  };
  try {
    for (const section of config.servers) {
      if (!primaries.has(section.clientSection)) {
        primaries.set(section.clientSection, createPrimary(section.client, deps, logs));
      }
      const api = createApiClient(
        section,
        clock,
        (event) => reportResilienceEvent(logs, alerts, proxyMetrics, section.section, event),
        deps.coLocated,
      );
      apis.push(api);
      for (const host of api.health()) {
        if (host.breaker !== 'disabled') {
          proxyMetrics.breakerState.set(
            { section: section.section, host: host.host },
            BREAKER_STATE_VALUES[host.breaker],
          );
        }
      }
      api.startMonitor(section.resilience.healthCheckIntervalMs);
      const pushes = new PushWaiter({
        clock,
        openStream: (host, handlers) => api.streamResultsFrom(host, handlers),
        authStatus: (txid) => api.authStatus(txid),
        onStreamEvent: (host, what) => logs.line(`[${section.section}] ${host}: ${what}`),
      });
      // Each host's result stream opens now, not at the first push: a push that starts before
      // its stream is open is polled with auth_status, a 20 s long poll that holds one of the
      // client's sockets, and a burst of such pushes would take every socket from the logins.
      for (const host of api.health()) pushes.prepare(host.host);
      waiters.push(pushes);
      const flowDeps = {
        section,
        api: timedApiClient(api, proxyMetrics, section.section),
        logs: countingLogs(logs, alerts, proxyMetrics),
        primaryOnly,
        challenges,
        random: deps.random,
        pushes,
      };
      // Counted, so a retired generation closes its clients only after its last login. Without
      // an async frame per login: thousands may wait for a push at once (bench:push).
      const counted =
        (flow: LoginFlow): LoginFlow =>
        (request) => {
          inFlight++;
          let running: Promise<LoginAnswer>;
          try {
            running = flow(request);
          } catch (e) {
            loginEnded();
            throw e;
          }
          return running.then(answered, failed);
        };
      const primary = primaries.get(section.clientSection);
      if (section.kind === 'ldap') {
        if (!isLdapDirectory(primary)) throw new Error(`[${section.section}] needs an [ad_client]`);
        sections.set(section.section, {
          section,
          flow: counted(createLoginFlow({ ...flowDeps, primary })),
          api,
          directory: primary,
          flowFor: (bindPrimary) => counted(createLoginFlow({ ...flowDeps, primary: bindPrimary })),
        });
        continue;
      }
      sections.set(section.section, {
        section,
        flow: counted(createLoginFlow({ ...flowDeps, primary })),
        api,
      });
    }
  } catch (e) {
    void closeAll();
    throw e;
  }
  return {
    sections,
    async retire() {
      if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
      await closeAll();
    },
    close: closeAll,
  };
}

function isLdapDirectory(
  primary: PrimaryAuthenticator | LdapDirectory | undefined,
): primary is LdapDirectory {
  return primary !== undefined && 'describeBoundDn' in primary;
}

/** An LdapDirectory that asks whichever generation is current (a reload replaces primaries). */
function currentDirectory(current: () => LdapDirectory): LdapDirectory {
  return {
    authenticate: (...args) => current().authenticate(...args),
    describeBoundDn: (dn, attribute) => current().describeBoundDn(dn, attribute),
    // Each generation closes its own directory.
    close: () => Promise.resolve(),
  };
}

/** A refused reload: every reason in authproxy.log; the running configuration stays. */
function refuseReload(logs: ProxyLogs, errors: string[]): ReloadOutcome {
  logs.line(
    `Configuration reload refused, the running configuration stays: ${errors.length} error(s)`,
  );
  for (const error of errors) logs.line(`  ${error}`);
  return { ok: false, errors };
}

function primaryOnlyStatus(state: PrimaryOnlyState): ProxyStatus['proxy']['primaryOnly'] {
  return state.active
    ? {
        active: true,
        expires: new Date(state.record.expiresAtMs).toISOString(),
        actor: state.record.actor,
        reason: state.record.reason,
      }
    : { active: false, expires: null, actor: null, reason: null };
}

/** Primary-only mode switched: an authproxy.log line, an authevents.log record, an alert, the gauge. */
function reportPrimaryOnlyChange(
  logs: ProxyLogs,
  alerts: AlertSender,
  metrics: ProxyMetrics,
  state: PrimaryOnlyState,
  previous: PrimaryOnlyState,
): void {
  const msg = state.active
    ? `Primary only mode enabled by ${state.record.actor} until ${new Date(state.record.expiresAtMs).toISOString()}: ${state.record.reason}`
    : 'Primary only mode ended: normal 2FA configuration restored';
  logs.line(msg);
  metrics.primaryOnly.set(state.active ? 1 : 0);
  const from = previous.active ? 'on' : 'off';
  const to = state.active ? 'on' : 'off';
  const reason = state.active
    ? `enabled by ${state.record.actor} until ${new Date(state.record.expiresAtMs).toISOString()}: ${state.record.reason}`
    : previous.active
      ? 'disabled or expired'
      : 'off';
  logs.systemEvent({
    msg,
    event_type: 'primary-only',
    server_section: 'main',
    host: null,
    from,
    to,
    reason,
  });
  alerts.send({ type: 'primary-only', section: 'main', from, to, reason });
}

/**
 * The login flow's logs, also counting each decision: requests by result and reason, and every
 * failmode decision (metric and rate-limited alert). Each login writes exactly one auth event.
 */
function countingLogs(logs: ProxyLogs, alerts: AlertSender, metrics: ProxyMetrics): ProxyLogs {
  return {
    request: (ref, message) => logs.request(ref, message),
    line: (message) => logs.line(message),
    systemEvent: (event) => logs.systemEvent(event),
    close: () => logs.close(),
    event(event: AuthEvent) {
      logs.event(event);
      const result: RequestResult =
        event.status === 'Allow' ? 'accept' : event.status === 'Challenge' ? 'challenge' : 'reject';
      const reason =
        event.reason ??
        (event.second_factor_checked
          ? 'service-answered'
          : result === 'challenge'
            ? 'challenge'
            : 'none');
      metrics.requests.inc({ section: event.server_section, result, reason });
      if (event.failmode_invoked === true) {
        const action = event.status === 'Allow' ? 'allow' : 'deny';
        // A failmode group may have changed the section's failmode for this user.
        const failmode = event.effective_failmode ?? event.failmode;
        metrics.failmodeDecisions.inc({ section: event.server_section, failmode, action });
        alerts.failmodeDecision({
          section: event.server_section,
          failmode,
          action,
          reason: event.reason ?? event.msg,
        });
      }
    },
  };
}

/** The section's Auth API client, observing each call's latency (failovers included). */
function timedApiClient(
  api: ResilientAuthApiClient,
  metrics: ProxyMetrics,
  section: string,
): AuthApiClient {
  const timed = <T extends { latencyMs: number; breakerOpen?: true }>(
    endpoint: string,
    call: Promise<T>,
  ): Promise<T> =>
    call.then((outcome) => {
      // Every breaker open: nothing was sent, so there is no API latency to observe.
      if (outcome.breakerOpen !== true) {
        metrics.apiLatency.observe({ section, endpoint }, outcome.latencyMs / 1000);
      }
      return outcome;
    });
  // The two overloads of `auth`, passed through as they are.
  const auth = ((params: AuthParams & { async?: boolean }) =>
    params.async === true
      ? timed('auth', api.auth({ ...params, async: true }))
      : timed('auth', api.auth({ ...params, async: false }))) as AuthApiClient['auth'];
  const preauthAuth = api.preauthAuth?.bind(api);
  return {
    ping: () => timed('ping', api.ping()),
    check: () => timed('check', api.check()),
    preauth: (params) => timed('preauth', api.preauth(params)),
    auth,
    authStatus: (txid) => timed('auth_status', api.authStatus(txid)),
    ...(preauthAuth ? { preauthAuth: (params) => timed('preauth_auth', preauthAuth(params)) } : {}),
    close: () => api.close(),
  };
}

/** The section's resilient Auth API client (breaker, failover, health); the drill uses it too. */
export function createApiClient(
  section: ServerConfig,
  clock: Clock,
  onEvent: (event: ResilienceEvent) => void,
  coLocated?: CoLocatedService,
): ResilientAuthApiClient {
  return createSectionApiClient(section, {
    clock,
    userAgent: PROXY_NAME,
    onEvent,
    createClient: hostClientFactory(section, coLocated),
  });
}

/**
 * Breaker and health changes are loud: a distinct authproxy.log line, an authevents.log record
 * and a webhook alert each, plus the breaker metrics.
 */
function reportResilienceEvent(
  logs: ProxyLogs,
  alerts: AlertSender,
  metrics: ProxyMetrics,
  section: string,
  event: ResilienceEvent,
): void {
  const msg = describeResilienceEvent(section, event);
  logs.line(msg);
  if (event.type === 'breaker') {
    metrics.breakerState.set({ section, host: event.host }, BREAKER_STATE_VALUES[event.to]);
    metrics.breakerTransitions.inc({ section, host: event.host, to: event.to });
  }
  logs.systemEvent({
    msg,
    event_type: event.type,
    server_section: section,
    host: event.host,
    from: event.from,
    to: event.to,
    reason: event.reason,
  });
  alerts.send({
    type: event.type,
    section,
    host: event.host,
    from: event.from,
    to: event.to,
    reason: event.reason,
  });
}

function createPrimary(
  client: ClientConfig,
  deps: ProxyDeps,
  logs: ProxyLogs,
): PrimaryAuthenticator | LdapDirectory | undefined {
  switch (client.kind) {
    case 'duo-only':
      return undefined;
    case 'radius':
      return createRadiusPrimary({
        hosts: client.hosts,
        secret: client.secret,
        retries: client.retries,
        retryWaitMs: client.retryWaitMs,
        nasIp: client.nasIp,
        requireMessageAuthenticator: client.requireMessageAuthenticator,
        // Every reply attribute comes back; each server section filters what it passes through.
        passThroughAll: true,
        random: deps.random,
        logger: sectionLogger(logs, client.section),
      });
    case 'ad':
      return createAdClientPrimary(client, {
        clock: deps.clock,
        line: (text) => logs.line(text),
        // Only per-group failmode reads group memberships: skip the extra search unless a server
        // section using this client has failmode_*_groups (or security_group_dn needs it).
        fetchGroups: client.fetchGroups,
      });
  }
}

/** pino-shaped logger for the primary authenticators: warnings go to authproxy.log. */
function sectionLogger(logs: ProxyLogs, section: string) {
  return {
    debug: () => undefined,
    warn: (obj: object, msg: string) => logs.line(`[${section}] ${msg} ${JSON.stringify(obj)}`),
  };
}
