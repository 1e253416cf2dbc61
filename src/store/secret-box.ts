// SecretBox: authenticated encryption (AES-256-GCM) of the secrets the store keeps at rest, each
// bound to the table, column and row it is stored in.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { StoreError } from './store-error.ts';

/**
 * Where a sealed value is stored. It is the AES-GCM additional authenticated data: a value copied
 * into another row, column or table no longer opens (security finding 9, docs/security.md).
 */
export interface SealBinding {
  table: string;
  column: string;
  /** The row's primary key. */
  rowId: string;
}

export interface SecretBox {
  /** Encrypts `plaintext` for the place `binding` names; a fresh IV every call. Always v2. */
  seal(plaintext: string, binding: SealBinding): string;
  /**
   * Decrypts a v2 value sealed for the same place with the same key. Throws STORE_SECRET_UNREADABLE
   * when it was altered, moved from another place, sealed under another key, or is an unbound v1.
   */
  open(sealed: string, binding: SealBinding): string;
  /**
   * For migration 0006 only: a v1 value (no AAD) re-sealed as v2 for `binding`; a v2 value that
   * opens for `binding` is returned unchanged, so a re-run after a partial migration is harmless.
   */
  reseal(sealed: string, binding: SealBinding): string;
}

/** The part of the SecretBox migration 0006 needs. */
export type SealedValueResealer = Pick<SecretBox, 'reseal'>;

// v1 (before migration 0006): `v1:<base64 of iv | tag | ciphertext>`, no AAD.
// v2: the same layout, with associatedData(binding) as AAD.
const V1_PREFIX = 'v1:';
const V2_PREFIX = 'v2:';
const KEY_BYTES = 32;
// NIST SP 800-38D §8.2: 96-bit IVs; random ones are safe far beyond the number of secrets we seal.
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The AAD of a v2 value: `airlock:v2:<table>:<column>:<row id>`. Table and column are fixed
 * identifiers without `:`, and the row id comes last, so two places never share an AAD.
 */
export function associatedData(binding: SealBinding): string {
  return `airlock:v2:${binding.table}:${binding.column}:${binding.rowId}`;
}

/** A SecretBox over a 32-byte key. Sealed format: `v2:<base64 of iv | tag | ciphertext>`. */
export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== KEY_BYTES) {
    throw new Error(`secret key must be ${KEY_BYTES} bytes, got ${key.length}`);
  }
  // Private copy: the caller may reuse or wipe its buffer.
  const ownKey = Buffer.from(key);
  const seal = (plaintext: string, binding: SealBinding): string => {
    // randomBytes here rather than the Random port: IV reuse under GCM is catastrophic, so
    // this must never be a seeded or test source.
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', ownKey, iv);
    cipher.setAAD(Buffer.from(associatedData(binding), 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return V2_PREFIX + Buffer.concat([iv, tag, ciphertext]).toString('base64');
  };
  return {
    seal,
    open(sealed, binding) {
      if (sealed.startsWith(V1_PREFIX)) {
        throw unreadable(
          binding,
          'a v1 value, not bound to its row: migration 0006 re-sealed every stored value, so ' +
            'this one was written outside Airlock',
        );
      }
      return decrypt(ownKey, sealed, binding, 'v2');
    },
    reseal(sealed, binding) {
      if (sealed.startsWith(V1_PREFIX))
        return seal(decrypt(ownKey, sealed, binding, 'v1'), binding);
      decrypt(ownKey, sealed, binding, 'v2');
      return sealed;
    },
  };
}

function decrypt(key: Buffer, sealed: string, binding: SealBinding, version: 'v1' | 'v2'): string {
  const prefix = version === 'v1' ? V1_PREFIX : V2_PREFIX;
  if (!sealed.startsWith(prefix)) throw unreadable(binding, 'not a sealed value');
  const raw = Buffer.from(sealed.slice(prefix.length), 'base64');
  if (raw.length < IV_BYTES + TAG_BYTES) throw unreadable(binding, 'sealed value is truncated');
  const iv = raw.subarray(0, IV_BYTES);
  const tag = raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
  const ciphertext = raw.subarray(IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  if (version === 'v2') decipher.setAAD(Buffer.from(associatedData(binding), 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw unreadable(
      binding,
      'authentication failed (wrong secret key, or the stored value was altered or moved from ' +
        'another row)',
    );
  }
}

/** Names the place, never the value: the message goes to logs. */
function unreadable(binding: SealBinding, reason: string): StoreError {
  return new StoreError(
    'STORE_SECRET_UNREADABLE',
    `cannot open ${binding.table}.${binding.column} of row ${binding.rowId}: ${reason}`,
  );
}

/**
 * Remembers what `open` returned for the most recent sealed values, so the login hot path does
 * not run AES-GCM for the same token secret on every request. The plaintexts are secrets the
 * process holds anyway while it verifies codes; the cache is bounded and never written anywhere.
 * Entries are keyed by value and place: a value moved to another row must miss and fail.
 */
export function createCachingSecretBox(box: SecretBox, maxEntries = 10_000): SecretBox {
  const opened = new Map<string, string>();
  return {
    seal: (plaintext, binding) => box.seal(plaintext, binding),
    reseal: (sealed, binding) => box.reseal(sealed, binding),
    open(sealed, binding) {
      // A sealed value holds no space, so the first one ends it.
      const cacheKey = `${sealed} ${associatedData(binding)}`;
      const hit = opened.get(cacheKey);
      if (hit !== undefined) return hit;
      const plaintext = box.open(sealed, binding); // throws on tamper: nothing is cached then
      if (opened.size >= maxEntries) opened.clear();
      opened.set(cacheKey, plaintext);
      return plaintext;
    },
  };
}
