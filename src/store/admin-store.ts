// The Store's part for administrators, Admin API keys and console sessions (migration 0004).
import type { Admin, AdminApiKey, AdminSession } from '../core/admin-model.ts';
import type { Group, User } from '../core/model.ts';

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

export interface UserPatch {
  realName?: string | null;
  email?: string | null;
}

export interface GroupPatch {
  name?: string;
  description?: string | null;
}

export interface AdminStore {
  // Edits only the Admin API and the console make.
  updateUser(id: string, patch: UserPatch): Promise<User>;
  /** Replaces the user's aliases (usernames and aliases share one namespace). */
  setUserAliases(id: string, aliases: string[]): Promise<User>;
  updateGroup(id: string, patch: GroupPatch): Promise<Group>;
  /**
   * Deletes the group and its memberships. Refused (STORE_CONFLICT) while an application is
   * restricted to it: dropping the restriction would open the application to every user.
   */
  deleteGroup(id: string): Promise<boolean>;
  /** Deletes the application with its enrollments, transactions and pending requests. */
  deleteApplication(id: string): Promise<boolean>;
  /** Deletes one of the user's OTP tokens; false when the user has no such token. */
  deleteOtpToken(userId: string, tokenId: string): Promise<boolean>;

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
