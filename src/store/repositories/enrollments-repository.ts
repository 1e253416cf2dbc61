// Enrollments and auth transactions.
import type { AuthResult, AuthTransaction, Enrollment, EnrollmentState } from '../../core/model.ts';
import { Repository } from './repository.ts';
import { notFound, translateWriteError } from './write-errors.ts';

export class EnrollmentsRepository extends Repository {
  async createEnrollment(input: Omit<Enrollment, 'createdAtMs'>): Promise<Enrollment> {
    const enrollment: Enrollment = { ...input, createdAtMs: this.clock.nowMs() };
    try {
      await this.db
        .insertInto('enrollments')
        .values({
          activation_code: enrollment.activationCode,
          user_id: enrollment.userId,
          app_id: enrollment.appId,
          state: enrollment.state,
          expires_at_ms: enrollment.expiresAtMs,
          created_at_ms: enrollment.createdAtMs,
        })
        .execute();
    } catch (err) {
      throw translateWriteError(
        err,
        'enrollment',
        { activation_code: 'this activation code' },
        `user "${input.userId}" or application "${input.appId}" not found`,
      );
    }
    return enrollment;
  }

  async getEnrollment(activationCode: string): Promise<Enrollment | undefined> {
    const row = await this.db
      .selectFrom('enrollments')
      .selectAll()
      .where('activation_code', '=', activationCode)
      .executeTakeFirst();
    return (
      row && {
        activationCode: row.activation_code,
        userId: row.user_id,
        appId: row.app_id,
        state: row.state as EnrollmentState,
        expiresAtMs: row.expires_at_ms,
        createdAtMs: row.created_at_ms,
      }
    );
  }

  async setEnrollmentState(activationCode: string, state: Enrollment['state']): Promise<void> {
    const result = await this.db
      .updateTable('enrollments')
      .set({ state })
      .where('activation_code', '=', activationCode)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw notFound('enrollment', activationCode);
  }

  async createAuthTransaction(
    input: Omit<AuthTransaction, 'createdAtMs' | 'updatedAtMs'>,
  ): Promise<AuthTransaction> {
    const now = this.clock.nowMs();
    const transaction: AuthTransaction = { ...input, createdAtMs: now, updatedAtMs: now };
    try {
      await this.db
        .insertInto('auth_transactions')
        .values({
          txid: input.txid,
          app_id: input.appId,
          user_id: input.userId,
          factor: input.factor,
          result: input.result,
          status: input.status,
          status_msg: input.statusMsg,
          created_at_ms: now,
          updated_at_ms: now,
        })
        .execute();
    } catch (err) {
      throw translateWriteError(
        err,
        'auth transaction',
        { txid: `txid "${input.txid}"` },
        `user "${input.userId}" or application "${input.appId}" not found`,
      );
    }
    return transaction;
  }

  async getAuthTransaction(txid: string): Promise<AuthTransaction | undefined> {
    const row = await this.db
      .selectFrom('auth_transactions')
      .selectAll()
      .where('txid', '=', txid)
      .executeTakeFirst();
    return (
      row && {
        txid: row.txid,
        appId: row.app_id,
        userId: row.user_id,
        factor: row.factor,
        result: row.result as AuthResult,
        status: row.status,
        statusMsg: row.status_msg,
        createdAtMs: row.created_at_ms,
        updatedAtMs: row.updated_at_ms,
      }
    );
  }

  async updateAuthTransaction(
    txid: string,
    patch: Pick<AuthTransaction, 'result' | 'status' | 'statusMsg'>,
  ): Promise<void> {
    const result = await this.db
      .updateTable('auth_transactions')
      .set({
        result: patch.result,
        status: patch.status,
        status_msg: patch.statusMsg,
        updated_at_ms: this.clock.nowMs(),
      })
      .where('txid', '=', txid)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw notFound('auth transaction', txid);
  }
}
