// The gateway's SIEM output: every portal login, failmode decision and forward-auth denial also
// sent as RFC 5424 syslog, the JSON record as MSG and its key fields as SD (docs/gateway.md).
import type { SyslogRecord, SyslogSender } from '../runtime/syslog-sender.ts';
import type { FailmodeEvent, GatewayEvents, LoginEvent } from './gateway-events.ts';

/** MSGIDs of the gateway's records, for SIEM rules: one per kind of event. */
export const GATEWAY_SYSLOG_MSGIDS = ['login', 'failmode', 'forward-auth'] as const;

/** A portal login: `err` when the gateway could not decide, `notice` when it refused. */
export function loginRecord(event: LoginEvent, json: Record<string, unknown>): SyslogRecord {
  return {
    severity: event.result === 'error' ? 'err' : event.result === 'deny' ? 'notice' : 'info',
    msgId: 'login',
    params: {
      app: event.app,
      result: event.result,
      reason: event.reason,
      username: event.username,
      client_ip: event.client_ip,
      ...(event.second_factor === undefined ? {} : { second_factor: event.second_factor }),
    },
    json,
  };
}

/** A login decided by failmode because the service was unreachable (the guide: know when). */
export function failmodeRecord(event: FailmodeEvent, json: Record<string, unknown>): SyslogRecord {
  return {
    severity: 'warning',
    msgId: 'failmode',
    params: {
      app: event.app,
      failmode: event.failmode,
      action: event.action,
      reason: event.reason,
      cause: event.cause,
      username: event.username,
      client_ip: event.client_ip,
    },
    json,
  };
}

/** A request the reverse proxy asked about and the gateway refused (`restriction=deny`). */
export function forwardAuthDenialRecord(app: string, json: Record<string, unknown>): SyslogRecord {
  return { severity: 'notice', msgId: 'forward-auth', params: { app, result: 'deny' }, json };
}

/** `events`, with each login, failmode event and forward-auth denial also sent to the SIEM. */
export function withGatewaySiemOutput(
  events: GatewayEvents,
  sender: SyslogSender,
  options: { nowIso: () => string; hostname: string },
): GatewayEvents {
  const json = (eventType: string, event: object) => ({
    timestamp: options.nowIso(),
    event_type: eventType,
    ...event,
    hostname: options.hostname,
  });
  return {
    metrics: events.metrics,
    line: (msg) => events.line(msg),
    login(event) {
      events.login(event);
      sender.send(loginRecord(event, json('login', event)));
    },
    failmode(event) {
      events.failmode(event);
      sender.send(failmodeRecord(event, json('failmode', event)));
    },
    forwardAuth(app, result) {
      events.forwardAuth(app, result);
      // Allowed requests and redirects to the portal are every page view: only denials are events.
      if (result === 'deny') {
        sender.send(forwardAuthDenialRecord(app, json('forward-auth', { app, result })));
      }
    },
    async close() {
      await sender.flush(2_000).catch(() => undefined);
      await sender.close();
      await events.close();
    },
  };
}
