// `airlock gateway`: run the access gateway (login portal, forward-auth), check its config.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadGatewayConfig } from '../../config/gateway-config.ts';
import { AirlockError } from '../../core/error-registry.ts';
import { SystemClock } from '../../runtime/clock.ts';
import { CryptoRandom } from '../../runtime/random.ts';
import { emit } from '../output.ts';

interface ConfigFlags {
  config?: string;
  json?: boolean;
}

export function registerGatewayCommands(program: Command): void {
  const gateway = program
    .command('gateway')
    .description(
      'run the access gateway: login portal (directory password + second factor) and forward-auth for reverse proxies (gateway.cfg)',
    )
    .option('--config <file>', 'the gateway configuration (gateway.cfg)')
    .enablePositionalOptions()
    .addHelpText(
      'after',
      '\nExamples:\n  airlock gateway --config /etc/airlock/gateway.cfg\n  airlock gateway check --config gateway.cfg',
    )
    .action(async (flags: ConfigFlags) => runGateway(requireConfig(flags)));

  gateway
    .command('check')
    .description('validate a configuration: print every error and warning, exit non-zero on errors')
    .option('--config <file>', 'the gateway configuration')
    .option('--json', 'print machine-readable JSON')
    .action((flags: ConfigFlags) => {
      const config = loadGatewayConfig(requireConfig(flags));
      emit(
        flags,
        { ok: true, apps: config.apps.map((a) => a.name), warnings: config.warnings },
        () =>
          [
            `OK: ${config.apps.length} application(s): ${config.apps.map((a) => `[app:${a.name}] ${a.restriction} failmode=${a.failmode}`).join(', ')}`,
            ...config.warnings.map((w) => `warning: ${w}`),
          ].join('\n'),
      );
    });
}

function requireConfig(flags: ConfigFlags): string {
  if (flags.config === undefined)
    throw new AirlockError('CLI_USAGE', undefined, { message: '--config <file> is required' });
  return flags.config;
}

async function runGateway(configPath: string): Promise<void> {
  const config = loadGatewayConfig(configPath);
  const { startGateway } = await import('../../gateway/start-gateway.ts');
  for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`);
  const version = (
    JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;
  const gateway = await startGateway(config, {
    clock: new SystemClock(),
    random: new CryptoRandom(),
    version,
  });
  process.stdout.write(
    [
      `gateway portal ${config.gateway.portalUrl.href} listening on ${gateway.address.address}:${gateway.address.port}`,
      `gateway logs: ${config.main.logStdout ? 'stdout' : config.main.logDir}`,
      `gateway status: http://${gateway.adminAddress.address}:${gateway.adminAddress.port}/status and /metrics`,
      '',
    ].join('\n'),
  );
  const stop = async () => {
    await gateway.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
