// The final results of Auth API transactions in stream order (migration 0013): what the result
// stream (`/auth/v2/auth_results`) delivers, with event ids that every service node on one
// database shares and that survive a restart (docs/multi-node.md).

/**
 * A result's place in the stream. On PostgreSQL, rows are ordered by the writing transaction's
 * id, then the row id, and a row is read only once no older transaction is still open: a result
 * committed late can never land behind a position a reader already passed. SQLite has one writer,
 * so `xid` is 0 and the row id alone orders.
 */
export interface ResultEventKey {
  xid: number;
  id: number;
}

export interface NewResultEvent {
  appId: string;
  txid: string;
  result: 'allow' | 'deny';
  status: string;
  statusMsg: string;
  createdAtMs: number;
}

export interface ResultEvent extends NewResultEvent {
  key: ResultEventKey;
}

export interface ResultEventStore {
  /** Appends a final result; written in the transaction that makes the result final. */
  appendResultEvent(event: NewResultEvent): Promise<void>;
  /**
   * Results after `after` (from the start when undefined), oldest first, of one application or
   * all; at most `limit`. `held` is true when a later result exists that cannot be read yet (an
   * older transaction is still open on PostgreSQL): ask again shortly.
   */
  listResultEvents(query: {
    after?: ResultEventKey | undefined;
    appId?: string | undefined;
    limit: number;
  }): Promise<{ events: ResultEvent[]; held: boolean }>;
  /** The key of the last result that can be read now ({0, 0} when none): the stream's head. */
  latestResultEventKey(): Promise<ResultEventKey>;
  /** Deletes results written before `beforeMs` (a stream resumes only within that window). */
  pruneResultEvents(beforeMs: number): Promise<number>;
}

/** The event id a stream client sees and sends back (`after`): `<xid>.<id>`. */
export function formatResultEventKey(key: ResultEventKey): string {
  return `${key.xid}.${key.id}`;
}

/** The key of an event id, or undefined when it is not one (e.g. from an older release). */
export function parseResultEventKey(text: string): ResultEventKey | undefined {
  const match = /^([0-9]{1,16})\.([0-9]{1,15})$/.exec(text);
  if (!match) return undefined;
  return { xid: Number(match[1]), id: Number(match[2]) };
}

/** Negative, zero or positive as `a` comes before, with or after `b` in the stream. */
export function compareResultEventKeys(a: ResultEventKey, b: ResultEventKey): number {
  return a.xid !== b.xid ? a.xid - b.xid : a.id - b.id;
}
