// CI smoke pass of the fuzz targets: the seed corpus (regressions included) plus two seconds of
// mutation per target. Any finding fails the test with the target's report.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';

const FUZZ = resolve(import.meta.dirname, 'fuzz.ts');

describe('fuzz targets (smoke)', () => {
  it('replay their seeds and run two seconds each without a finding', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', FUZZ, '--seconds', '2', '--seed', '1', '--json'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(run.status, 0, `npm run fuzz found something:\n${run.stdout}\n${run.stderr}`);
    const reports = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { target: string; seeds: number; executions: number });
    assert.ok(reports.length >= 9, run.stdout);
    for (const r of reports) {
      assert.ok(r.seeds > 0, `${r.target} has no seed corpus`);
      assert.ok(r.executions > r.seeds * 10, `${r.target} barely ran: ${JSON.stringify(r)}`);
    }
  });
});
