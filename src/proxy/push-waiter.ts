// Waits for the results of async pushes without a socket per push: one result stream per API
// host (`/auth/v2/auth_results`), a map from txid to waiter, and a timer per waiter. A service
// without the stream (Duo) is asked per txid with auth_status instead.
import type {
  ResultStream,
  ResultStreamHandlers,
  StreamedResult,
} from '../client/auth-api-client.ts';
import type { AuthStatusResponse } from '../client/auth-api-response.ts';
import type { ApiOutcome } from '../client/auth-api-response.ts';
import type { Clock } from '../runtime/clock.ts';

export type PushWait =
  | { kind: 'result'; result: StreamedResult }
  /** No final result before the deadline (the user did not answer, or the result was lost). */
  | { kind: 'timeout' };

export interface PushWaiterDeps {
  /** Deadlines of auth_status polls and the age of results that came early. */
  clock: Clock;
  /** Opens the result stream of `host`; undefined when that client cannot stream. */
  openStream(host: string, handlers: ResultStreamHandlers): ResultStream | undefined;
  /** Fallback for hosts without a stream. */
  authStatus(txid: string): Promise<ApiOutcome<AuthStatusResponse>>;
  /** Reported when a stream opens, ends or is given up (logs). */
  onStreamEvent?(host: string, what: string): void;
}

interface HostStream {
  stream: ResultStream | undefined;
  open: boolean;
  /** Last event id seen: a reconnect resumes after it. */
  lastId: string | undefined;
  /** The host answered the stream with a 4xx before it ever opened: it has none (Duo). */
  noStream: boolean;
  retryDelayMs: number;
  retryTimer: NodeJS.Timeout | undefined;
}

interface Waiter {
  txid: string;
  resolve(wait: PushWait): void;
  timer: NodeJS.Timeout | undefined;
  /** An earlier wait for the same txid (rare: a field instead of an array per txid). */
  next: Waiter | undefined;
}

/**
 * How long a host that has no result stream (Duo's cloud answers 404) goes unasked: auth_status
 * does the work meanwhile. Asked again at all because the host may be moved to Airlock.
 */
export const NO_STREAM_RETRY_MS = 10 * 60_000;
const EARLY_KEEP_MS = 120_000;
const EARLY_MAX = 100_000;

export class PushWaiter {
  readonly #deps: PushWaiterDeps;
  readonly #hosts = new Map<string, HostStream>();
  readonly #waiters = new Map<string, Waiter>();
  /** Results that arrived before their waiter (the stream can beat the async /auth answer). */
  readonly #early = new Map<string, { result: StreamedResult; atMs: number }>();
  #closed = false;

  constructor(deps: PushWaiterDeps) {
    this.#deps = deps;
  }

  /** Opens the host's stream ahead of the first push, so its first result is not missed. */
  prepare(host: string): void {
    this.#ensureStream(host);
  }

  /** Waits for `txid`'s final result from `host` for at most `timeoutMs`. */
  wait(txid: string, host: string, timeoutMs: number): Promise<PushWait> {
    const early = this.#early.get(txid);
    if (early) {
      this.#early.delete(txid);
      return Promise.resolve({ kind: 'result', result: early.result });
    }
    const hostStream = this.#ensureStream(host);
    // Thousands of logins may wait at once (bench:push: 10,000): per waiter one promise, one
    // timer and one small record, and no closure over this call's variables.
    let resolve!: (wait: PushWait) => void;
    const promise = new Promise<PushWait>((r) => (resolve = r));
    // A txid waited for again while its first wait runs: both waits end with its result.
    const waiter: Waiter = { txid, resolve, timer: undefined, next: this.#waiters.get(txid) };
    waiter.timer = setTimeout(this.#expire, timeoutMs, waiter);
    this.#waiters.set(txid, waiter);
    // Not streaming (yet, or at all): ask auth_status, which long-polls on Airlock, so a result
    // published before the stream connected is not missed.
    if (!hostStream.open) void this.#poll(txid, hostStream, this.#deps.clock.nowMs() + timeoutMs);
    return promise;
  }

  /** Pushes (txids) being waited for now (metrics). */
  get pending(): number {
    return this.#waiters.size;
  }

  close(): void {
    this.#closed = true;
    for (const h of this.#hosts.values()) {
      clearTimeout(h.retryTimer);
      h.stream?.close();
    }
    for (const w of [...this.#waiters.values()]) this.#settleAll(w, { kind: 'timeout' });
  }

  /** Ends a wait with a result or a timeout; only the first ending counts. */
  #settle(waiter: Waiter, wait: PushWait): void {
    const head = this.#waiters.get(waiter.txid);
    if (head === waiter) {
      if (waiter.next) this.#waiters.set(waiter.txid, waiter.next);
      else this.#waiters.delete(waiter.txid);
    } else {
      let before = head;
      while (before && before.next !== waiter) before = before.next;
      if (!before) return;
      before.next = waiter.next;
    }
    waiter.next = undefined;
    clearTimeout(waiter.timer);
    waiter.resolve(wait);
  }

  /** Ends every wait for the txid of `head` (the first of its chain). */
  #settleAll(head: Waiter, wait: PushWait): void {
    this.#waiters.delete(head.txid);
    for (let w: Waiter | undefined = head; w;) {
      const next: Waiter | undefined = w.next;
      w.next = undefined;
      clearTimeout(w.timer);
      w.resolve(wait);
      w = next;
    }
  }

  /** Every waiter's timer calls this one function (no closure per waiter). */
  readonly #expire = (waiter: Waiter): void => this.#settle(waiter, { kind: 'timeout' });

  #deliver(result: StreamedResult): void {
    const waiter = this.#waiters.get(result.txid);
    if (waiter) {
      this.#settleAll(waiter, { kind: 'result', result });
      return;
    }
    const now = this.#deps.clock.nowMs();
    this.#early.set(result.txid, { result, atMs: now });
    if (this.#early.size > EARLY_MAX) {
      for (const [txid, e] of this.#early) {
        if (e.atMs >= now - EARLY_KEEP_MS && this.#early.size <= EARLY_MAX) break;
        this.#early.delete(txid);
      }
    }
  }

  #ensureStream(host: string): HostStream {
    let h = this.#hosts.get(host);
    if (!h) {
      h = {
        stream: undefined,
        open: false,
        lastId: undefined,
        noStream: false,
        retryDelayMs: 1_000,
        retryTimer: undefined,
      };
      this.#hosts.set(host, h);
      this.#connect(host, h);
    }
    return h;
  }

  #connect(host: string, h: HostStream): void {
    if (this.#closed) return;
    h.stream = this.#deps.openStream(host, {
      afterId: h.lastId,
      onOpen: () => {
        h.open = true;
        h.noStream = false;
        h.retryDelayMs = 1_000;
        this.#deps.onStreamEvent?.(host, 'result stream open');
      },
      onResult: (result, id) => {
        if (id !== undefined) h.lastId = id;
        this.#deliver(result);
      },
      onEnd: (reason) => {
        const wasOpen = h.open;
        h.open = false;
        h.stream = undefined;
        let delayMs = h.retryDelayMs;
        if (!wasOpen && /^HTTP 4/.test(reason)) {
          // The service has no result stream (not Airlock): auth_status does the work. Said
          // once, and asked again only rarely, not every 30 s for the life of the proxy.
          if (!h.noStream) {
            this.#deps.onStreamEvent?.(host, `no result stream (${reason}); polling auth_status`);
          }
          h.noStream = true;
          delayMs = NO_STREAM_RETRY_MS;
          for (const txid of this.#waiters.keys())
            void this.#poll(txid, h, this.#deps.clock.nowMs() + 60_000);
        } else {
          this.#deps.onStreamEvent?.(host, `result stream ended (${reason}); reconnecting`);
          h.retryDelayMs = Math.min(30_000, h.retryDelayMs * 2);
        }
        h.retryTimer = setTimeout(() => this.#connect(host, h), delayMs);
        h.retryTimer.unref();
      },
    });
    if (h.stream === undefined) h.noStream = true;
  }

  /**
   * auth_status until the result is final, the waiter is gone, the deadline passes, or the
   * host's stream carries the result. Each poll holds one of the client's sockets for up to the
   * service's long-poll window, so polls must stop when no longer needed: a poll that began with
   * the stream open and answers "waiting" is the last one — what it saw is before the stream,
   * what it did not see is on the stream (which resumes after its last event if it reconnects).
   */
  async #poll(txid: string, hostStream: HostStream, deadlineMs: number): Promise<void> {
    while (this.#waiters.has(txid) && this.#deps.clock.nowMs() < deadlineMs && !this.#closed) {
      const streaming = hostStream.open;
      const outcome = await this.#deps.authStatus(txid);
      if (outcome.kind === 'ok' && outcome.response.result !== 'waiting') {
        this.#deliver({
          txid,
          result: outcome.response.result,
          status: outcome.response.status,
          status_msg: outcome.response.status_msg,
        });
        return;
      }
      if (outcome.kind === 'ok' && streaming) return;
      if (outcome.kind !== 'ok') await new Promise((r) => setTimeout(r, 1_000).unref());
    }
  }
}
