// Wake-ups for out-of-band requests: who waits for which answer, which device waits for new
// requests, which result streams wait for their application's results. A waiter is a callback in
// a map — no thread, socket or timer per pending push beyond the caller's own deadline — so
// thousands of pushes can wait at once.
//
// Several service nodes may share one database (docs/multi-node.md): what happened is always in
// the store, and the store's signals (PostgreSQL NOTIFY) wake the waiters of the other nodes. The
// result stream reads its events from the store (`auth_result_events`), so every node streams the
// same results under the same event ids, and a stream resumes after a restart.
import { OOB_STATUSES, PENDING_OOB_STATUSES, type OobStatus } from '../../core/model.ts';
import { isOneOf } from '../../core/closed-set.ts';
import type { Clock } from '../../runtime/clock.ts';
import {
  compareResultEventKeys,
  formatResultEventKey,
  parseResultEventKey,
  type ResultEvent,
  type ResultEventKey,
} from '../../store/result-event-store.ts';
import type { Store } from '../../store/store.ts';

type AnswerWaiter = (status: OobStatus | undefined) => void;
type DeviceWaiter = () => void;

/** A device's watch for offered requests (`OobHub.watchDevice`). */
export interface DeviceWatch {
  /**
   * Resolves at once when a request was offered since the watch began, else when one is, after
   * `timeoutMs`, or when aborted.
   */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Stops listening. */
  cancel(): void;
}

/** A final result, as delivered on an application's result streams. */
export interface PublishedResult {
  txid: string;
  result: 'allow' | 'deny';
  status: string;
  status_msg: string;
}
type ResultListener = (result: PublishedResult, id: string) => void;
/** The hub ended a stream (its catch-up could not be read): the client must reconnect. */
export type StreamEnd = (reason: string) => void;

interface Subscription {
  appId: string;
  listener: ResultListener;
  /** The last event this subscriber was given (or need not be given): only later ones follow. */
  last: ResultEventKey;
  /** While the catch-up after a reconnect is read: live events, delivered after it. */
  buffer: ResultEvent[] | undefined;
  onEnd: StreamEnd | undefined;
}

export type HubStore = Pick<
  Store,
  'signals' | 'listResultEvents' | 'latestResultEventKey' | 'getOobRequest'
>;

const PAGE = 1_000;
/**
 * How soon to look again when a result waits behind an older open transaction: first soon (a
 * concurrent write commits within milliseconds), then, while it stays held (a long transaction
 * anywhere on the server), twice as late each time up to HELD_RETRY_MAX_MS.
 */
const HELD_RETRY_MS = 15;
const HELD_RETRY_MAX_MS = 500;
/** A hold this long is reported (`onHeld`), once per hold. */
const HELD_REPORT_MS = 1_000;
/** How long an answer is remembered for a waiter that registers just after it (a read's race). */
const RECENT_ANSWER_MS = 10_000;
const RECENT_ANSWER_MAX = 100_000;

export class OobHub {
  readonly #answerWaiters = new Map<string, Set<AnswerWaiter>>();
  readonly #deviceWaiters = new Map<string, Set<DeviceWaiter>>();
  readonly #subscriptions = new Map<string, Set<Subscription>>();
  readonly #recentAnswers = new Map<string, { status: OobStatus; atMs: number }>();
  readonly #store: HubStore;
  readonly #clock: Clock;
  readonly #onError: (err: unknown) => void;
  /** The last result event dispatched to this node's streams; undefined before start(). */
  #cursor: ResultEventKey | undefined;
  #polling: Promise<void> | undefined;
  #pollAgain = false;
  #heldTimer: NodeJS.Timeout | undefined;
  /** While results are held back: since when, the next re-query's delay, whether reported. */
  #held: { sinceMs: number; retryMs: number; reported: boolean } | undefined;
  readonly #onHeld: (heldMs: number) => void;
  #unlisten: (() => void) | undefined;

  /**
   * `onHeld`: results have been held back for over a second by an older open transaction
   * (PostgreSQL); called once per hold, with how long so far.
   */
  constructor(deps: {
    clock: Clock;
    store: HubStore;
    onError?: (err: unknown) => void;
    onHeld?: (heldMs: number) => void;
  }) {
    this.#clock = deps.clock;
    this.#store = deps.store;
    this.#onError = deps.onError ?? (() => {});
    this.#onHeld = deps.onHeld ?? (() => {});
  }

  /** Reads the stream's head and listens to the other nodes; before the service serves. */
  async start(): Promise<void> {
    this.#unlisten ??= this.#store.signals.listen((message) => this.#heard(message));
    this.#cursor ??= await this.#store.latestResultEventKey();
  }

  stop(): void {
    this.#unlisten?.();
    this.#unlisten = undefined;
    clearTimeout(this.#heldTimer);
  }

  /**
   * Resolves with the final status when the request is resolved on any node, or with undefined
   * after `timeoutMs` (the caller then reads the store, which is what answers either way).
   */
  waitForAnswer(txid: string, timeoutMs: number): Promise<OobStatus | undefined> {
    const recent = this.#recentAnswers.get(txid);
    if (recent) return Promise.resolve(recent.status);
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

  /**
   * Starts listening for requests offered to `deviceId` from now on. A long poll watches BEFORE it
   * reads the store: an offer committed between its read and its wait then ends the wait at once
   * (waiting only after the read missed it until the wait ran out). Cancel the watch when done.
   */
  watchDevice(deviceId: string): DeviceWatch {
    let offered = false;
    let wake: (() => void) | undefined;
    const waiter: DeviceWaiter = () => {
      offered = true;
      wake?.();
    };
    getOrCreate(this.#deviceWaiters, deviceId).add(waiter);
    const cancel = () => removeFrom(this.#deviceWaiters, deviceId, waiter);
    const wait = (timeoutMs: number, signal?: AbortSignal) =>
      new Promise<void>((resolve) => {
        if (offered || signal?.aborted === true) return resolve();
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, timeoutMs));
        signal?.addEventListener('abort', done, { once: true });
        wake = done;
      });
    return { wait, cancel };
  }

  /** A new request for `deviceId` was committed: wakes its long polls on every node. */
  offered(deviceId: string): void {
    this.#wakeDevice(deviceId);
    this.#store.signals.send(`d ${deviceId}`);
  }

  /**
   * A request reached its final status (committed, with its result event): wakes everyone
   * waiting for it on every node, and the result streams.
   */
  resolved(txid: string, status: OobStatus): void {
    this.#wakeAnswer(txid, status);
    this.#store.signals.send(`a ${txid} ${status}`);
    this.resultsWritten();
  }

  /** Result events were committed (e.g. an async answer final at once): the streams look. */
  resultsWritten(): void {
    this.#store.signals.send('r');
    void this.pollResults();
  }

  /**
   * Subscribes to every final result of the application, from now on; after a reconnect, from
   * event `afterId` on (the events still kept), each event once and in order. When the
   * catch-up cannot be read, the subscription ends (`onEnd`, nothing more is delivered): the
   * client reconnects with the same `afterId`, as the events it missed are still in the store.
   * Returns the unsubscribe.
   */
  subscribe(
    appId: string,
    listener: ResultListener,
    afterId?: string,
    onEnd?: StreamEnd,
  ): () => void {
    const head = this.#cursor ?? { xid: 0, id: 0 };
    const after = afterId === undefined ? undefined : parseResultEventKey(afterId);
    const sub: Subscription = {
      appId,
      listener,
      last: head,
      buffer: after === undefined ? undefined : [],
      onEnd,
    };
    getOrCreate(this.#subscriptions, appId).add(sub);
    const unsubscribe = () => removeFrom(this.#subscriptions, appId, sub);
    if (after !== undefined) {
      this.#catchUp(sub, after, head).catch((err: unknown) => {
        this.#onError(err);
        // Delivering live events now would move the client's last id past the events it has
        // not been given: they would be lost to the stream for good.
        unsubscribe();
        sub.buffer = undefined;
        sub.onEnd?.('catch-up read failed');
      });
    }
    return unsubscribe;
  }

  /** Reads the result events committed since the last look and gives them to the streams. */
  pollResults(): Promise<void> {
    if (this.#polling) {
      this.#pollAgain = true;
      return this.#polling;
    }
    this.#polling = this.#poll()
      .catch((err: unknown) => this.#onError(err))
      .finally(() => {
        this.#polling = undefined;
      });
    return this.#polling;
  }

  /** Waiters right now (for metrics and the memory benchmark). */
  get waiting(): { answers: number; devices: number } {
    return { answers: this.#answerWaiters.size, devices: this.#deviceWaiters.size };
  }

  async #poll(): Promise<void> {
    let held: boolean;
    do {
      this.#pollAgain = false;
      if (this.#cursor === undefined) return;
      const page = await this.#store.listResultEvents({ after: this.#cursor, limit: PAGE });
      for (const event of page.events) {
        this.#cursor = event.key;
        this.#dispatch(event);
      }
      if (page.events.length === PAGE) this.#pollAgain = true;
      held = page.held;
    } while (this.#pollAgain);
    if (held) this.#stillHeld();
    else this.#held = undefined;
  }

  /** Looks again later, each time later while the hold lasts; reports a long hold once. */
  #stillHeld(): void {
    const nowMs = this.#clock.nowMs();
    const held = (this.#held ??= { sinceMs: nowMs, retryMs: HELD_RETRY_MS, reported: false });
    if (!held.reported && nowMs - held.sinceMs >= HELD_REPORT_MS) {
      held.reported = true;
      this.#onHeld(nowMs - held.sinceMs);
    }
    if (this.#heldTimer !== undefined) return;
    this.#heldTimer = setTimeout(() => {
      this.#heldTimer = undefined;
      void this.pollResults();
    }, held.retryMs);
    this.#heldTimer.unref();
    held.retryMs = Math.min(HELD_RETRY_MAX_MS, held.retryMs * 2);
  }

  #dispatch(event: ResultEvent): void {
    for (const sub of [...(this.#subscriptions.get(event.appId) ?? [])]) {
      if (sub.buffer) sub.buffer.push(event);
      else deliver(sub, event);
    }
  }

  /**
   * The events after `after` up to `head` (what this node's streams had been given when the
   * subscriber came), then those dispatched meanwhile. An `after` beyond the database's newest
   * event is not from this database (restored, or another deployment): it is ignored rather
   * than trusted to hide every event up to it.
   */
  async #catchUp(sub: Subscription, after: ResultEventKey, head: ResultEventKey): Promise<void> {
    if (compareResultEventKeys(after, head) > 0) {
      const newest = await this.#store.latestResultEventKey();
      if (compareResultEventKeys(after, newest) <= 0) sub.last = after;
      this.#endCatchUp(sub);
      return;
    }
    sub.last = after;
    let position = after;
    for (;;) {
      const { events } = await this.#store.listResultEvents({
        after: position,
        appId: sub.appId,
        limit: PAGE,
      });
      for (const event of events) {
        if (compareResultEventKeys(event.key, head) > 0) break;
        deliver(sub, event);
      }
      const lastEvent = events.at(-1);
      if (
        events.length < PAGE ||
        lastEvent === undefined ||
        compareResultEventKeys(lastEvent.key, head) >= 0
      ) {
        break;
      }
      position = lastEvent.key;
    }
    this.#endCatchUp(sub);
  }

  #endCatchUp(sub: Subscription): void {
    const buffered = sub.buffer ?? [];
    sub.buffer = undefined;
    for (const event of buffered) deliver(sub, event);
  }

  /** A message of another node (store-signals.ts). */
  #heard(message: string): void {
    const [kind, arg, status] = message.split(' ');
    if (kind === 'a' && arg !== undefined) {
      this.#wakeAnswer(arg, isOneOf(OOB_STATUSES, status) ? status : 'timeout');
    } else if (kind === 'd' && arg !== undefined) {
      this.#wakeDevice(arg);
    } else if (kind === 'r') {
      void this.pollResults();
    } else if (kind === '*') {
      // Messages may have been lost: look at everything that waits.
      void this.pollResults();
      for (const deviceId of [...this.#deviceWaiters.keys()]) this.#wakeDevice(deviceId);
      void this.#recheckAnswers();
    }
  }

  async #recheckAnswers(): Promise<void> {
    for (const txid of [...this.#answerWaiters.keys()]) {
      try {
        const request = await this.#store.getOobRequest(txid);
        if (request && !PENDING_OOB_STATUSES.includes(request.status))
          this.#wakeAnswer(txid, request.status);
      } catch (err) {
        this.#onError(err);
        return;
      }
    }
  }

  #wakeAnswer(txid: string, status: OobStatus): void {
    this.#remember(txid, status);
    for (const wake of [...(this.#answerWaiters.get(txid) ?? [])]) wake(status);
  }

  #wakeDevice(deviceId: string): void {
    for (const wake of [...(this.#deviceWaiters.get(deviceId) ?? [])]) wake();
  }

  #remember(txid: string, status: OobStatus): void {
    const now = this.#clock.nowMs();
    this.#recentAnswers.delete(txid);
    this.#recentAnswers.set(txid, { status, atMs: now });
    for (const [key, entry] of this.#recentAnswers) {
      if (entry.atMs >= now - RECENT_ANSWER_MS && this.#recentAnswers.size <= RECENT_ANSWER_MAX) {
        break;
      }
      this.#recentAnswers.delete(key);
    }
  }
}

function deliver(sub: Subscription, event: ResultEvent): void {
  if (compareResultEventKeys(event.key, sub.last) <= 0) return;
  sub.last = event.key;
  sub.listener(
    {
      txid: event.txid,
      result: event.result,
      status: event.status,
      status_msg: event.statusMsg,
    },
    formatResultEventKey(event.key),
  );
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
