// What the gateway tells the outside about outages: its events to the SIEM (`[main] syslog_target`)
// and its health to the service's status page (`[main] status_report_interval`), as the proxy does.
import { hostname as osHostname } from 'node:os';
import { apiHostsHealthStatus, startStatusReporter } from '../client/health-reporter.ts';
import type { HostHealth } from '../client/resilient-auth-api-client.ts';
import type { GatewayConfig } from '../config/gateway-config-model.ts';
import type { Clock } from '../runtime/clock.ts';
import { openSyslogOutput } from '../runtime/syslog-sender.ts';
import type { GatewayEvents } from './gateway-events.ts';
import { withGatewaySiemOutput } from './gateway-siem-output.ts';

/** `[main] syslog_target`: logins, failmode decisions and forward-auth denials also go to the SIEM. */
export function openGatewaySiemOutput(
  config: GatewayConfig,
  events: GatewayEvents,
  clock: Clock,
): GatewayEvents {
  const syslog = config.main.syslog;
  if (!syslog) return events;
  const hostname = osHostname();
  const sender = openSyslogOutput(syslog, clock, hostname, (text) => events.line(text));
  return withGatewaySiemOutput(events, sender, {
    nowIso: () => new Date(clock.nowMs()).toISOString(),
    hostname,
  });
}

/**
 * `[main] status_report_interval`: the gateway's health (its `[service]` API hosts) to the
 * service's status page as component `gateway-<status_name>`, signed with `[service]`'s keys and
 * sent to its first API host (docs/status-page.md). Undefined when off.
 */
export function startGatewayStatusReporter(
  config: GatewayConfig,
  apiHosts: () => readonly HostHealth[],
  clock: Clock,
  events: GatewayEvents,
  userAgent: string,
): { stop(): void } | undefined {
  return startStatusReporter({
    kind: 'gateway',
    statusName: config.main.statusName,
    intervalMs: config.main.statusReportIntervalMs,
    keys: () => config.service,
    health: () => apiHostsHealthStatus([{ section: 'service', hosts: apiHosts() }]),
    clock,
    userAgent,
    onProblem: (message) => events.line(`WARNING: ${message}`),
  });
}
