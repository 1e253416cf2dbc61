// `npm run fuzz`: runs the coverage-guided fuzz targets of test/fuzz/targets.ts (see docs/security.md).
import { register } from 'node:module';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { installCoverage, runFuzzer, type FuzzReport } from './engine.ts';

const USAGE = `Usage: npm run fuzz -- [--seconds N] [--target NAME]... [options]

Runs each fuzz target for N seconds after replaying its seed corpus (test/fuzz/corpus/<target>/).
Exits 1 on the first finding, whose input is written to <findings-dir>/<target>/.

Options:
  --seconds N        time per target, after the seeds (default 10)
  --target NAME      run only this target (repeatable); --list shows the names
  --seed N           random seed of the mutator (default: from the clock)
  --save-corpus DIR  also write every input that found new coverage to DIR/<target>/
  --findings-dir DIR where failing inputs go (default .tmp/fuzz-findings)
  --json             print one JSON report per target instead of a summary line
  --list             list the targets and their invariants
  --help             this text
`;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    target: { type: 'string', multiple: true },
    seed: { type: 'string' },
    'save-corpus': { type: 'string' },
    'findings-dir': { type: 'string', default: '.tmp/fuzz-findings' },
    json: { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds < 0) {
  process.stderr.write(`--seconds must be a number of seconds, got ${values.seconds}\n${USAGE}`);
  process.exit(2);
}

// The counters must exist, and the hooks be in place, before the first src/ module loads.
installCoverage();
register('./coverage-hooks.ts', import.meta.url);
const { FUZZ_TARGETS } = await import('./targets.ts');

if (values.list) {
  for (const t of FUZZ_TARGETS) process.stdout.write(`${t.name}\n  ${t.description}\n`);
  process.exit(0);
}
const unknown = (values.target ?? []).filter((n) => !FUZZ_TARGETS.some((t) => t.name === n));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown target ${unknown.join(', ')}; targets: ${FUZZ_TARGETS.map((t) => t.name).join(', ')}\n`,
  );
  process.exit(2);
}
const chosen = values.target
  ? FUZZ_TARGETS.filter((t) => values.target!.includes(t.name))
  : FUZZ_TARGETS;

const corpusRoot = resolve(import.meta.dirname, 'corpus');
const randomSeed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 32;
const reports: FuzzReport[] = [];
for (const target of chosen) {
  const report = runFuzzer(target, {
    seconds,
    seedDir: resolve(corpusRoot, target.name),
    findingsDir: resolve(values['findings-dir']),
    saveCorpusDir: values['save-corpus'] ? resolve(values['save-corpus']) : undefined,
    randomSeed,
    slowInputMs: 1000,
    memoryLimitBytes: 256 * 1024 * 1024,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  reports.push(report);
  if (values.json) process.stdout.write(`${JSON.stringify({ ...report, randomSeed })}\n`);
  else {
    const rate = Math.round(report.executions / Math.max(report.seconds, 0.1));
    process.stdout.write(
      `${report.finding ? 'FAIL' : 'ok  '} ${target.name}: ${report.executions} inputs in ${report.seconds} s (${rate}/s), ${report.seeds} seeds, corpus ${report.corpusSize}, edges ${report.edgesCovered}\n`,
    );
  }
  if (report.finding) process.exit(1);
}
