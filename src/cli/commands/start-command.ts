// `airlock start` (what `npm start` runs): the service and the proxy together on embedded defaults.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ConfigError, parseAuthProxyConfig } from '../../config/authproxy-config.ts';
import { createApplication } from '../../operations/application-operations.ts';
import { launchProxy } from './proxy-commands.ts';
import { runService, serviceOptions, stopOnSignals, type ServeFlags } from './serve-command.ts';

/** The application `airlock start` creates for its example proxy. */
export const EXAMPLE_APPLICATION = 'example-radius';
const EXAMPLE_CONFIG = fileURLToPath(new URL('../../../examples/authproxy.cfg', import.meta.url));
/** Values in examples/authproxy.cfg that `start` fills in; a config without them is used as it is. */
const PLACEHOLDER_IKEY = 'DIXXXXXXXXXXXXXXXXXX';

export function registerStartCommand(program: Command): void {
  serviceOptions(
    program
      .command('start')
      .description('run the service and the RADIUS proxy together (what `npm start` runs)')
      .option('--proxy-config <file>', 'proxy configuration', EXAMPLE_CONFIG),
  )
    .addHelpText(
      'after',
      `\nWith the default ${'examples/authproxy.cfg'}, the proxy's ikey/skey are those of the application\n` +
        `"${EXAMPLE_APPLICATION}", created on first start, and it trusts DATA_DIR/tls/ca.pem.`,
    )
    .action(async (flags: ServeFlags & { proxyConfig: string }) => start(flags));
}

async function start(flags: ServeFlags & { proxyConfig: string }): Promise<void> {
  const service = await runService(flags);
  try {
    const configPath = resolve(flags.proxyConfig);
    let text = readFileSync(configPath, 'utf8');
    if (text.includes(PLACEHOLDER_IKEY)) {
      const app = await exampleApplication(service.ctx);
      text = fillExample(text, {
        ikey: app.ikey,
        skey: app.skey,
        port: service.port,
        caFile: join(service.dataDir, 'tls', 'ca.pem'),
      });
    }
    const parsed = parseAuthProxyConfig(text, {
      configDir: dirname(configPath),
      readFile: (p) => readFileSync(p, 'utf8'),
    });
    if (!parsed.ok) throw new ConfigError(configPath, parsed.errors, parsed.warnings);
    const proxy = await launchProxy(parsed.config);
    const radius = parsed.config.servers[0];
    const lines = [...service.banner, ...proxy.banner, ''];
    lines.push(
      'Next steps, in another terminal:',
      '  ./bin/airlock.js user create alice',
      '  ./bin/airlock.js token add-totp alice      # scan the QR code with an authenticator app',
    );
    if (radius) {
      const secret = radius.radiusClients[0]?.secret ?? 'SECRET';
      lines.push(
        '  # then log in through the proxy as a VPN would (the password is the 6-digit code):',
        `  echo "User-Name = alice, User-Password = 123456, Message-Authenticator = 0x00" | radclient -x 127.0.0.1:${radius.port} auth '${secret}'`,
        '  # or push: give alice an authenticator (open the printed link, or use the CLI one),',
        '  # then send the password "push" and approve on the device:',
        '  ./bin/airlock.js device enroll alice',
        `  echo "User-Name = alice, User-Password = push, Message-Authenticator = 0x00" | radclient -x -t 30 127.0.0.1:${radius.port} auth '${secret}'`,
      );
    }
    lines.push(
      '  # the admin console (https://localhost:…/admin/): create an administrator first',
      '  ./bin/airlock.js admin create root',
    );
    process.stdout.write(`${lines.join('\n')}\n`);
    stopOnSignals(service.logger, [() => proxy.close(), () => service.close()]);
  } catch (e) {
    await service.close();
    throw e;
  }
}

async function exampleApplication(ctx: Awaited<ReturnType<typeof runService>>['ctx']) {
  const existing = await ctx.store.getApplication(EXAMPLE_APPLICATION);
  if (existing) return existing;
  return createApplication(ctx, {
    name: EXAMPLE_APPLICATION,
    type: 'radius',
    newUserPolicy: 'enroll',
    restrictionLevel: 'restrictive',
    rateLimitPerSecond: 50,
  });
}

/** Puts the example application's keys, the service's port and CA into examples/authproxy.cfg. */
export function fillExample(
  text: string,
  values: { ikey: string; skey: string; port: number; caFile: string },
): string {
  return text
    .split('\n')
    .map((line) => {
      const key = /^\s*([a-z_]+)\s*[=:]/.exec(line)?.[1];
      switch (key) {
        case 'ikey':
          return `ikey=${values.ikey}`;
        case 'skey':
          return `skey=${values.skey}`;
        case 'api_port':
          return `api_port=${values.port}`;
        case 'api_ca_file':
          return `api_ca_file=${values.caFile}`;
        default:
          return line;
      }
    })
    .join('\n');
}
