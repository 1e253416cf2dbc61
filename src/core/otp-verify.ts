// Verifies TOTP (RFC 6238) and HOTP (RFC 4226) passcodes against a token's secret and state.

import { timingSafeEqual } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth';
import type { OtpAlgorithm } from './model.ts';

export const OTP_FAILURE_REASONS = ['mismatch', 'replayed', 'malformed'] as const;
export type OtpFailureReason = (typeof OTP_FAILURE_REASONS)[number];

/** Time steps accepted on each side of the current one (RFC 6238 §5.2 network delay). */
export const DEFAULT_TOTP_WINDOW = 1;
/** HOTP counters accepted ahead of the expected one (RFC 4226 §7.4 resynchronisation). */
export const DEFAULT_HOTP_LOOK_AHEAD = 10;

export interface VerifyTotpInput {
  /** Base32 secret. */
  secret: string;
  algorithm: OtpAlgorithm;
  digits: number;
  periodSeconds: number;
  code: string;
  nowMs: number;
  /** Steps accepted either side of the current step; default 1. */
  window?: number;
  /** The last step accepted for this token; null before first use. */
  lastStep: number | null;
}

export type VerifyTotpResult = { ok: true; step: number } | { ok: false; reason: OtpFailureReason };

export interface VerifyHotpInput {
  /** Base32 secret. */
  secret: string;
  algorithm: OtpAlgorithm;
  digits: number;
  /** The next counter value expected. */
  counter: number;
  code: string;
  /** Counters accepted beyond `counter`; default 10. */
  lookAhead?: number;
}

export type VerifyHotpResult =
  { ok: true; nextCounter: number } | { ok: false; reason: Exclude<OtpFailureReason, 'replayed'> };

export interface NewTotpUriInput {
  issuer: string;
  /** Account name shown in the authenticator app, e.g. the username. */
  label: string;
  /** Base32 secret. */
  secret: string;
  algorithm?: OtpAlgorithm;
  digits?: number;
  periodSeconds?: number;
}

function assertNonNegativeInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
}

// RFC 4226 §5.3: the truncated value has at most 10 decimal digits; fewer than 6 is too weak.
function assertDigits(digits: number): void {
  if (!Number.isInteger(digits) || digits < 6 || digits > 10) {
    throw new RangeError(`digits must be an integer from 6 to 10, got ${digits}`);
  }
}

function isWellFormedCode(code: string, digits: number): boolean {
  return code.length === digits && /^[0-9]+$/.test(code);
}

/**
 * Compares every candidate counter and returns the matches in ascending counter order. Every
 * counter is computed and compared with `timingSafeEqual` (no early exit), so the time taken does
 * not tell which counter, if any, matched.
 */
function matchingCounters(
  secret: Secret,
  algorithm: OtpAlgorithm,
  digits: number,
  code: string,
  first: number,
  last: number,
): number[] {
  const codeBytes = Buffer.from(code, 'ascii');
  const matches: number[] = [];
  for (let counter = Math.max(0, first); counter <= last; counter++) {
    const expected = HOTP.generate({ secret, algorithm, digits, counter });
    // Both sides are `digits` ASCII digits: equal lengths, as timingSafeEqual requires.
    if (timingSafeEqual(Buffer.from(expected, 'ascii'), codeBytes)) matches.push(counter);
  }
  return matches;
}

/**
 * RFC 6238 TOTP with replay protection: a code whose step is at or before `lastStep` is
 * `replayed`. On success the caller must atomically claim `step` as the token's new `lastStep`.
 */
export function verifyTotp(input: VerifyTotpInput): VerifyTotpResult {
  const window = input.window ?? DEFAULT_TOTP_WINDOW;
  assertDigits(input.digits);
  assertNonNegativeInteger('window', window);
  if (!Number.isSafeInteger(input.periodSeconds) || input.periodSeconds <= 0) {
    throw new RangeError(`periodSeconds must be a positive integer, got ${input.periodSeconds}`);
  }
  const secret = Secret.fromBase32(input.secret);
  if (!isWellFormedCode(input.code, input.digits)) return { ok: false, reason: 'malformed' };

  const currentStep = TOTP.counter({ period: input.periodSeconds, timestamp: input.nowMs });
  const matches = matchingCounters(
    secret,
    input.algorithm,
    input.digits,
    input.code,
    currentStep - window,
    currentStep + window,
  );
  // Codes of adjacent steps collide with probability 10^-digits; prefer the earliest step not
  // yet used so a slow but honest user is not refused because of a later collision.
  const fresh = matches.find((step) => input.lastStep === null || step > input.lastStep);
  if (fresh !== undefined) return { ok: true, step: fresh };
  return { ok: false, reason: matches.length > 0 ? 'replayed' : 'mismatch' };
}

/**
 * RFC 4226 HOTP: accepts a code for `counter` … `counter + lookAhead`; on success the caller
 * stores `nextCounter`, so that code and every earlier one can never be used again.
 */
export function verifyHotp(input: VerifyHotpInput): VerifyHotpResult {
  const lookAhead = input.lookAhead ?? DEFAULT_HOTP_LOOK_AHEAD;
  assertDigits(input.digits);
  assertNonNegativeInteger('counter', input.counter);
  assertNonNegativeInteger('lookAhead', lookAhead);
  const secret = Secret.fromBase32(input.secret);
  if (!isWellFormedCode(input.code, input.digits)) return { ok: false, reason: 'malformed' };

  const [first] = matchingCounters(
    secret,
    input.algorithm,
    input.digits,
    input.code,
    input.counter,
    input.counter + lookAhead,
  );
  return first === undefined
    ? { ok: false, reason: 'mismatch' }
    : { ok: true, nextCounter: first + 1 };
}

/** The `otpauth://totp/…` key URI that authenticator apps import (usually as a QR code). */
export function newTotpUri(input: NewTotpUriInput): string {
  return new TOTP({
    issuer: input.issuer,
    label: input.label,
    secret: Secret.fromBase32(input.secret),
    algorithm: input.algorithm ?? 'SHA1',
    digits: input.digits ?? 6,
    period: input.periodSeconds ?? 30,
  }).toString();
}
