// The Store's part for administrators, Admin API keys and console sessions (migration 0004).
import type { Admin, AdminApiKey, AdminSession } from '../core/admin-model.ts';

export interface NewAdmin {
  id: string;
  username: string;
  passwordHash: string;
  totpSecret: string;
}

export interface NewAdminApiKey {
  ikey: string;
  skey: string;
  name: string;
}

export type NewAdminSession = Omit<AdminSession, 'createdAtMs' | 'lastSeenAtMs'>;

export interface AdminStore {
  createAdmin(input: NewAdmin): Promise<Admin>;
  getAdmin(id: string): Promise<Admin | undefined>;
  findAdmin(username: string): Promise<Admin | undefined>;
  listAdmins(): Promise<Admin[]>;
  /** Disabling also ends every console session of the administrator. */
  setAdminDisabled(id: string, disabled: boolean): Promise<Admin>;
  /** Atomically records TOTP step `step` as used at login; false when it (or a later one) was. */
  claimAdminTotpStep(adminId: string, step: number): Promise<boolean>;

  createAdminApiKey(input: NewAdminApiKey): Promise<AdminApiKey>;
  getAdminApiKey(ikey: string): Promise<AdminApiKey | undefined>;
  listAdminApiKeys(): Promise<AdminApiKey[]>;
  /** Revokes the key (deletes it); false when there was none. */
  deleteAdminApiKey(ikey: string): Promise<boolean>;
  touchAdminApiKey(ikey: string, nowMs: number): Promise<void>;

  createAdminSession(input: NewAdminSession): Promise<AdminSession>;
  getAdminSession(idHash: string): Promise<AdminSession | undefined>;
  touchAdminSession(idHash: string, nowMs: number): Promise<void>;
  deleteAdminSession(idHash: string): Promise<boolean>;
  /** Deletes sessions whose absolute expiry passed at `nowMs` or that were idle since `idleSinceMs`. */
  deleteExpiredAdminSessions(nowMs: number, idleSinceMs: number): Promise<number>;
}
