// Primary-only mode as a switch, not a restart: the proxy watches the state file the CLI writes.
import {
  primaryOnlyState,
  type PrimaryOnlyRecord,
  type PrimaryOnlyState,
} from '../core/primary-only.ts';
import type { Clock } from '../runtime/clock.ts';
import { readPrimaryOnly } from '../runtime/primary-only-state-file.ts';

/**
 * Keeps the proxy's view of the switch fresh: re-reads the state file every `pollMs` (a cheap
 * read of a tiny file; fs.watch misses atomic renames on some filesystems) and reports changes,
 * including the expiry, which happens by the clock alone.
 */
export class PrimaryOnlyWatcher {
  readonly #stateDir: string;
  readonly #clock: Clock;
  readonly #onChange: (state: PrimaryOnlyState, previous: PrimaryOnlyState) => void;
  #record: PrimaryOnlyRecord | undefined;
  #lastState: PrimaryOnlyState;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: {
    stateDir: string;
    clock: Clock;
    onChange: (state: PrimaryOnlyState, previous: PrimaryOnlyState) => void;
  }) {
    this.#stateDir = options.stateDir;
    this.#clock = options.clock;
    this.#onChange = options.onChange;
    this.#record = readPrimaryOnly(this.#stateDir);
    this.#lastState = primaryOnlyState(this.#record, this.#clock.nowMs());
  }

  /** The state now; cheap enough for every request. */
  state(): PrimaryOnlyState {
    return primaryOnlyState(this.#record, this.#clock.nowMs());
  }

  /** The state when the watcher started (for the start-up log line). */
  initialState(): PrimaryOnlyState {
    return this.#lastState;
  }

  start(pollMs = 250): void {
    this.#timer = setInterval(() => this.poll(), pollMs);
    this.#timer.unref();
  }

  /** Re-reads the file and reports a change; the interval calls it, tests may call it directly. */
  poll(): void {
    this.#record = readPrimaryOnly(this.#stateDir);
    const next = this.state();
    const prev = this.#lastState;
    if (
      next.active !== prev.active ||
      (next.active && prev.active && next.record.expiresAtMs !== prev.record.expiresAtMs)
    ) {
      this.#lastState = next;
      this.#onChange(next, prev);
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}
