// Token buckets shared by the service nodes (rate-bucket-store.ts). A take is one upsert whose
// update applies only when a token is there: the row lock serializes concurrent takes, on any node.
import { sql } from 'kysely';
import type { TakeResult, TokenBucketOptions } from '../../core/token-bucket.ts';
import type { RateBucketStore } from '../rate-bucket-store.ts';
import { Repository } from './repository.ts';

export class RateBucketsRepository extends Repository implements RateBucketStore {
  async takeRateToken(
    key: string,
    nowMs: number,
    options: TokenBucketOptions,
  ): Promise<TakeResult> {
    const { burst, ratePerSecond } = options;
    const pg = this.dialect === 'postgres';
    const [least, greatest] = pg ? ['LEAST', 'GREATEST'] : ['MIN', 'MAX'];
    // PostgreSQL infers a parameter's type from its neighbours (a bigint here): say it.
    const real = (n: number) => sql`CAST(${n} AS ${sql.raw(pg ? 'double precision' : 'REAL')})`;
    // Tokens now: the stored ones plus the refill since, at most `burst`.
    const refilled = sql`${sql.raw(least)}(${real(burst)}, rate_buckets.tokens + ${sql.raw(greatest)}(0, ${nowMs} - rate_buckets.updated_ms) * ${real(ratePerSecond)} / 1000.0)`;
    const { rows } = await sql<{ tokens: number }>`
      INSERT INTO rate_buckets (key, tokens, updated_ms) VALUES (${key}, ${real(burst - 1)}, ${nowMs})
      ON CONFLICT (key) DO UPDATE SET
        tokens = ${refilled} - 1,
        updated_ms = ${sql.raw(greatest)}(rate_buckets.updated_ms, ${nowMs})
      WHERE ${refilled} >= 1
      RETURNING tokens`.execute(this.db);
    if (rows.length > 0) return { ok: true };
    const { rows: current } = await sql<{ tokens: number | string }>`
      SELECT ${refilled} AS tokens FROM rate_buckets WHERE key = ${key}`.execute(this.db);
    const tokens = Number(current[0]?.tokens ?? 0);
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - tokens) / ratePerSecond));
    return { ok: false, retryAfterSeconds };
  }

  async pruneRateBuckets(beforeMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('rate_buckets')
      .where('updated_ms', '<', beforeMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
