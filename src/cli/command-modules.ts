// Which module registers each top-level command of `airlock`. Loading every command's module graph
// (the service, the proxy, the gateway, their dependencies) took most of each invocation's start-up,
// so a run loads only the module of the command it names.
import type { Command } from 'commander';

export type RegisterCommands = (program: Command) => void;

export interface CommandModule {
  /** The top-level commands the module registers (command-modules.test.ts checks them). */
  readonly names: readonly string[];
  readonly load: () => Promise<RegisterCommands>;
}

/** In the order `airlock --help` lists the commands. */
export const COMMAND_MODULES: readonly CommandModule[] = [
  {
    names: ['start'],
    load: async () => (await import('./commands/start-command.ts')).registerStartCommand,
  },
  {
    names: ['serve'],
    load: async () => (await import('./commands/serve-command.ts')).registerServeCommand,
  },
  {
    names: ['proxy'],
    load: async () => (await import('./commands/proxy-commands.ts')).registerProxyCommands,
  },
  {
    names: ['gateway'],
    load: async () => (await import('./commands/gateway-commands.ts')).registerGatewayCommands,
  },
  {
    names: ['drill'],
    load: async () => (await import('./commands/drill-command.ts')).registerDrillCommand,
  },
  {
    names: ['dr-plan'],
    load: async () => (await import('./commands/dr-plan-command.ts')).registerDrPlanCommand,
  },
  {
    names: ['incident', 'notify', 'status'],
    load: async () => (await import('./commands/outage-commands.ts')).registerOutageCommands,
  },
  {
    names: ['radius-test'],
    load: async () => (await import('./commands/radius-test-command.ts')).registerRadiusTestCommand,
  },
  {
    names: ['app'],
    load: async () => (await import('./commands/app-commands.ts')).registerAppCommands,
  },
  {
    names: ['user'],
    load: async () => (await import('./commands/user-commands.ts')).registerUserCommands,
  },
  {
    names: ['group'],
    load: async () => (await import('./commands/group-commands.ts')).registerGroupCommands,
  },
  {
    names: ['token', 'bypass-codes'],
    load: async () => (await import('./commands/token-commands.ts')).registerTokenCommands,
  },
  {
    names: ['device'],
    load: async () => (await import('./commands/device-commands.ts')).registerDeviceCommands,
  },
  {
    names: ['authenticator'],
    load: async () =>
      (await import('./commands/authenticator-commands.ts')).registerAuthenticatorCommands,
  },
  {
    names: ['factors'],
    load: async () => (await import('./commands/factor-commands.ts')).registerFactorCommands,
  },
  {
    names: ['db', 'audit'],
    load: async () => (await import('./commands/db-commands.ts')).registerDbCommands,
  },
  {
    names: ['policy', 'explain', 'lint'],
    load: async () => (await import('./commands/policy-commands.ts')).registerPolicyCommands,
  },
  {
    names: ['emergency'],
    load: async () => (await import('./commands/emergency-commands.ts')).registerEmergencyCommands,
  },
  {
    names: ['admin', 'admin-key'],
    load: async () => (await import('./commands/admin-commands.ts')).registerAdminCommands,
  },
  {
    names: ['secret-key'],
    load: async () => (await import('./commands/secret-key-commands.ts')).registerSecretKeyCommands,
  },
];

/**
 * The modules a run needs: the one registering the command `argv` names first (options come after
 * it), else all of them in order: help, --version, `help <command>`, or a name commander then
 * refuses with its did-you-mean over every command.
 */
export function commandModulesFor(argv: readonly string[]): readonly CommandModule[] {
  const name = argv[2];
  const own = COMMAND_MODULES.find((m) => name !== undefined && m.names.includes(name));
  return own ? [own] : COMMAND_MODULES;
}
