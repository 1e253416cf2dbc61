// Secrets in logs and messages: never the secret itself, a short fingerprint of it.
import { createHash } from 'node:crypto';

/** A short, stable name for a secret, for logs: the first 8 hex digits of its SHA-256. */
export function fingerprintSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8);
}
