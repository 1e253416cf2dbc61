// The proxy's SIEM output: every authevents.log record (logins, failmode, breaker, health,
// primary-only) also sent as RFC 5424 syslog, the JSON record as MSG and its key fields as SD.
import type { SyslogRecord, SyslogSender } from '../runtime/syslog-sender.ts';
import type { AuthEvent, ProxyLogs, SystemEvent } from './proxy-logs.ts';

/** MSGIDs of the proxy's records, for SIEM rules: one per kind of event. */
export const PROXY_SYSLOG_MSGIDS = [
  'authevent',
  'failmode',
  'breaker',
  'health',
  'primary-only',
] as const;

/** A login record: `failmode` when failmode decided it (the guide: know when failmode was invoked). */
export function authEventRecord(event: AuthEvent, json: Record<string, unknown>): SyslogRecord {
  const failmode = event.failmode_invoked === true;
  return {
    severity: failmode
      ? 'warning'
      : event.status === 'Error'
        ? 'err'
        : event.status === 'Reject'
          ? 'notice'
          : 'info',
    msgId: failmode ? 'failmode' : 'authevent',
    params: {
      status: event.status,
      server_section: event.server_section,
      failmode: event.effective_failmode ?? event.failmode,
      failmode_invoked: String(failmode),
      second_factor_checked: String(event.second_factor_checked),
      ...(event.username === null ? {} : { username: event.username }),
      ...(event.client_ip === null ? {} : { client_ip: event.client_ip }),
      ...(event.reason === undefined ? {} : { reason: event.reason }),
    },
    json,
  };
}

/** A record about the proxy itself: a breaker or health change, primary-only mode switched. */
export function systemEventRecord(event: SystemEvent, json: Record<string, unknown>): SyslogRecord {
  return {
    severity: 'warning',
    msgId: event.event_type,
    params: {
      server_section: event.server_section,
      ...(event.host === null ? {} : { host: event.host }),
      ...(event.from === null ? {} : { from: event.from }),
      ...(event.to === null ? {} : { to: event.to }),
      reason: event.reason,
    },
    json,
  };
}

/** `logs`, with each auth and system event also sent to the SIEM. */
export function withSiemOutput(
  logs: ProxyLogs,
  sender: SyslogSender,
  options: { nowIso: () => string; hostname: string },
): ProxyLogs {
  const json = (event: AuthEvent | SystemEvent) => ({
    timestamp: options.nowIso(),
    ...event,
    hostname: options.hostname,
  });
  return {
    request: (ref, message) => logs.request(ref, message),
    line: (message) => logs.line(message),
    event(event) {
      logs.event(event);
      sender.send(authEventRecord(event, json(event)));
    },
    systemEvent(event) {
      logs.systemEvent(event);
      sender.send(systemEventRecord(event, json(event)));
    },
    async close() {
      await sender.flush(2_000).catch(() => undefined);
      await sender.close();
      await logs.close();
    },
  };
}
