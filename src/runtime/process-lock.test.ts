import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { takeProcessLock } from './process-lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'airlock-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('process lock', () => {
  it('is taken (0600, with the pid), taken again by the same process, and released', () => {
    const path = join(dir, 'a.lock');
    const first = takeProcessLock(path);
    assert.ok(first.ok);
    assert.equal(readFileSync(path, 'utf8').trim(), String(process.pid));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.ok(takeProcessLock(path).ok);
    first.release();
    assert.equal(existsSync(path), false);
  });

  it('takes over a lock whose process is gone, or whose pid now runs another program', async () => {
    const gone = join(dir, 'gone.lock');
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => child.on('exit', resolve));
    writeFileSync(gone, `${child.pid}\n`);
    assert.ok(takeProcessLock(gone).ok);

    const recycled = join(dir, 'recycled.lock');
    const sleeper = spawn('sleep', ['30']);
    try {
      writeFileSync(recycled, `${sleeper.pid}\n`);
      assert.ok(takeProcessLock(recycled).ok);
    } finally {
      sleeper.kill();
    }
  });

  it('refuses while a live Airlock process holds it, naming its pid', async () => {
    const path = join(dir, 'held.lock');
    // A process whose command line names airlock, as `node bin/airlock.js serve` does.
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', 'airlock-test']);
    try {
      await new Promise((resolve) => holder.on('spawn', resolve));
      writeFileSync(path, `${holder.pid}\n`);
      const taken = takeProcessLock(path);
      assert.deepEqual(taken, { ok: false, holder: holder.pid });
    } finally {
      holder.kill();
    }
  });
});
