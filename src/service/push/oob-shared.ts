// What push, SMS and phone logins share: the per-user budget against push fatigue and toll
// fraud, the audit record, and constant-time comparison of one-time secrets.
import { timingSafeEqual } from 'node:crypto';
import type { Application, User } from '../../core/model.ts';
import type { TokenBuckets } from '../../core/token-bucket.ts';
import type { WriteBatcher } from '../../store/write-batcher.ts';

export interface AuthOutcome {
  result: 'allow' | 'deny';
  status: string;
  status_msg: string;
}

/**
 * Takes one unit of the user's out-of-band budget — ONE budget for pushes, calls and SMS batches,
 * so switching factor does not buy more. Undefined when allowed; else the deny (audited).
 */
export async function spendLoginBudget(input: {
  rateLimits: TokenBuckets;
  writes: WriteBatcher;
  budget: { ratePerMinute: number; burst: number };
  app: Application;
  user: User;
  factor: 'push' | 'phone' | 'sms';
  detail: Record<string, unknown>;
  nowMs: number;
}): Promise<AuthOutcome | undefined> {
  const { app, user, nowMs } = input;
  const taken = input.rateLimits.take(`oob:${user.id}`, nowMs, {
    ratePerSecond: input.budget.ratePerMinute / 60,
    burst: input.budget.burst,
  });
  if (taken.ok) return undefined;
  await input.writes.run((tx) =>
    tx.appendAudit(
      auditEvent(app, user, nowMs, `auth.${input.factor}`, 'deny', {
        reason: 'login-budget-spent',
        ...input.detail,
      }),
    ),
  );
  return {
    result: 'deny',
    status: 'deny',
    status_msg: `Too many login requests. Wait ${taken.retryAfterSeconds} seconds or use a passcode.`,
  };
}

/** An audit record of an out-of-band login; `detail.actor` overrides the application as actor. */
export function auditEvent(
  app: Application | undefined,
  user: Pick<User, 'id' | 'username'>,
  nowMs: number,
  action: string,
  result: string,
  detail: Record<string, unknown>,
) {
  const { actor, ...rest } = detail;
  return {
    tsMs: nowMs,
    actor: typeof actor === 'string' ? actor : app ? `app:${app.ikey}` : 'system',
    action,
    targetType: 'user',
    targetId: user.id,
    appId: app?.id ?? null,
    username: user.username,
    result,
    ip: typeof rest.ipaddr === 'string' ? rest.ipaddr : null,
    detail: rest,
  };
}

export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
