// Files and directories only their owner may use: the data directory, the database, keys.
import { chmodSync, mkdirSync, statSync } from 'node:fs';

/** Permission bits of the group and of other users. */
const GROUP_AND_OTHER = 0o077;
const PRIVATE_DIR_MODE = 0o700;

/** Creates `dir` (and missing parents) 0700, or takes group and other access away from it. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  // mkdir's mode is filtered by the umask and ignored for an existing directory.
  restrictToOwner(dir);
}

/**
 * Takes group and other permissions away from `path` when it has any (e.g. what an older version
 * created readable by everyone). A missing path is fine, and so is one this user may not chmod
 * (another user's, opened by an administrator with access to it): its owner's next start fixes it.
 */
export function restrictToOwner(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((mode & GROUP_AND_OTHER) === 0) return;
  try {
    chmodSync(path, mode & 0o700);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPERM') return;
    throw err;
  }
}

/**
 * Runs `create` with the umask 0o077: every file it creates is its owner's only from the first
 * byte. `create` must be synchronous, so no other code runs while the umask is changed.
 */
export function withOwnerOnlyUmask<T>(create: () => T): T {
  const previous = process.umask(GROUP_AND_OTHER);
  try {
    return create();
  } finally {
    process.umask(previous);
  }
}
