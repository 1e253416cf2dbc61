// Webhook alerts of the proxy: breaker, health, primary-only and failmode events POSTed as JSON
// to `[main] alert_webhook_url_N`, queued and retried off the login path.
import { createHmac } from 'node:crypto';
import type { Clock } from '../runtime/clock.ts';
import type { HttpPost } from '../runtime/http-post.ts';

export const ALERT_TYPES = ['breaker', 'health', 'failmode', 'primary-only'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

/** The JSON body of one webhook POST. */
export interface Alert {
  type: AlertType;
  /** The server section; `main` for proxy-wide events (primary-only mode). */
  section: string;
  /** `host:port` of the API host (breaker, health). */
  host?: string;
  from?: string;
  to?: string;
  reason: string;
  /** ISO 8601. */
  timestamp: string;
  hostname: string;
  /** failmode: the section's failmode of the last decision. */
  failmode?: string;
  /** failmode: decisions since the previous failmode alert of this section, and how they went. */
  count?: number;
  allowed?: number;
  denied?: number;
}

export type AlertInput = Omit<Alert, 'timestamp' | 'hostname'>;

/** Delivery rules; the defaults are documented in docs/proxy.md ("Alerts"). */
export const ALERT_DEFAULTS = {
  timeoutMs: 5_000,
  maxAttempts: 5,
  /** Waits between attempts: 1 s, 2 s, 4 s, 8 s. */
  firstBackoffMs: 1_000,
  /** Alerts waiting per webhook; beyond, the oldest is dropped (and counted). */
  maxQueue: 1_000,
  /** At most one failmode alert per section per this period. */
  failmodeIntervalMs: 60_000,
} as const;

export interface AlertCounters {
  sent: { inc(labels: { result: 'delivered' | 'failed' }): void };
  dropped: { inc(): void };
}

export interface AlertSenderOptions {
  /** http(s) URLs; none = alerts are off (send() does nothing). */
  urls: readonly string[];
  /** Signs each body: `X-Airlock-Signature: sha256=<hex HMAC-SHA256 of the body>`. */
  secret?: string | undefined;
  post: HttpPost;
  clock: Clock;
  /** Waits between attempts; tests pass one that returns at once. */
  sleep: (ms: number) => Promise<void>;
  hostname: string;
  counters?: AlertCounters;
  /** A delivery that failed for good or a dropped alert, for authproxy.log. */
  onProblem?: (message: string) => void;
  timeoutMs?: number;
  maxAttempts?: number;
  firstBackoffMs?: number;
  maxQueue?: number;
  failmodeIntervalMs?: number;
}

export interface FailmodeDecisionNotice {
  section: string;
  failmode: string;
  action: 'allow' | 'deny';
  reason: string;
}

export interface AlertSender {
  /** Queues an alert for every webhook and returns at once; never throws. */
  send(alert: AlertInput): void;
  /**
   * Counts a failmode decision; sends a `failmode` alert at most once per section per
   * `failmodeIntervalMs`, carrying how many decisions it summarizes.
   */
  failmodeDecision(notice: FailmodeDecisionNotice): void;
  /** Sends the failmode summaries whose period is over; the proxy calls it every few seconds. */
  flushFailmode(): void;
  /** Resolves when every queue is empty and no delivery is in flight (tests, shutdown). */
  idle(): Promise<void>;
  /** Stops delivering: queued alerts are dropped, retries end. */
  close(): void;
}

interface FailmodeWindow {
  lastSentAtMs: number | undefined;
  count: number;
  allowed: number;
  denied: number;
  last: FailmodeDecisionNotice | undefined;
}

export function createAlertSender(options: AlertSenderOptions): AlertSender {
  return new WebhookAlertSender(options);
}

class WebhookAlertSender implements AlertSender {
  readonly #options: AlertSenderOptions;
  readonly #queues: WebhookQueue[];
  readonly #windows = new Map<string, FailmodeWindow>();
  readonly #failmodeIntervalMs: number;

  constructor(options: AlertSenderOptions) {
    this.#options = options;
    this.#failmodeIntervalMs = options.failmodeIntervalMs ?? ALERT_DEFAULTS.failmodeIntervalMs;
    this.#queues = options.urls.map((url) => new WebhookQueue(url, options));
  }

  send(input: AlertInput): void {
    if (this.#queues.length === 0) return;
    const alert: Alert = {
      ...input,
      timestamp: new Date(this.#options.clock.nowMs()).toISOString(),
      hostname: this.#options.hostname,
    };
    const body = JSON.stringify(alert);
    const headers: Record<string, string> = {};
    if (this.#options.secret) {
      headers['x-airlock-signature'] =
        `sha256=${createHmac('sha256', this.#options.secret).update(body).digest('hex')}`;
    }
    for (const queue of this.#queues) queue.push({ body, headers });
  }

  failmodeDecision(notice: FailmodeDecisionNotice): void {
    const window = this.#windows.get(notice.section) ?? {
      lastSentAtMs: undefined,
      count: 0,
      allowed: 0,
      denied: 0,
      last: undefined,
    };
    this.#windows.set(notice.section, window);
    window.count++;
    if (notice.action === 'allow') window.allowed++;
    else window.denied++;
    window.last = notice;
    if (this.#due(window)) this.#sendFailmode(window);
  }

  flushFailmode(): void {
    for (const window of this.#windows.values()) {
      if (window.count > 0 && this.#due(window)) this.#sendFailmode(window);
    }
  }

  idle(): Promise<void> {
    return Promise.all(this.#queues.map((q) => q.idle())).then(() => undefined);
  }

  close(): void {
    for (const queue of this.#queues) queue.close();
  }

  #due(window: FailmodeWindow): boolean {
    return (
      window.lastSentAtMs === undefined ||
      this.#options.clock.nowMs() - window.lastSentAtMs >= this.#failmodeIntervalMs
    );
  }

  #sendFailmode(window: FailmodeWindow): void {
    const last = window.last;
    if (!last) return;
    this.send({
      type: 'failmode',
      section: last.section,
      failmode: last.failmode,
      reason: last.reason,
      count: window.count,
      allowed: window.allowed,
      denied: window.denied,
    });
    window.lastSentAtMs = this.#options.clock.nowMs();
    window.count = 0;
    window.allowed = 0;
    window.denied = 0;
  }
}

interface Delivery {
  body: string;
  headers: Readonly<Record<string, string>>;
}

/** One webhook's queue and its single worker: a slow webhook never holds up another. */
class WebhookQueue {
  readonly #url: string;
  /** Only the origin is ever logged: a webhook URL often carries a token in its path. */
  readonly #shownUrl: string;
  readonly #options: AlertSenderOptions;
  readonly #pending: Delivery[] = [];
  #running = false;
  #closed = false;
  #idleWaiters: Array<() => void> = [];

  constructor(url: string, options: AlertSenderOptions) {
    this.#url = url;
    this.#shownUrl = safeOrigin(url);
    this.#options = options;
  }

  push(delivery: Delivery): void {
    if (this.#closed) return;
    const maxQueue = this.#options.maxQueue ?? ALERT_DEFAULTS.maxQueue;
    while (this.#pending.length >= maxQueue) {
      this.#pending.shift();
      this.#options.counters?.dropped.inc();
      this.#report(`alert queue for ${this.#shownUrl} is full: oldest alert dropped`);
    }
    this.#pending.push(delivery);
    if (!this.#running) void this.#run();
  }

  idle(): Promise<void> {
    if (!this.#running && this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  close(): void {
    this.#closed = true;
    this.#pending.length = 0;
    if (!this.#running) this.#wakeIdle();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      for (;;) {
        const next = this.#pending.shift();
        if (next === undefined || this.#closed) break;
        await this.#deliver(next);
      }
    } finally {
      this.#running = false;
      this.#wakeIdle();
    }
  }

  async #deliver(delivery: Delivery): Promise<void> {
    const o = this.#options;
    const maxAttempts = o.maxAttempts ?? ALERT_DEFAULTS.maxAttempts;
    const firstBackoffMs = o.firstBackoffMs ?? ALERT_DEFAULTS.firstBackoffMs;
    let problem = '';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        const { status } = await Promise.resolve().then(() =>
          o.post(
            this.#url,
            delivery.body,
            delivery.headers,
            o.timeoutMs ?? ALERT_DEFAULTS.timeoutMs,
          ),
        );
        if (status >= 200 && status < 300) {
          o.counters?.sent.inc({ result: 'delivered' });
          return;
        }
        problem = `HTTP ${status}`;
        // A 4xx other than a timeout or a rate limit will not change by asking again.
        if (status >= 400 && status < 500 && status !== 408 && status !== 429) break;
      } catch (e) {
        problem = (e as Error).message;
      }
      if (attempt === maxAttempts || this.#closed) break;
      await o.sleep(firstBackoffMs * 2 ** (attempt - 1));
      if (this.#closed) break;
    }
    o.counters?.sent.inc({ result: 'failed' });
    this.#report(`alert to ${this.#shownUrl} not delivered: ${problem}`);
  }

  #report(message: string): void {
    try {
      this.#options.onProblem?.(message);
    } catch {
      // Reporting must not stop the queue.
    }
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}
