// Pending Access-Challenge states: who passed primary authentication and may now answer with a
// passcode, and through which RADIUS client. Kept in memory for 300 s (docs/design/auth-api.md
// §3.11), bounded, keyed by the State we sent.
import type { Clock } from '../runtime/clock.ts';

export interface PendingChallenge {
  section: string;
  username: string;
  /**
   * The address of the RADIUS client (NAS) the challenge was sent to: only an answer from there
   * counts, so a State seen on one NAS's path cannot be answered through another.
   */
  nasIp: string;
  clientIp: string | undefined;
  /** Attributes from the primary authentication's reply, passed through on the final accept. */
  attributes: { type: number; value: Buffer }[];
  /** The user's directory groups from primary authentication (per-group failmode at /auth). */
  groups: readonly string[];
  /** The factor menu the user saw (challenge sections); undefined = passcode only. */
  factors: readonly string[] | undefined;
  /** `challenge_push`: the push sent with the challenge, whose answer an empty reply waits for. */
  push?: { txid: string; host: string } | undefined;
  expiresAtMs: number;
}

export class ChallengeStore {
  readonly #entries = new Map<string, PendingChallenge>();
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(clock: Clock, ttlMs = 300_000, maxEntries = 100_000) {
    this.#clock = clock;
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  /** Stores a pending challenge under `state` (16 random bytes from the caller). */
  put(state: Buffer, entry: Omit<PendingChallenge, 'expiresAtMs'>): void {
    if (this.#entries.size >= this.#maxEntries) this.sweep();
    // Still full of live challenges: refuse to grow; the oldest is dropped (its user retries).
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(state.toString('hex'), {
      ...entry,
      expiresAtMs: this.#clock.nowMs() + this.#ttlMs,
    });
  }

  /** Takes the challenge for `state` (one answer per challenge); undefined when unknown or expired. */
  take(state: Buffer): PendingChallenge | undefined {
    const key = state.toString('hex');
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    return entry.expiresAtMs > this.#clock.nowMs() ? entry : undefined;
  }

  sweep(): void {
    const now = this.#clock.nowMs();
    for (const [key, entry] of this.#entries)
      if (entry.expiresAtMs <= now) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
