// Hashes and matches bypass codes (one-off numeric passcodes an administrator hands to a user).

import { createHmac, timingSafeEqual } from 'node:crypto';

/** A shorter pepper would be guessable, defeating the point of keying the hash. */
export const MIN_PEPPER_BYTES = 16;

/** Trims and removes the spaces and dashes people type into codes (`123 456-789` -> `123456789`). */
export function normalizePasscode(input: string): string {
  return input.trim().replace(/[\s-]+/g, '');
}

function hmacDigest(pepperKey: Buffer, normalized: string): Buffer {
  if (pepperKey.length < MIN_PEPPER_BYTES) {
    throw new RangeError(`the bypass code pepper must be at least ${MIN_PEPPER_BYTES} bytes`);
  }
  return createHmac('sha256', pepperKey).update(normalized, 'utf8').digest();
}

/**
 * The stored form of a bypass code: hex HMAC-SHA256 keyed with the pepper over its digits.
 *
 * Why a keyed fast hash and not bcrypt/scrypt: bypass codes are short and numeric (10^9 values
 * for 9 digits), so even a slow hash would be brute-forced from a database dump in hours. What
 * protects them is the pepper: it is derived from the data directory's secret key and never
 * stored in the database, so a dump alone gives nothing to brute-force. Online guessing is
 * bounded by lockout, not by hash cost.
 */
export function hashBypassCode(pepperKey: Buffer, code: string): string {
  const normalized = normalizePasscode(code);
  if (!/^[0-9]+$/.test(normalized)) {
    throw new RangeError('a bypass code must consist of digits');
  }
  return hmacDigest(pepperKey, normalized).toString('hex');
}

/**
 * Index of the stored hash that `code` matches, or -1. Every entry is compared with
 * `timingSafeEqual` and the loop never exits early, so timing reveals neither whether nor which
 * code matched. A malformed stored hash never matches.
 */
export function matchBypassCode(
  pepperKey: Buffer,
  code: string,
  hashes: readonly string[],
): number {
  // Non-digit input is hashed too: it cannot match a digits-only hash, and it costs the same.
  const candidate = hmacDigest(pepperKey, normalizePasscode(code));
  let found = -1;
  hashes.forEach((hash, index) => {
    const stored = /^[0-9a-f]{64}$/i.test(hash) ? Buffer.from(hash, 'hex') : null;
    // Compare against the candidate itself when the stored hash is malformed, to keep the work equal.
    const equal = timingSafeEqual(candidate, stored ?? candidate) && stored !== null;
    if (equal && found === -1) found = index;
  });
  return found;
}
