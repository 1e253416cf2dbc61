// Which user a name means: the case-insensitive key every username and alias is matched by, and
// each application's username normalization ("none" or "simple", as Duo's setting of that name).
//
// Why this matters for security: the directory (LDAP/AD) matches names loosely — `Alice`,
// `alice ` and `EXAMPLE\alice` all bind as alice. If the 2FA service matched names exactly, such a
// variant would be an unknown user, and under a new-user policy of `allow` it would pass without a
// second factor. So names are matched by a folded key, never byte for byte.
import { isOneOf } from './closed-set.ts';

export const USERNAME_NORMALIZATIONS = ['none', 'simple'] as const;
export type UsernameNormalization = (typeof USERNAME_NORMALIZATIONS)[number];
export const DEFAULT_USERNAME_NORMALIZATION: UsernameNormalization = 'simple';

export const isUsernameNormalization = (v: unknown): v is UsernameNormalization =>
  isOneOf(USERNAME_NORMALIZATIONS, v);

/** A name as it is stored and shown: surrounding whitespace is never part of it. */
export function cleanUsername(name: string): string {
  return name.trim();
}

/**
 * The key a name is matched and kept unique by: trimmed, Unicode NFC, lower case (locale-free).
 * `Alice`, `ALICE` and ` alice ` share the key `alice`.
 */
export function usernameKey(name: string): string {
  return name.trim().normalize('NFC').toLowerCase();
}

/**
 * Duo's "simple" normalization: `DOMAIN\alice`, `alice@example.org` and `alice` are one user.
 * The part after the first backslash, then the part before the first `@`; a name that would
 * become empty (`alice\`, `@example.org`) is kept whole.
 */
export function simpleUsername(name: string): string {
  let bare = name.trim();
  const backslash = bare.indexOf('\\');
  if (backslash >= 0 && backslash < bare.length - 1) bare = bare.slice(backslash + 1);
  const at = bare.indexOf('@');
  if (at > 0) bare = bare.slice(0, at);
  return bare.trim();
}

/** The simple-normalization key: `usernameKey(simpleUsername(name))`. */
export function simpleUsernameKey(name: string): string {
  return usernameKey(simpleUsername(name));
}

/** The name an application hands to the store, under its normalization. */
export function normalizeUsername(name: string, normalization: UsernameNormalization): string {
  return normalization === 'simple' ? simpleUsername(name) : cleanUsername(name);
}
