// The Store contract: every read and write the service and CLI make, the same on SQLite and PostgreSQL.
import type { ResultEventStore } from './result-event-store.ts';
import type { RateBucketStore } from './rate-bucket-store.ts';
import type { StoreSignals } from './store-signals.ts';
import type {
  Application,
  ApplicationType,
  AuditEvent,
  AuthTransaction,
  BypassCode,
  Device,
  DevicePlatform,
  Enrollment,
  Group,
  GroupStatus,
  NewAuditEvent,
  NewUserPolicy,
  OobFactor,
  OobRequest,
  OobStatus,
  OtpAlgorithm,
  OtpToken,
  RestrictionLevel,
  SmsPasscode,
  TokenType,
  User,
  UserStatus,
} from '../core/model.ts';
import type { FailureSource, FailureSourceCount } from '../core/lockout.ts';
import type { EmergencyControl, EmergencyState } from '../core/emergency-control.ts';
import type { Policy } from '../core/policy.ts';
import type { AdminStore } from './admin-store.ts';
import type { MaintenanceStore } from './maintenance-store.ts';
import type { OutageStore } from './outage-store.ts';
import type { UsernameCollision } from './username-collisions.ts';
import type { UsernameNormalization } from '../core/username.ts';

export const STORE_DIALECTS = ['sqlite', 'postgres'] as const;
export type StoreDialect = (typeof STORE_DIALECTS)[number];

export interface SecondFactorFailureOptions {
  /** How long the lockout this failure may begin lasts; 0 (default) = until unlocked. */
  lockoutDurationSeconds?: number;
  /** Where the failure came from, kept (bounded) for the lockout's audit record. */
  source?: FailureSource;
}

export type SecondFactorFailure =
  | { failedAttempts: number; lockedOut: false }
  | {
      failedAttempts: number;
      lockedOut: true;
      lockout: {
        /** When the lockout ends by itself; null = when an administrator unlocks. */
        untilMs: number | null;
        /** The sources of the failures since the last success or unlock, with their counts. */
        sources: FailureSourceCount[];
      };
    };

export interface NewApplication {
  name: string;
  type: ApplicationType;
  newUserPolicy: NewUserPolicy;
  restrictionLevel: RestrictionLevel;
  rateLimitPerSecond: number;
  verifiedPush?: boolean;
  usernameNormalization?: UsernameNormalization;
  allowV1Signature?: boolean;
  /** Web SDK: registered redirect URIs (default none). */
  redirectUris?: string[];
  /** Web SDK: hours a device may be remembered (default 0 = never). */
  rememberDeviceHours?: number;
  /** Given by the caller (generated with the Random port) so the CLI can print them. */
  ikey: string;
  skey: string;
}

export type ApplicationPatch = Partial<
  Pick<
    Application,
    | 'name'
    | 'skey'
    | 'type'
    | 'newUserPolicy'
    | 'restrictionLevel'
    | 'rateLimitPerSecond'
    | 'verifiedPush'
    | 'usernameNormalization'
    | 'allowV1Signature'
    | 'redirectUris'
    | 'rememberDeviceHours'
  >
>;

export interface NewUser {
  id: string;
  username: string;
  aliases?: string[];
  realName?: string | null;
  email?: string | null;
  status?: UserStatus;
}

export interface NewGroup {
  id: string;
  name: string;
  description?: string | null;
  status?: GroupStatus;
}

export interface NewOtpToken {
  id: string;
  userId: string;
  type: TokenType;
  secret: string;
  algorithm: OtpAlgorithm;
  digits: number;
  periodSeconds: number;
  counter: number;
  name?: string | null;
}

export interface NewBypassCode {
  id: string;
  codeHash: string;
  remainingUses: number | null;
  expiresAtMs: number | null;
}

/** Everything a login needs to know about a user, read in one go. */
export interface AuthSubject {
  user: User;
  groups: Group[];
  tokens: OtpToken[];
  bypassCodes: BypassCode[];
  devices: Device[];
  /** Unused SMS passcodes (expired ones included; the checker skips them). */
  smsPasscodes: SmsPasscode[];
}

export interface NewDevice {
  id: string;
  userId: string;
  name: string;
  platform: DevicePlatform;
  publicKeyJwk?: string | null;
  phoneNumber?: string | null;
  otpTokenId?: string | null;
}

export type NewOobRequest = Omit<OobRequest, 'createdAtMs' | 'deliveredAtMs' | 'answeredAtMs'>;

export interface NewSmsPasscode {
  id: string;
  seq: number;
  codeHash: string;
  firstDigit: string;
  expiresAtMs: number;
}

/** A request the expiry sweep moved to `timeout`. */
export interface ExpiredOobRequest {
  txid: string;
  appId: string;
  username: string;
  factor: OobFactor;
  /** Whether the device ever took it (per-factor delivery health). */
  delivered: boolean;
}

/** Who an activation code belongs to; appId is null for codes made by an administrator. */
export interface ClaimedActivation {
  userId: string;
  appId: string | null;
}

export interface AuditQuery {
  /** Only events with id greater than this (paging cursor). */
  afterId?: number;
  /** Only events with id less than this (paging cursor, newest first). */
  beforeId?: number;
  sinceMs?: number;
  untilMs?: number;
  action?: string;
  /** Only events with one of these actions. */
  actions?: readonly string[];
  /** Only events whose actor starts with one of these (`admin:`, `cli:`). */
  actorPrefixes?: readonly string[];
  /** Only events about one of these records (`target_id`: user ids for logins). */
  targetIds?: readonly string[];
  /** Only events of one of these applications. */
  appIds?: readonly string[];
  username?: string;
  limit?: number;
  /** `asc` (default): oldest first; `desc`: newest first. Both in id order. */
  order?: 'asc' | 'desc';
}

/** The scope of the global policy; an application's policy is `app:<appId>` (see appPolicyScope). */
export const GLOBAL_POLICY_SCOPE = 'global';

export function appPolicyScope(appId: string): string {
  return `app:${appId}`;
}

export function isPolicyScope(scope: string): boolean {
  return scope === GLOBAL_POLICY_SCOPE || /^app:\S+$/.test(scope);
}

/** A hosted-prompt login as the authorize endpoint starts it (web-sdk applications). */
export interface NewPromptLogin {
  /** SHA-256 (hex) of the login id the browser holds. */
  idHash: string;
  appId: string;
  username: string;
  redirectUri: string;
  state: string;
  nonce: string | null;
  useDuoCode: boolean;
  expiresAtMs: number;
}

export interface PromptLogin extends NewPromptLogin {
  status: 'pending' | 'allow' | 'deny';
  /** JSON text of the outcome (service/prompt/prompt-outcome.ts); null while pending. */
  outcome: string | null;
  codeExpiresAtMs: number | null;
  createdAtMs: number;
}

export interface StoredPolicy {
  scope: string;
  policy: Policy;
  updatedAtMs: number;
  updatedBy: string;
}

export interface Store
  extends AdminStore, MaintenanceStore, OutageStore, ResultEventStore, RateBucketStore {
  readonly dialect: StoreDialect;
  /** Wake-ups between the processes on this database (store-signals.ts). */
  readonly signals: StoreSignals;

  /** Applies pending versioned migrations; returns the names applied (empty when up to date). */
  migrate(): Promise<string[]>;

  /** Runs `fn` in one database transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /**
   * Runs several independent units of work in ONE transaction (one commit), each inside its own
   * savepoint: a unit that throws is rolled back alone and reported as rejected. Used for group
   * commit of concurrent logins; the results are known only after the commit.
   */
  runBatch<T>(items: readonly ((tx: Store) => Promise<T>)[]): Promise<PromiseSettledResult<T>[]>;
  close(): Promise<void>;

  // Applications. `idOrName` accepts the application id, its ikey, or its name.
  createApplication(input: NewApplication): Promise<Application>;
  getApplication(idOrName: string): Promise<Application | undefined>;
  getApplicationByIkey(ikey: string): Promise<Application | undefined>;
  listApplications(): Promise<Application[]>;
  updateApplication(id: string, patch: ApplicationPatch): Promise<Application>;
  /** Restricts the application to members of these groups; [] lifts the restriction. */
  setApplicationGroups(appId: string, groupIds: string[]): Promise<void>;

  // Users. `usernameOrAlias` matches the username or any alias.
  createUser(input: NewUser): Promise<User>;
  getUser(id: string): Promise<User | undefined>;
  /**
   * The user a name means: usernames and aliases match case-insensitively, surrounding spaces
   * ignored; with `simple` normalization `EXAMPLE\\bob` and `bob@example.org` also mean `bob`
   * (core/username.ts). Throws STORE_AMBIGUOUS_USERNAME when a bare name means several users.
   */
  findUser(
    usernameOrAlias: string,
    normalization?: UsernameNormalization,
  ): Promise<User | undefined>;
  /** Gives the user another username (unique regardless of case, as every name). */
  renameUser(id: string, username: string): Promise<User>;
  /**
   * Names several users would share once names are case-insensitive: what keeps migration 0005
   * from running (an older database). Works before that migration.
   */
  listUsernameCollisions(): Promise<UsernameCollision[]>;
  /**
   * Resolves a collision before migration 0005 can run: rename the user, drop one alias, or
   * delete the user. Only for a user named in a collision; afterwards use the ordinary commands.
   */
  resolveUsernameCollision(
    userId: string,
    action: { rename: string } | { dropAlias: string } | { delete: true },
  ): Promise<void>;
  /** The user's status now (inside a transaction: as that transaction sees it); undefined when gone. */
  getUserStatus(id: string): Promise<UserStatus | undefined>;
  /** The user (by username, alias or id) with groups, OTP tokens and bypass codes; the login hot path. */
  loadAuthSubject(
    ref: { username: string; normalization?: UsernameNormalization } | { userId: string },
  ): Promise<AuthSubject | undefined>;
  /** Users by username; `search` keeps those whose username, alias, name or e-mail contains it. */
  listUsers(options?: { limit?: number; offset?: number; search?: string }): Promise<User[]>;
  setUserStatus(id: string, status: UserStatus): Promise<User>;
  /** Deletes the user and everything that belongs to it (tokens, codes, memberships). */
  deleteUser(id: string): Promise<boolean>;
  /**
   * Atomically counts one failed second factor. When the count reaches `threshold` the status
   * becomes `locked out` (unless the user is `disabled`), until `lockoutDurationSeconds` from now
   * (0, the default: until an administrator unlocks); `lockedOut` is true only on that
   * transition, which also reports the lockout's end and the sources of the failures. A lockout
   * past its end counts as over: the count starts again.
   */
  recordSecondFactorFailure(
    userId: string,
    threshold: number,
    options?: SecondFactorFailureOptions,
  ): Promise<SecondFactorFailure>;
  resetSecondFactorFailures(userId: string): Promise<void>;

  // Groups. `idOrName` accepts the group id or its name.
  createGroup(input: NewGroup): Promise<Group>;
  getGroup(idOrName: string): Promise<Group | undefined>;
  listGroups(): Promise<Group[]>;
  setGroupStatus(id: string, status: GroupStatus): Promise<Group>;
  /**
   * Returns false when the user already was a member (whose origin is then left as it is).
   * `addedByControl`: the emergency control making the membership; none = an administrator's.
   */
  addGroupMember(groupId: string, userId: string, addedByControl?: string): Promise<boolean>;
  /**
   * Returns false when the user was not a member. `onlyAddedByControl`: only a membership an
   * emergency control made (a revert never removes an administrator's).
   */
  removeGroupMember(
    groupId: string,
    userId: string,
    options?: { onlyAddedByControl?: boolean },
  ): Promise<boolean>;
  /**
   * Makes a membership an emergency control made the administrator's own, so no revert removes
   * it. Returns the control it was made by; undefined when not a member or already the admin's.
   */
  claimGroupMember(groupId: string, userId: string): Promise<string | undefined>;
  /** A group's members with the emergency control that made each membership (null: an admin). */
  listGroupMemberOrigins(
    groupId: string,
  ): Promise<{ userId: string; addedByControl: string | null }[]>;
  listUserGroups(userId: string): Promise<Group[]>;
  listGroupMembers(groupId: string): Promise<User[]>;

  // OTP tokens (secrets encrypted at rest, returned decrypted).
  addOtpToken(input: NewOtpToken): Promise<OtpToken>;
  listOtpTokens(userId: string): Promise<OtpToken[]>;
  /** Atomically records TOTP step `step` as used; false when it (or a later one) was used already. */
  claimTotpStep(tokenId: string, step: number): Promise<boolean>;
  /** Atomically moves an HOTP counter from `expected` to `next`; false when someone else moved it. */
  advanceHotpCounter(tokenId: string, expected: number, next: number): Promise<boolean>;

  // Bypass codes (hashed).
  /** Replaces every bypass code of the user with these. */
  replaceBypassCodes(userId: string, codes: NewBypassCode[]): Promise<BypassCode[]>;
  listBypassCodes(userId: string): Promise<BypassCode[]>;
  /** Atomically uses one use of the code; false when none is left or it expired at `nowMs`. */
  consumeBypassCode(codeId: string, nowMs: number): Promise<boolean>;

  // Enrollments (activation codes from /auth/v2/enroll).
  createEnrollment(input: Omit<Enrollment, 'createdAtMs'>): Promise<Enrollment>;
  getEnrollment(activationCode: string): Promise<Enrollment | undefined>;
  setEnrollmentState(activationCode: string, state: Enrollment['state']): Promise<void>;

  // Device activations made for existing users (CLI / admin).
  createDeviceActivation(input: {
    activationCode: string;
    userId: string;
    expiresAtMs: number;
  }): Promise<void>;
  /**
   * Atomically uses an activation code (from /auth/v2/enroll or createDeviceActivation): true once,
   * while it is waiting and unexpired at `nowMs`; undefined otherwise.
   */
  claimActivation(activationCode: string, nowMs: number): Promise<ClaimedActivation | undefined>;

  // Devices (authenticators and phone numbers).
  createDevice(input: NewDevice): Promise<Device>;
  getDevice(id: string): Promise<Device | undefined>;
  listDevices(userId: string): Promise<Device[]>;
  deleteDevice(id: string): Promise<boolean>;
  touchDevice(id: string, nowMs: number): Promise<void>;

  // Out-of-band requests (push, phone call).
  createOobRequest(input: NewOobRequest): Promise<OobRequest>;
  getOobRequest(txid: string): Promise<OobRequest | undefined>;
  /** The device's pending requests not expired at `nowMs`, oldest first. */
  listPendingOobRequests(deviceId: string, nowMs: number): Promise<OobRequest[]>;
  /** Marks these requests delivered (first time only). */
  markOobDelivered(txids: string[], nowMs: number): Promise<void>;
  /**
   * Atomically moves a request from a pending status to `status`; false when it was not pending
   * any more (answered, expired, or another caller won).
   */
  resolveOobRequest(txid: string, status: OobStatus, nowMs: number): Promise<boolean>;
  /** Moves pending requests expired at `nowMs` to `timeout`; returns which. */
  expireOobRequests(nowMs: number): Promise<ExpiredOobRequest[]>;

  // SMS passcodes (hashed; a used one is deleted).
  /** Replaces the user's unused SMS passcodes with a new batch. */
  replaceSmsPasscodes(userId: string, deviceId: string, codes: NewSmsPasscode[]): Promise<void>;
  /** Atomically uses the passcode; false when used already or expired at `nowMs`. */
  consumeSmsPasscode(id: string, nowMs: number): Promise<boolean>;

  // Auth transactions (async auth + auth_status).
  createAuthTransaction(
    input: Omit<AuthTransaction, 'createdAtMs' | 'updatedAtMs'>,
  ): Promise<AuthTransaction>;
  getAuthTransaction(txid: string): Promise<AuthTransaction | undefined>;
  updateAuthTransaction(
    txid: string,
    patch: Pick<AuthTransaction, 'result' | 'status' | 'statusMsg'>,
  ): Promise<void>;

  // Policies (docs/policies.md). `scope` is GLOBAL_POLICY_SCOPE or appPolicyScope(appId).
  getPolicy(scope: string): Promise<StoredPolicy | undefined>;
  /** Creates or replaces the policy of `scope`; refuses (POLICY_INVALID) a policy with problems. */
  setPolicy(scope: string, policy: Policy, actor: string): Promise<StoredPolicy>;
  /** Returns false when there was none. */
  deletePolicy(scope: string): Promise<boolean>;
  /** Every policy, the global one first, then by scope. */
  listPolicies(): Promise<StoredPolicy[]>;

  // Emergency controls (src/core/emergency-control.ts): the persisted records, reverted by the service.
  createEmergencyControl(control: EmergencyControl): Promise<EmergencyControl>;
  getEmergencyControl(id: string): Promise<EmergencyControl | undefined>;
  /** Oldest first; only those in `state` when given. */
  listEmergencyControls(query?: { state?: EmergencyState }): Promise<EmergencyControl[]>;
  /**
   * Replaces the record, only if its state is still `expectedState`: false otherwise (someone else
   * reverted it first), so two reverters cannot both revert.
   */
  updateEmergencyControl(
    control: EmergencyControl,
    expectedState: EmergencyState,
  ): Promise<boolean>;

  // Web SDK (hosted prompt, OIDC endpoints).
  createPromptLogin(input: NewPromptLogin): Promise<void>;
  getPromptLogin(idHash: string): Promise<PromptLogin | undefined>;
  /**
   * Ends a pending login with its outcome and authorization code (hashed); false when it had
   * ended already (a second tab, a replayed form), so a login yields at most one code.
   */
  finishPromptLogin(
    idHash: string,
    end: { status: 'allow' | 'deny'; outcome: string; codeHash: string; codeExpiresAtMs: number },
  ): Promise<boolean>;
  /**
   * Uses an authorization code: the login it belongs to, once; undefined when unknown or used
   * already. Expiry and the client, redirect URI and nonce binding are the caller's to check.
   */
  claimAuthorizationCode(codeHash: string): Promise<PromptLogin | undefined>;
  /**
   * Records `mark` as used until `expiresAtMs`: true the first time, false while an unexpired
   * mark of that name exists (a replayed jti or state).
   */
  claimSingleUse(mark: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
  /**
   * Deletes expired single-use marks and remembered devices, and prompt logins two minutes past
   * their expiry (a code issued at the last moment stays usable); returns how many rows went.
   */
  purgeExpiredPromptRecords(nowMs: number): Promise<number>;
  rememberDevice(input: {
    tokenHash: string;
    appId: string;
    userId: string;
    expiresAtMs: number;
  }): Promise<void>;
  /** Whether the token remembers a device of this user for this application at `nowMs`. */
  isDeviceRemembered(
    tokenHash: string,
    appId: string,
    userId: string,
    nowMs: number,
  ): Promise<boolean>;

  // Audit log: append-only (the schema refuses UPDATE and DELETE).
  appendAudit(event: NewAuditEvent): Promise<number>;
  listAudit(query?: AuditQuery): Promise<AuditEvent[]>;
  /** How many events the query's filters select (its cursor, limit and order ignored). */
  countAudit(query?: AuditQuery): Promise<number>;
}
