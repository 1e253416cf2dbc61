// What the gateway writes down: one JSON line per login decision, failmode event and session end
// in gateway.log, and the Prometheus counters behind /metrics.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';

export const LOGIN_RESULTS = ['allow', 'deny', 'error'] as const;
export type LoginResult = (typeof LOGIN_RESULTS)[number];

export interface LoginEvent {
  app: string;
  username: string;
  result: LoginResult;
  /** Stable: `service-answered`, `failmode-safe`, `bad-password`, `directory-error`, … */
  reason: string;
  /** `Remote-2FA` of the session made, when one was. */
  second_factor?: string;
  client_ip: string;
  msg: string;
}

export interface FailmodeEvent {
  app: string;
  username: string;
  failmode: string;
  action: 'allow' | 'deny';
  /** The failmode decision's reason (`failmode-safe`, `failmode-secure`, …). */
  reason: string;
  /** Why the service counted as unreachable (`connect`, `timeout`, `server-error`, …). */
  cause: string;
  client_ip: string;
  /** The Duo proxy's log line, verbatim (docs/design/auth-api.md §3.9). */
  msg: string;
}

export interface GatewayEvents {
  line(msg: string): void;
  login(event: LoginEvent): void;
  failmode(event: FailmodeEvent): void;
  forwardAuth(app: string, result: 'allow' | 'deny' | 'login'): void;
  readonly metrics: GatewayMetrics;
  close(): Promise<void>;
}

export interface GatewayMetrics {
  logins: Counter<'app' | 'result' | 'reason'>;
  failmodeDecisions: Counter<'app' | 'failmode' | 'action'>;
  forwardAuth: Counter<'app' | 'result'>;
  sessions: Gauge;
  breakerState: Gauge<'host'>;
}

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const registers = [registry];
  return {
    logins: new Counter({
      name: 'airlock_gateway_logins_total',
      help: 'Portal logins by application, result and reason',
      labelNames: ['app', 'result', 'reason'],
      registers,
    }),
    failmodeDecisions: new Counter({
      name: 'airlock_gateway_failmode_decisions_total',
      help: 'Logins decided by an application failmode because the service was unreachable',
      labelNames: ['app', 'failmode', 'action'],
      registers,
    }),
    forwardAuth: new Counter({
      name: 'airlock_gateway_forward_auth_total',
      help: 'Forward-auth answers by application: allow, deny, or login (to the portal)',
      labelNames: ['app', 'result'],
      registers,
    }),
    sessions: new Gauge({
      name: 'airlock_gateway_sessions',
      help: 'Live gateway sessions',
      registers,
    }),
    breakerState: new Gauge({
      name: 'airlock_gateway_breaker_state',
      help: 'Circuit breaker per API host: 0 closed, 1 half-open, 2 open',
      labelNames: ['host'],
      registers,
    }),
  };
}

/** gateway.log in `logDir` (or stdout) and the metrics in `registry`. */
export function openGatewayEvents(options: {
  logDir: string;
  stdout: boolean;
  registry: Registry;
}): GatewayEvents {
  let logger: Logger;
  if (options.stdout) logger = pino({ base: null });
  else {
    mkdirSync(options.logDir, { recursive: true });
    logger = pino(
      { base: null },
      pino.destination({ dest: join(options.logDir, 'gateway.log'), sync: true }),
    );
  }
  const metrics = createGatewayMetrics(options.registry);
  return {
    metrics,
    line: (msg) => logger.info(msg),
    login(event) {
      logger.info({ event_type: 'login', ...event });
      metrics.logins.inc({ app: event.app, result: event.result, reason: event.reason });
    },
    failmode(event) {
      logger.warn({ event_type: 'failmode', ...event });
      metrics.failmodeDecisions.inc({
        app: event.app,
        failmode: event.failmode,
        action: event.action,
      });
    },
    forwardAuth(app, result) {
      metrics.forwardAuth.inc({ app, result });
    },
    close: async () => {
      logger.flush();
      await Promise.resolve();
    },
  };
}
