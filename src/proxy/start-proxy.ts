// Assembles the authentication proxy from a loaded authproxy.cfg: logs, primary authenticators,
// Auth API clients, primary-only watcher, and one RADIUS server per server section.
import { Registry } from 'prom-client';
import {
  createResilientAuthApiClient,
  type ResilienceEvent,
  type ResilientAuthApiClient,
} from '../client/resilient-auth-api-client.ts';
import type { AuthProxyConfig, ClientConfig, ServerConfig } from '../config/authproxy-config.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Random } from '../runtime/random.ts';
import { ChallengeStore } from './challenge-store.ts';
import { createLoginFlow } from './login-flow.ts';
import { createLdapPrimary } from './primary/ldap-primary.ts';
import type { PrimaryAuthenticator } from './primary/primary-authenticator.ts';
import { createRadiusPrimary } from './primary/radius-primary.ts';
import { PrimaryOnlyWatcher } from './primary-only-switch.ts';
import { openProxyLogs, type ProxyLogs } from './proxy-logs.ts';
import { createProxyMetrics } from './proxy-metrics.ts';
import { startRadiusServer, type RadiusServer } from './radius-server.ts';

export const PROXY_NAME = 'Airlock Authentication Proxy';

export interface RunningProxy {
  servers: RadiusServer[];
  metrics: Registry;
  logs: ProxyLogs;
  primaryOnly: PrimaryOnlyWatcher;
  close(): Promise<void>;
}

export interface ProxyDeps {
  clock: Clock;
  random: Random;
  version: string;
}

export async function startProxy(config: AuthProxyConfig, deps: ProxyDeps): Promise<RunningProxy> {
  const { clock } = deps;
  const logs = openProxyLogs({
    logDir: config.main.logDir,
    maxSizeBytes: config.main.logMaxSizeBytes,
    maxFiles: config.main.logMaxFiles,
    authEvents: config.main.logAuthEvents,
    stdout: config.main.logStdout,
    nowIso: () => new Date(clock.nowMs()).toISOString(),
  });
  for (const warning of config.warnings) logs.line(`WARNING: ${warning}`);

  const primaryOnly = new PrimaryOnlyWatcher({
    stateDir: config.main.stateDir,
    clock,
    onChange: (state) =>
      logs.line(
        state.active
          ? `Primary only mode enabled by ${state.record.actor} until ${new Date(state.record.expiresAtMs).toISOString()}: ${state.record.reason}`
          : 'Primary only mode ended: normal 2FA configuration restored',
      ),
  });
  const initial = primaryOnly.initialState();
  if (initial.active) {
    logs.line(
      `Running in PRIMARY ONLY mode. Stopping in ${Math.ceil(initial.remainingMs / 60_000)} minutes (enabled by ${initial.record.actor}: ${initial.record.reason})`,
    );
  }
  primaryOnly.start();

  const metrics = new Registry();
  const proxyMetrics = createProxyMetrics(metrics);
  const challenges = new ChallengeStore(clock);
  const primaries = new Map<string, PrimaryAuthenticator | undefined>();
  const apis: ResilientAuthApiClient[] = [];
  const servers: RadiusServer[] = [];

  const close = async () => {
    primaryOnly.stop();
    await Promise.all(servers.map((s) => s.close()));
    for (const api of apis) {
      api.stopMonitor();
      api.close();
    }
    await Promise.all([...primaries.values()].map((p) => (p ? p.close() : Promise.resolve())));
    await logs.close();
  };

  try {
    for (const section of config.servers) {
      if (!primaries.has(section.clientSection)) {
        primaries.set(section.clientSection, createPrimary(section.client, deps, logs));
      }
      const api = createApiClient(section, clock, (event) =>
        logResilienceEvent(logs, section.section, event),
      );
      apis.push(api);
      api.startMonitor(section.resilience.healthCheckIntervalMs);
      const flow = createLoginFlow({
        section,
        primary: primaries.get(section.clientSection),
        api,
        logs,
        primaryOnly,
        challenges,
        random: deps.random,
      });
      const server = await startRadiusServer({ section, flow, logs, metrics: proxyMetrics, clock });
      servers.push(server);
      logs.line(
        `[${section.section}] listening for RADIUS on ${server.address.address}:${server.address.port}; primary: [${section.clientSection}]; failmode=${section.failmode}${section.failmodeExplicit ? '' : ' (default)'}; service: ${section.apiAuthority}`,
      );
    }
  } catch (e) {
    await close();
    throw e;
  }
  const sweep = setInterval(() => challenges.sweep(), 60_000);
  sweep.unref();
  logs.line(`${PROXY_NAME} ${deps.version} - Init Complete`);
  return {
    servers,
    metrics,
    logs,
    primaryOnly,
    close: async () => {
      clearInterval(sweep);
      await close();
    },
  };
}

function createApiClient(
  section: ServerConfig,
  clock: Clock,
  onEvent: (event: ResilienceEvent) => void,
): ResilientAuthApiClient {
  const r = section.resilience;
  return createResilientAuthApiClient({
    hosts: section.apiHosts,
    ikey: section.ikey,
    skey: section.skey,
    ...(section.apiCaPem ? { caPem: section.apiCaPem } : {}),
    timeoutMs: section.apiTimeoutMs,
    clock,
    userAgent: PROXY_NAME,
    breakerEnabled: r.breakerEnabled,
    breaker: {
      failureThreshold: r.breakerFailureThreshold,
      openMs: r.breakerOpenMs,
      maxOpenMs: r.breakerMaxOpenMs,
      degradedLatencyMs: r.degradedLatencyMs,
    },
    onEvent,
  });
}

/** Breaker and health changes are loud: a distinct authproxy.log line each. */
function logResilienceEvent(logs: ProxyLogs, section: string, event: ResilienceEvent): void {
  logs.line(
    event.type === 'breaker'
      ? `[${section}] circuit breaker for ${event.host}: ${event.from} -> ${event.to} (${event.reason})`
      : `[${section}] API host ${event.host} is ${event.to} (was ${event.from}): ${event.reason}`,
  );
}

function createPrimary(
  client: ClientConfig,
  deps: ProxyDeps,
  logs: ProxyLogs,
): PrimaryAuthenticator | undefined {
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
      return createLdapPrimary({
        hosts: [...client.hosts],
        port: client.port,
        transport: client.transport,
        caPem: client.sslCaPem,
        verifyHostname: client.sslVerifyHostname,
        serviceAccountDn: client.serviceAccountBindName,
        serviceAccountPassword: client.serviceAccountPassword,
        searchDn: client.searchDn,
        usernameAttribute: client.usernameAttribute,
        atAttribute: client.atAttribute,
        ldapFilter: client.ldapFilter,
        securityGroupDn: client.securityGroupDn,
        // Nothing reads group memberships yet (per-group failmode will); skip the extra search
        // unless security_group_dn needs it.
        fetchGroups: false,
        timeoutMs: client.timeoutMs,
        clock: deps.clock,
        logger: sectionLogger(logs, client.section),
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
