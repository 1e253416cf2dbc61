// Clock port: the only source of "now" outside src/runtime; tests pass a FixedClock.

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

export class SystemClock implements Clock {
  nowMs(): number {
    return Date.now();
  }
}

/** A clock that only moves when told to; for tests. */
export class FixedClock implements Clock {
  #nowMs: number;

  constructor(startMs: number) {
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  set(ms: number): void {
    this.#nowMs = ms;
  }

  advance(ms: number): void {
    this.#nowMs += ms;
  }
}
