// What a configuration reload may change in a running proxy, and what needs a restart: the
// sockets it listens on and [main]'s settings (logs, admin endpoint, state directory, alerts).
import type { AuthProxyConfig, MainConfig } from '../config/authproxy-config-model.ts';

/** What a reload did: applied, or refused with every reason (the old configuration stays). */
export type ReloadOutcome = { ok: true; sections: string[] } | { ok: false; errors: string[] };

/** `[main]` keys by their name in authproxy.cfg. */
const MAIN_KEYS: Record<keyof MainConfig, string> = {
  debug: 'debug',
  logDir: 'log_dir',
  logMaxSizeBytes: 'log_max_size',
  logMaxFiles: 'log_max_files',
  logAuthEvents: 'log_auth_events',
  logStdout: 'log_stdout',
  logFile: 'log_file',
  testConnectivityOnStartup: 'test_connectivity_on_startup',
  adminListen: 'admin_listen',
  stateDir: 'state_dir',
  alertWebhookUrls: 'alert_webhook_url_N',
  alertWebhookSecret: 'alert_webhook_secret',
  syslog: 'syslog_target',
  statusReportIntervalMs: 'status_report_interval',
  statusName: 'status_name',
};

/**
 * The changes from `current` to `next` that a reload cannot apply, each as a sentence naming its
 * place; empty when the reload may go ahead. Everything else — secrets, hosts, failmode, clients
 * and their secrets, primaries, exempt users, groups, timeouts — is applied by a reload.
 */
export function restartOnlyChanges(current: AuthProxyConfig, next: AuthProxyConfig): string[] {
  const changes: string[] = [];
  const before = new Map(current.servers.map((s) => [s.section, s]));
  const after = new Map(next.servers.map((s) => [s.section, s]));
  for (const name of before.keys()) {
    if (!after.has(name))
      changes.push(`[${name}] was removed: stopping a listener needs a restart`);
  }
  for (const [name, section] of after) {
    const old = before.get(name);
    if (old === undefined) {
      changes.push(`[${name}] is new: a new listener needs a restart`);
      continue;
    }
    if (section.kind === 'ldap' || old.kind === 'ldap') {
      // The LDAP listener reads its section (TLS, clients, exempt rules, timeouts) when it
      // starts: any change waits for a restart rather than half-applying.
      if (JSON.stringify(old) !== JSON.stringify(section)) {
        changes.push(`[${name}] changed: an LDAP section's settings need a restart`);
      }
      continue;
    }
    if (old.port !== section.port) {
      changes.push(`[${name}] port: ${old.port} -> ${section.port} needs a restart`);
    }
    if (old.recvBufferBytes !== section.recvBufferBytes) {
      changes.push(
        `[${name}] recv_buffer_bytes: ${old.recvBufferBytes} -> ${section.recvBufferBytes} needs a restart (the socket's buffer is set when it is bound)`,
      );
    }
    if (old.bindAddress !== section.bindAddress) {
      changes.push(
        `[${name}] interface: ${old.bindAddress} -> ${section.bindAddress} needs a restart`,
      );
    }
  }
  for (const key of Object.keys(MAIN_KEYS) as (keyof MainConfig)[]) {
    if (JSON.stringify(current.main[key]) !== JSON.stringify(next.main[key])) {
      changes.push(`[main] ${MAIN_KEYS[key]} changed: [main] settings need a restart`);
    }
  }
  return changes;
}
