// The audit log.
import type { Selectable } from 'kysely';
import type { AuditEvent, NewAuditEvent } from '../../core/model.ts';
import type { AuditEventsTable } from '../schema.ts';
import type { AuditQuery } from '../store.ts';
import { Repository } from './repository.ts';

const AUDIT_DEFAULT_LIMIT = 100;
const AUDIT_MAX_LIMIT = 1000;

export class AuditRepository extends Repository {
  async appendAudit(event: NewAuditEvent): Promise<number> {
    const { rows } = await this.run<{ id: number | bigint }>('appendAudit', [
      event.tsMs,
      event.actor,
      event.action,
      event.targetType,
      event.targetId,
      event.appId,
      event.username,
      event.result,
      event.ip,
      JSON.stringify(event.detail),
    ]);
    const row = rows[0];
    if (row === undefined) throw new Error('audit insert returned no id');
    return Number(row.id);
  }

  /**
   * Events in id order (newest first with `order: 'desc'`). `sinceMs` is inclusive, `untilMs`
   * exclusive; `limit` defaults to 100, at most 1000.
   */
  async listAudit(query: AuditQuery = {}): Promise<AuditEvent[]> {
    const q = await this.#select(query, true);
    if (q === undefined) return [];
    const rows = await q
      .selectAll()
      .orderBy('id', query.order === 'desc' ? 'desc' : 'asc')
      .limit(auditLimit(query.limit))
      .execute();
    return rows.map(toAuditEvent);
  }

  async countAudit(query: AuditQuery = {}): Promise<number> {
    const q = await this.#select(query, false);
    if (q === undefined) return 0;
    const row = await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** The query's filters; undefined when nothing can match. `cursor`: apply afterId/beforeId. */
  async #select(query: AuditQuery, cursor: boolean) {
    let q = this.db.selectFrom('audit_events');
    if (cursor && query.afterId !== undefined) q = q.where('id', '>', query.afterId);
    if (cursor && query.beforeId !== undefined) q = q.where('id', '<', query.beforeId);
    if (query.sinceMs !== undefined) {
      // Walking the id order from the start to the first recent event would read the whole
      // log; the ts_ms index finds where "since" begins, then the id range does the rest.
      const first = await this.db
        .selectFrom('audit_events')
        .select((eb) => eb.fn.min('id').as('id'))
        .where('ts_ms', '>=', query.sinceMs)
        .executeTakeFirst();
      if (first?.id === undefined || first.id === null) return undefined;
      q = q.where('id', '>=', Number(first.id)).where('ts_ms', '>=', query.sinceMs);
    }
    if (query.untilMs !== undefined) q = q.where('ts_ms', '<', query.untilMs);
    if (query.action !== undefined) q = q.where('action', '=', query.action);
    if (query.username !== undefined) q = q.where('username', '=', query.username);
    // An empty list selects nothing, as `IN ()` would if SQL allowed it.
    for (const [column, values] of [
      ['action', query.actions],
      ['target_id', query.targetIds],
      ['app_id', query.appIds],
    ] as const) {
      if (values === undefined) continue;
      if (values.length === 0) return undefined;
      q = q.where(column, 'in', [...values]);
    }
    const prefixes = query.actorPrefixes;
    if (prefixes !== undefined) {
      if (prefixes.length === 0) return undefined;
      // Compared with substr rather than LIKE: a prefix holding % or _ stays literal.
      q = q.where((eb) =>
        eb.or(
          prefixes.map((p) => eb(eb.fn('substr', ['actor', eb.lit(1), eb.lit(p.length)]), '=', p)),
        ),
      );
    }
    return q;
  }
}

function toAuditEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    id: Number(row.id),
    tsMs: row.ts_ms,
    actor: row.actor,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    appId: row.app_id,
    username: row.username,
    result: row.result,
    ip: row.ip,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
  };
}

function auditLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return AUDIT_DEFAULT_LIMIT;
  return Math.min(Math.max(Math.trunc(limit), 1), AUDIT_MAX_LIMIT);
}
