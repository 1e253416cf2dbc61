// Loads the 32-byte key that encrypts application skeys and OTP token secrets at rest.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

export const SECRET_KEY_BYTES = 32;
export const SECRET_KEY_FILE = 'secret.key';

export interface LoadSecretKeyOptions {
  dataDir: string;
  env: Record<string, string | undefined>;
}

/**
 * Returns the store's encryption key: `AIRLOCK_SECRET_KEY` (base64 of 32 bytes) when set, else
 * `<dataDir>/secret.key`, created with mode 0600 on first use. A key file that group or other
 * users may read or write is refused, with the command that fixes it.
 *
 * Several service nodes on one PostgreSQL database must all use the same key, so set
 * `AIRLOCK_SECRET_KEY` on each of them: a node that generated its own file could not read the
 * secrets the others wrote.
 */
export function loadSecretKey({ dataDir, env }: LoadSecretKeyOptions): Buffer {
  const fromEnv = env.AIRLOCK_SECRET_KEY;
  if (fromEnv !== undefined && fromEnv !== '') {
    return decodeKey(fromEnv, 'AIRLOCK_SECRET_KEY');
  }
  const path = join(dataDir, SECRET_KEY_FILE);
  let text: string;
  try {
    text = readOwnerOnlyFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return createKeyFile(dataDir, path);
  }
  return decodeKey(text, path);
}

/** Reads the key file, refusing one that other users may read (or replace). */
function readOwnerOnlyFile(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const mode = fstatSync(fd).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(
        `${path} is readable or writable by group or others (mode ${mode.toString(8).padStart(4, '0')}); ` +
          `it decrypts every secret in the database. Fix it with: chmod 600 ${path}`,
      );
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

function createKeyFile(dataDir: string, path: string): Buffer {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(SECRET_KEY_BYTES);
  try {
    // 'wx': if another process (the CLI and the service starting together) won the race,
    // use its key instead of overwriting it.
    writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return decodeKey(readOwnerOnlyFile(path), path);
  }
  return key;
}

function decodeKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  // Buffer.from ignores invalid characters silently; check the alphabet ourselves.
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : undefined;
  if (key?.length !== SECRET_KEY_BYTES) {
    throw new Error(
      `${source}: secret key must be the base64 encoding of exactly ${SECRET_KEY_BYTES} bytes ` +
        `(generate one with: openssl rand -base64 ${SECRET_KEY_BYTES})`,
    );
  }
  return key;
}

/**
 * Reads a key file an operator gives (`--key-file`): the base64 of 32 bytes, as `openssl rand
 * -base64 32` writes it, readable by its owner only. The same rules as `secret.key`.
 */
export function readKeyFile(path: string): Buffer {
  return decodeKey(readOwnerOnlyFile(path), path);
}

/** Writes a new key file (base64, mode 0600); refuses to overwrite an existing file. */
export function writeKeyFile(path: string, key: Buffer): void {
  writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
}

/** A fresh random 32-byte key. */
export function generateSecretKeyBytes(): Buffer {
  return randomBytes(SECRET_KEY_BYTES);
}

/** Where a rotation keeps the key it replaces: `secret.key.<stamp>.old`, mode 0600. */
export function retiredKeyPath(dataDir: string, stamp: string): string {
  return join(dataDir, `${SECRET_KEY_FILE}.${stamp}.old`);
}

/**
 * The file steps of `airlock secret-key rotate` around its database transaction: `stage` writes
 * the new key beside the old one (`secret.key.new`, 0600) before anything is re-sealed, `commit`
 * keeps a copy of the old key (`secret.key.<stamp>.old`) and moves the new one in place, `abandon`
 * removes the staged key after a failed transaction. A crash between the transaction and `commit`
 * leaves `secret.key.new` holding the key the database now needs (docs/deployment.md says so).
 */
export function secretKeyFileSwap(dataDir: string, newKey: Buffer, stamp: string) {
  const current = join(dataDir, SECRET_KEY_FILE);
  const staged = join(dataDir, `${SECRET_KEY_FILE}.new`);
  const retired = retiredKeyPath(dataDir, stamp);
  return {
    stagedPath: staged,
    retiredPath: retired,
    stage(): void {
      writeKeyFile(staged, newKey);
    },
    commit(): void {
      // COPYFILE_EXCL: never overwrite an older retired key. copyFileSync keeps the mode (0600).
      copyFileSync(current, retired, 1);
      renameSync(staged, current);
    },
    abandon(): void {
      unlinkSync(staged);
    },
  };
}
