// Row mappers shared by several repositories (and by KyselyStore.loadAuthSubject).
import type { Kysely, Selectable } from 'kysely';
import { effectiveUserStatus } from '../../core/lockout.ts';
import type {
  BypassCode,
  Device,
  DevicePlatform,
  Group,
  GroupStatus,
  OtpAlgorithm,
  OtpToken,
  SmsPasscode,
  TokenType,
  User,
  UserStatus,
} from '../../core/model.ts';
import type {
  BypassCodesTable,
  Database,
  DevicesTable,
  GroupsTable,
  OtpTokensTable,
  SmsPasscodesTable,
  UsersTable,
} from '../schema.ts';
import { sealedIn } from '../sealed-columns.ts';
import type { SecretBox } from '../secret-box.ts';

/** A JSON array column: text on SQLite, already parsed by the driver on PostgreSQL. */
export function jsonList<T>(value: unknown): T[] {
  // Most of a login subject's lists are empty (no bypass codes, devices or SMS passcodes).
  if (value === '[]') return [];
  const list: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(list) ? (list as T[]) : [];
}

/** Users from rows, with the status in effect at `nowMs` (core/lockout.ts). */
export function foldUsers(
  rows: (Selectable<UsersTable> & { alias: string | null })[],
  nowMs: number,
): User[] {
  const byId = new Map<string, User>();
  for (const row of rows) {
    let user = byId.get(row.id);
    if (user === undefined) {
      user = toUser(row, [], nowMs);
      byId.set(row.id, user);
    }
    if (row.alias !== null) user.aliases.push(row.alias);
  }
  return [...byId.values()];
}

/** A user row as the user is at `nowMs`: a lockout past its end reads as `active`. */
export function toUser(row: Selectable<UsersTable>, aliases: string[], nowMs: number): User {
  const { status, lockedUntilMs } = effectiveUserStatus(
    { status: row.status as UserStatus, lockedUntilMs: row.locked_until_ms },
    nowMs,
  );
  return {
    id: row.id,
    username: row.username,
    aliases,
    realName: row.real_name,
    email: row.email,
    status,
    failedAttempts: row.failed_attempts,
    lockedUntilMs,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

export function toGroup(row: Selectable<GroupsTable>): Group {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status as GroupStatus,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

export function toBypassCode(row: Selectable<BypassCodesTable>): BypassCode {
  return {
    id: row.id,
    userId: row.user_id,
    codeHash: row.code_hash,
    remainingUses: row.remaining_uses,
    expiresAtMs: row.expires_at_ms,
    createdAtMs: row.created_at_ms,
  };
}

export function toDevice(row: Selectable<DevicesTable>): Device {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    platform: row.platform as DevicePlatform,
    publicKeyJwk: row.public_key,
    phoneNumber: row.phone_number,
    otpTokenId: row.otp_token_id,
    createdAtMs: Number(row.created_at_ms),
    lastSeenAtMs: row.last_seen_at_ms === null ? null : Number(row.last_seen_at_ms),
  };
}

export function toSmsPasscode(row: Selectable<SmsPasscodesTable>): SmsPasscode {
  return {
    id: row.id,
    userId: row.user_id,
    deviceId: row.device_id,
    seq: Number(row.seq),
    codeHash: row.code_hash,
    firstDigit: row.first_digit,
    expiresAtMs: Number(row.expires_at_ms),
    createdAtMs: Number(row.created_at_ms),
  };
}

export function toOtpToken(row: Selectable<OtpTokensTable>, secretBox: SecretBox): OtpToken {
  return {
    id: row.id,
    userId: row.user_id,
    type: row.type as TokenType,
    secret: secretBox.open(row.secret_sealed, sealedIn('otpTokenSecret', row.id)),
    algorithm: row.algorithm as OtpAlgorithm,
    digits: row.digits,
    periodSeconds: row.period_seconds,
    counter: row.counter,
    lastStep: row.last_step,
    name: row.name,
    createdAtMs: row.created_at_ms,
  };
}

/** Users with one row per alias, in username order: fold them with foldUsers. */
export function usersQuery(db: Kysely<Database>) {
  return db
    .selectFrom('users as u')
    .leftJoin('user_aliases as ua', 'ua.user_id', 'u.id')
    .selectAll('u')
    .select('ua.alias')
    .orderBy('u.username')
    .orderBy('ua.alias');
}
