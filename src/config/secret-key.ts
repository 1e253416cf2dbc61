// Loads the 32-byte key that encrypts application skeys and OTP token secrets at rest.
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
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
