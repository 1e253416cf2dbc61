// Hosted-prompt logins and their authorization codes, single-use marks, remembered devices (0012).
import type { Selectable } from 'kysely';
import type { PromptLoginsTable } from '../schema.ts';
import type { NewPromptLogin, PromptLogin } from '../store.ts';
import { Repository } from './repository.ts';

/** How long past its expiry a prompt login is kept, so a code issued at the last moment works. */
const LOGIN_CODE_GRACE_MS = 120_000;

export class PromptLoginsRepository extends Repository {
  async createPromptLogin(input: NewPromptLogin): Promise<void> {
    await this.db
      .insertInto('prompt_logins')
      .values({
        id_hash: input.idHash,
        app_id: input.appId,
        username: input.username,
        redirect_uri: input.redirectUri,
        state: input.state,
        nonce: input.nonce,
        use_duo_code: input.useDuoCode ? 1 : 0,
        status: 'pending',
        outcome: null,
        code_hash: null,
        code_expires_at_ms: null,
        code_used: 0,
        expires_at_ms: input.expiresAtMs,
        created_at_ms: this.clock.nowMs(),
      })
      .execute();
  }

  async getPromptLogin(idHash: string): Promise<PromptLogin | undefined> {
    const row = await this.db
      .selectFrom('prompt_logins')
      .selectAll()
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
    return row ? toPromptLogin(row) : undefined;
  }

  async finishPromptLogin(
    idHash: string,
    end: { status: 'allow' | 'deny'; outcome: string; codeHash: string; codeExpiresAtMs: number },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('prompt_logins')
      .set({
        status: end.status,
        outcome: end.outcome,
        code_hash: end.codeHash,
        code_expires_at_ms: end.codeExpiresAtMs,
      })
      .where('id_hash', '=', idHash)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async claimAuthorizationCode(codeHash: string): Promise<PromptLogin | undefined> {
    // One UPDATE decides who used the code: two concurrent exchanges cannot both see code_used = 0.
    const row = await this.db
      .updateTable('prompt_logins')
      .set({ code_used: 1 })
      .where('code_hash', '=', codeHash)
      .where('code_used', '=', 0)
      .returningAll()
      .executeTakeFirst();
    return row ? toPromptLogin(row) : undefined;
  }

  async claimSingleUse(mark: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    return this.atomic(async (db) => {
      // An expired mark no longer blocks (its value was refused as expired anyway).
      await db
        .deleteFrom('single_use_marks')
        .where('mark', '=', mark)
        .where('expires_at_ms', '<=', nowMs)
        .execute();
      const inserted = await db
        .insertInto('single_use_marks')
        .values({ mark, expires_at_ms: expiresAtMs })
        .onConflict((oc) => oc.column('mark').doNothing())
        .returning('mark')
        .executeTakeFirst();
      return inserted !== undefined;
    });
  }

  async purgeExpiredPromptRecords(nowMs: number): Promise<number> {
    const marks = await this.db
      .deleteFrom('single_use_marks')
      .where('expires_at_ms', '<=', nowMs)
      .executeTakeFirst();
    // A login that ended just before its own expiry keeps its code's 60 s (and some leeway).
    const logins = await this.db
      .deleteFrom('prompt_logins')
      .where('expires_at_ms', '<=', nowMs - LOGIN_CODE_GRACE_MS)
      .executeTakeFirst();
    const devices = await this.db
      .deleteFrom('remembered_devices')
      .where('expires_at_ms', '<=', nowMs)
      .executeTakeFirst();
    return Number(marks.numDeletedRows + logins.numDeletedRows + devices.numDeletedRows);
  }

  async rememberDevice(input: {
    tokenHash: string;
    appId: string;
    userId: string;
    expiresAtMs: number;
  }): Promise<void> {
    await this.db
      .insertInto('remembered_devices')
      .values({
        token_hash: input.tokenHash,
        app_id: input.appId,
        user_id: input.userId,
        expires_at_ms: input.expiresAtMs,
        created_at_ms: this.clock.nowMs(),
      })
      .execute();
  }

  async isDeviceRemembered(
    tokenHash: string,
    appId: string,
    userId: string,
    nowMs: number,
  ): Promise<boolean> {
    const row = await this.db
      .selectFrom('remembered_devices')
      .select('token_hash')
      .where('token_hash', '=', tokenHash)
      .where('app_id', '=', appId)
      .where('user_id', '=', userId)
      .where('expires_at_ms', '>', nowMs)
      .executeTakeFirst();
    return row !== undefined;
  }
}

function toPromptLogin(row: Selectable<PromptLoginsTable>): PromptLogin {
  return {
    idHash: row.id_hash,
    appId: row.app_id,
    username: row.username,
    redirectUri: row.redirect_uri,
    state: row.state,
    nonce: row.nonce,
    useDuoCode: Number(row.use_duo_code) === 1,
    status: row.status as PromptLogin['status'],
    outcome: row.outcome,
    codeExpiresAtMs: row.code_expires_at_ms === null ? null : Number(row.code_expires_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
    createdAtMs: Number(row.created_at_ms),
  };
}
