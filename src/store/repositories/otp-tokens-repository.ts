// Users' OTP tokens (TOTP and HOTP) and their replay state.
import type { Selectable } from 'kysely';
import type { OtpToken } from '../../core/model.ts';
import type { OtpTokensTable } from '../schema.ts';
import { sealedIn } from '../sealed-columns.ts';
import type { NewOtpToken } from '../store.ts';
import { Repository } from './repository.ts';
import { toOtpToken } from './rows.ts';
import { translateWriteError } from './write-errors.ts';

export class OtpTokensRepository extends Repository {
  async addOtpToken(input: NewOtpToken): Promise<OtpToken> {
    const row: Selectable<OtpTokensTable> = {
      id: input.id,
      user_id: input.userId,
      type: input.type,
      secret_sealed: this.secretBox.seal(input.secret, sealedIn('otpTokenSecret', input.id)),
      algorithm: input.algorithm,
      digits: input.digits,
      period_seconds: input.periodSeconds,
      counter: input.counter,
      last_step: null,
      name: input.name ?? null,
      created_at_ms: this.clock.nowMs(),
    };
    try {
      await this.db.insertInto('otp_tokens').values(row).execute();
    } catch (err) {
      throw translateWriteError(
        err,
        'OTP token',
        { id: `id "${input.id}"` },
        `user "${input.userId}" not found`,
      );
    }
    return toOtpToken(row, this.secretBox);
  }

  async listOtpTokens(userId: string): Promise<OtpToken[]> {
    const rows = await this.db
      .selectFrom('otp_tokens')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at_ms')
      .orderBy('id')
      .execute();
    return rows.map((row) => toOtpToken(row, this.secretBox));
  }

  async claimTotpStep(tokenId: string, step: number): Promise<boolean> {
    const result = await this.run('claimTotpStep', [step, tokenId, step]);
    return (result.numAffectedRows ?? 0n) > 0n;
  }

  async advanceHotpCounter(tokenId: string, expected: number, next: number): Promise<boolean> {
    // RFC 4226 §7.2: the counter moves only forward, and only once per accepted value.
    const result = await this.db
      .updateTable('otp_tokens')
      .set({ counter: next })
      .where('id', '=', tokenId)
      .where('counter', '=', expected)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async deleteOtpToken(userId: string, tokenId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('otp_tokens')
      .where('id', '=', tokenId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
