// Out-of-band (push, phone call) requests.
import type { Selectable } from 'kysely';
import {
  type OobContext,
  type OobFactor,
  type OobRequest,
  type OobStatus,
  PENDING_OOB_STATUSES,
} from '../../core/model.ts';
import type { OobRequestsTable } from '../schema.ts';
import type { ExpiredOobRequest, NewOobRequest } from '../store.ts';
import { Repository } from './repository.ts';
import { translateWriteError } from './write-errors.ts';

export class OobRequestsRepository extends Repository {
  async createOobRequest(input: NewOobRequest): Promise<OobRequest> {
    const request: OobRequest = {
      ...input,
      createdAtMs: this.clock.nowMs(),
      deliveredAtMs: null,
      answeredAtMs: null,
    };
    try {
      await this.db
        .insertInto('oob_requests')
        .values({
          txid: request.txid,
          factor: request.factor,
          app_id: request.appId,
          user_id: request.userId,
          device_id: request.deviceId,
          status: request.status,
          context: JSON.stringify(request.context),
          verification_code: request.verificationCode,
          callback_token_hash: request.callbackTokenHash,
          created_at_ms: request.createdAtMs,
          expires_at_ms: request.expiresAtMs,
          delivered_at_ms: null,
          answered_at_ms: null,
        })
        .execute();
    } catch (err) {
      throw translateWriteError(
        err,
        'out-of-band request',
        { txid: `txid "${input.txid}"` },
        'application, user or device not found',
      );
    }
    return request;
  }

  async getOobRequest(txid: string): Promise<OobRequest | undefined> {
    const row = await this.db
      .selectFrom('oob_requests')
      .selectAll()
      .where('txid', '=', txid)
      .executeTakeFirst();
    return row && toOobRequest(row);
  }

  async listPendingOobRequests(deviceId: string, nowMs: number): Promise<OobRequest[]> {
    const rows = await this.db
      .selectFrom('oob_requests')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('status', 'in', [...PENDING_OOB_STATUSES])
      .where('expires_at_ms', '>', nowMs)
      .orderBy('created_at_ms')
      .orderBy('txid')
      .execute();
    return rows.map(toOobRequest);
  }

  async markOobDelivered(txids: string[], nowMs: number): Promise<void> {
    if (txids.length === 0) return;
    await this.db
      .updateTable('oob_requests')
      .set({ delivered_at_ms: nowMs })
      .where('txid', 'in', txids)
      .where('delivered_at_ms', 'is', null)
      .execute();
  }

  async resolveOobRequest(txid: string, status: OobStatus, nowMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable('oob_requests')
      .set({ status, answered_at_ms: nowMs })
      .where('txid', '=', txid)
      .where('status', 'in', [...PENDING_OOB_STATUSES])
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async expireOobRequests(nowMs: number): Promise<ExpiredOobRequest[]> {
    const rows = await this.db
      .updateTable('oob_requests')
      .set({ status: 'timeout', answered_at_ms: nowMs })
      .where('status', 'in', [...PENDING_OOB_STATUSES])
      .where('expires_at_ms', '<=', nowMs)
      .returning(['txid', 'app_id', 'context', 'factor', 'delivered_at_ms'])
      .execute();
    return rows.map((r) => ({
      txid: r.txid,
      appId: r.app_id,
      username: (JSON.parse(r.context) as OobContext).username,
      factor: r.factor as OobFactor,
      delivered: r.delivered_at_ms !== null,
    }));
  }
}

function toOobRequest(row: Selectable<OobRequestsTable>): OobRequest {
  return {
    txid: row.txid,
    factor: row.factor as OobFactor,
    appId: row.app_id,
    userId: row.user_id,
    deviceId: row.device_id,
    status: row.status as OobStatus,
    context: JSON.parse(row.context) as OobContext,
    verificationCode: row.verification_code,
    callbackTokenHash: row.callback_token_hash,
    createdAtMs: Number(row.created_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
    deliveredAtMs: row.delivered_at_ms === null ? null : Number(row.delivered_at_ms),
    answeredAtMs: row.answered_at_ms === null ? null : Number(row.answered_at_ms),
  };
}
