// A log file appended to synchronously and rotated by size, classical naming (name.1 … name.N).
// A synchronous append is a copy into the page cache: on a login's path it costs a few µs of the
// event loop, where an asynchronous write costs a thread-pool round trip (a wake-up of a pool
// thread, then of the event loop) and its promise jobs — about 80 µs of CPU per login for the
// proxy's two logs, and a chance for the scheduler to take the event loop away on a busy host.
import { closeSync, existsSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface RotatingLogFileOptions {
  dir: string;
  name: string;
  /** The file is rotated once a write takes it to this size or beyond (≥ 1). */
  maxSizeBytes: number;
  /** Rotated files kept (name.1 is the newest); older ones are deleted. */
  maxFiles: number;
  /** Called with each write, open or rotation error; the line is lost, the file goes on. */
  onError: (error: Error) => void;
}

export interface RotatingLogFile {
  /** Appends `text` (whole lines) at once; never throws. */
  append(text: string): void;
  close(): void;
}

export function openRotatingLogFile(options: RotatingLogFileOptions): RotatingLogFile {
  const path = join(options.dir, options.name);
  let fd: number | undefined;
  let sizeBytes = 0;
  let closed = false;

  const open = () => {
    fd = openSync(path, 'a');
    sizeBytes = fstatSync(fd).size;
  };
  const closeFd = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  const rotate = () => {
    closeFd();
    shiftRotatedFiles(path, options.maxFiles);
    open();
  };
  const guarded = (step: () => void) => {
    try {
      step();
    } catch (e) {
      options.onError(e instanceof Error ? e : new Error(String(e)));
    }
  };

  guarded(open);
  return {
    append(text) {
      guarded(() => {
        if (closed) throw new Error(`${options.name} is closed`);
        if (fd === undefined) open(); // the open failed before (a full or missing disk): retry
        const bytes = Buffer.from(text, 'utf8');
        writeSync(fd!, bytes);
        sizeBytes += bytes.length;
        if (sizeBytes >= options.maxSizeBytes) rotate();
      });
    },
    close() {
      closed = true;
      guarded(closeFd);
    },
  };
}

/** name.k → name.k+1 from the oldest down, the oldest beyond `maxFiles` deleted, name → name.1. */
function shiftRotatedFiles(path: string, maxFiles: number): void {
  let oldest = 0;
  while (oldest < maxFiles && existsSync(`${path}.${oldest + 1}`)) oldest++;
  if (oldest === maxFiles) {
    rmSync(`${path}.${maxFiles}`, { force: true });
    oldest--;
  }
  for (let k = oldest; k >= 1; k--) renameSync(`${path}.${k}`, `${path}.${k + 1}`);
  if (maxFiles >= 1) renameSync(path, `${path}.1`);
  else rmSync(path, { force: true });
}
