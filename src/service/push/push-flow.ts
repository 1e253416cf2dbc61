// Push logins: send a request to a device, wait for its signed answer, expire it after the push
// lifetime. Every state change is one conditional write (a request answers once) that commits
// with its audit event and the async transaction's status before anyone is told.
import { createHmac } from 'node:crypto';
import { DEFAULT_LOCKOUT_DURATION_SECONDS } from '../../core/lockout.ts';
import { AirlockError } from '../../core/error-registry.ts';
import type {
  Application,
  Device,
  OobContext,
  OobFactor,
  OobStatus,
  User,
} from '../../core/model.ts';
import type { Clock } from '../../runtime/clock.ts';
import { generateDigits, type Random } from '../../runtime/random.ts';
import type { RateBucketStore } from '../../store/rate-bucket-store.ts';
import type { Store } from '../../store/store.ts';
import type { WriteBatcher } from '../../store/write-batcher.ts';
import type { OobHub, PublishedResult, StreamEnd } from './oob-hub.ts';
import {
  answerOf,
  auditEvent,
  constantTimeEqual,
  resultEvent,
  settleOobRequest,
  spendLoginBudget,
  type AuthOutcome,
  type OobAnswerStatus,
} from './oob-shared.ts';

export interface PushOptions {
  /** How long a push waits for an answer ("Login timed out." after). */
  pushTimeoutSeconds: number;
  /** Per-user push budget against push fatigue: sustained rate and burst. */
  pushRatePerMinute: number;
  pushBurst: number;
  /** Consecutive failed second factors that lock a user out (a wrong verification code counts). */
  lockoutThreshold: number;
  /** How long such a lockout lasts; 0 = until an administrator unlocks (core/lockout.ts). */
  lockoutDurationSeconds: number;
}

export const DEFAULT_PUSH_OPTIONS: PushOptions = {
  pushTimeoutSeconds: 60,
  pushRatePerMinute: 3,
  pushBurst: 3,
  lockoutThreshold: 10,
  lockoutDurationSeconds: DEFAULT_LOCKOUT_DURATION_SECONDS,
};

export type { AuthOutcome };

export const DEVICE_ANSWERS = ['approve', 'deny', 'fraud'] as const;
export type DeviceAnswer = (typeof DEVICE_ANSWERS)[number];

export interface PushStarted {
  txid: string;
  expiresAtMs: number;
  /** Verified push: what the prompt must show; null otherwise. */
  verificationCode: string | null;
  /** The async transaction's first status message. */
  statusMsg: string;
}

interface Deps {
  store: Store;
  /** The per-user out-of-band budget, shared with the other factors (memory-rate-buckets.ts). */
  budgets: RateBucketStore;
  writes: WriteBatcher;
  clock: Clock;
  random: Random;
  hub: OobHub;
  options: PushOptions;
  /** A push that expired without the device ever taking it: a failed delivery (factor health). */
  onUndelivered?: (factor: OobFactor) => void;
  /** Secret of the txids derived from login keys (loginKeyTxid); never leaves the service. */
  loginKeySecret: Buffer;
}

const FINAL_OUTCOMES: Record<Exclude<OobStatus, 'pushed' | 'calling' | 'answered'>, AuthOutcome> = {
  allow: { result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' },
  deny: { result: 'deny', status: 'deny', status_msg: 'Login request denied.' },
  fraud: {
    result: 'deny',
    status: 'fraud',
    status_msg: 'Login request reported as fraudulent.',
  },
  timeout: { result: 'deny', status: 'timeout', status_msg: 'Login timed out.' },
  push_failed: { result: 'deny', status: 'push_failed', status_msg: 'Push delivery failed.' },
};

/** The Auth API answer for an out-of-band request's status; undefined while it is pending. */
export function outcomeOf(status: OobStatus): AuthOutcome | undefined {
  return status === 'pushed' || status === 'calling' || status === 'answered'
    ? undefined
    : FINAL_OUTCOMES[status];
}

export class PushFlow {
  readonly #d: Deps;

  constructor(deps: Deps) {
    this.#d = deps;
  }

  /**
   * Sends a push to `device`, or answers deny when the user's push budget is spent. Creates the
   * async transaction under the same txid, so auth_status works for sync and async alike.
   */
  async start(input: {
    app: Application;
    user: User;
    device: Device;
    context: OobContext;
    access: Record<string, string | undefined>;
    nowMs: number;
    /**
     * The `login_key` the caller sent (docs/auth-api.md): the same key from the same application
     * joins the push already started for it instead of sending a second one (proxy pairs).
     */
    loginKey?: string;
    /**
     * The caller's `push_timeout`: the push expires then if that is sooner than the service's;
     * ignored with a `loginKey` (a proxy of the pair that joins later waits from then).
     */
    timeoutSeconds?: number | undefined;
  }): Promise<PushStarted | AuthOutcome> {
    const { app, user, device, nowMs } = input;
    const o = this.#d.options;
    const keyed =
      input.loginKey === undefined
        ? undefined
        : loginKeyTxid(this.#d.loginKeySecret, app.id, input.loginKey);
    if (keyed !== undefined) {
      const joined = await this.#join(keyed, input);
      if (joined) return joined;
    }
    const denied = await spendLoginBudget({
      budgets: this.#d.budgets,
      writes: this.#d.writes,
      budget: { ratePerMinute: o.pushRatePerMinute, burst: o.pushBurst },
      app,
      user,
      factor: 'push',
      detail: { deviceId: device.id, ...input.access },
      nowMs,
    });
    if (denied) return denied;
    const txid = keyed ?? this.#d.random.uuid();
    const verificationCode = app.verifiedPush ? generateDigits(this.#d.random, 3) : null;
    // A push that a login key names keeps the service's timeout: another proxy of the pair may
    // join it later and wait its own push_timeout from then.
    const callerSeconds = keyed === undefined ? input.timeoutSeconds : undefined;
    const expiresAtMs = nowMs + Math.min(o.pushTimeoutSeconds, callerSeconds ?? Infinity) * 1000;
    const statusMsg = verificationCode
      ? `Please enter verification code ${verificationCode} into your authenticator...`
      : 'Pushed a login request to your device...';
    try {
      await this.#d.writes.run(async (tx) => {
        await tx.createOobRequest({
          txid,
          factor: 'push',
          appId: app.id,
          userId: user.id,
          deviceId: device.id,
          status: 'pushed',
          context: input.context,
          verificationCode,
          callbackTokenHash: null,
          expiresAtMs,
        });
        await tx.createAuthTransaction({
          txid,
          appId: app.id,
          userId: user.id,
          factor: 'push',
          result: 'waiting',
          status: 'pushed',
          statusMsg,
        });
        await tx.appendAudit(
          auditEvent(app, user, nowMs, 'auth.push.sent', 'pushed', {
            txid,
            deviceId: device.id,
            verified: verificationCode !== null,
            ...input.access,
          }),
        );
      });
    } catch (err) {
      // Another node (or proxy) started the push for this login key between our look and our
      // write: the txid is the primary key, so its insert lost. Join that push.
      const joined = keyed === undefined ? undefined : await this.#join(keyed, input);
      if (joined) return joined;
      throw err;
    }
    this.#d.hub.offered(device.id);
    return { txid, expiresAtMs, verificationCode, statusMsg };
  }

  /**
   * The push already started under `txid` for this application and user, audited as joined; or
   * undefined when there is none (or it belongs to someone else: a key is never a way to see
   * another login's push).
   */
  async #join(
    txid: string,
    input: {
      app: Application;
      user: User;
      access: Record<string, string | undefined>;
      nowMs: number;
    },
  ): Promise<PushStarted | undefined> {
    const existing = await this.#d.store.getOobRequest(txid);
    if (
      !existing ||
      existing.factor !== 'push' ||
      existing.appId !== input.app.id ||
      existing.userId !== input.user.id
    ) {
      return undefined;
    }
    const transaction = await this.#d.store.getAuthTransaction(txid);
    await this.#d.writes.run((tx) =>
      tx.appendAudit(
        auditEvent(input.app, input.user, input.nowMs, 'auth.push.joined', existing.status, {
          txid,
          deviceId: existing.deviceId,
          ...input.access,
        }),
      ),
    );
    return {
      txid,
      expiresAtMs: existing.expiresAtMs,
      verificationCode: existing.verificationCode,
      statusMsg: transaction?.statusMsg ?? 'Pushed a login request to your device...',
    };
  }

  /**
   * Waits for the request's final answer until `deadlineMs` (never past its expiry); undefined
   * when it is still pending then. The answer is the async transaction's, as stored by
   * `settleOobRequest` or the sweep: a blocking /auth and auth_status answer the same.
   */
  async waitForOutcome(txid: string, deadlineMs: number): Promise<AuthOutcome | undefined> {
    const current = await this.#d.store.getOobRequest(txid);
    if (!current) return undefined;
    if (outcomeOf(current.status) === undefined) {
      const until = Math.min(deadlineMs, current.expiresAtMs);
      const woke = await this.#d.hub.waitForAnswer(txid, until - this.#d.clock.nowMs());
      // Not woken here: the answer may have been written by another node, or the sweep is due.
      if (!woke) await this.#sweepIfExpired(txid);
    }
    return answerOf(await this.#d.store.getAuthTransaction(txid));
  }

  async #sweepIfExpired(txid: string): Promise<void> {
    const after = await this.#d.store.getOobRequest(txid);
    const nowMs = this.#d.clock.nowMs();
    if (after && outcomeOf(after.status) === undefined && after.expiresAtMs <= nowMs) {
      await this.sweep(nowMs);
    }
  }

  /**
   * A device's signed answer. Unknown, foreign (another device's), answered and expired requests
   * get one and the same rejection.
   */
  async answer(input: {
    device: Device;
    txid: string;
    answer: DeviceAnswer;
    verificationCode: string | undefined;
    nowMs: number;
  }): Promise<AuthOutcome> {
    const { device, txid, nowMs } = input;
    const request = await this.#d.store.getOobRequest(txid);
    if (
      !request ||
      request.deviceId !== device.id ||
      request.factor !== 'push' ||
      outcomeOf(request.status) !== undefined ||
      request.expiresAtMs <= nowMs
    ) {
      throw new AirlockError('AUTH_INVALID_PARAMETERS', 'txid');
    }
    const codeOk =
      request.verificationCode === null ||
      (input.verificationCode !== undefined &&
        constantTimeEqual(input.verificationCode, request.verificationCode));
    const status: OobAnswerStatus =
      input.answer === 'fraud' ? 'fraud' : input.answer === 'deny' || !codeOk ? 'deny' : 'allow';
    const app = await this.#d.store.getApplication(request.appId);
    const settled = await settleOobRequest(this.#d, {
      txid,
      appId: request.appId,
      app,
      user: { id: request.userId, username: request.context.username },
      factor: 'push',
      status,
      outcome: FINAL_OUTCOMES[status],
      nowMs,
      detail: {
        actor: `device:${device.id}`,
        deviceId: device.id,
        answer: input.answer,
        ...(codeOk ? {} : { reason: 'wrong-verification-code' }),
        ipaddr: request.context.ipaddr ?? undefined,
      },
      // A wrong verification code counts toward the lockout, like a wrong passcode.
      alsoWrite: codeOk
        ? undefined
        : (tx) =>
            tx.recordSecondFactorFailure(request.userId, this.#d.options.lockoutThreshold, {
              lockoutDurationSeconds: this.#d.options.lockoutDurationSeconds,
              source: { appId: request.appId, ip: request.context.ipaddr ?? null },
            }),
    });
    if (!settled) throw new AirlockError('AUTH_INVALID_PARAMETERS', 'txid');
    return settled;
  }

  /**
   * An async transaction that was final at once (e.g. a passcode, a push refused) was committed
   * with its result event (`resultEvent`): the result streams of every node look.
   */
  resultsWritten(): void {
    this.#d.hub.resultsWritten();
  }

  /**
   * Every final result of the application, as it happens (the auth_results stream); with
   * `afterId`, first those after that event (a reconnecting stream's catch-up, across restarts
   * and nodes: the events are in the store). `onEnd`: the stream ended (oob-hub.ts), the client
   * must reconnect.
   */
  subscribe(
    appId: string,
    listener: (result: PublishedResult, id: string) => void,
    afterId?: string,
    onEnd?: StreamEnd,
  ): () => void {
    return this.#d.hub.subscribe(appId, listener, afterId, onEnd);
  }

  /** Moves expired pending requests to `timeout` and wakes their waiters. */
  async sweep(nowMs: number): Promise<number> {
    const expired = await this.#d.writes.run(async (tx) => {
      const expiredRequests = await tx.expireOobRequests(nowMs);
      const txids = expiredRequests.map((r) => r.txid);
      for (const r of expiredRequests) {
        await tx.updateAuthTransaction(r.txid, {
          result: 'deny',
          status: 'timeout',
          statusMsg: FINAL_OUTCOMES.timeout.status_msg,
        });
        await tx.appendResultEvent(resultEvent(r.appId, r.txid, FINAL_OUTCOMES.timeout, nowMs));
      }
      if (txids.length > 0) {
        await tx.appendAudit({
          tsMs: nowMs,
          actor: 'system',
          action: 'auth.push.timeout',
          targetType: null,
          targetId: null,
          appId: null,
          username: null,
          result: 'timeout',
          ip: null,
          detail: { txids, usernames: [...new Set(expiredRequests.map((r) => r.username))] },
        });
      }
      return expiredRequests;
    });
    for (const r of expired) {
      if (!r.delivered && r.factor === 'push') this.#d.onUndelivered?.(r.factor);
      this.#d.hub.resolved(r.txid, 'timeout');
    }
    return expired.length;
  }
}

/**
 * The txid of the push for `loginKey` of application `appId`: a keyed hash, so that every proxy
 * of a pair (and every service node) arrives at the same txid for the same login, and nobody
 * without the service's secret can compute or guess another login's txid. Shaped as a UUID v4
 * like every other txid.
 */
export function loginKeyTxid(secret: Buffer, appId: string, loginKey: string): string {
  const h = createHmac('sha256', secret).update(`login-key\0${appId}\0${loginKey}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
