// What every admin operation receives: the store and the ports, and who is acting from where.
import type { NewAuditEvent } from '../core/model.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Random } from '../runtime/random.ts';
import type { Store } from '../store/store.ts';

export interface OperationContext {
  store: Store;
  clock: Clock;
  random: Random;
  /** Who the audit log names: `cli:<os user>`, `admin:<name>` or `adminkey:<ikey>`. */
  actor: string;
  /** The caller's address for the Admin API and the console; null from the CLI. */
  ip?: string | null;
  /** Key for hashing bypass codes (HKDF of the secret key, as in the Auth API). */
  bypassPepper: Buffer;
}

export interface AuditTarget {
  type: string;
  id: string;
}

/** The audit event of one admin change; each operation builds its own exactly once. */
export function auditEvent(
  ctx: OperationContext,
  action: string,
  target: AuditTarget,
  detail: Record<string, unknown>,
  username: string | null = null,
): NewAuditEvent {
  return {
    tsMs: ctx.clock.nowMs(),
    actor: ctx.actor,
    action,
    targetType: target.type,
    targetId: target.id,
    appId: null,
    username,
    result: 'ok',
    ip: ctx.ip ?? null,
    detail,
  };
}
