// The database schema as Kysely types: one interface per table, snake_case columns as stored.
import type { ColumnType, Generated } from 'kysely';

/** Milliseconds since the Unix epoch: INTEGER on SQLite, BIGINT on PostgreSQL, a number in JS. */
type Ms = number;

export interface ApplicationsTable {
  /** Equal to the ikey: Duo identifies an integration by its integration key. */
  id: string;
  name: string;
  ikey: string;
  /** SecretBox-sealed skey; never the plaintext. */
  skey_sealed: string;
  type: string;
  new_user_policy: string;
  restriction_level: string;
  rate_limit_per_second: number;
  /** 1 = pushes carry a code the user types into the authenticator. */
  verified_push: ColumnType<number, number | undefined, number>;
  /** 'none' | 'simple' (core/username.ts). */
  username_normalization: ColumnType<string, string | undefined, string>;
  /** 1 = /rest/v1 accepts signature v1 (migration 0010). */
  allow_v1_signature: ColumnType<number, number | undefined, number>;
  /** JSON array of the registered redirect URIs (web-sdk applications; 0012). */
  redirect_uris: ColumnType<string, string | undefined, string>;
  /** Hours the hosted prompt may remember a device; 0 = never (0012). */
  remember_device_hours: ColumnType<number, number | undefined, number>;
  created_at_ms: Ms;
  updated_at_ms: Ms;
}

export interface ApplicationGroupsTable {
  app_id: string;
  group_id: string;
}

export interface UsersTable {
  id: string;
  username: string;
  /** usernameKey(username): case-insensitive, unique across users (core/username.ts). */
  username_key: string;
  /** simpleUsernameKey(username): what the name means under "simple" normalization. */
  username_simple: string;
  real_name: string | null;
  email: string | null;
  status: string;
  failed_attempts: ColumnType<number, number | undefined, number>;
  /**
   * 1 when the latest recordSecondFactorFailure moved the user to `locked out`. Written by the same
   * UPDATE that counts the failure, so RETURNING tells that call alone whether it made the transition.
   */
  lockout_on_last_failure: ColumnType<number, number | undefined, number>;
  /** When a `locked out` status ends by itself; NULL = until an administrator unlocks. */
  locked_until_ms: ColumnType<number | null, number | null | undefined, number | null>;
  /** encodeFailureSource lines (core/lockout.ts) of the failures since the last success or unlock. */
  failure_sources: ColumnType<string, string | undefined, string>;
  created_at_ms: Ms;
  updated_at_ms: Ms;
}

export interface UserAliasesTable {
  alias: string;
  user_id: string;
  /** usernameKey(alias), unique; no alias key equals a username key (checked by the store). */
  alias_key: string;
  alias_simple: string;
}

export interface GroupsTable {
  id: string;
  name: string;
  description: string | null;
  status: string;
  created_at_ms: Ms;
  updated_at_ms: Ms;
}

export interface GroupMembersTable {
  group_id: string;
  user_id: string;
  /** The emergency control that made the membership; null: an administrator's (0008). */
  added_by_control: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface OtpTokensTable {
  id: string;
  user_id: string;
  type: string;
  /** SecretBox-sealed base32 secret. */
  secret_sealed: string;
  algorithm: string;
  digits: number;
  period_seconds: number;
  counter: number;
  last_step: number | null;
  name: string | null;
  created_at_ms: Ms;
}

export interface BypassCodesTable {
  id: string;
  user_id: string;
  code_hash: string;
  remaining_uses: number | null;
  expires_at_ms: Ms | null;
  created_at_ms: Ms;
}

export interface EnrollmentsTable {
  activation_code: string;
  user_id: string;
  app_id: string;
  state: string;
  expires_at_ms: Ms;
  created_at_ms: Ms;
}

export interface AuthTransactionsTable {
  txid: string;
  app_id: string;
  /** Null for a user Airlock does not know (an answer of the new-user policy). */
  user_id: string | null;
  factor: string;
  result: string;
  status: string;
  status_msg: string;
  created_at_ms: Ms;
  updated_at_ms: Ms;
}

export interface AuditEventsTable {
  id: Generated<number>;
  ts_ms: Ms;
  actor: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  app_id: string | null;
  username: string | null;
  result: string | null;
  ip: string | null;
  /** JSON object as text. */
  detail: string;
}

export interface DevicesTable {
  id: string;
  user_id: string;
  name: string;
  platform: string;
  /** JWK of the device's P-256 public key as JSON text; null for a phone number without an app. */
  public_key: string | null;
  phone_number: string | null;
  otp_token_id: string | null;
  created_at_ms: Ms;
  last_seen_at_ms: Ms | null;
}

export interface DeviceActivationsTable {
  activation_code: string;
  user_id: string;
  state: string;
  expires_at_ms: Ms;
  created_at_ms: Ms;
}

export interface OobRequestsTable {
  txid: string;
  factor: string;
  app_id: string;
  user_id: string;
  device_id: string;
  status: string;
  /** JSON object as text (application, username, ipaddr, hostname, pushinfo …). */
  context: string;
  verification_code: string | null;
  callback_token_hash: string | null;
  created_at_ms: Ms;
  expires_at_ms: Ms;
  delivered_at_ms: Ms | null;
  answered_at_ms: Ms | null;
}

export interface SmsPasscodesTable {
  id: string;
  user_id: string;
  device_id: string;
  seq: number;
  code_hash: string;
  first_digit: string;
  expires_at_ms: Ms;
  created_at_ms: Ms;
}

export interface PoliciesTable {
  /** `global` or `app:<appId>`. */
  scope: string;
  /** The Policy as JSON text. */
  policy: string;
  updated_at_ms: Ms;
  updated_by: string;
}

export interface EmergencyControlsTable {
  id: string;
  kind: string;
  state: string;
  /** The EmergencyControl as JSON text. */
  record: string;
  expires_at_ms: Ms;
  created_at_ms: Ms;
}

export interface MessageTemplatesTable {
  kind: string;
  language: string;
  subject: string;
  body: string;
  updated_at_ms: Ms;
  updated_by: string;
}

export interface IncidentsTable {
  id: Generated<number>;
  title: string;
  status: string;
  impact: string;
  /** JSON array of application ids, as text. */
  app_ids: string;
  /** JSON array of component ids, as text. */
  component_ids: string;
  factor: string | null;
  created_at_ms: Ms;
  updated_at_ms: Ms;
  resolved_at_ms: Ms | null;
  created_by: string;
}

export interface IncidentUpdatesTable {
  id: Generated<number>;
  incident_id: number;
  status: string;
  body: string;
  created_at_ms: Ms;
  actor: string;
}

export interface StatusSubscriptionsTable {
  id: string;
  kind: string;
  target: string;
  created_at_ms: Ms;
}

export interface ComponentOverridesTable {
  component_id: string;
  status: string;
  reason: string;
  actor: string;
  created_at_ms: Ms;
}

export interface HealthReportsTable {
  reporter: string;
  kind: string;
  /** The application that owns the name (migration 0014). */
  app_id: string;
  /** The HealthReport as JSON text. */
  report: string;
  received_at_ms: Ms;
}

export interface AdminsTable {
  id: string;
  username: string;
  /** argon2id PHC string. */
  password_hash: string;
  /** SecretBox-sealed base32 TOTP secret. */
  totp_secret_sealed: string;
  totp_last_step: number | null;
  disabled: ColumnType<number, number | undefined, number>;
  created_at_ms: Ms;
  updated_at_ms: Ms;
}

export interface AdminApiKeysTable {
  ikey: string;
  /** SecretBox-sealed skey. */
  skey_sealed: string;
  name: string;
  created_at_ms: Ms;
  last_used_at_ms: Ms | null;
}

export interface AdminSessionsTable {
  /** SHA-256 (hex) of the session token. */
  id: string;
  admin_id: string;
  csrf_token_hash: string;
  created_at_ms: Ms;
  expires_at_ms: Ms;
  last_seen_at_ms: Ms;
}

/** One hosted-prompt login and its authorization code (0012). */
export interface PromptLoginsTable {
  /** SHA-256 (hex) of the login's id, which only the browser holds. */
  id_hash: string;
  app_id: string;
  username: string;
  redirect_uri: string;
  state: string;
  nonce: string | null;
  use_duo_code: number;
  /** 'pending' until the login ends, then 'allow' or 'deny'. */
  status: string;
  /** JSON of the PromptOutcome once ended. */
  outcome: string | null;
  /** SHA-256 (hex) of the authorization code; null before the login ends. */
  code_hash: string | null;
  code_expires_at_ms: Ms | null;
  code_used: ColumnType<number, number | undefined, number>;
  expires_at_ms: Ms;
  created_at_ms: Ms;
}

/** A value usable once until it expires (0012): a client assertion's jti, an authorize state. */
export interface SingleUseMarksTable {
  mark: string;
  expires_at_ms: Ms;
}

/** A device the user asked the prompt to remember for one application (0012). */
export interface RememberedDevicesTable {
  token_hash: string;
  app_id: string;
  user_id: string;
  expires_at_ms: Ms;
  created_at_ms: Ms;
}

/** A final Auth API result, as the result stream delivers it (0013). */
export interface AuthResultEventsTable {
  id: Generated<number>;
  /** PostgreSQL: the writing transaction's id; SQLite: 0. */
  xid: number;
  app_id: string;
  txid: string;
  result: string;
  status: string;
  status_msg: string;
  created_at_ms: Ms;
}

/** A token bucket shared by the service nodes (0013). */
export interface RateBucketsTable {
  key: string;
  tokens: number;
  updated_ms: Ms;
}

/** Kysely Migrator's bookkeeping (default table names). */
export interface KyselyMigrationTable {
  name: string;
  timestamp: string;
}

export interface KyselyMigrationLockTable {
  id: string;
  is_locked: ColumnType<number, number | undefined, number>;
}

export interface Database {
  applications: ApplicationsTable;
  application_groups: ApplicationGroupsTable;
  users: UsersTable;
  user_aliases: UserAliasesTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  otp_tokens: OtpTokensTable;
  bypass_codes: BypassCodesTable;
  enrollments: EnrollmentsTable;
  auth_transactions: AuthTransactionsTable;
  audit_events: AuditEventsTable;
  devices: DevicesTable;
  device_activations: DeviceActivationsTable;
  oob_requests: OobRequestsTable;
  sms_passcodes: SmsPasscodesTable;
  policies: PoliciesTable;
  emergency_controls: EmergencyControlsTable;
  message_templates: MessageTemplatesTable;
  incidents: IncidentsTable;
  incident_updates: IncidentUpdatesTable;
  status_subscriptions: StatusSubscriptionsTable;
  component_overrides: ComponentOverridesTable;
  health_reports: HealthReportsTable;
  admins: AdminsTable;
  admin_api_keys: AdminApiKeysTable;
  admin_sessions: AdminSessionsTable;
  prompt_logins: PromptLoginsTable;
  single_use_marks: SingleUseMarksTable;
  remembered_devices: RememberedDevicesTable;
  auth_result_events: AuthResultEventsTable;
  rate_buckets: RateBucketsTable;
  kysely_migration: KyselyMigrationTable;
  kysely_migration_lock: KyselyMigrationLockTable;
}
