// Domain vocabulary shared by every part: closed sets and the records the store returns.
import { isOneOf } from './closed-set.ts';
import type { UsernameNormalization } from './username.ts';

export const USER_STATUSES = ['active', 'bypass', 'disabled', 'locked out'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];
export const isUserStatus = (v: unknown): v is UserStatus => isOneOf(USER_STATUSES, v);

export const GROUP_STATUSES = ['active', 'bypass', 'disabled'] as const;
export type GroupStatus = (typeof GROUP_STATUSES)[number];
export const isGroupStatus = (v: unknown): v is GroupStatus => isOneOf(GROUP_STATUSES, v);

export const NEW_USER_POLICIES = ['enroll', 'allow', 'deny'] as const;
export type NewUserPolicy = (typeof NEW_USER_POLICIES)[number];
export const isNewUserPolicy = (v: unknown): v is NewUserPolicy => isOneOf(NEW_USER_POLICIES, v);

export const RESTRICTION_LEVELS = ['most-restrictive', 'restrictive', 'less-restrictive'] as const;
export type RestrictionLevel = (typeof RESTRICTION_LEVELS)[number];
export const isRestrictionLevel = (v: unknown): v is RestrictionLevel =>
  isOneOf(RESTRICTION_LEVELS, v);

/** Integration types; `auth-api` is a plain Auth API v2 client (Duo Unix, custom code, the proxy). */
export const APPLICATION_TYPES = [
  'auth-api',
  'radius',
  'ldap',
  'web-sdk',
  'unix',
  /** Duo's own Authentication Proxy: allows signature v1 on /rest/v1 by default. */
  'authproxy',
] as const;
export type ApplicationType = (typeof APPLICATION_TYPES)[number];
export const isApplicationType = (v: unknown): v is ApplicationType =>
  isOneOf(APPLICATION_TYPES, v);

export const TOKEN_TYPES = ['totp', 'hotp'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];

export const OTP_ALGORITHMS = ['SHA1', 'SHA256', 'SHA512'] as const;
export type OtpAlgorithm = (typeof OTP_ALGORITHMS)[number];

export interface Application {
  id: string;
  name: string;
  ikey: string;
  /** Plaintext secret key (decrypted by the store; encrypted at rest). */
  skey: string;
  type: ApplicationType;
  newUserPolicy: NewUserPolicy;
  restrictionLevel: RestrictionLevel;
  /** Sustained Auth API requests per second for this application; 0 = unlimited. */
  rateLimitPerSecond: number;
  /** Pushes carry a code shown by the prompt that the user must type into the authenticator. */
  verifiedPush: boolean;
  /** How names from this application map to users (core/username.ts); default 'simple'. */
  usernameNormalization: UsernameNormalization;
  /**
   * Accepts signature v1 on /rest/v1 (Duo's Authentication Proxy). v1 signs no date, so a
   * captured request can be replayed: off unless enabled (docs/auth-api.md, signature v1).
   */
  allowV1Signature: boolean;
  /** Group ids allowed to use the application; empty = every user. */
  allowedGroupIds: string[];
  /** Web SDK: the redirect URIs an authorize request may name (exact match); empty for others. */
  redirectUris: string[];
  /** Web SDK: hours the hosted prompt may remember a device; 0 = never (the default). */
  rememberDeviceHours: number;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface User {
  id: string;
  username: string;
  aliases: string[];
  realName: string | null;
  email: string | null;
  status: UserStatus;
  /** Consecutive failed second-factor attempts since the last success. */
  failedAttempts: number;
  /**
   * With `locked out`: when the lockout ends by itself (null = when an administrator unlocks).
   * Always null with any other status. The store reports the status in effect when it reads the
   * user (core/lockout.ts effectiveUserStatus): a lockout past its end reads as `active`.
   */
  lockedUntilMs: number | null;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface Group {
  id: string;
  name: string;
  description: string | null;
  status: GroupStatus;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface OtpToken {
  id: string;
  userId: string;
  type: TokenType;
  /** Plaintext base32 secret (decrypted by the store). */
  secret: string;
  algorithm: OtpAlgorithm;
  digits: number;
  periodSeconds: number;
  /** HOTP: the next counter value expected. */
  counter: number;
  /** TOTP: the last time step accepted (replay protection); null before first use. */
  lastStep: number | null;
  name: string | null;
  createdAtMs: number;
}

export interface BypassCode {
  id: string;
  userId: string;
  codeHash: string;
  /** Uses left; null = unlimited until expiry. */
  remainingUses: number | null;
  expiresAtMs: number | null;
  createdAtMs: number;
}

export const ENROLLMENT_STATES = ['waiting', 'success'] as const;
export type EnrollmentState = (typeof ENROLLMENT_STATES)[number];

export interface Enrollment {
  activationCode: string;
  userId: string;
  appId: string;
  state: EnrollmentState;
  expiresAtMs: number;
  createdAtMs: number;
}

export const AUTH_RESULTS = ['allow', 'deny', 'waiting'] as const;
export type AuthResult = (typeof AUTH_RESULTS)[number];

export interface AuthTransaction {
  txid: string;
  appId: string;
  /** Null for a user Airlock does not know: the new-user policy answered at once. */
  userId: string | null;
  factor: string;
  result: AuthResult;
  status: string;
  statusMsg: string;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface AuditEvent {
  id: number;
  tsMs: number;
  /** Who did it: `cli:<os user>`, `app:<ikey>`, `system`. */
  actor: string;
  /** Dotted verb, e.g. `user.create`, `auth.passcode`, `user.lockout`. */
  action: string;
  targetType: string | null;
  targetId: string | null;
  appId: string | null;
  username: string | null;
  result: string | null;
  ip: string | null;
  /** Extra fields; never secrets. */
  detail: Record<string, unknown>;
}

export type NewAuditEvent = Omit<AuditEvent, 'id'>;

export const DEVICE_PLATFORMS = ['web', 'cli', 'android', 'ios', 'other', 'phone'] as const;
export type DevicePlatform = (typeof DEVICE_PLATFORMS)[number];
export const isDevicePlatform = (v: unknown): v is DevicePlatform => isOneOf(DEVICE_PLATFORMS, v);

/** docs/design/auth-api.md §1.5 capability names. */
export const DEVICE_CAPABILITIES = ['auto', 'push', 'sms', 'phone', 'mobile_otp'] as const;
export type DeviceCapability = (typeof DEVICE_CAPABILITIES)[number];

/** An authenticator (activated with a key) and/or a phone number (SMS, voice). */
export interface Device {
  id: string;
  userId: string;
  name: string;
  platform: DevicePlatform;
  /** JWK of the device key as JSON text; null for a phone number without an app. */
  publicKeyJwk: string | null;
  /** E.164 number for SMS and phone calls; null when none. */
  phoneNumber: string | null;
  /** The TOTP token the authenticator shows (mobile_otp); null when none. */
  otpTokenId: string | null;
  createdAtMs: number;
  lastSeenAtMs: number | null;
}

export const OOB_FACTORS = ['push', 'phone'] as const;
export type OobFactor = (typeof OOB_FACTORS)[number];

/** Out-of-band request states; the first three are pending, the rest final. */
export const OOB_STATUSES = [
  'pushed',
  'calling',
  'answered',
  'allow',
  'deny',
  'fraud',
  'timeout',
  'push_failed',
] as const;
export type OobStatus = (typeof OOB_STATUSES)[number];
export const PENDING_OOB_STATUSES: readonly OobStatus[] = ['pushed', 'calling', 'answered'];

/** What the authenticator (or the voice prompt) shows about a login. */
export interface OobContext {
  application: string;
  username: string;
  displayUsername: string;
  type: string;
  ipaddr: string | null;
  hostname: string | null;
  pushinfo: [string, string][];
}

/** A push to a device, or a phone call, waiting for (or having got) the user's answer. */
export interface OobRequest {
  txid: string;
  factor: OobFactor;
  appId: string;
  userId: string;
  deviceId: string;
  status: OobStatus;
  context: OobContext;
  /** Verified push: the code the prompt shows; null when the application does not ask for it. */
  verificationCode: string | null;
  /** Phone: hash of the secret in the provider's callback URL. */
  callbackTokenHash: string | null;
  createdAtMs: number;
  expiresAtMs: number;
  deliveredAtMs: number | null;
  answeredAtMs: number | null;
}

/** One of a batch of SMS passcodes (hashed); a used one is deleted. */
export interface SmsPasscode {
  id: string;
  userId: string;
  deviceId: string;
  seq: number;
  codeHash: string;
  firstDigit: string;
  expiresAtMs: number;
  createdAtMs: number;
}
