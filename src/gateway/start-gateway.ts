// Assembles `airlock gateway` from a loaded gateway.cfg: log and metrics, the directory primary
// (the proxy's [ad_client] code), the resilient Auth API client, sessions, the portal and
// forward-auth app on `[gateway] listen`, and /status + /metrics on `[main] admin_listen`.
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { HostHealth } from '../client/resilient-auth-api-client.ts';
import type { GatewayConfig } from '../config/gateway-config-model.ts';
import type { ListenAddress } from '../config/listen-address.ts';
import { join } from 'node:path';
import type { Clock } from '../runtime/clock.ts';
import { openGatewayStateDb } from '../runtime/gateway-state-db.ts';
import type { Random } from '../runtime/random.ts';
import { createAdClientPrimary } from '../proxy/primary/ad-client-primary.ts';
import { describeResilienceEvent } from '../client/section-api-client.ts';
import type { PrimaryAuthenticator } from '../proxy/primary/primary-authenticator.ts';
import { buildGatewayApp } from './gateway-app.ts';
import { openGatewayEvents, type GatewayEvents } from './gateway-events.ts';
import { openGatewaySiemOutput, startGatewayStatusReporter } from './gateway-outage-outputs.ts';
import { createGatewayOidc } from './oidc-provider.ts';
import { createGatewayApiClient, GATEWAY_NAME } from './gateway-api-client.ts';
import { SessionStore } from './session-store.ts';

const BREAKER_VALUES = { closed: 0, 'half-open': 1, open: 2 } as const;
const SWEEP_INTERVAL_MS = 60_000;
/** In `[main] state_dir`: sessions and the OpenID Connect provider's records. */
export const GATEWAY_STATE_FILE = 'gateway-state.sqlite';

export interface GatewayDeps {
  clock: Clock;
  random: Random;
  version: string;
}

/** The body of the admin endpoint's `GET /status`. */
export interface GatewayStatus {
  gateway: { version: string; startedAt: string; sessions: number };
  apps: Array<{ app: string; restriction: string; failmode: string; hosts: readonly string[] }>;
  apiHosts: HostHealth[];
}

export interface RunningGateway {
  /** Where the portal and forward-auth answer. */
  address: { address: string; port: number };
  adminAddress: { address: string; port: number };
  metrics: Registry;
  events: GatewayEvents;
  sessions: SessionStore;
  close(): Promise<void>;
}

export async function startGateway(
  config: GatewayConfig,
  deps: GatewayDeps,
): Promise<RunningGateway> {
  const metrics = new Registry();
  const events = openGatewaySiemOutput(
    config,
    openGatewayEvents({
      logDir: config.main.logDir,
      stdout: config.main.logStdout,
      registry: metrics,
    }),
    deps.clock,
  );
  for (const warning of config.warnings) events.line(`WARNING: ${warning}`);
  const startedAtMs = deps.clock.nowMs();
  const primary = createDirectoryPrimary(config, deps, events);
  const api = createGatewayApiClient(config, deps.clock, (event) => {
    events.line(describeResilienceEvent('service', event));
    if (event.type === 'breaker') {
      events.metrics.breakerState.set({ host: event.host }, BREAKER_VALUES[event.to]);
    }
  });
  api.startMonitor(config.service.resilience.healthCheckIntervalMs);
  // Sessions and the OpenID Connect provider's state survive a restart (docs/gateway.md).
  const stateDb = openGatewayStateDb(join(config.main.stateDir, GATEWAY_STATE_FILE));
  const sessions = new SessionStore(
    { ...deps, db: stateDb },
    {
      idleMs: config.gateway.sessionIdleMs,
      lifetimeMs: config.gateway.sessionLifetimeMs,
      loginTimeoutMs: config.gateway.loginTimeoutMs,
    },
  );
  const oidc = createGatewayOidc(config, deps, stateDb);
  if (oidc) events.line(`OpenID Connect provider: issuer ${oidc.issuer}`);
  const portal = buildGatewayApp({ config, primary, api, sessions, events, oidc, ...deps });
  let admin: FastifyInstance | undefined;
  let reporter: { stop(): void } | undefined;
  const close = async () => {
    reporter?.stop();
    clearInterval(sweep);
    await admin?.close();
    await portal.close();
    api.stopMonitor();
    api.close();
    await primary.close();
    await events.close();
    stateDb.close();
  };
  const sweep = setInterval(() => sessions.sweep(), SWEEP_INTERVAL_MS);
  sweep.unref();
  try {
    const address = await listen(portal, config.gateway.listen, '[gateway] listen');
    admin = buildAdminApp(metrics, () => ({
      gateway: {
        version: deps.version,
        startedAt: new Date(startedAtMs).toISOString(),
        sessions: sessions.sessionCount,
      },
      apps: config.apps.map((a) => ({
        app: a.name,
        restriction: a.restriction,
        failmode: a.failmode,
        hosts: a.hosts,
      })),
      apiHosts: api.health(),
    }));
    const adminAddress = await listen(admin, config.main.adminListen, '[main] admin_listen');
    reporter = startGatewayStatusReporter(
      config,
      () => api.health(),
      deps.clock,
      events,
      GATEWAY_NAME,
    );
    events.line(
      `${GATEWAY_NAME} ${deps.version}: portal ${config.gateway.portalUrl.href} on ${address.address}:${address.port}; ` +
        `apps: ${config.apps.map((a) => `[app:${a.name}] ${a.restriction} failmode=${a.failmode}`).join(', ')}; ` +
        `session secret sha256 ${config.gateway.sessionSecretFingerprint}`,
    );
    return { address, adminAddress, metrics, events, sessions, close };
  } catch (e) {
    await close();
    throw e;
  }
}

function createDirectoryPrimary(
  config: GatewayConfig,
  deps: GatewayDeps,
  events: GatewayEvents,
): PrimaryAuthenticator {
  return createAdClientPrimary(config.directory, {
    clock: deps.clock,
    line: (text) => events.line(text),
    // Always read: they become Remote-Groups.
    fetchGroups: true,
    emailAttribute: config.gateway.emailAttribute,
  });
}

/** `GET /status` (JSON) and `GET /metrics` (Prometheus text), as the proxy's admin endpoint. */
function buildAdminApp(metrics: Registry, status: () => GatewayStatus): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/status', async (_request, reply) =>
    reply.header('cache-control', 'no-store').send(status()),
  );
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', metrics.contentType).send(await metrics.metrics()),
  );
  return app;
}

async function listen(
  app: FastifyInstance,
  at: ListenAddress,
  key: string,
): Promise<{ address: string; port: number }> {
  try {
    await app.listen({ host: at.host, port: at.port });
  } catch (e) {
    throw new Error(`${key} ${at.host}:${at.port}: cannot listen: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const bound = app.server.address();
  return typeof bound === 'object' && bound
    ? { address: bound.address, port: bound.port }
    : { address: at.host, port: at.port };
}
