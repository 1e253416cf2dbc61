// The Store's identity records (users, groups, applications, tokens, codes, devices, enrollments,
// out-of-band requests, policies, emergency controls), each call handed to its repository. A base
// of KyselyStore, which adds transactions, batches, migrations and the remaining records: the
// store stays a thin composition, no class owning every table.
import type {
  Application,
  AuthTransaction,
  BypassCode,
  Device,
  Enrollment,
  Group,
  GroupStatus,
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
import type { GroupPatch, UserPatch } from './admin-store.ts';
import type {
  ApplicationPatch,
  AuthSubject,
  ClaimedActivation,
  ExpiredOobRequest,
  NewApplication,
  NewDevice,
  NewOobRequest,
  NewSmsPasscode,
  NewBypassCode,
  NewGroup,
  NewOtpToken,
  NewUser,
  StoredPolicy,
  SecondFactorFailure,
  SecondFactorFailureOptions,
} from './store.ts';
import type { Repositories } from './repositories/repositories.ts';

export abstract class RecordDelegates {
  protected readonly repos: Repositories;

  protected constructor(repos: Repositories) {
    this.repos = repos;
  }

  /** The hot path of every login: one call on to the fixed statements. */
  loadAuthSubject(
    ref: { username: string; normalization?: UsernameNormalization } | { userId: string },
  ): Promise<AuthSubject | undefined> {
    return this.repos.subjects.loadAuthSubject(ref);
  }

  createUser(input: NewUser): Promise<User> {
    return this.repos.users.createUser(input);
  }
  renameUser(id: string, newUsername: string): Promise<User> {
    return this.repos.users.renameUser(id, newUsername);
  }
  listUsernameCollisions(): Promise<UsernameCollision[]> {
    return this.repos.users.listUsernameCollisions();
  }
  resolveUsernameCollision(
    userId: string,
    action: { rename: string } | { dropAlias: string } | { delete: true },
  ): Promise<void> {
    return this.repos.users.resolveUsernameCollision(userId, action);
  }
  getUser(id: string): Promise<User | undefined> {
    return this.repos.users.getUser(id);
  }
  findUser(
    usernameOrAlias: string,
    normalization: UsernameNormalization = 'none',
  ): Promise<User | undefined> {
    return this.repos.users.findUser(usernameOrAlias, normalization);
  }
  listUsers(options: { limit?: number; offset?: number; search?: string } = {}): Promise<User[]> {
    return this.repos.users.listUsers(options);
  }
  setUserStatus(id: string, status: UserStatus): Promise<User> {
    return this.repos.users.setUserStatus(id, status);
  }
  updateUser(id: string, patch: UserPatch): Promise<User> {
    return this.repos.users.updateUser(id, patch);
  }
  setUserAliases(id: string, aliases: string[]): Promise<User> {
    return this.repos.users.setUserAliases(id, aliases);
  }
  deleteUser(id: string): Promise<boolean> {
    return this.repos.users.deleteUser(id);
  }
  getUserStatus(id: string): Promise<UserStatus | undefined> {
    return this.repos.users.getUserStatus(id);
  }
  recordSecondFactorFailure(
    userId: string,
    threshold: number,
    options?: SecondFactorFailureOptions,
  ): Promise<SecondFactorFailure> {
    return this.repos.users.recordSecondFactorFailure(userId, threshold, options);
  }
  resetSecondFactorFailures(userId: string): Promise<void> {
    return this.repos.users.resetSecondFactorFailures(userId);
  }
  createApplication(input: NewApplication): Promise<Application> {
    return this.repos.applications.createApplication(input);
  }
  getApplication(idOrName: string): Promise<Application | undefined> {
    return this.repos.applications.getApplication(idOrName);
  }
  getApplicationByIkey(ikey: string): Promise<Application | undefined> {
    return this.repos.applications.getApplicationByIkey(ikey);
  }
  listApplications(): Promise<Application[]> {
    return this.repos.applications.listApplications();
  }
  updateApplication(id: string, patch: ApplicationPatch): Promise<Application> {
    return this.repos.applications.updateApplication(id, patch);
  }
  setApplicationGroups(appId: string, groupIds: string[]): Promise<void> {
    return this.repos.applications.setApplicationGroups(appId, groupIds);
  }
  deleteApplication(id: string): Promise<boolean> {
    return this.repos.applications.deleteApplication(id);
  }
  createGroup(input: NewGroup): Promise<Group> {
    return this.repos.groups.createGroup(input);
  }
  getGroup(idOrName: string): Promise<Group | undefined> {
    return this.repos.groups.getGroup(idOrName);
  }
  listGroups(): Promise<Group[]> {
    return this.repos.groups.listGroups();
  }
  setGroupStatus(id: string, status: GroupStatus): Promise<Group> {
    return this.repos.groups.setGroupStatus(id, status);
  }
  updateGroup(id: string, patch: GroupPatch): Promise<Group> {
    return this.repos.groups.updateGroup(id, patch);
  }
  deleteGroup(id: string): Promise<boolean> {
    return this.repos.groups.deleteGroup(id);
  }
  addGroupMember(groupId: string, userId: string, addedByControl?: string): Promise<boolean> {
    return this.repos.groups.addGroupMember(groupId, userId, addedByControl);
  }
  removeGroupMember(
    groupId: string,
    userId: string,
    options?: { onlyAddedByControl?: boolean },
  ): Promise<boolean> {
    return this.repos.groups.removeGroupMember(groupId, userId, options);
  }
  claimGroupMember(groupId: string, userId: string): Promise<string | undefined> {
    return this.repos.groups.claimGroupMember(groupId, userId);
  }
  listGroupMemberOrigins(
    groupId: string,
  ): Promise<{ userId: string; addedByControl: string | null }[]> {
    return this.repos.groups.listGroupMemberOrigins(groupId);
  }
  listUserGroups(userId: string): Promise<Group[]> {
    return this.repos.groups.listUserGroups(userId);
  }
  listGroupMembers(groupId: string): Promise<User[]> {
    return this.repos.groups.listGroupMembers(groupId);
  }
  addOtpToken(input: NewOtpToken): Promise<OtpToken> {
    return this.repos.otpTokens.addOtpToken(input);
  }
  listOtpTokens(userId: string): Promise<OtpToken[]> {
    return this.repos.otpTokens.listOtpTokens(userId);
  }
  claimTotpStep(tokenId: string, step: number): Promise<boolean> {
    return this.repos.otpTokens.claimTotpStep(tokenId, step);
  }
  advanceHotpCounter(tokenId: string, expected: number, next: number): Promise<boolean> {
    return this.repos.otpTokens.advanceHotpCounter(tokenId, expected, next);
  }
  deleteOtpToken(userId: string, tokenId: string): Promise<boolean> {
    return this.repos.otpTokens.deleteOtpToken(userId, tokenId);
  }
  replaceBypassCodes(userId: string, codes: NewBypassCode[]): Promise<BypassCode[]> {
    return this.repos.bypassCodes.replaceBypassCodes(userId, codes);
  }
  listBypassCodes(userId: string): Promise<BypassCode[]> {
    return this.repos.bypassCodes.listBypassCodes(userId);
  }
  consumeBypassCode(codeId: string, nowMs: number): Promise<boolean> {
    return this.repos.bypassCodes.consumeBypassCode(codeId, nowMs);
  }
  createEnrollment(input: Omit<Enrollment, 'createdAtMs'>): Promise<Enrollment> {
    return this.repos.enrollments.createEnrollment(input);
  }
  getEnrollment(activationCode: string): Promise<Enrollment | undefined> {
    return this.repos.enrollments.getEnrollment(activationCode);
  }
  setEnrollmentState(activationCode: string, state: Enrollment['state']): Promise<void> {
    return this.repos.enrollments.setEnrollmentState(activationCode, state);
  }
  createAuthTransaction(
    input: Omit<AuthTransaction, 'createdAtMs' | 'updatedAtMs'>,
  ): Promise<AuthTransaction> {
    return this.repos.enrollments.createAuthTransaction(input);
  }
  getAuthTransaction(txid: string): Promise<AuthTransaction | undefined> {
    return this.repos.enrollments.getAuthTransaction(txid);
  }
  updateAuthTransaction(
    txid: string,
    patch: Pick<AuthTransaction, 'result' | 'status' | 'statusMsg'>,
  ): Promise<void> {
    return this.repos.enrollments.updateAuthTransaction(txid, patch);
  }
  createDeviceActivation(input: {
    activationCode: string;
    userId: string;
    expiresAtMs: number;
  }): Promise<void> {
    return this.repos.devices.createDeviceActivation(input);
  }
  claimActivation(code: string, nowMs: number): Promise<ClaimedActivation | undefined> {
    return this.repos.devices.claimActivation(code, nowMs);
  }
  createDevice(input: NewDevice): Promise<Device> {
    return this.repos.devices.createDevice(input);
  }
  getDevice(id: string): Promise<Device | undefined> {
    return this.repos.devices.getDevice(id);
  }
  listDevices(userId: string): Promise<Device[]> {
    return this.repos.devices.listDevices(userId);
  }
  deleteDevice(id: string): Promise<boolean> {
    return this.repos.devices.deleteDevice(id);
  }
  touchDevice(id: string, nowMs: number): Promise<void> {
    return this.repos.devices.touchDevice(id, nowMs);
  }
  replaceSmsPasscodes(userId: string, deviceId: string, codes: NewSmsPasscode[]): Promise<void> {
    return this.repos.devices.replaceSmsPasscodes(userId, deviceId, codes);
  }
  consumeSmsPasscode(id: string, nowMs: number): Promise<boolean> {
    return this.repos.devices.consumeSmsPasscode(id, nowMs);
  }
  createOobRequest(input: NewOobRequest): Promise<OobRequest> {
    return this.repos.oobRequests.createOobRequest(input);
  }
  getOobRequest(txid: string): Promise<OobRequest | undefined> {
    return this.repos.oobRequests.getOobRequest(txid);
  }
  listPendingOobRequests(deviceId: string, nowMs: number): Promise<OobRequest[]> {
    return this.repos.oobRequests.listPendingOobRequests(deviceId, nowMs);
  }
  markOobDelivered(txids: string[], nowMs: number): Promise<void> {
    return this.repos.oobRequests.markOobDelivered(txids, nowMs);
  }
  resolveOobRequest(txid: string, status: OobStatus, nowMs: number): Promise<boolean> {
    return this.repos.oobRequests.resolveOobRequest(txid, status, nowMs);
  }
  expireOobRequests(nowMs: number): Promise<ExpiredOobRequest[]> {
    return this.repos.oobRequests.expireOobRequests(nowMs);
  }
  getPolicy(scope: string): Promise<StoredPolicy | undefined> {
    return this.repos.policies.getPolicy(scope);
  }
  setPolicy(scope: string, policy: Policy, actor: string): Promise<StoredPolicy> {
    return this.repos.policies.setPolicy(scope, policy, actor);
  }
  deletePolicy(scope: string): Promise<boolean> {
    return this.repos.policies.deletePolicy(scope);
  }
  listPolicies(): Promise<StoredPolicy[]> {
    return this.repos.policies.listPolicies();
  }
  createEmergencyControl(control: EmergencyControl): Promise<EmergencyControl> {
    return this.repos.emergencyControls.createEmergencyControl(control);
  }
  getEmergencyControl(id: string): Promise<EmergencyControl | undefined> {
    return this.repos.emergencyControls.getEmergencyControl(id);
  }
  listEmergencyControls(query: { state?: EmergencyState } = {}): Promise<EmergencyControl[]> {
    return this.repos.emergencyControls.listEmergencyControls(query);
  }
  updateEmergencyControl(
    control: EmergencyControl,
    expectedState: EmergencyState,
  ): Promise<boolean> {
    return this.repos.emergencyControls.updateEmergencyControl(control, expectedState);
  }
}
