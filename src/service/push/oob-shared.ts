// What push, SMS and phone logins share: the per-user budget against push fatigue and toll
// fraud, the one decision of an out-of-band login's final answer, the audit record, and
// constant-time comparison of one-time secrets.
import { timingSafeEqual } from 'node:crypto';
import type { Application, AuthTransaction, OobStatus, User } from '../../core/model.ts';
import type { NewResultEvent } from '../../store/result-event-store.ts';
import type { RateBucketStore } from '../../store/rate-bucket-store.ts';
import type { Store } from '../../store/store.ts';
import type { WriteBatcher } from '../../store/write-batcher.ts';
import type { OobHub } from './oob-hub.ts';

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
  /**
   * In the database where nodes share PostgreSQL (they hold across nodes), in memory on a single
   * SQLite node (`loginBudgetStore`, docs/multi-node.md).
   */
  budgets: RateBucketStore;
  writes: WriteBatcher;
  budget: { ratePerMinute: number; burst: number };
  app: Application;
  user: User;
  factor: 'push' | 'phone' | 'sms';
  detail: Record<string, unknown>;
  nowMs: number;
}): Promise<AuthOutcome | undefined> {
  const { app, user, nowMs } = input;
  const taken = await input.budgets.takeRateToken(`oob:${user.id}`, nowMs, {
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

/** What answered an out-of-band request: the user's answer, or a failed delivery. */
export type OobAnswerStatus = Extract<OobStatus, 'allow' | 'deny' | 'fraud' | 'push_failed'>;

/**
 * The one place that decides the final answer of an out-of-band login (push or phone call) and
 * records it. In one transaction: re-reads the user's status — an approval never lets in a user
 * who was disabled, locked out or deleted while the request was pending (denied, audited with the
 * reason) —, moves the request to its final status once (a second answer loses), and writes the
 * async transaction's answer with the audit event. Then wakes whoever waits. Undefined when the
 * request was no longer pending.
 */
export async function settleOobRequest(
  deps: { writes: WriteBatcher; hub: OobHub },
  input: {
    txid: string;
    appId: string;
    app: Application | undefined;
    user: Pick<User, 'id' | 'username'>;
    factor: 'push' | 'phone';
    status: OobAnswerStatus;
    /** The answer for `status` while the user may log in. */
    outcome: AuthOutcome;
    nowMs: number;
    detail: Record<string, unknown>;
    /** More writes of the same transaction (e.g. a failure count), once the request is won. */
    alsoWrite?: (tx: Store) => Promise<unknown>;
  },
): Promise<AuthOutcome | undefined> {
  const { txid, user, nowMs } = input;
  const settled = await deps.writes.run(async (tx) => {
    const userStatus = await tx.getUserStatus(user.id);
    const blocked =
      input.status === 'allow' && userStatus !== 'active' && userStatus !== 'bypass'
        ? blockedOutcome(userStatus)
        : undefined;
    const status: OobStatus = blocked ? 'deny' : input.status;
    if (!(await tx.resolveOobRequest(txid, status, nowMs))) return undefined;
    const answer = blocked ?? input.outcome;
    await tx.updateAuthTransaction(txid, {
      result: answer.result,
      status: answer.status,
      statusMsg: answer.status_msg,
    });
    const action = input.status === 'fraud' ? `auth.${input.factor}.fraud` : `auth.${input.factor}`;
    await tx.appendAudit(
      auditEvent(input.app, user, nowMs, action, blocked ? status : answer.status, {
        ...input.detail,
        txid,
        ...(blocked ? { reason: `user-${userStatus ?? 'deleted'}` } : {}),
      }),
    );
    await input.alsoWrite?.(tx);
    // The result stream's event commits with the answer: every node streams it, once.
    await tx.appendResultEvent(resultEvent(input.appId, txid, answer, nowMs));
    return { status, answer };
  });
  if (!settled) return undefined;
  deps.hub.resolved(txid, settled.status);
  return settled.answer;
}

/** The answer of an approval by a user who may no longer log in (as a passcode would get). */
function blockedOutcome(userStatus: User['status'] | undefined): AuthOutcome {
  return userStatus === 'locked out'
    ? { result: 'deny', status: 'locked_out', status_msg: 'Your account is locked out.' }
    : { result: 'deny', status: 'deny', status_msg: 'Your account is disabled.' };
}

/** The result stream's event of a final answer (written in the answer's transaction). */
export function resultEvent(
  appId: string,
  txid: string,
  answer: AuthOutcome,
  nowMs: number,
): NewResultEvent {
  return {
    appId,
    txid,
    result: answer.result,
    status: answer.status,
    statusMsg: answer.status_msg,
    createdAtMs: nowMs,
  };
}

/** The Auth API answer stored for a transaction; undefined while it waits. */
export function answerOf(tx: AuthTransaction | undefined): AuthOutcome | undefined {
  if (!tx || tx.result === 'waiting') return undefined;
  return { result: tx.result, status: tx.status, status_msg: tx.statusMsg };
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
