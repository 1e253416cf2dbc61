// Runs the built `airlock` command as a child process: the service and the admin commands.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const BIN = fileURLToPath(new URL('../../bin/airlock.js', import.meta.url));
const run = promisify(execFile);

export interface RunningService {
  child: ChildProcess;
  port: number;
  output: () => string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
}

/** Starts `airlock serve` (of this checkout, or `bin`) and resolves once it printed `listening on …`. */
export function startServe(
  args: string[],
  env: Record<string, string> = {},
  bin: string = BIN,
): Promise<RunningService> {
  return startUntil(['serve', ...args], env, /listening on https?:\/\/[^\s]+:([0-9]+)/, bin);
}

/**
 * Starts `airlock start` (the service and the proxy) and resolves once it printed its next steps
 * (the admin console's line is the last one).
 */
export function startStart(
  args: string[],
  env: Record<string, string> = {},
): Promise<RunningService> {
  return startUntil(
    ['start', ...args],
    env,
    /listening on https?:\/\/[^\s]+:([0-9]+)[\s\S]*Next steps[\s\S]*admin create root.*\n/,
  );
}

/** Runs a long-lived command until its output matches `ready`, whose group 1 is the port. */
export function startUntil(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  bin: string = BIN,
): Promise<RunningService> {
  // AIRLOCK_CPU_PROF_DIR=DIR profiles each long-lived command (written when it exits cleanly).
  const profile = process.env.AIRLOCK_CPU_PROF_DIR;
  const nodeFlags = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`];
  const child = spawn(process.execPath, [...nodeFlags, bin, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const name = `airlock ${args[0]}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} was not ready within 20 s:\n${out}`));
    }, 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), output: () => out, exited });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${out}`));
    });
  });
}

export async function stopServe(service: RunningService): Promise<void> {
  if (service.child.exitCode === null) service.child.kill('SIGTERM');
  await service.exited;
}

/** Runs an admin command; resolves with stdout, rejects with stderr on a non-zero exit. */
export async function airlock(args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
    });
    return stdout;
  } catch (e) {
    const err = e as { code?: number; stderr?: string; stdout?: string };
    throw new Error(
      `airlock ${args.join(' ')} exited ${err.code}: ${err.stderr ?? ''}${err.stdout ?? ''}`,
      { cause: e },
    );
  }
}

/**
 * Runs a command expected to fail; resolves with its exit code, stderr and stdout. One still
 * running after 20 s (e.g. a `serve` that should have refused to start) is killed: code -1.
 */
/** Runs an admin command that must succeed; resolves with stdout and stderr (the advisor's warnings). */
export async function airlockOutput(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
  } catch (e) {
    const err = e as { code?: number; stderr?: string; stdout?: string };
    throw new Error(
      `airlock ${args.join(' ')} exited ${err.code}: ${err.stderr ?? ''}${err.stdout ?? ''}`,
      { cause: e },
    );
  }
}

/** Runs a command expected to fail; resolves with its exit code, stderr and stdout. */
export async function airlockFails(
  args: string[],
): Promise<{ code: number; stderr: string; stdout: string }> {
  try {
    await run(process.execPath, [BIN, ...args], { timeout: 20_000, killSignal: 'SIGKILL' });
  } catch (e) {
    const err = e as { code?: number | null; stderr?: string; stdout?: string };
    return { code: err.code ?? -1, stderr: err.stderr ?? '', stdout: err.stdout ?? '' };
  }
  throw new Error(`airlock ${args.join(' ')} succeeded but should have failed`);
}

export async function airlockJson<T>(args: string[], env: Record<string, string> = {}): Promise<T> {
  return JSON.parse(await airlock([...args, '--json'], env)) as T;
}
