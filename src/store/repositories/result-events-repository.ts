// The result stream's events (migration 0013; result-event-store.ts says why the order is
// (xid, id) and why a row is read only below the oldest open transaction on PostgreSQL).
import { sql, type RawBuilder } from 'kysely';
import type {
  NewResultEvent,
  ResultEvent,
  ResultEventKey,
  ResultEventStore,
} from '../result-event-store.ts';
import { Repository } from './repository.ts';

interface EventRow {
  id: number | string;
  xid: number | string;
  app_id: string;
  txid: string;
  result: string;
  status: string;
  status_msg: string;
  created_at_ms: number | string;
  settled: number | boolean | string;
}

export class ResultEventsRepository extends Repository implements ResultEventStore {
  async appendResultEvent(event: NewResultEvent): Promise<void> {
    await this.db
      .insertInto('auth_result_events')
      .values({
        xid: this.dialect === 'postgres' ? sql<number>`pg_current_xact_id()::text::bigint` : 0,
        app_id: event.appId,
        txid: event.txid,
        result: event.result,
        status: event.status,
        status_msg: event.statusMsg,
        created_at_ms: event.createdAtMs,
      })
      .execute();
  }

  async listResultEvents(query: {
    after?: ResultEventKey | undefined;
    appId?: string | undefined;
    limit: number;
  }): Promise<{ events: ResultEvent[]; held: boolean }> {
    const after = query.after ?? { xid: -1, id: -1 };
    const app = query.appId === undefined ? sql`` : sql`AND app_id = ${query.appId}`;
    const { rows } = await sql<EventRow>`
      SELECT id, xid, app_id, txid, result, status, status_msg, created_at_ms,
             ${this.#settled()} AS settled
      FROM auth_result_events
      WHERE (xid, id) > (${after.xid}, ${after.id}) ${app}
      ORDER BY xid, id
      LIMIT ${query.limit}`.execute(this.db);
    const events: ResultEvent[] = [];
    for (const row of rows) {
      // Settled rows sort before unsettled ones (a lower xid): stop at the first unsettled.
      if (!isTrue(row.settled)) return { events, held: true };
      events.push({
        key: { xid: Number(row.xid), id: Number(row.id) },
        appId: row.app_id,
        txid: row.txid,
        result: row.result === 'allow' ? 'allow' : 'deny',
        status: row.status,
        statusMsg: row.status_msg,
        createdAtMs: Number(row.created_at_ms),
      });
    }
    return { events, held: false };
  }

  async latestResultEventKey(): Promise<ResultEventKey> {
    const { rows } = await sql<{ xid: number | string; id: number | string }>`
      SELECT xid, id FROM auth_result_events
      WHERE ${this.#settled()}
      ORDER BY xid DESC, id DESC
      LIMIT 1`.execute(this.db);
    const row = rows[0];
    return row ? { xid: Number(row.xid), id: Number(row.id) } : { xid: 0, id: 0 };
  }

  async pruneResultEvents(beforeMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('auth_result_events')
      .where('created_at_ms', '<', beforeMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** True for a row no open transaction can still precede (always, on SQLite: one writer). */
  #settled(): RawBuilder<unknown> {
    return this.dialect === 'postgres'
      ? sql`(xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint)`
      : sql`1`;
  }
}

function isTrue(value: number | boolean | string): boolean {
  return value === true || value === 1 || value === '1' || value === 't';
}
