// The proxy's log files: synchronous appends, rotated by size into name.1 … name.N.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openRotatingLogFile } from './rotating-log-file.ts';

const withDir = (run: (dir: string) => void) => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-log-file-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

void describe('rotating log file', () => {
  void it('appends at once, rotates by size, keeps maxFiles rotated files, newest in .1', () => {
    withDir((dir) => {
      const errors: Error[] = [];
      const file = openRotatingLogFile({
        dir,
        name: 'a.log',
        maxSizeBytes: 10,
        maxFiles: 2,
        onError: (e) => errors.push(e),
      });
      file.append('line-1\n');
      assert.equal(readFileSync(join(dir, 'a.log'), 'utf8'), 'line-1\n', 'in the file at once');
      for (const n of [2, 3, 4, 5, 6, 7]) file.append(`line-${n}\n`);
      file.close();
      assert.deepEqual(readdirSync(dir).sort(), ['a.log', 'a.log.1', 'a.log.2']);
      assert.equal(readFileSync(join(dir, 'a.log'), 'utf8'), 'line-7\n');
      assert.equal(readFileSync(join(dir, 'a.log.1'), 'utf8'), 'line-5\nline-6\n');
      assert.equal(readFileSync(join(dir, 'a.log.2'), 'utf8'), 'line-3\nline-4\n');
      assert.deepEqual(errors, []);
    });
  });

  void it('continues an existing file and counts its size', () => {
    withDir((dir) => {
      const options = { dir, name: 'a.log', maxSizeBytes: 10, maxFiles: 1, onError: () => {} };
      const first = openRotatingLogFile(options);
      first.append('12345\n');
      first.close();
      const second = openRotatingLogFile(options);
      second.append('6789\n');
      second.close();
      assert.equal(readFileSync(join(dir, 'a.log.1'), 'utf8'), '12345\n6789\n');
      assert.equal(readFileSync(join(dir, 'a.log'), 'utf8'), '');
    });
  });

  void it('reports a failing write instead of throwing', () => {
    withDir((dir) => {
      const errors: Error[] = [];
      const file = openRotatingLogFile({
        dir: join(dir, 'missing'),
        name: 'a.log',
        maxSizeBytes: 10,
        maxFiles: 1,
        onError: (e) => errors.push(e),
      });
      file.append('lost\n');
      file.close();
      file.append('after close\n');
      assert.equal(errors.length, 3, errors.map((e) => e.message).join('; '));
      assert.match(errors[2]!.message, /closed/);
    });
  });
});
