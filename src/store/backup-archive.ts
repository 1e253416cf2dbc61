// The encrypted backup file of `airlock db backup`: a readable header naming the format and schema
// version, then the database encrypted and authenticated (AES-256-GCM) under the operator's key.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { AirlockError } from '../core/error-registry.ts';

/**
 * File layout:
 *
 *   AIRLOCK-BACKUP\n
 *   {"format_version":1,"schema_version":9,"dialect":"sqlite","created_ms":…,"salt":…,"iv":…}\n
 *   ciphertext | 16-byte GCM tag
 *
 * The two header lines are the AAD, so changing the schema version (or any other header field)
 * makes the file fail to open, as does changing one byte of the ciphertext or the tag. The
 * encryption key is HKDF-SHA256 of the operator's key with the header's random salt, so two
 * backups under one key file never share a (key, IV) pair.
 */
export const BACKUP_MAGIC = 'AIRLOCK-BACKUP\n';
export const BACKUP_FORMAT_VERSION = 1;
const KEY_INFO = 'airlock backup v1';
const SALT_BYTES = 16;
// NIST SP 800-38D §8.2: 96-bit IV.
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A header longer than this is not one of ours: stop looking for its end. */
const MAX_HEADER_BYTES = 4096;

export interface BackupHeader {
  format_version: number;
  /** The number of the database's latest applied migration (`0009-…` -> 9). */
  schema_version: number;
  dialect: 'sqlite';
  created_ms: number;
  salt: string;
  iv: string;
}

/** Encrypts `database` (the bytes of a SQLite file) into a backup file's bytes. */
export function sealBackup(
  database: Buffer,
  operatorKey: Buffer,
  meta: { schemaVersion: number; createdMs: number },
): Buffer {
  // randomBytes rather than the Random port, as in secret-box.ts: a repeated IV under GCM is
  // catastrophic, so this must never be a seeded source.
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const header: BackupHeader = {
    format_version: BACKUP_FORMAT_VERSION,
    schema_version: meta.schemaVersion,
    dialect: 'sqlite',
    created_ms: meta.createdMs,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
  };
  const prefix = Buffer.from(`${BACKUP_MAGIC}${JSON.stringify(header)}\n`, 'utf8');
  const cipher = createCipheriv('aes-256-gcm', backupKey(operatorKey, salt), iv);
  cipher.setAAD(prefix);
  const ciphertext = Buffer.concat([cipher.update(database), cipher.final()]);
  return Buffer.concat([prefix, ciphertext, cipher.getAuthTag()]);
}

/** The header alone, unauthenticated: for messages before the key is at hand. */
export function readBackupHeader(file: Buffer): BackupHeader {
  return splitBackup(file).header;
}

/**
 * Decrypts a backup file. Throws BACKUP_UNREADABLE when it is not a backup, was made with another
 * key, or was altered anywhere (header, ciphertext or tag); nothing is returned then.
 */
export function openBackup(
  file: Buffer,
  operatorKey: Buffer,
): { header: BackupHeader; database: Buffer } {
  const { header, prefix, body } = splitBackup(file);
  if (body.length < TAG_BYTES) throw unreadable('the file is truncated');
  const salt = Buffer.from(header.salt, 'base64');
  const iv = Buffer.from(header.iv, 'base64');
  if (salt.length !== SALT_BYTES || iv.length !== IV_BYTES) throw unreadable('bad header');
  const decipher = createDecipheriv('aes-256-gcm', backupKey(operatorKey, salt), iv, {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(prefix);
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  try {
    const database = Buffer.concat([
      decipher.update(body.subarray(0, body.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return { header, database };
  } catch {
    throw unreadable(
      'authentication failed: another key file, or the backup was altered or truncated',
    );
  }
}

function splitBackup(file: Buffer): { header: BackupHeader; prefix: Buffer; body: Buffer } {
  const magic = Buffer.from(BACKUP_MAGIC, 'utf8');
  if (!file.subarray(0, magic.length).equals(magic)) {
    throw unreadable('not an Airlock backup (no AIRLOCK-BACKUP line)');
  }
  const end = file.indexOf(0x0a, magic.length);
  if (end < 0 || end > MAX_HEADER_BYTES) throw unreadable('the header is malformed');
  const header = parseHeader(file.subarray(magic.length, end).toString('utf8'));
  return { header, prefix: file.subarray(0, end + 1), body: file.subarray(end + 1) };
}

function parseHeader(text: string): BackupHeader {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw unreadable('the header is not JSON');
  }
  const h = value as Partial<BackupHeader> | null;
  if (
    typeof h !== 'object' ||
    h === null ||
    !Number.isInteger(h.format_version) ||
    !Number.isInteger(h.schema_version) ||
    typeof h.salt !== 'string' ||
    typeof h.iv !== 'string'
  ) {
    throw unreadable('the header lacks its fields');
  }
  if (h.format_version !== BACKUP_FORMAT_VERSION) {
    throw unreadable(
      `backup format ${h.format_version}, this release reads format ${BACKUP_FORMAT_VERSION}`,
    );
  }
  return h as BackupHeader;
}

function backupKey(operatorKey: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', operatorKey, salt, KEY_INFO, 32));
}

function unreadable(reason: string): AirlockError {
  return new AirlockError('BACKUP_UNREADABLE', reason);
}
