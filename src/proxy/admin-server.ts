// The proxy's admin endpoint: GET /status (JSON) and GET /metrics (Prometheus text), plain HTTP
// on `[main] admin_listen` (loopback by default).
import Fastify from 'fastify';
import Type from 'typebox';
import { BREAKER_STATUSES } from '../core/circuit-breaker.ts';
import { HOST_HEALTH_STATUSES } from '../core/host-health.ts';
import { closedSet, nullable } from '../core/schema-types.ts';
import type { Registry } from 'prom-client';
import type { HostHealth } from '../client/resilient-auth-api-client.ts';
import type { ListenAddress } from '../config/listen-address.ts';
import { isLoopbackHost } from '../core/loopback-host.ts';
import type { ReloadOutcome } from './reload-plan.ts';

/** The body of `GET /status`. */
export interface ProxyStatus {
  proxy: {
    version: string;
    /** ISO 8601. */
    startedAt: string;
    primaryOnly: {
      active: boolean;
      /** ISO 8601; null when off. */
      expires: string | null;
      actor: string | null;
      reason: string | null;
    };
  };
  sections: SectionStatus[];
}

export interface SectionStatus {
  section: string;
  failmode: string;
  /** `ip:port` of the RADIUS socket. */
  listening: string;
  /** Per API host, in failover order: status (reachable, degraded, unreachable), reason, breaker, p95, error rate. */
  apiHosts: HostHealth[];
}

const probe = Type.Unsafe<Record<string, unknown>>({
  type: 'object',
  required: ['kind', 'atMs'],
  properties: {
    kind: closedSet(['ok', 'unreachable', 'rejected', 'invalid'] as const),
    atMs: Type.Integer(),
  },
  // latencyMs, reason, code, message or httpStatus, by kind (core/host-health.ts ProbeOutcome).
  additionalProperties: true,
});

/**
 * The body of `GET /status` as a schema: Fastify serializes with it (fast-json-stringify drops
 * what it does not name, so every field of ProxyStatus is here; a host entry stays open).
 */
export const ProxyStatusSchema = Type.Object({
  proxy: Type.Object({
    version: Type.String(),
    startedAt: Type.String({ description: 'ISO 8601' }),
    primaryOnly: Type.Object({
      active: Type.Boolean(),
      expires: nullable(Type.String(), { description: 'ISO 8601; null when off' }),
      actor: nullable(Type.String()),
      reason: nullable(Type.String()),
    }),
  }),
  sections: Type.Array(
    Type.Object({
      section: Type.String(),
      failmode: Type.String(),
      listening: Type.String(),
      apiHosts: Type.Array(
        Type.Object(
          {
            host: Type.String(),
            apiHost: Type.String(),
            apiPort: Type.Integer(),
            status: closedSet(HOST_HEALTH_STATUSES),
            reason: Type.String(),
            reasons: Type.Array(Type.String()),
            p95Ms: Type.Optional(Type.Number()),
            errorRate: Type.Optional(Type.Number()),
            samples: Type.Integer(),
            breaker: closedSet([...BREAKER_STATUSES, 'disabled'] as const),
            breakerRetryAtMs: Type.Optional(Type.Integer()),
            lastPing: Type.Optional(probe),
            lastCheck: Type.Optional(probe),
          },
          { additionalProperties: true },
        ),
      ),
    }),
  ),
});

export interface AdminServerDeps {
  listen: ListenAddress;
  status: () => ProxyStatus;
  metrics: Registry;
  /** `POST /reload` (from a loopback address only): re-read the configuration file. */
  reload?: () => Promise<ReloadOutcome>;
}

export interface AdminServer {
  readonly address: { address: string; port: number };
  close(): Promise<void>;
}

/** Starts the endpoint; rejects with a message naming `admin_listen` when it cannot listen. */
export async function startAdminServer(deps: AdminServerDeps): Promise<AdminServer> {
  const app = Fastify({ logger: false });
  app.get(
    '/status',
    { schema: { response: { 200: ProxyStatusSchema } } },
    async (_request, reply) => {
      await reply.header('cache-control', 'no-store').send(deps.status());
    },
  );
  app.get('/metrics', async (_request, reply) => {
    const text = await deps.metrics.metrics();
    await reply.header('content-type', deps.metrics.contentType).send(text);
  });

  const reload = deps.reload;
  if (reload) {
    app.post('/reload', async (request, reply) => {
      // Unauthenticated like /status, but it acts: only from this machine, even when admin_listen
      // is a wider address (`airlock proxy reload` runs beside the proxy).
      if (!isLoopbackHost(request.socket.remoteAddress ?? '')) {
        await reply
          .code(403)
          .send({ ok: false, errors: ['POST /reload is accepted from loopback only'] });
        return;
      }
      const outcome = await reload();
      await reply
        .code(outcome.ok ? 200 : 422)
        .header('cache-control', 'no-store')
        .send(outcome);
    });
  }

  const { host, port } = deps.listen;
  try {
    await app.listen({ host, port });
  } catch (e) {
    await app.close().catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code;
    const shown = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const why =
      code === 'EADDRINUSE'
        ? 'the address is already in use (another proxy running?); choose another port'
        : code === 'EADDRNOTAVAIL'
          ? 'no such address on this machine'
          : code === 'EACCES'
            ? 'permission denied (ports below 1024 need privileges)'
            : (e as Error).message;
    throw new Error(`[main] admin_listen ${shown}: cannot listen: ${why}`, { cause: e });
  }
  const bound = app.server.address();
  const address =
    typeof bound === 'object' && bound
      ? { address: bound.address, port: bound.port }
      : { address: host, port };
  return {
    address,
    close: () => app.close(),
  };
}
