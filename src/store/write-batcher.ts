// Group commit: concurrent units of work share one transaction and one commit, and each caller
// is answered only after that commit, so an answered request's writes (and audit) are durable.
import type { Store } from './store.ts';

interface Pending<T> {
  work: (tx: Store) => Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

export interface WriteBatcherOptions {
  /** Most units in one transaction; the rest wait for the next. */
  maxBatch: number;
}

export class WriteBatcher {
  readonly #store: Store;
  readonly #maxBatch: number;
  #queue: Pending<unknown>[] = [];
  #flushing = false;

  constructor(store: Store, options: WriteBatcherOptions = { maxBatch: 256 }) {
    this.#store = store;
    this.#maxBatch = options.maxBatch;
  }

  /** Runs `work` in the next group transaction; resolves after that transaction committed. */
  run<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve, reject } as Pending<unknown>);
      if (!this.#flushing) {
        this.#flushing = true;
        // Let the requests that arrived in this turn of the event loop join the batch.
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      try {
        const results = await this.#store.runBatch(batch.map((p) => p.work));
        results.forEach((r, i) =>
          r.status === 'fulfilled' ? batch[i]!.resolve(r.value) : batch[i]!.reject(r.reason),
        );
      } catch (e) {
        // The commit itself failed: nothing of this batch was written, so nobody may be answered "done".
        for (const p of batch) p.reject(e);
      }
    }
    this.#flushing = false;
  }
}
