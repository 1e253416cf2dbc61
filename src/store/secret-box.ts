// SecretBox: authenticated encryption (AES-256-GCM) of the secrets the store keeps at rest.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface SecretBox {
  /** Encrypts `plaintext`; every call uses a fresh IV, so equal inputs give different outputs. */
  seal(plaintext: string): string;
  /** Decrypts a value made by `seal` with the same key; throws when it was altered or the key differs. */
  open(sealed: string): string;
}

const VERSION_PREFIX = 'v1:';
const KEY_BYTES = 32;
// NIST SP 800-38D §8.2: 96-bit IVs; random ones are safe far beyond the number of secrets we seal.
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A SecretBox over a 32-byte key. Sealed format: `v1:<base64 of iv | tag | ciphertext>`. */
export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== KEY_BYTES) {
    throw new Error(`secret key must be ${KEY_BYTES} bytes, got ${key.length}`);
  }
  // Private copy: the caller may reuse or wipe its buffer.
  const ownKey = Buffer.from(key);
  return {
    seal(plaintext: string): string {
      // randomBytes here rather than the Random port: IV reuse under GCM is catastrophic, so
      // this must never be a seeded or test source.
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', ownKey, iv);
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return VERSION_PREFIX + Buffer.concat([iv, tag, ciphertext]).toString('base64');
    },
    open(sealed: string): string {
      if (!sealed.startsWith(VERSION_PREFIX)) {
        throw new Error('cannot open secret: not a v1 sealed value');
      }
      const raw = Buffer.from(sealed.slice(VERSION_PREFIX.length), 'base64');
      if (raw.length < IV_BYTES + TAG_BYTES) {
        throw new Error('cannot open secret: sealed value is truncated');
      }
      const iv = raw.subarray(0, IV_BYTES);
      const tag = raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
      const ciphertext = raw.subarray(IV_BYTES + TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', ownKey, iv, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
      } catch {
        throw new Error(
          'cannot open secret: authentication failed (wrong secret key, or the stored value was altered)',
        );
      }
    },
  };
}

/**
 * Remembers what `open` returned for the most recent sealed values, so the login hot path does
 * not run AES-GCM for the same token secret on every request. The plaintexts are secrets the
 * process holds anyway while it verifies codes; the cache is bounded and never written anywhere.
 */
export function createCachingSecretBox(box: SecretBox, maxEntries = 10_000): SecretBox {
  const opened = new Map<string, string>();
  return {
    seal: (plaintext) => box.seal(plaintext),
    open(sealed) {
      const hit = opened.get(sealed);
      if (hit !== undefined) return hit;
      const plaintext = box.open(sealed); // throws on tamper: nothing is cached then
      if (opened.size >= maxEntries) opened.clear();
      opened.set(sealed, plaintext);
      return plaintext;
    },
  };
}
