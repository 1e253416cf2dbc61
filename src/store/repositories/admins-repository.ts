// Administrators, Admin API keys and console sessions.
import type { Selectable } from 'kysely';
import type { Admin, AdminApiKey, AdminSession } from '../../core/admin-model.ts';
import type { NewAdmin, NewAdminApiKey, NewAdminSession } from '../admin-store.ts';
import type { AdminApiKeysTable, AdminsTable } from '../schema.ts';
import { sealedIn } from '../sealed-columns.ts';
import { Repository } from './repository.ts';
import { notFound, translateWriteError } from './write-errors.ts';

export class AdminsRepository extends Repository {
  async createAdmin(input: NewAdmin): Promise<Admin> {
    const now = this.clock.nowMs();
    const row: Selectable<AdminsTable> = {
      id: input.id,
      username: input.username,
      password_hash: input.passwordHash,
      totp_secret_sealed: this.secretBox.seal(
        input.totpSecret,
        sealedIn('adminTotpSecret', input.id),
      ),
      totp_last_step: null,
      disabled: 0,
      created_at_ms: now,
      updated_at_ms: now,
    };
    try {
      await this.db.insertInto('admins').values(row).execute();
    } catch (err) {
      throw translateWriteError(err, 'administrator', {
        id: `id "${input.id}"`,
        username: `username "${input.username}"`,
      });
    }
    return this.#toAdmin(row);
  }

  async getAdmin(id: string): Promise<Admin | undefined> {
    const row = await this.db
      .selectFrom('admins')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && this.#toAdmin(row);
  }

  async findAdmin(username: string): Promise<Admin | undefined> {
    const row = await this.db
      .selectFrom('admins')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    return row && this.#toAdmin(row);
  }

  async listAdmins(): Promise<Admin[]> {
    const rows = await this.db.selectFrom('admins').selectAll().orderBy('username').execute();
    return rows.map((row) => this.#toAdmin(row));
  }

  async setAdminDisabled(id: string, disabled: boolean): Promise<Admin> {
    return this.atomic(async (db) => {
      const row = await db
        .updateTable('admins')
        .set({ disabled: disabled ? 1 : 0, updated_at_ms: this.clock.nowMs() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (row === undefined) throw notFound('administrator', id);
      // A disabled administrator is logged out everywhere at once.
      if (disabled) await db.deleteFrom('admin_sessions').where('admin_id', '=', id).execute();
      return this.#toAdmin(row);
    });
  }

  async claimAdminTotpStep(adminId: string, step: number): Promise<boolean> {
    // RFC 6238 §5.2: the conditional UPDATE is the replay check, as for users' tokens.
    const result = await this.db
      .updateTable('admins')
      .set({ totp_last_step: step })
      .where('id', '=', adminId)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async createAdminApiKey(input: NewAdminApiKey): Promise<AdminApiKey> {
    const row: Selectable<AdminApiKeysTable> = {
      ikey: input.ikey,
      skey_sealed: this.secretBox.seal(input.skey, sealedIn('adminApiKeySkey', input.ikey)),
      name: input.name,
      created_at_ms: this.clock.nowMs(),
      last_used_at_ms: null,
    };
    try {
      await this.db.insertInto('admin_api_keys').values(row).execute();
    } catch (err) {
      throw translateWriteError(err, 'Admin API key', { ikey: `ikey "${input.ikey}"` });
    }
    return this.#toAdminApiKey(row);
  }

  async getAdminApiKey(ikey: string): Promise<AdminApiKey | undefined> {
    const row = await this.db
      .selectFrom('admin_api_keys')
      .selectAll()
      .where('ikey', '=', ikey)
      .executeTakeFirst();
    return row && this.#toAdminApiKey(row);
  }

  async listAdminApiKeys(): Promise<AdminApiKey[]> {
    const rows = await this.db
      .selectFrom('admin_api_keys')
      .selectAll()
      .orderBy('created_at_ms')
      .orderBy('ikey')
      .execute();
    return rows.map((row) => this.#toAdminApiKey(row));
  }

  async deleteAdminApiKey(ikey: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('admin_api_keys')
      .where('ikey', '=', ikey)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async touchAdminApiKey(ikey: string, nowMs: number): Promise<void> {
    await this.db
      .updateTable('admin_api_keys')
      .set({ last_used_at_ms: nowMs })
      .where('ikey', '=', ikey)
      .execute();
  }

  async createAdminSession(input: NewAdminSession): Promise<AdminSession> {
    const now = this.clock.nowMs();
    const session: AdminSession = { ...input, createdAtMs: now, lastSeenAtMs: now };
    try {
      await this.db
        .insertInto('admin_sessions')
        .values({
          id: input.idHash,
          admin_id: input.adminId,
          csrf_token_hash: input.csrfTokenHash,
          created_at_ms: now,
          expires_at_ms: input.expiresAtMs,
          last_seen_at_ms: now,
        })
        .execute();
    } catch (err) {
      throw translateWriteError(
        err,
        'console session',
        { id: 'this id' },
        `administrator "${input.adminId}" not found`,
      );
    }
    return session;
  }

  async getAdminSession(idHash: string): Promise<AdminSession | undefined> {
    const row = await this.db
      .selectFrom('admin_sessions')
      .selectAll()
      .where('id', '=', idHash)
      .executeTakeFirst();
    return (
      row && {
        idHash: row.id,
        adminId: row.admin_id,
        csrfTokenHash: row.csrf_token_hash,
        createdAtMs: Number(row.created_at_ms),
        expiresAtMs: Number(row.expires_at_ms),
        lastSeenAtMs: Number(row.last_seen_at_ms),
      }
    );
  }

  async touchAdminSession(idHash: string, nowMs: number): Promise<void> {
    await this.db
      .updateTable('admin_sessions')
      .set({ last_seen_at_ms: nowMs })
      .where('id', '=', idHash)
      .execute();
  }

  async deleteAdminSession(idHash: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('admin_sessions')
      .where('id', '=', idHash)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteExpiredAdminSessions(nowMs: number, idleSinceMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('admin_sessions')
      .where((eb) =>
        eb.or([eb('expires_at_ms', '<=', nowMs), eb('last_seen_at_ms', '<=', idleSinceMs)]),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  #toAdmin(row: Selectable<AdminsTable>): Admin {
    return {
      id: row.id,
      username: row.username,
      passwordHash: row.password_hash,
      totpSecret: this.secretBox.open(row.totp_secret_sealed, sealedIn('adminTotpSecret', row.id)),
      totpLastStep: row.totp_last_step === null ? null : Number(row.totp_last_step),
      disabled: Number(row.disabled) === 1,
      createdAtMs: Number(row.created_at_ms),
      updatedAtMs: Number(row.updated_at_ms),
    };
  }

  #toAdminApiKey(row: Selectable<AdminApiKeysTable>): AdminApiKey {
    return {
      ikey: row.ikey,
      skey: this.secretBox.open(row.skey_sealed, sealedIn('adminApiKeySkey', row.ikey)),
      name: row.name,
      createdAtMs: Number(row.created_at_ms),
      lastUsedAtMs: row.last_used_at_ms === null ? null : Number(row.last_used_at_ms),
    };
  }
}
