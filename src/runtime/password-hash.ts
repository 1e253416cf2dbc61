// Administrator passwords: argon2id (OWASP parameters m=19456 KiB, t=2, p=1) as PHC strings.
import { hash, verify, type Algorithm } from '@node-rs/argon2';

/** OWASP Password Storage Cheat Sheet: argon2id with 19 MiB of memory, 2 passes, 1 lane. */
export const ARGON2ID_PARAMETERS = {
  // `Algorithm` is a const enum in the package's types; 2 is Argon2id.
  algorithm: 2 as Algorithm,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/** A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) with a fresh random salt. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2ID_PARAMETERS);
}

/**
 * True when `password` matches `phc`. A malformed hash counts as a mismatch rather than an error,
 * so a damaged row cannot be told apart from a wrong password by the caller's timing or answer.
 */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}

/**
 * A hash of no one's password, verified when the username is unknown, so that an unknown
 * username costs the same time as a wrong password (no username enumeration by timing).
 */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword('airlock-no-such-administrator');
  return dummyHash;
}
