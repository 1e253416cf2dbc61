// Sealed cookie values: AES-256-GCM under a key derived from gateway.cfg's session_secret, bound to
// the cookie's name, so a value is unreadable, unforgeable and useless under another name.
import { createCipheriv, createDecipheriv, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Random } from '../runtime/random.ts';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** By default refuse to decode anything longer: a cookie value is at most a few hundred bytes. */
const MAX_SEALED_LENGTH = 4096;

export interface Sealer {
  /**
   * `v1.<base64url(iv | ciphertext | tag)>` of the JSON of `payload`; `context` (e.g. the row a
   * stored value belongs to) is bound to it too, so it opens only with the same context.
   */
  seal(payload: unknown, context?: string): string;
  /** The payload, or undefined for anything not sealed by this key for this purpose and context. */
  open(sealed: string, context?: string): unknown;
}

/**
 * A sealer for one purpose (the cookie's name is the GCM additional data). The key is
 * HKDF-SHA256 of the secret with the purpose as info.
 *
 * @example
 * const sessions = createSealer(config.gateway.sessionSecret, '__Host-airlock_session', random);
 * const cookie = sessions.seal({ sid }); sessions.open(cookie); // { sid }
 */
export function createSealer(
  secret: string,
  purpose: string,
  random: Random,
  maxSealedLength = MAX_SEALED_LENGTH,
): Sealer {
  const key = Buffer.from(hkdfSync('sha256', secret, 'airlock-gateway', `seal:${purpose}`, 32));
  const aadOf = (context: string | undefined) =>
    Buffer.from(context === undefined ? purpose : `${purpose}\0${context}`, 'utf8');
  return {
    seal(payload, context) {
      const iv = random.bytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aadOf(context));
      const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
      return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
    },
    open(sealed, context) {
      if (sealed.length > maxSealedLength || !sealed.startsWith(`${VERSION}.`)) return undefined;
      const raw = Buffer.from(sealed.slice(VERSION.length + 1), 'base64url');
      if (raw.length < IV_BYTES + TAG_BYTES + 2) return undefined;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
        decipher.setAAD(aadOf(context));
        decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
        const text = Buffer.concat([
          decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
        return JSON.parse(text) as unknown;
      } catch {
        // A wrong tag (tampered, other key, other purpose) or a body that is not JSON.
        return undefined;
      }
    },
  };
}

/** Constant-time equality of two tokens (CSRF tokens, ids). */
export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
