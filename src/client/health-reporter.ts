// A proxy's or gateway's health, reported to the service for its status page: signed with the
// keys of the client `client()` returns at each report (the current configuration's after a
// reload), `POST /auth/v2/health_report` (docs/status-page.md).
import { hostname as osHostname } from 'node:os';
import type { Clock } from '../runtime/clock.ts';
import {
  createAuthApiClient,
  type AuthApiClient,
  type HealthReportParams,
} from './auth-api-client.ts';

export type ReportedStatus = 'operational' | 'degraded_performance' | 'partial_outage';

/** The reporter's own view, from each section's API hosts (the gateway has one: `[service]`). */
export function apiHostsHealthStatus(
  sections: readonly { section: string; hosts: readonly { host: string; status: string }[] }[],
): { status: ReportedStatus; detail: string } {
  const cut = sections.some((s) => !s.hosts.some((h) => h.status === 'reachable'));
  const impaired = sections.some((s) => s.hosts.some((h) => h.status !== 'reachable'));
  const detail = sections
    .map((s) => `[${s.section}] ${s.hosts.map((h) => `${h.host} ${h.status}`).join(', ')}`)
    .join('; ');
  return {
    status: cut ? 'partial_outage' : impaired ? 'degraded_performance' : 'operational',
    detail,
  };
}

export interface HealthReporter {
  /** One report now; resolves with the problem, or undefined when the service took it. */
  reportOnce(): Promise<string | undefined>;
  /** Stops the timer; the clients stay the caller's to close. */
  stop(): void;
}

export function startHealthReporter(options: {
  /** The client to sign and send the next report with: asked at every report. */
  client: () => AuthApiClient;
  kind: HealthReportParams['kind'];
  name: string;
  intervalMs: number;
  health: () => { status: ReportedStatus; detail: string };
  onProblem: (message: string) => void;
}): HealthReporter {
  let failing = false;
  let stopped = false;
  const reportOnce = async () => {
    let problem: string | undefined;
    try {
      const { status, detail } = options.health();
      const outcome = await options.client().reportHealth?.({
        kind: options.kind,
        name: options.name,
        status,
        detail,
      });
      problem =
        outcome === undefined
          ? 'this client cannot report health'
          : outcome.kind === 'ok'
            ? undefined
            : `${outcome.kind}${'detail' in outcome && outcome.detail ? `: ${String(outcome.detail)}` : ''}`;
    } catch (err) {
      // Runs on a timer: a throw here would be an unhandled rejection.
      problem = err instanceof Error ? err.message : String(err);
    }
    // Said once per failure streak: a status page that is down must not flood the log.
    // A report still in flight when the reporter stopped says nothing: its log may be closed.
    if (problem !== undefined && !failing && !stopped)
      options.onProblem(`status report failed: ${problem}`);
    failing = problem !== undefined;
    return problem;
  };
  const timer =
    options.intervalMs > 0 ? setInterval(() => void reportOnce(), options.intervalMs) : undefined;
  timer?.unref();
  if (options.intervalMs > 0) void reportOnce();
  return {
    reportOnce,
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
    },
  };
}

/**
 * The client for the current keys: a new one when `current()` returns another key (a reload
 * changed the section), the previous one closed. For reporters whose configuration may change.
 */
export function currentClient<K>(
  current: () => K,
  create: (key: K) => AuthApiClient,
): { client: () => AuthApiClient; close: () => void } {
  let held: { key: K; client: AuthApiClient } | undefined;
  return {
    client() {
      const key = current();
      if (held === undefined || held.key !== key) {
        held?.client.close();
        held = { key, client: create(key) };
      }
      return held.client;
    },
    close: () => held?.client.close(),
  };
}

/** The keys a status report is signed with, and the API hosts: it goes to the first. */
export interface StatusReportKeys {
  readonly apiHosts: readonly { readonly apiHost: string; readonly apiPort: number }[];
  readonly ikey: string;
  readonly skey: string;
  readonly apiCaPem: string | undefined;
  readonly apiTimeoutMs: number;
}

/**
 * `[main] status_report_interval` of the proxy and the gateway: their health to the service's
 * status page as component `<kind>-<status_name>` (docs/status-page.md), signed with the keys
 * `keys()` returns at each report: after a reload that rotated the skey, reports carry the new
 * one. Undefined when off (interval 0) or when the keys name no API host.
 */
export function startStatusReporter(options: {
  kind: HealthReportParams['kind'];
  /** `[main] status_name`; unset, the host name made a component name (else the kind). */
  statusName: string | undefined;
  intervalMs: number;
  keys: () => StatusReportKeys;
  health: () => { status: ReportedStatus; detail: string };
  clock: Clock;
  userAgent: string;
  onProblem: (message: string) => void;
}): { stop(): void } | undefined {
  if (options.intervalMs === 0 || options.keys().apiHosts[0] === undefined) return undefined;
  const clients = currentClient(options.keys, (keys) => {
    const host = keys.apiHosts[0];
    // Thrown inside the report, so logged as its problem: a loaded configuration always has one.
    if (host === undefined) throw new Error('no API host to report to');
    return createAuthApiClient({
      apiHost: host.apiHost,
      apiPort: host.apiPort,
      ikey: keys.ikey,
      skey: keys.skey,
      ...(keys.apiCaPem ? { caPem: keys.apiCaPem } : {}),
      timeoutMs: keys.apiTimeoutMs,
      clock: options.clock,
      userAgent: options.userAgent,
    });
  });
  const reporter = startHealthReporter({
    client: clients.client,
    kind: options.kind,
    name: options.statusName ?? hostStatusName(osHostname(), options.kind),
    intervalMs: options.intervalMs,
    health: options.health,
    onProblem: options.onProblem,
  });
  return {
    stop() {
      reporter.stop();
      clients.close();
    },
  };
}

/** A host name as a status component name: 64 characters of `[A-Za-z0-9._-]`, else `fallback`. */
export function hostStatusName(hostname: string, fallback: string): string {
  return hostname.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || fallback;
}
