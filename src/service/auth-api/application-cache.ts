// A short-lived cache of applications by ikey, so a signed request costs no database read for
// its credentials. Changes made by the CLI (e.g. rotate-secret) take effect within `ttlMs`.
import type { Application } from '../../core/model.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { Store } from '../../store/store.ts';

interface Entry {
  app: Application | undefined;
  expiresMs: number;
}

export class ApplicationCache {
  readonly #entries = new Map<string, Entry>();
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(store: Store, clock: Clock, ttlMs: number, maxEntries = 10_000) {
    this.#store = store;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  async getByIkey(ikey: string): Promise<Application | undefined> {
    const now = this.#clock.nowMs();
    const hit = this.#entries.get(ikey);
    if (hit && hit.expiresMs > now) return hit.app;
    const app = await this.#store.getApplicationByIkey(ikey);
    // Unknown ikeys are cached too (bounded), so a flood of forged keys does not reach the database.
    if (this.#entries.size >= this.#maxEntries) this.#entries.clear();
    this.#entries.set(ikey, { app, expiresMs: now + this.#ttlMs });
    return app;
  }
}
