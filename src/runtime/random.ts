// Random port: cryptographically strong bytes and identifiers; tests may pass a seeded one.
import { randomBytes, randomInt, randomUUID } from 'node:crypto';

export interface Random {
  bytes(length: number): Buffer;
  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  uuid(): string;
}

export class CryptoRandom implements Random {
  bytes(length: number): Buffer {
    return randomBytes(length);
  }

  int(maxExclusive: number): number {
    return randomInt(maxExclusive);
  }

  uuid(): string {
    return randomUUID();
  }
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A Duo-style identifier: a two-letter prefix plus upper-case letters and digits, 20 chars in all. */
export function generateId(random: Random, prefix: string, length = 20): string {
  return prefix + pick(random, ID_ALPHABET, length - prefix.length);
}

/** A 40-character secret key (Duo skey format). */
export function generateSecretKey(random: Random, length = 40): string {
  return pick(random, SECRET_ALPHABET, length);
}

/** A string of decimal digits, e.g. a bypass code. */
export function generateDigits(random: Random, length: number): string {
  return pick(random, '0123456789', length);
}

function pick(random: Random, alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[random.int(alphabet.length)];
  return out;
}
