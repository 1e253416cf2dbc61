// Every column that holds a SecretBox-sealed value, and the binding (AAD) of its rows: the one
// list the repositories seal and open with, and migration 0006 re-seals.
import type { SealBinding } from './secret-box.ts';

export const SEALED_COLUMNS = {
  applicationSkey: { table: 'applications', column: 'skey_sealed', key: 'id' },
  otpTokenSecret: { table: 'otp_tokens', column: 'secret_sealed', key: 'id' },
  adminTotpSecret: { table: 'admins', column: 'totp_secret_sealed', key: 'id' },
  adminApiKeySkey: { table: 'admin_api_keys', column: 'skey_sealed', key: 'ikey' },
} as const;
export type SealedColumn = keyof typeof SEALED_COLUMNS;

/** The binding of `column` in the row whose primary key (`key` above) is `rowId`. */
export function sealedIn(column: SealedColumn, rowId: string): SealBinding {
  const { table, column: name } = SEALED_COLUMNS[column];
  return { table, column: name, rowId };
}
