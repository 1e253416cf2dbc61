// One process per resource, by a lock file holding its pid: `airlock serve` on SQLite takes
// DATA_DIR/airlock-service.lock, since what a service keeps in memory (push waiters, the result
// stream's subscribers, out-of-band budgets) is per process — a second service on the same file
// would lose pushes answered on the other one (docs/multi-node.md: several nodes need PostgreSQL).
// A lock whose process is gone (a crash, SIGKILL) is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export type ProcessLockResult = { ok: true; release(): void } | { ok: false; holder: number };

/**
 * Takes the lock at `path` for this process, or says which live process holds it. The same
 * process may take it again (a service restarted in-process, a container's recycled pid).
 *
 * @example
 * const lock = takeProcessLock(join(dataDir, 'airlock-service.lock'));
 * if (!lock.ok) throw new Error(`pid ${lock.holder} runs a service on this data directory`);
 */
export function takeProcessLock(path: string): ProcessLockResult {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return { ok: true, release: () => releaseIfOurs(path) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = holderOf(path);
    if (holder === process.pid) return { ok: true, release: () => releaseIfOurs(path) };
    if (holder !== undefined && isLiveService(holder)) return { ok: false, holder };
    // Stale: its process is gone (or the file is unreadable garbage). Remove it and try again.
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  const holder = holderOf(path);
  return holder === undefined ? { ok: false, holder: 0 } : { ok: false, holder };
}

function holderOf(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A live process that is an Airlock command (a recycled pid of another program is not). */
function isLiveService(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('airlock');
  } catch {
    return true; // no /proc (not Linux): alive is all we know
  }
}

function releaseIfOurs(path: string): void {
  if (holderOf(path) !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to release.
  }
}
