// Options and helpers every admin command shares.
import { type Command, InvalidArgumentError } from 'commander';
import { AirlockError } from '../../core/error-registry.ts';

export interface CommonFlags {
  dataDir?: string;
  databaseUrl?: string;
  json?: boolean;
}

export function commonOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'data directory (env AIRLOCK_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'postgres://… to use PostgreSQL (env AIRLOCK_DATABASE_URL)')
    .option('--json', 'print machine-readable JSON');
}

export function choice<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  flag: string,
): T {
  if (value !== undefined && (allowed as readonly string[]).includes(value)) return value as T;
  throw new AirlockError('CLI_USAGE', undefined, {
    message: `${flag} must be one of ${allowed.join(', ')}; got "${value ?? ''}"`,
  });
}

export function nonNegativeInt(value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return Number(value);
}

export function positiveInt(value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('must be a whole number ≥ 1');
  return Number(value);
}

/** `a, b,,c` -> ['a', 'b', 'c']: the comma-separated lists of flags. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
