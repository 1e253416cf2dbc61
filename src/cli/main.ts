// The `airlock` command: parses arguments and calls into the parts; prints errors plainly.
import { Command, CommanderError } from 'commander';
import { isAirlockError } from '../core/error-registry.ts';
import { registerAdminCommands } from './commands/admin-commands.ts';
import { registerAppCommands } from './commands/app-commands.ts';
import { registerAuthenticatorCommands } from './commands/authenticator-commands.ts';
import { registerDbCommands } from './commands/db-commands.ts';
import { registerDeviceCommands } from './commands/device-commands.ts';
import { registerGatewayCommands } from './commands/gateway-commands.ts';
import { registerFactorCommands } from './commands/factor-commands.ts';
import { registerDrillCommand } from './commands/drill-command.ts';
import { registerDrPlanCommand } from './commands/dr-plan-command.ts';
import { registerOutageCommands } from './commands/outage-commands.ts';
import { registerEmergencyCommands } from './commands/emergency-commands.ts';
import { registerGroupCommands } from './commands/group-commands.ts';
import { registerPolicyCommands } from './commands/policy-commands.ts';
import { registerProxyCommands } from './commands/proxy-commands.ts';
import { registerRadiusTestCommand } from './commands/radius-test-command.ts';
import { registerSecretKeyCommands } from './commands/secret-key-commands.ts';
import { registerServeCommand } from './commands/serve-command.ts';
import { registerStartCommand } from './commands/start-command.ts';
import { registerTokenCommands } from './commands/token-commands.ts';
import { registerUserCommands } from './commands/user-commands.ts';
import { versionText } from './version.ts';

export function buildProgram(): Command {
  const program = new Command('airlock')
    .description(
      'Airlock: self-hosted two-factor authentication service (Duo Auth API v2 compatible) and RADIUS authentication proxy',
    )
    .version(versionText(), '-V, --version', 'print the version and the database schema version')
    .showHelpAfterError('(add --help for usage)')
    // Options after a subcommand belong to it (`airlock proxy check --config f`, not `proxy`'s --config).
    .enablePositionalOptions()
    .exitOverride();
  registerStartCommand(program);
  registerServeCommand(program);
  registerProxyCommands(program);
  registerGatewayCommands(program);
  registerDrillCommand(program);
  registerDrPlanCommand(program);
  registerOutageCommands(program);
  registerRadiusTestCommand(program);
  registerAppCommands(program);
  registerUserCommands(program);
  registerGroupCommands(program);
  registerTokenCommands(program);
  registerDeviceCommands(program);
  registerAuthenticatorCommands(program);
  registerFactorCommands(program);
  registerDbCommands(program);
  registerPolicyCommands(program);
  registerEmergencyCommands(program);
  registerAdminCommands(program);
  registerSecretKeyCommands(program);
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
    await buildProgram().parseAsync(argv);
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
