// Decides a login by policy: loads the global and application policies and the active emergency
// overlays (cached briefly, like ApplicationCache) and runs the pure evaluatePolicy.
import type { Application } from '../../core/model.ts';
import { evaluatePolicy, type Factor, type PolicyDecision } from '../../core/policy.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { AuthSubject, Store } from '../../store/store.ts';
import {
  buildPolicyInput,
  loadPolicySnapshot,
  type PolicySnapshot,
} from '../../operations/policy-input.ts';

export { buildPolicyInput, loadPolicySnapshot, type PolicySnapshot };

/**
 * Decides logins against a snapshot of the policies that is at most `ttlMs` old, so the hot path
 * costs no database read; `airlock policy set` and `airlock emergency` apply within `ttlMs`.
 */
export class AccessDecision {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  #cached: { snapshot: PolicySnapshot; expiresMs: number } | undefined;
  #loading: Promise<PolicySnapshot> | undefined;

  constructor(store: Store, clock: Clock, ttlMs: number) {
    this.#store = store;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  async decide(
    app: Application,
    subject: AuthSubject | undefined,
    login: {
      nowMs: number;
      clientIp?: string | undefined;
      phoneFactors?: { sms: boolean; phone: boolean };
    },
  ): Promise<PolicyDecision> {
    const snapshot = await this.snapshot();
    return evaluatePolicy(buildPolicyInput(app, subject, snapshot, login));
  }

  /** The cached snapshot, reloaded when older than the TTL (one load at a time). */
  async snapshot(): Promise<PolicySnapshot> {
    const now = this.#clock.nowMs();
    if (this.#cached && this.#cached.expiresMs > now) return this.#cached.snapshot;
    this.#loading ??= loadPolicySnapshot(this.#store).then(
      (snapshot) => {
        this.#cached = { snapshot, expiresMs: now + this.#ttlMs };
        this.#loading = undefined;
        return snapshot;
      },
      (err: unknown) => {
        this.#loading = undefined;
        throw err;
      },
    );
    return this.#loading;
  }

  /** Drops the cached snapshot; the emergency runner calls it after a change in this process. */
  invalidate(): void {
    this.#cached = undefined;
  }
}

/**
 * The factor an Auth API `/auth` call asks for: `auto` and push tokens of `prompt` are push, any
 * other `prompt` value is a passcode. Undefined for a factor the API does not know.
 */
export function requestedFactor(
  factor: string | undefined,
  prompt: string | undefined,
): Factor | undefined {
  switch (factor) {
    case 'passcode':
    case 'push':
    case 'sms':
    case 'phone':
      return factor;
    case 'auto':
      return 'push';
    case 'prompt':
      // The same tokens as the /auth handler's PROMPT_FACTOR_TOKEN.
      return prompt !== undefined && /^(push|phone|sms|verified_push)[1-9][0-9]{0,2}$/.test(prompt)
        ? prompt.startsWith('phone')
          ? 'phone'
          : prompt.startsWith('sms')
            ? 'sms'
            : 'push'
        : 'passcode';
    default:
      return undefined;
  }
}

/** The status message when a policy does not allow the factor asked for. */
export function factorNotAllowedMessage(factor: Factor, allowed: readonly Factor[]): string {
  return allowed.length === 0
    ? 'No authentication method is allowed for this application.'
    : `Authentication by ${factor} is not allowed for this application; use ${allowed.join(' or ')}.`;
}
