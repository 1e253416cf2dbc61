// In-process wake-ups for out-of-band requests: who waits for which answer, which device waits
// for new requests. A waiter is a callback in a map — no thread, socket or timer per pending push
// beyond the caller's own deadline — so thousands of pushes can wait at once.
import type { OobStatus } from '../../core/model.ts';
import type { Clock } from '../../runtime/clock.ts';
import { generateId, type Random } from '../../runtime/random.ts';

type AnswerWaiter = (status: OobStatus | undefined) => void;
type DeviceWaiter = () => void;

/** A final result, as published to an application's result streams. */
export interface PublishedResult {
  txid: string;
  result: 'allow' | 'deny';
  status: string;
  status_msg: string;
}
type ResultListener = (result: PublishedResult, id: string) => void;

export class OobHub {
  readonly #answerWaiters = new Map<string, Set<AnswerWaiter>>();
  readonly #deviceWaiters = new Map<string, Set<DeviceWaiter>>();
  readonly #appListeners = new Map<string, Set<ResultListener>>();
  /** Recent results per application, so a stream that reconnects misses none (bounded). */
  readonly #recent = new Map<string, { seq: number; atMs: number; result: PublishedResult }[]>();
  /** Distinguishes this process's event ids from an earlier run's. */
  readonly epoch: string;
  #seq = 0;
  readonly #clock: Clock;
  readonly #keepMs: number;
  readonly #keepMax: number;

  constructor(
    deps: { clock: Clock; random: Random },
    options: { keepResultsMs?: number; keepResultsMax?: number } = {},
  ) {
    this.#clock = deps.clock;
    this.epoch = generateId(deps.random, 'E', 10);
    this.#keepMs = options.keepResultsMs ?? 120_000;
    this.#keepMax = options.keepResultsMax ?? 50_000;
  }

  /**
   * Resolves with the final status when `resolved(txid, …)` is called, or with undefined after
   * `timeoutMs` (the caller then reads the store: the answer may have come from another node).
   */
  waitForAnswer(txid: string, timeoutMs: number): Promise<OobStatus | undefined> {
    return new Promise((resolve) => {
      const waiters = getOrCreate(this.#answerWaiters, txid);
      const done: AnswerWaiter = (status) => {
        clearTimeout(timer);
        removeFrom(this.#answerWaiters, txid, done);
        resolve(status);
      };
      const timer = setTimeout(() => done(undefined), Math.max(0, timeoutMs));
      waiters.add(done);
    });
  }

  /** Resolves when a request is offered to `deviceId`, after `timeoutMs`, or when aborted. */
  waitForDevice(deviceId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const waiters = getOrCreate(this.#deviceWaiters, deviceId);
      const done: DeviceWaiter = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        removeFrom(this.#deviceWaiters, deviceId, done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      signal?.addEventListener('abort', done, { once: true });
      waiters.add(done);
    });
  }

  /** A new request for `deviceId`: wakes its long polls. */
  offered(deviceId: string): void {
    for (const wake of [...(this.#deviceWaiters.get(deviceId) ?? [])]) wake();
  }

  /** A request reached its final status: wakes everyone waiting for it and tells its app's streams. */
  resolved(
    txid: string,
    status: OobStatus,
    published?: { appId: string; result: PublishedResult },
  ): void {
    for (const wake of [...(this.#answerWaiters.get(txid) ?? [])]) wake(status);
    if (published) this.publish(published.appId, published.result);
  }

  /** Tells the application's result streams about a final result, and keeps it for replays. */
  publish(appId: string, result: PublishedResult): void {
    const seq = ++this.#seq;
    const now = this.#clock.nowMs();
    let recent = this.#recent.get(appId);
    if (!recent) {
      recent = [];
      this.#recent.set(appId, recent);
    }
    recent.push({ seq, atMs: now, result });
    let drop = 0;
    while (
      drop < recent.length &&
      (recent.length - drop > this.#keepMax || recent[drop]!.atMs < now - this.#keepMs)
    ) {
      drop++;
    }
    if (drop > 0) recent.splice(0, drop);
    const id = `${this.epoch}.${seq}`;
    for (const listen of [...(this.#appListeners.get(appId) ?? [])]) listen(result, id);
  }

  /**
   * Results published after event `afterId` (from this process; none for another epoch's id),
   * oldest first, with their ids.
   */
  replay(appId: string, afterId: string): { id: string; result: PublishedResult }[] {
    const [epoch, seqText] = afterId.split('.');
    if (epoch !== this.epoch) return [];
    const after = Number(seqText);
    return (this.#recent.get(appId) ?? [])
      .filter((r) => r.seq > after)
      .map((r) => ({ id: `${this.epoch}.${r.seq}`, result: r.result }));
  }

  /** Subscribes to every final result of the application's pushes; returns the unsubscribe. */
  subscribe(appId: string, listener: ResultListener): () => void {
    getOrCreate(this.#appListeners, appId).add(listener);
    return () => removeFrom(this.#appListeners, appId, listener);
  }

  /** Waiters right now (for metrics and the memory benchmark). */
  get waiting(): { answers: number; devices: number } {
    return { answers: this.#answerWaiters.size, devices: this.#deviceWaiters.size };
  }
}

function getOrCreate<T>(map: Map<string, Set<T>>, key: string): Set<T> {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}

function removeFrom<T>(map: Map<string, Set<T>>, key: string, value: T): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
