// The `airlock` command: parses arguments and calls into the parts; prints errors plainly.
import { Command, CommanderError } from 'commander';
import { isAirlockError } from '../core/error-registry.ts';
import { commandModulesFor } from './command-modules.ts';
import { versionText } from './version.ts';

/** The program with the commands `argv` needs registered (command-modules.ts). */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('airlock')
    .description(
      'Airlock: self-hosted two-factor authentication service (Duo Auth API v2 compatible) and RADIUS authentication proxy',
    )
    .version(versionText(), '-V, --version', 'print the version and the database schema version')
    .showHelpAfterError('(add --help for usage)')
    // Options after a subcommand belong to it (`airlock proxy check --config f`, not `proxy`'s --config).
    .enablePositionalOptions()
    .exitOverride();
  const registers = await Promise.all(commandModulesFor(argv).map((m) => m.load()));
  for (const register of registers) register(program);
  return program;
}

/** Bad input from the command line: exit status 2, as for a usage error. */
const USAGE_ERRORS: ReadonlySet<string> = new Set([
  'CLI_USAGE',
  'ADMIN_MISSING_PARAMETERS',
  'ADMIN_INVALID_PARAMETERS',
]);

export async function main(argv: string[]): Promise<number> {
  try {
    await (await buildProgram(argv)).parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode; // commander printed the message already
    if (isAirlockError(e)) {
      process.stderr.write(`error: ${e.message}\n`);
      return USAGE_ERRORS.has(e.code) ? 2 : 1;
    }
    const storeCode = (e as { code?: unknown }).code;
    if (
      (typeof storeCode === 'string' && storeCode.startsWith('STORE_')) ||
      (e as Error).name === 'TlsMaterialError'
    ) {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      return 1;
    }
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.AIRLOCK_DEBUG) process.stderr.write(`${(e as Error).stack ?? ''}\n`);
    return 1;
  }
}

const code = await main(process.argv);
// `serve` keeps running on its listening socket; every other command ends here.
if (code !== 0) process.exit(code);
