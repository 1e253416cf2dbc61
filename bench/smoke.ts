// npm run bench:smoke — every benchmark in its seconds-long --smoke mode, one after the other, with
// the same self-checks as a full run (run-checks.ts). Needs the built command (npm run build);
// scripts/test.sh runs it after the node tests. Exits non-zero when any benchmark's run is invalid.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES = ['authapi', 'radius', 'ldap', 'outage', 'push', 'soak', 'nodes'] as const;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function runBench(name: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', `bench/${name}.ts`, '--smoke'], {
    cwd: ROOT,
    env: { ...process.env, BENCH_SMOKE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

const failed: string[] = [];
for (const name of BENCHES) {
  const started = performance.now();
  const { code, output } = await runBench(name);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const last = output.trimEnd().split('\n').at(-1) ?? '';
  if (code === 0) {
    console.log(`ok   bench:${name} (${seconds} s): ${last}`);
  } else {
    failed.push(name);
    console.log(`FAIL bench:${name} (${seconds} s, exit ${code}):\n${output.trimEnd()}\n`);
  }
}
if (failed.length > 0) {
  console.log(
    `bench:smoke: ${failed.length} benchmark(s) failed their own checks: ${failed.join(', ')}`,
  );
  process.exitCode = 1;
}
