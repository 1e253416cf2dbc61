// Per-source budgets of failed second factors: slow one source down without locking the user out.
import type { FailureSource } from './lockout.ts';
import { TokenBuckets, type TokenBucketOptions } from './token-bucket.ts';

export interface SourceLimitOptions {
  /**
   * Failed second factors one source may make against one user before that source is refused
   * for the user. Below the lockout threshold, so one source alone cannot lock the user out fast.
   */
  perUserBurst: number;
  /** Seconds for a (user, source) budget to regain one attempt. */
  perUserRefillSeconds: number;
  /** Failed second factors one source (an `ipaddr`) may make across all users. */
  perSourceBurst: number;
  /** Seconds for a source's budget across all users to regain one attempt. */
  perSourceRefillSeconds: number;
  /** Most budgets kept in memory; past it the least recently used one is dropped. */
  maxTrackedKeys: number;
}

export const DEFAULT_SOURCE_LIMITS: Readonly<SourceLimitOptions> = Object.freeze({
  perUserBurst: 5,
  perUserRefillSeconds: 180,
  perSourceBurst: 50,
  perSourceRefillSeconds: 6,
  maxTrackedKeys: 100_000,
});

/** Which budget refused: the source's for this user, or the source's across all users. */
export type SourceLimitScope = 'user-source' | 'source';

export type SourceAdmission =
  | {
      ok: true;
      /** Gives the reserved attempt back: it did not fail (a success, or refused for another reason). */
      refund(): void;
      /** Settles the reserved attempt as a failure: the unit stays spent. */
      spend(): void;
    }
  | { ok: false; scope: SourceLimitScope; retryAfterSeconds: number };

/** Attempts reserved and not yet settled, per budget key, and who waits for one to settle. */
interface InFlight {
  count: number;
  waiters: Array<() => void>;
}

/**
 * The budgets of one service node, in memory. An attempt reserves one unit of each budget
 * before the second factor is checked (so a burst of concurrent guesses cannot all pass the
 * check); a failure keeps it spent, anything else refunds it. The budget across all users
 * applies only to a source with an `ipaddr`: without one the source is the whole application,
 * and refusing it would refuse every user of the application.
 */
export class SourceFailureLimits {
  readonly #buckets: TokenBuckets;
  readonly #inFlight = new Map<string, InFlight>();
  readonly #perUser: TokenBucketOptions;
  readonly #perSource: TokenBucketOptions;

  constructor(options: SourceLimitOptions = DEFAULT_SOURCE_LIMITS) {
    for (const key of ['perUserBurst', 'perSourceBurst', 'maxTrackedKeys'] as const) {
      if (!Number.isSafeInteger(options[key]) || options[key] < 1) {
        throw new RangeError(`${key} must be a positive integer, got ${options[key]}`);
      }
    }
    for (const key of ['perUserRefillSeconds', 'perSourceRefillSeconds'] as const) {
      if (!(options[key] > 0) || !Number.isFinite(options[key])) {
        throw new RangeError(`${key} must be a positive number, got ${options[key]}`);
      }
    }
    this.#buckets = new TokenBuckets(options.maxTrackedKeys);
    this.#perUser = {
      burst: options.perUserBurst,
      ratePerSecond: 1 / options.perUserRefillSeconds,
    };
    this.#perSource = {
      burst: options.perSourceBurst,
      ratePerSecond: 1 / options.perSourceRefillSeconds,
    };
  }

  /** Reserves one failed attempt of `source` against `userId` at `nowMs`, or refuses it. */
  admit(userId: string, source: FailureSource, nowMs: number): SourceAdmission {
    const userKey = JSON.stringify(['u', userId, source.appId, source.ip]);
    const sourceKey =
      source.ip === null ? undefined : JSON.stringify(['s', source.appId, source.ip]);
    const perUser = this.#buckets.take(userKey, nowMs, this.#perUser);
    if (!perUser.ok) {
      return { ok: false, scope: 'user-source', retryAfterSeconds: perUser.retryAfterSeconds };
    }
    if (sourceKey !== undefined) {
      const perSource = this.#buckets.take(sourceKey, nowMs, this.#perSource);
      if (!perSource.ok) {
        this.#buckets.refund(userKey, this.#perUser);
        return { ok: false, scope: 'source', retryAfterSeconds: perSource.retryAfterSeconds };
      }
    }
    const keys = sourceKey === undefined ? [userKey] : [userKey, sourceKey];
    for (const key of keys) this.#enter(key);
    let settled = false;
    const settle = (refund: boolean) => {
      if (settled) return;
      settled = true;
      if (refund) {
        this.#buckets.refund(userKey, this.#perUser);
        if (sourceKey !== undefined) this.#buckets.refund(sourceKey, this.#perSource);
      }
      for (const key of keys) this.#leave(key);
    };
    return { ok: true, refund: () => settle(true), spend: () => settle(false) };
  }

  /**
   * `admit`, but a refusal that only reservations still in flight cause waits for them to
   * settle and tries again. An honest client's concurrent logins with the right code are then
   * admitted one after another as each refunds, while a burst of guesses still gets no more
   * checks at once than the budget has units: units are reserved before the check.
   */
  admitWhenSettled(
    userId: string,
    source: FailureSource,
    nowMs: number,
  ): SourceAdmission | Promise<SourceAdmission> {
    // Synchronous unless it has to wait: this runs on every passcode login.
    const admission = this.admit(userId, source, nowMs);
    if (admission.ok) return admission;
    const pending = this.#inFlight.get(this.#refusedKey(userId, source, admission.scope));
    if (pending === undefined) return admission;
    return new Promise<void>((resolve) => pending.waiters.push(resolve)).then(() =>
      this.admitWhenSettled(userId, source, nowMs),
    );
  }

  #refusedKey(userId: string, source: FailureSource, scope: SourceLimitScope): string {
    return scope === 'user-source'
      ? JSON.stringify(['u', userId, source.appId, source.ip])
      : JSON.stringify(['s', source.appId, source.ip]);
  }

  #enter(key: string): void {
    const entry = this.#inFlight.get(key);
    if (entry) entry.count += 1;
    else this.#inFlight.set(key, { count: 1, waiters: [] });
  }

  #leave(key: string): void {
    const entry = this.#inFlight.get(key);
    if (entry === undefined) return;
    entry.count -= 1;
    const waiters = entry.waiters.splice(0);
    if (entry.count === 0) this.#inFlight.delete(key);
    for (const wake of waiters) wake();
  }
}

/** What the end user reads when their source is refused (status `deny`, docs/auth-api.md). */
export function sourceLimitMessage(source: FailureSource, retryAfterSeconds: number): string {
  const from = source.ip === null ? 'this application' : 'your address';
  const wait =
    retryAfterSeconds < 60
      ? plural(retryAfterSeconds, 'second')
      : plural(Math.ceil(retryAfterSeconds / 60), 'minute');
  return `Too many failed attempts from ${from}. Try again in ${wait}.`;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}
