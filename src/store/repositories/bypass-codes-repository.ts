// Users' bypass codes.
import type { Selectable } from 'kysely';
import type { BypassCode } from '../../core/model.ts';
import type { BypassCodesTable } from '../schema.ts';
import type { NewBypassCode } from '../store.ts';
import { Repository } from './repository.ts';
import { toBypassCode } from './rows.ts';
import { notFound, translateWriteError } from './write-errors.ts';

export class BypassCodesRepository extends Repository {
  async replaceBypassCodes(userId: string, codes: NewBypassCode[]): Promise<BypassCode[]> {
    const now = this.clock.nowMs();
    const rows: Selectable<BypassCodesTable>[] = codes.map((code) => ({
      id: code.id,
      user_id: userId,
      code_hash: code.codeHash,
      remaining_uses: code.remainingUses,
      expires_at_ms: code.expiresAtMs,
      created_at_ms: now,
    }));
    await this.atomic(async (db) => {
      const user = await db
        .selectFrom('users')
        .select('id')
        .where('id', '=', userId)
        .executeTakeFirst();
      if (user === undefined) throw notFound('user', userId);
      await db.deleteFrom('bypass_codes').where('user_id', '=', userId).execute();
      if (rows.length > 0) {
        try {
          await db.insertInto('bypass_codes').values(rows).execute();
        } catch (err) {
          throw translateWriteError(err, 'bypass code', {});
        }
      }
    });
    return rows.map(toBypassCode);
  }

  async listBypassCodes(userId: string): Promise<BypassCode[]> {
    const rows = await this.db
      .selectFrom('bypass_codes')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at_ms')
      .orderBy('id')
      .execute();
    return rows.map(toBypassCode);
  }

  async consumeBypassCode(codeId: string, nowMs: number): Promise<boolean> {
    // The conditional UPDATE is the decision: concurrent uses of a one-time code cannot both succeed.
    const { rows } = await this.run<{ remaining_uses: number | null }>('consumeBypassCode', [
      codeId,
      nowMs,
    ]);
    const row = rows[0];
    if (row === undefined) return false;
    // Used up: remove it. A zero-use row could never be consumed again anyway.
    if (row.remaining_uses === 0) await this.run('deleteUsedBypassCode', [codeId]);
    return true;
  }
}
