// One reader of the committed audit log for everything in the service that follows it (the SIEM
// output, the status page's subscriber notifier): one timer and one query per pass, each
// subscriber handed the new events it asked for, in id order.
import type { AuditEvent } from '../core/model.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Store } from '../store/store.ts';

const PAGE = 1000;

export interface AuditSubscriber {
  /** Names it in error messages. */
  name: string;
  /** Only events with these actions; undefined = every event. */
  actions?: readonly string[] | undefined;
  /** The new events it asked for, oldest first; a rejection is reported, the follower moves on. */
  handle(events: readonly AuditEvent[]): Promise<void>;
}

export interface AuditFollower {
  /** Subscribe before the first pass: the follower reads from its creation on, never before. */
  subscribe(subscriber: AuditSubscriber): void;
  /** Hands the events committed since the last pass to the subscribers; returns how many were read. */
  followOnce(): Promise<number>;
  start(intervalMs: number): void;
  /** Stops the timer after one last pass. */
  stop(): Promise<void>;
}

/**
 * Follows the audit log from the moment it is created (events before it are not handed out after
 * a restart). Reading committed rows, rather than hooking each write, means an event rolled back
 * is never reported and no write path needs to know who follows.
 */
export function createAuditFollower(deps: {
  store: Store;
  clock: Clock;
  onError: (subscriber: string, err: unknown) => void;
}): AuditFollower {
  const startedAtMs = deps.clock.nowMs();
  const subscribers: AuditSubscriber[] = [];
  let lastId: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  /** The union of what the subscribers ask for; undefined = everything. */
  const wanted = (): readonly string[] | undefined =>
    subscribers.some((s) => s.actions === undefined)
      ? undefined
      : [...new Set(subscribers.flatMap((s) => s.actions ?? []))];

  const hand = async (events: readonly AuditEvent[]) => {
    for (const s of subscribers) {
      const mine = s.actions ? events.filter((e) => s.actions!.includes(e.action)) : events;
      if (mine.length === 0) continue;
      try {
        await s.handle(mine);
      } catch (err) {
        deps.onError(s.name, err);
      }
    }
  };

  const pass = async (): Promise<number> => {
    if (subscribers.length === 0) return 0;
    const actions = wanted();
    // Only some actions (no SIEM): filtered by the database, since every login writes an event
    // and reading them all cost the Auth API a fifth of its CPU under load (bench:authapi).
    const filter = actions === undefined ? {} : { actions };
    const newest =
      lastId === undefined && actions !== undefined
        ? ((await deps.store.listAudit({ order: 'desc', limit: 1 }))[0]?.id ?? 0)
        : undefined;
    let count = 0;
    for (;;) {
      const events = await deps.store.listAudit(
        lastId === undefined
          ? { sinceMs: startedAtMs, ...filter, limit: PAGE }
          : { afterId: lastId, ...filter, limit: PAGE },
      );
      // Nothing wanted yet: later passes look only past what existed now.
      if (events.length === 0 && lastId === undefined && newest !== undefined) lastId = newest;
      lastId = events.at(-1)?.id ?? lastId;
      await hand(events);
      count += events.length;
      if (events.length < PAGE) return count;
    }
  };

  const followOnce = () => {
    // One pass at a time, so an event is never handed out twice.
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };

  return {
    subscribe: (subscriber) => void subscribers.push(subscriber),
    followOnce,
    start(intervalMs) {
      timer = setInterval(() => {
        followOnce().catch((err: unknown) => deps.onError('audit follower', err));
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await followOnce().catch((err: unknown) => deps.onError('audit follower', err));
    },
  };
}
