// Devices, their activations and their SMS passcodes.
import type { Selectable } from 'kysely';
import type { Device } from '../../core/model.ts';
import type { DevicesTable } from '../schema.ts';
import type { ClaimedActivation, NewDevice, NewSmsPasscode } from '../store.ts';
import { Repository } from './repository.ts';
import { toDevice } from './rows.ts';
import { translateWriteError } from './write-errors.ts';

export class DevicesRepository extends Repository {
  async createDeviceActivation(input: {
    activationCode: string;
    userId: string;
    expiresAtMs: number;
  }): Promise<void> {
    try {
      await this.db
        .insertInto('device_activations')
        .values({
          activation_code: input.activationCode,
          user_id: input.userId,
          state: 'waiting',
          expires_at_ms: input.expiresAtMs,
          created_at_ms: this.clock.nowMs(),
        })
        .execute();
    } catch (err) {
      throw translateWriteError(
        err,
        'device activation',
        { activation_code: 'this activation code' },
        `user "${input.userId}" not found`,
      );
    }
  }

  async claimActivation(code: string, nowMs: number): Promise<ClaimedActivation | undefined> {
    // The conditional UPDATE is the claim: two devices racing for one code cannot both win.
    const enrollment = await this.db
      .updateTable('enrollments')
      .set({ state: 'success' })
      .where('activation_code', '=', code)
      .where('state', '=', 'waiting')
      .where('expires_at_ms', '>', nowMs)
      .returning(['user_id', 'app_id'])
      .executeTakeFirst();
    if (enrollment) return { userId: enrollment.user_id, appId: enrollment.app_id };
    const activation = await this.db
      .updateTable('device_activations')
      .set({ state: 'success' })
      .where('activation_code', '=', code)
      .where('state', '=', 'waiting')
      .where('expires_at_ms', '>', nowMs)
      .returning(['user_id'])
      .executeTakeFirst();
    return activation && { userId: activation.user_id, appId: null };
  }

  async createDevice(input: NewDevice): Promise<Device> {
    const row: Selectable<DevicesTable> = {
      id: input.id,
      user_id: input.userId,
      name: input.name,
      platform: input.platform,
      public_key: input.publicKeyJwk ?? null,
      phone_number: input.phoneNumber ?? null,
      otp_token_id: input.otpTokenId ?? null,
      created_at_ms: this.clock.nowMs(),
      last_seen_at_ms: null,
    };
    try {
      await this.db.insertInto('devices').values(row).execute();
    } catch (err) {
      throw translateWriteError(
        err,
        'device',
        { id: `id "${input.id}"` },
        `user "${input.userId}" not found`,
      );
    }
    return toDevice(row);
  }

  async getDevice(id: string): Promise<Device | undefined> {
    const row = await this.db
      .selectFrom('devices')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toDevice(row);
  }

  async listDevices(userId: string): Promise<Device[]> {
    const rows = await this.db
      .selectFrom('devices')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at_ms')
      .orderBy('id')
      .execute();
    return rows.map(toDevice);
  }

  async deleteDevice(id: string): Promise<boolean> {
    return this.atomic(async (db) => {
      const device = await db
        .selectFrom('devices')
        .select('otp_token_id')
        .where('id', '=', id)
        .executeTakeFirst();
      if (!device) return false;
      await db.deleteFrom('devices').where('id', '=', id).execute();
      // The authenticator's TOTP secret goes with it: a removed device must not log in.
      if (device.otp_token_id !== null) {
        await db.deleteFrom('otp_tokens').where('id', '=', device.otp_token_id).execute();
      }
      return true;
    });
  }

  async touchDevice(id: string, nowMs: number): Promise<void> {
    await this.db
      .updateTable('devices')
      .set({ last_seen_at_ms: nowMs })
      .where('id', '=', id)
      .execute();
  }

  async replaceSmsPasscodes(
    userId: string,
    deviceId: string,
    codes: NewSmsPasscode[],
  ): Promise<void> {
    const now = this.clock.nowMs();
    await this.atomic(async (db) => {
      await db.deleteFrom('sms_passcodes').where('user_id', '=', userId).execute();
      if (codes.length === 0) return;
      try {
        await db
          .insertInto('sms_passcodes')
          .values(
            codes.map((c) => ({
              id: c.id,
              user_id: userId,
              device_id: deviceId,
              seq: c.seq,
              code_hash: c.codeHash,
              first_digit: c.firstDigit,
              expires_at_ms: c.expiresAtMs,
              created_at_ms: now,
            })),
          )
          .execute();
      } catch (err) {
        throw translateWriteError(err, 'SMS passcode', {}, 'user or device not found');
      }
    });
  }

  async consumeSmsPasscode(id: string, nowMs: number): Promise<boolean> {
    const { rows } = await this.run<{ id: string }>('consumeSmsPasscode', [id, nowMs]);
    return rows.length === 1;
  }
}
