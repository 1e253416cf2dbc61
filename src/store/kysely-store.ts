// KyselyStore: the Store on Kysely, one implementation for both SQLite and PostgreSQL. It owns the
// connection, transactions, savepoint batches, migrations and close; every kind of record has its
// repository in repositories/, bound to the same Kysely instance (or transaction).
import type { Incident, IncidentStatus, IncidentUpdate, Subscription } from '../core/incident.ts';
import type { MessageKind, MessageLanguage } from '../core/user-messages.ts';
import type {
  ComponentOverride,
  HealthReport,
  NewIncident,
  StoredTemplate,
} from './outage-store.ts';
import { CompiledQuery } from 'kysely';
import type { Kysely, Transaction } from 'kysely';
import type {
  Application,
  AuditEvent,
  AuthTransaction,
  BypassCode,
  Device,
  Enrollment,
  Group,
  GroupStatus,
  NewAuditEvent,
  OobRequest,
  OobStatus,
  OtpToken,
  User,
  UserStatus,
} from '../core/model.ts';
import type { UsernameNormalization } from '../core/username.ts';
import type { UsernameCollision } from './username-collisions.ts';
import type { EmergencyControl, EmergencyState } from '../core/emergency-control.ts';
import type { Policy } from '../core/policy.ts';
import type { Admin, AdminApiKey, AdminSession } from '../core/admin-model.ts';
import type {
  GroupPatch,
  NewAdmin,
  NewAdminApiKey,
  NewAdminSession,
  UserPatch,
} from './admin-store.ts';
import type { Clock } from '../runtime/clock.ts';
import { createStoreMigrator } from './migrations/migration-provider.ts';
import type { Database } from './schema.ts';
import type { SecretBox } from './secret-box.ts';
import type {
  ApplicationPatch,
  AuditQuery,
  AuthSubject,
  ClaimedActivation,
  ExpiredOobRequest,
  NewApplication,
  NewPromptLogin,
  PromptLogin,
  NewDevice,
  NewOobRequest,
  NewSmsPasscode,
  NewBypassCode,
  NewGroup,
  NewOtpToken,
  NewUser,
  Store,
  StoreDialect,
  StoredPolicy,
  SecondFactorFailure,
  SecondFactorFailureOptions,
} from './store.ts';
import { Repositories } from './repositories/repositories.ts';
import type { IntegrityReport, SealedSecretTally } from './maintenance-store.ts';
import { MaintenanceRepository } from './repositories/maintenance-repository.ts';

export interface KyselyStoreOptions {
  db: Kysely<Database> | Transaction<Database>;
  dialect: StoreDialect;
  secretBox: SecretBox;
  clock: Clock;
}

const SAVEPOINT = CompiledQuery.raw('SAVEPOINT batch_item');
const RELEASE_SAVEPOINT = CompiledQuery.raw('RELEASE SAVEPOINT batch_item');
const ROLLBACK_TO_SAVEPOINT = CompiledQuery.raw('ROLLBACK TO SAVEPOINT batch_item');

export class KyselyStore implements Store {
  readonly dialect: StoreDialect;
  readonly #db: Kysely<Database>;
  readonly #secretBox: SecretBox;
  readonly #clock: Clock;
  readonly #repos: Repositories;
  #maintenance?: MaintenanceRepository;

  constructor({ db, dialect, secretBox, clock }: KyselyStoreOptions) {
    this.dialect = dialect;
    this.#db = db;
    this.#secretBox = secretBox;
    this.#clock = clock;
    this.#repos = new Repositories({ db, dialect, secretBox, clock });
  }

  async migrate(): Promise<string[]> {
    if (this.#db.isTransaction) throw new Error('migrate() cannot run inside a transaction');
    const migrator = createStoreMigrator(this.#db, this.dialect, { secretBox: this.#secretBox });
    const { error, results } = await migrator.migrateToLatest();
    if (error !== undefined) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      const what = failed === undefined ? 'database migration' : `database migration ${failed}`;
      throw new Error(`${what} failed: ${errorMessage(error)}`, { cause: error });
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.#db.isTransaction) return fn(this);
    return this.#db.transaction().execute((trx) =>
      fn(
        new KyselyStore({
          db: trx,
          dialect: this.dialect,
          secretBox: this.#secretBox,
          clock: this.#clock,
        }),
      ),
    );
  }

  async runBatch<T>(
    items: readonly ((tx: Store) => Promise<T>)[],
  ): Promise<PromiseSettledResult<T>[]> {
    if (this.#db.isTransaction) throw new Error('runBatch() cannot run inside a transaction');
    if (items.length === 1) {
      // One unit: its own transaction is its savepoint.
      try {
        return [{ status: 'fulfilled', value: await this.transaction(items[0]!) }];
      } catch (reason) {
        return [{ status: 'rejected', reason }];
      }
    }
    return this.transaction(async (tx) => {
      const txDb = (tx as KyselyStore).#db;
      const results: PromiseSettledResult<T>[] = [];
      for (const item of items) {
        // A savepoint per item: one item's failure undoes only its own writes.
        await txDb.executeQuery(SAVEPOINT);
        try {
          const value = await item(tx);
          await txDb.executeQuery(RELEASE_SAVEPOINT);
          results.push({ status: 'fulfilled', value });
        } catch (reason) {
          await txDb.executeQuery(ROLLBACK_TO_SAVEPOINT);
          await txDb.executeQuery(RELEASE_SAVEPOINT);
          results.push({ status: 'rejected', reason });
        }
      }
      return results;
    });
  }

  async close(): Promise<void> {
    if (this.#db.isTransaction) throw new Error('close() cannot be called on a transaction store');
    await this.#db.destroy();
  }

  // ---- Delegated to the repositories ----

  /** The hot path of every login: one call on to the fixed statements. */
  loadAuthSubject(
    ref: { username: string; normalization?: UsernameNormalization } | { userId: string },
  ): Promise<AuthSubject | undefined> {
    return this.#repos.subjects.loadAuthSubject(ref);
  }

  createUser(input: NewUser): Promise<User> {
    return this.#repos.users.createUser(input);
  }
  renameUser(id: string, newUsername: string): Promise<User> {
    return this.#repos.users.renameUser(id, newUsername);
  }
  listUsernameCollisions(): Promise<UsernameCollision[]> {
    return this.#repos.users.listUsernameCollisions();
  }
  resolveUsernameCollision(
    userId: string,
    action: { rename: string } | { dropAlias: string } | { delete: true },
  ): Promise<void> {
    return this.#repos.users.resolveUsernameCollision(userId, action);
  }
  getUser(id: string): Promise<User | undefined> {
    return this.#repos.users.getUser(id);
  }
  findUser(
    usernameOrAlias: string,
    normalization: UsernameNormalization = 'none',
  ): Promise<User | undefined> {
    return this.#repos.users.findUser(usernameOrAlias, normalization);
  }
  listUsers(options: { limit?: number; offset?: number; search?: string } = {}): Promise<User[]> {
    return this.#repos.users.listUsers(options);
  }
  setUserStatus(id: string, status: UserStatus): Promise<User> {
    return this.#repos.users.setUserStatus(id, status);
  }
  updateUser(id: string, patch: UserPatch): Promise<User> {
    return this.#repos.users.updateUser(id, patch);
  }
  setUserAliases(id: string, aliases: string[]): Promise<User> {
    return this.#repos.users.setUserAliases(id, aliases);
  }
  deleteUser(id: string): Promise<boolean> {
    return this.#repos.users.deleteUser(id);
  }
  getUserStatus(id: string): Promise<UserStatus | undefined> {
    return this.#repos.users.getUserStatus(id);
  }
  recordSecondFactorFailure(
    userId: string,
    threshold: number,
    options?: SecondFactorFailureOptions,
  ): Promise<SecondFactorFailure> {
    return this.#repos.users.recordSecondFactorFailure(userId, threshold, options);
  }
  resetSecondFactorFailures(userId: string): Promise<void> {
    return this.#repos.users.resetSecondFactorFailures(userId);
  }
  createApplication(input: NewApplication): Promise<Application> {
    return this.#repos.applications.createApplication(input);
  }
  getApplication(idOrName: string): Promise<Application | undefined> {
    return this.#repos.applications.getApplication(idOrName);
  }
  getApplicationByIkey(ikey: string): Promise<Application | undefined> {
    return this.#repos.applications.getApplicationByIkey(ikey);
  }
  listApplications(): Promise<Application[]> {
    return this.#repos.applications.listApplications();
  }
  updateApplication(id: string, patch: ApplicationPatch): Promise<Application> {
    return this.#repos.applications.updateApplication(id, patch);
  }
  setApplicationGroups(appId: string, groupIds: string[]): Promise<void> {
    return this.#repos.applications.setApplicationGroups(appId, groupIds);
  }
  deleteApplication(id: string): Promise<boolean> {
    return this.#repos.applications.deleteApplication(id);
  }
  createGroup(input: NewGroup): Promise<Group> {
    return this.#repos.groups.createGroup(input);
  }
  getGroup(idOrName: string): Promise<Group | undefined> {
    return this.#repos.groups.getGroup(idOrName);
  }
  listGroups(): Promise<Group[]> {
    return this.#repos.groups.listGroups();
  }
  setGroupStatus(id: string, status: GroupStatus): Promise<Group> {
    return this.#repos.groups.setGroupStatus(id, status);
  }
  updateGroup(id: string, patch: GroupPatch): Promise<Group> {
    return this.#repos.groups.updateGroup(id, patch);
  }
  deleteGroup(id: string): Promise<boolean> {
    return this.#repos.groups.deleteGroup(id);
  }
  addGroupMember(groupId: string, userId: string, addedByControl?: string): Promise<boolean> {
    return this.#repos.groups.addGroupMember(groupId, userId, addedByControl);
  }
  removeGroupMember(
    groupId: string,
    userId: string,
    options?: { onlyAddedByControl?: boolean },
  ): Promise<boolean> {
    return this.#repos.groups.removeGroupMember(groupId, userId, options);
  }
  claimGroupMember(groupId: string, userId: string): Promise<string | undefined> {
    return this.#repos.groups.claimGroupMember(groupId, userId);
  }
  listGroupMemberOrigins(
    groupId: string,
  ): Promise<{ userId: string; addedByControl: string | null }[]> {
    return this.#repos.groups.listGroupMemberOrigins(groupId);
  }
  listUserGroups(userId: string): Promise<Group[]> {
    return this.#repos.groups.listUserGroups(userId);
  }
  listGroupMembers(groupId: string): Promise<User[]> {
    return this.#repos.groups.listGroupMembers(groupId);
  }
  addOtpToken(input: NewOtpToken): Promise<OtpToken> {
    return this.#repos.otpTokens.addOtpToken(input);
  }
  listOtpTokens(userId: string): Promise<OtpToken[]> {
    return this.#repos.otpTokens.listOtpTokens(userId);
  }
  claimTotpStep(tokenId: string, step: number): Promise<boolean> {
    return this.#repos.otpTokens.claimTotpStep(tokenId, step);
  }
  advanceHotpCounter(tokenId: string, expected: number, next: number): Promise<boolean> {
    return this.#repos.otpTokens.advanceHotpCounter(tokenId, expected, next);
  }
  deleteOtpToken(userId: string, tokenId: string): Promise<boolean> {
    return this.#repos.otpTokens.deleteOtpToken(userId, tokenId);
  }
  replaceBypassCodes(userId: string, codes: NewBypassCode[]): Promise<BypassCode[]> {
    return this.#repos.bypassCodes.replaceBypassCodes(userId, codes);
  }
  listBypassCodes(userId: string): Promise<BypassCode[]> {
    return this.#repos.bypassCodes.listBypassCodes(userId);
  }
  consumeBypassCode(codeId: string, nowMs: number): Promise<boolean> {
    return this.#repos.bypassCodes.consumeBypassCode(codeId, nowMs);
  }
  createEnrollment(input: Omit<Enrollment, 'createdAtMs'>): Promise<Enrollment> {
    return this.#repos.enrollments.createEnrollment(input);
  }
  getEnrollment(activationCode: string): Promise<Enrollment | undefined> {
    return this.#repos.enrollments.getEnrollment(activationCode);
  }
  setEnrollmentState(activationCode: string, state: Enrollment['state']): Promise<void> {
    return this.#repos.enrollments.setEnrollmentState(activationCode, state);
  }
  createAuthTransaction(
    input: Omit<AuthTransaction, 'createdAtMs' | 'updatedAtMs'>,
  ): Promise<AuthTransaction> {
    return this.#repos.enrollments.createAuthTransaction(input);
  }
  getAuthTransaction(txid: string): Promise<AuthTransaction | undefined> {
    return this.#repos.enrollments.getAuthTransaction(txid);
  }
  updateAuthTransaction(
    txid: string,
    patch: Pick<AuthTransaction, 'result' | 'status' | 'statusMsg'>,
  ): Promise<void> {
    return this.#repos.enrollments.updateAuthTransaction(txid, patch);
  }
  createDeviceActivation(input: {
    activationCode: string;
    userId: string;
    expiresAtMs: number;
  }): Promise<void> {
    return this.#repos.devices.createDeviceActivation(input);
  }
  claimActivation(code: string, nowMs: number): Promise<ClaimedActivation | undefined> {
    return this.#repos.devices.claimActivation(code, nowMs);
  }
  createDevice(input: NewDevice): Promise<Device> {
    return this.#repos.devices.createDevice(input);
  }
  getDevice(id: string): Promise<Device | undefined> {
    return this.#repos.devices.getDevice(id);
  }
  listDevices(userId: string): Promise<Device[]> {
    return this.#repos.devices.listDevices(userId);
  }
  deleteDevice(id: string): Promise<boolean> {
    return this.#repos.devices.deleteDevice(id);
  }
  touchDevice(id: string, nowMs: number): Promise<void> {
    return this.#repos.devices.touchDevice(id, nowMs);
  }
  replaceSmsPasscodes(userId: string, deviceId: string, codes: NewSmsPasscode[]): Promise<void> {
    return this.#repos.devices.replaceSmsPasscodes(userId, deviceId, codes);
  }
  consumeSmsPasscode(id: string, nowMs: number): Promise<boolean> {
    return this.#repos.devices.consumeSmsPasscode(id, nowMs);
  }
  createOobRequest(input: NewOobRequest): Promise<OobRequest> {
    return this.#repos.oobRequests.createOobRequest(input);
  }
  getOobRequest(txid: string): Promise<OobRequest | undefined> {
    return this.#repos.oobRequests.getOobRequest(txid);
  }
  listPendingOobRequests(deviceId: string, nowMs: number): Promise<OobRequest[]> {
    return this.#repos.oobRequests.listPendingOobRequests(deviceId, nowMs);
  }
  markOobDelivered(txids: string[], nowMs: number): Promise<void> {
    return this.#repos.oobRequests.markOobDelivered(txids, nowMs);
  }
  resolveOobRequest(txid: string, status: OobStatus, nowMs: number): Promise<boolean> {
    return this.#repos.oobRequests.resolveOobRequest(txid, status, nowMs);
  }
  expireOobRequests(nowMs: number): Promise<ExpiredOobRequest[]> {
    return this.#repos.oobRequests.expireOobRequests(nowMs);
  }
  getPolicy(scope: string): Promise<StoredPolicy | undefined> {
    return this.#repos.policies.getPolicy(scope);
  }
  setPolicy(scope: string, policy: Policy, actor: string): Promise<StoredPolicy> {
    return this.#repos.policies.setPolicy(scope, policy, actor);
  }
  deletePolicy(scope: string): Promise<boolean> {
    return this.#repos.policies.deletePolicy(scope);
  }
  listPolicies(): Promise<StoredPolicy[]> {
    return this.#repos.policies.listPolicies();
  }
  createEmergencyControl(control: EmergencyControl): Promise<EmergencyControl> {
    return this.#repos.emergencyControls.createEmergencyControl(control);
  }
  getEmergencyControl(id: string): Promise<EmergencyControl | undefined> {
    return this.#repos.emergencyControls.getEmergencyControl(id);
  }
  listEmergencyControls(query: { state?: EmergencyState } = {}): Promise<EmergencyControl[]> {
    return this.#repos.emergencyControls.listEmergencyControls(query);
  }
  updateEmergencyControl(
    control: EmergencyControl,
    expectedState: EmergencyState,
  ): Promise<boolean> {
    return this.#repos.emergencyControls.updateEmergencyControl(control, expectedState);
  }
  createPromptLogin(input: NewPromptLogin): Promise<void> {
    return this.#repos.promptLogins.createPromptLogin(input);
  }
  getPromptLogin(idHash: string): Promise<PromptLogin | undefined> {
    return this.#repos.promptLogins.getPromptLogin(idHash);
  }
  finishPromptLogin(
    idHash: string,
    end: { status: 'allow' | 'deny'; outcome: string; codeHash: string; codeExpiresAtMs: number },
  ): Promise<boolean> {
    return this.#repos.promptLogins.finishPromptLogin(idHash, end);
  }
  claimAuthorizationCode(codeHash: string): Promise<PromptLogin | undefined> {
    return this.#repos.promptLogins.claimAuthorizationCode(codeHash);
  }
  claimSingleUse(mark: string, expiresAtMs: number, nowMs: number): Promise<boolean> {
    return this.#repos.promptLogins.claimSingleUse(mark, expiresAtMs, nowMs);
  }
  purgeExpiredPromptRecords(nowMs: number): Promise<number> {
    return this.#repos.promptLogins.purgeExpiredPromptRecords(nowMs);
  }
  rememberDevice(input: {
    tokenHash: string;
    appId: string;
    userId: string;
    expiresAtMs: number;
  }): Promise<void> {
    return this.#repos.promptLogins.rememberDevice(input);
  }
  isDeviceRemembered(
    tokenHash: string,
    appId: string,
    userId: string,
    nowMs: number,
  ): Promise<boolean> {
    return this.#repos.promptLogins.isDeviceRemembered(tokenHash, appId, userId, nowMs);
  }
  // Outage operations (migration 0011).
  listMessageTemplates(): Promise<StoredTemplate[]> {
    return this.#repos.outage.listMessageTemplates();
  }
  putMessageTemplate(template: StoredTemplate): Promise<void> {
    return this.#repos.outage.putMessageTemplate(template);
  }
  deleteMessageTemplate(kind: MessageKind, language: MessageLanguage): Promise<boolean> {
    return this.#repos.outage.deleteMessageTemplate(kind, language);
  }
  createIncident(input: NewIncident, firstUpdate: { body: string }): Promise<Incident> {
    return this.#repos.outage.createIncident(input, firstUpdate);
  }
  getIncident(id: number): Promise<Incident | undefined> {
    return this.#repos.outage.getIncident(id);
  }
  listIncidents(query: { open?: boolean; limit?: number } = {}): Promise<Incident[]> {
    return this.#repos.outage.listIncidents(query);
  }
  addIncidentUpdate(
    incidentId: number,
    expectedStatus: IncidentStatus,
    update: { status: IncidentStatus; body: string; createdAtMs: number; actor: string },
  ): Promise<Incident | undefined> {
    return this.#repos.outage.addIncidentUpdate(incidentId, expectedStatus, update);
  }
  listIncidentUpdates(incidentId: number): Promise<IncidentUpdate[]> {
    return this.#repos.outage.listIncidentUpdates(incidentId);
  }
  createSubscription(subscription: Subscription): Promise<Subscription> {
    return this.#repos.outage.createSubscription(subscription);
  }
  listSubscriptions(): Promise<Subscription[]> {
    return this.#repos.outage.listSubscriptions();
  }
  deleteSubscription(id: string): Promise<boolean> {
    return this.#repos.outage.deleteSubscription(id);
  }
  putComponentOverride(override: ComponentOverride): Promise<void> {
    return this.#repos.outage.putComponentOverride(override);
  }
  deleteComponentOverride(componentId: string): Promise<boolean> {
    return this.#repos.outage.deleteComponentOverride(componentId);
  }
  listComponentOverrides(): Promise<ComponentOverride[]> {
    return this.#repos.outage.listComponentOverrides();
  }
  putHealthReport(report: HealthReport): Promise<void> {
    return this.#repos.outage.putHealthReport(report);
  }
  listHealthReports(): Promise<HealthReport[]> {
    return this.#repos.outage.listHealthReports();
  }
  appendAudit(event: NewAuditEvent): Promise<number> {
    return this.#repos.audit.appendAudit(event);
  }
  listAudit(query: AuditQuery = {}): Promise<AuditEvent[]> {
    return this.#repos.audit.listAudit(query);
  }
  countAudit(query: AuditQuery = {}): Promise<number> {
    return this.#repos.audit.countAudit(query);
  }
  createAdmin(input: NewAdmin): Promise<Admin> {
    return this.#repos.admins.createAdmin(input);
  }
  getAdmin(id: string): Promise<Admin | undefined> {
    return this.#repos.admins.getAdmin(id);
  }
  findAdmin(username: string): Promise<Admin | undefined> {
    return this.#repos.admins.findAdmin(username);
  }
  listAdmins(): Promise<Admin[]> {
    return this.#repos.admins.listAdmins();
  }
  setAdminDisabled(id: string, disabled: boolean): Promise<Admin> {
    return this.#repos.admins.setAdminDisabled(id, disabled);
  }
  claimAdminTotpStep(adminId: string, step: number): Promise<boolean> {
    return this.#repos.admins.claimAdminTotpStep(adminId, step);
  }
  createAdminApiKey(input: NewAdminApiKey): Promise<AdminApiKey> {
    return this.#repos.admins.createAdminApiKey(input);
  }
  getAdminApiKey(ikey: string): Promise<AdminApiKey | undefined> {
    return this.#repos.admins.getAdminApiKey(ikey);
  }
  listAdminApiKeys(): Promise<AdminApiKey[]> {
    return this.#repos.admins.listAdminApiKeys();
  }
  deleteAdminApiKey(ikey: string): Promise<boolean> {
    return this.#repos.admins.deleteAdminApiKey(ikey);
  }
  touchAdminApiKey(ikey: string, nowMs: number): Promise<void> {
    return this.#repos.admins.touchAdminApiKey(ikey, nowMs);
  }
  createAdminSession(input: NewAdminSession): Promise<AdminSession> {
    return this.#repos.admins.createAdminSession(input);
  }
  getAdminSession(idHash: string): Promise<AdminSession | undefined> {
    return this.#repos.admins.getAdminSession(idHash);
  }
  touchAdminSession(idHash: string, nowMs: number): Promise<void> {
    return this.#repos.admins.touchAdminSession(idHash, nowMs);
  }
  deleteAdminSession(idHash: string): Promise<boolean> {
    return this.#repos.admins.deleteAdminSession(idHash);
  }
  deleteExpiredAdminSessions(nowMs: number, idleSinceMs: number): Promise<number> {
    return this.#repos.admins.deleteExpiredAdminSessions(nowMs, idleSinceMs);
  }

  // ---- Maintenance (db verify, db backup, secret-key rotate) ----

  get #maintenanceRepo(): MaintenanceRepository {
    return (this.#maintenance ??= new MaintenanceRepository(this.#repos));
  }
  schemaVersion(): Promise<number> {
    return this.#maintenanceRepo.schemaVersion();
  }
  checkIntegrity(): Promise<IntegrityReport> {
    return this.#maintenanceRepo.checkIntegrity();
  }
  tallySealedSecrets(): Promise<SealedSecretTally[]> {
    return this.#maintenanceRepo.tallySealedSecrets();
  }
  resealSecrets(next: SecretBox): Promise<SealedSecretTally[]> {
    return this.#maintenanceRepo.resealSecrets(next);
  }
  countLiveBypassCodes(nowMs: number): Promise<number> {
    return this.#maintenanceRepo.countLiveBypassCodes(nowMs);
  }
  deleteAllBypassCodes(): Promise<number> {
    return this.#maintenanceRepo.deleteAllBypassCodes();
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
