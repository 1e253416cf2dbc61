// Wake-ups between the service nodes that share one database: "this push was answered", "a request
// waits for this device", "new results are on the stream". PostgreSQL LISTEN/NOTIFY carries them;
// SQLite has one node, which wakes its own waiters in process (docs/multi-node.md). A signal only
// says "look again": what happened is always read from the store, so a lost signal delays a
// waiter (until its deadline, or the next periodic look) and never changes an answer.
import pg from 'pg';

export interface StoreSignals {
  /** True when other processes on the database hear `send` (PostgreSQL). */
  readonly shared: boolean;
  /** Tells every other listening process; call it after the commit that it is about. */
  send(message: string): void;
  /**
   * Hears the other processes' messages, one call each. `'*'` means messages may have been lost
   * (the listening connection was re-established): look at everything again.
   */
  listen(listener: (message: string) => void): () => void;
  close(): Promise<void>;
}

/** One node (SQLite): nothing to tell, nobody to hear. */
export class LocalSignals implements StoreSignals {
  readonly shared = false;
  send(): void {}
  listen(): () => void {
    return () => {};
  }
  async close(): Promise<void> {}
}

export const SIGNAL_CHANNEL = 'airlock_signals';
/** How the listening connection shows in `pg_stat_activity`. */
export const SIGNAL_APPLICATION_NAME = 'airlock signals';
/** NOTIFY payloads must stay under 8000 bytes. */
const MAX_PAYLOAD_BYTES = 7_000;
const RECONNECT_DELAY_MS = 1_000;

/**
 * LISTEN on one dedicated connection, opened at the first `listen`; NOTIFY through the same
 * connection, coalesced per turn of the event loop (many logins finish together under load).
 * A process ignores its own messages (the notification names the sending backend).
 */
export class PostgresSignals implements StoreSignals {
  readonly shared = true;
  readonly #connectionString: string;
  readonly #listeners = new Set<(message: string) => void>();
  #client: pg.Client | undefined;
  #connecting: Promise<void> | undefined;
  #outbox: string[] = [];
  #flushQueued = false;
  #closed = false;
  #everConnected = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(connectionString: string) {
    this.#connectionString = connectionString;
  }

  send(message: string): void {
    if (this.#closed) return;
    this.#outbox.push(message);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    setImmediate(() => void this.#flush());
  }

  listen(listener: (message: string) => void): () => void {
    this.#listeners.add(listener);
    void this.#ensureConnected();
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once the LISTEN is in place (tests and startup wait for it). */
  ready(): Promise<void> {
    return this.#ensureConnected();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  async #flush(): Promise<void> {
    this.#flushQueued = false;
    const messages = this.#outbox;
    this.#outbox = [];
    const payloads = packPayloads(messages);
    try {
      await this.#ensureConnected();
      await this.#client?.query(`SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, [
        SIGNAL_CHANNEL,
        payloads,
      ]);
    } catch {
      // The database is unreachable: the other nodes' periodic looks and deadlines cover it.
    }
  }

  #ensureConnected(): Promise<void> {
    if (this.#client || this.#closed) return Promise.resolve();
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#connectionString,
      application_name: SIGNAL_APPLICATION_NAME,
    });
    client.on('error', () => this.#lost(client));
    client.on('end', () => this.#lost(client));
    client.on('notification', (n) => {
      if (n.processId === (client as unknown as { processID: number }).processID) return;
      for (const message of (n.payload ?? '').split('\n')) this.#deliver(message);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${SIGNAL_CHANNEL}`);
    } catch {
      await client.end().catch(() => {});
      this.#scheduleReconnect();
      return;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    // Messages sent while there was no connection are lost: everyone looks again.
    if (this.#everConnected) this.#deliver('*');
    this.#everConnected = true;
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    void client.end().catch(() => {});
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#listeners.size === 0) return;
    // A first connection that failed also counts as lost messages once it succeeds.
    this.#everConnected = true;
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => void this.#ensureConnected(), RECONNECT_DELAY_MS);
    this.#retry.unref();
  }

  #deliver(message: string): void {
    if (message === '') return;
    for (const listener of [...this.#listeners]) listener(message);
  }
}

/** Messages joined by newlines into as few payloads as fit NOTIFY's limit. */
function packPayloads(messages: readonly string[]): string[] {
  const payloads: string[] = [];
  let current = '';
  for (const message of messages) {
    if (current !== '' && current.length + 1 + message.length > MAX_PAYLOAD_BYTES) {
      payloads.push(current);
      current = '';
    }
    current = current === '' ? message : `${current}\n${message}`;
  }
  if (current !== '') payloads.push(current);
  return payloads;
}
