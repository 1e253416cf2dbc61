// The service's SIEM output: every committed audit event (logins, admin changes, bypass and
// emergency controls) sent as RFC 5424 syslog, read back from the audit log in id order.
import type { AuditEvent } from '../../core/model.ts';
import type { SyslogRecord, SyslogSender } from '../../runtime/syslog-sender.ts';
import type { AuditSubscriber } from '../audit-follower.ts';

/** Actions a SIEM should notice: bypass, emergency controls, lockouts, failmode. */
const NOTABLE_ACTION = /bypass|emergency|lockout|failmode|primary-only/;
const DENIED_RESULT = /^(deny|fail|locked out|rate-limited)$/;

/** One audit event as a syslog record: MSGID is the action, MSG the event as JSON. */
export function auditRecord(event: AuditEvent): SyslogRecord {
  const severity = NOTABLE_ACTION.test(event.action)
    ? 'warning'
    : DENIED_RESULT.test(event.result ?? '')
      ? 'notice'
      : 'info';
  const params: Record<string, string> = { action: event.action, actor: event.actor };
  if (event.result !== null) params.result = event.result;
  if (event.username !== null) params.username = event.username;
  if (event.appId !== null) params.app_id = event.appId;
  if (event.ip !== null) params.ip = event.ip;
  return {
    severity,
    msgId: event.action.slice(0, 32),
    params,
    json: { ...event, timestamp: new Date(event.tsMs).toISOString() },
  };
}

/**
 * The SIEM output as a follower of the audit log (service/audit-follower.ts): every committed
 * event, in id order; `close` sends what is queued, then closes the connection.
 */
export function createAuditForwarder(sender: SyslogSender): AuditSubscriber & {
  close(): Promise<void>;
} {
  return {
    name: 'SIEM output',
    handle(events) {
      for (const event of events) sender.send(auditRecord(event));
      return Promise.resolve();
    },
    async close() {
      await sender.flush(2_000).catch(() => undefined);
      await sender.close();
    },
  };
}
