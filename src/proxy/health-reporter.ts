// The proxy's health, reported to the service for its status page (`[main] status_report_interval`):
// signed with the first server section's keys, sent to its API hosts (docs/status-page.md).
import type { AuthApiClient } from '../client/auth-api-client.ts';

/** The proxy's own view, from each section's API hosts. */
export function proxyHealthStatus(
  sections: readonly { section: string; hosts: readonly { host: string; status: string }[] }[],
): { status: 'operational' | 'degraded_performance' | 'partial_outage'; detail: string } {
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
  stop(): void;
}

export function startHealthReporter(options: {
  client: AuthApiClient;
  name: string;
  intervalMs: number;
  health: () => ReturnType<typeof proxyHealthStatus>;
  onProblem: (message: string) => void;
}): HealthReporter {
  let failing = false;
  const reportOnce = async () => {
    const { status, detail } = options.health();
    const outcome = await options.client.reportHealth?.({
      kind: 'proxy',
      name: options.name,
      status,
      detail,
    });
    const problem =
      outcome === undefined
        ? 'this client cannot report health'
        : outcome.kind === 'ok'
          ? undefined
          : `${outcome.kind}${'detail' in outcome && outcome.detail ? `: ${String(outcome.detail)}` : ''}`;
    // Said once per failure streak: a status page that is down must not flood the log.
    if (problem !== undefined && !failing) options.onProblem(`status report failed: ${problem}`);
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
      if (timer) clearInterval(timer);
      options.client.close();
    },
  };
}
