// The service's SIEM output: every committed audit event (logins, admin changes, bypass and
// emergency controls) sent as RFC 5424 syslog, read back from the audit log in id order.
import type { AuditEvent } from '../../core/model.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { SyslogRecord, SyslogSender } from '../../runtime/syslog-sender.ts';
import type { Store } from '../../store/store.ts';

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

export interface AuditForwarder {
  /** Sends the events committed since the last call; returns how many. */
  forwardOnce(): Promise<number>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

/**
 * Follows the audit log from the moment it is created (events before it are not re-sent after a
 * restart: the SIEM has them). Reading committed rows, rather than hooking each write, means an
 * event rolled back is never reported and no write path needs to know about the SIEM.
 */
export function createAuditForwarder(deps: {
  store: Store;
  sender: SyslogSender;
  clock: Clock;
  onError: (err: unknown) => void;
}): AuditForwarder {
  const startedAtMs = deps.clock.nowMs();
  let lastId: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  const forward = async (): Promise<number> => {
    let count = 0;
    for (;;) {
      const events = await deps.store.listAudit(
        lastId === undefined
          ? { sinceMs: startedAtMs, limit: 1000 }
          : { afterId: lastId, limit: 1000 },
      );
      for (const event of events) {
        deps.sender.send(auditRecord(event));
        lastId = event.id;
      }
      count += events.length;
      if (events.length < 1000) return count;
    }
  };
  const forwardOnce = () => {
    // One pass at a time, so an event is never sent twice.
    running ??= forward().finally(() => {
      running = undefined;
    });
    return running;
  };
  return {
    forwardOnce,
    start(intervalMs) {
      timer = setInterval(() => {
        forwardOnce().catch(deps.onError);
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await forwardOnce().catch(deps.onError);
      await deps.sender.flush(2_000).catch(deps.onError);
      await deps.sender.close();
    },
  };
}
