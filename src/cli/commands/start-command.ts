// `airlock start` (what `npm start` runs): the service and the proxy together on embedded defaults.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ConfigError, parseAuthProxyConfig } from '../../config/authproxy-config.ts';
import {
  RADIUS_SECRET_MIN_LENGTH,
  radiusClientFor,
  type AuthProxyConfig,
} from '../../config/authproxy-config-model.ts';
import { createApplication } from '../../operations/application-operations.ts';
import { generateSecretKey } from '../../runtime/random.ts';
import { launchProxy } from './proxy-commands.ts';
import { runService, serviceOptions, stopOnSignals, type ServeFlags } from './serve-command.ts';

/** The application `airlock start` creates for its example proxy. */
export const EXAMPLE_APPLICATION = 'example-radius';
const EXAMPLE_CONFIG = fileURLToPath(new URL('../../../examples/authproxy.cfg', import.meta.url));
/** Values in examples/authproxy.cfg that `start` fills in; a config without them is used as it is. */
const PLACEHOLDER_IKEY = 'DIXXXXXXXXXXXXXXXXXX';
/** The proxy configuration `start` writes into the data directory on first start. */
export const START_CONFIG_FILE = 'authproxy.cfg';
/** Letters and digits: about 190 bits, and safe to paste into a shell or a VPN's form. */
const START_SECRET_LENGTH = 32;
const START_CONFIG_HEADER =
  `; Written by \`airlock start\` on first start, from examples/authproxy.cfg: the keys of the\n` +
  `; application "${EXAMPLE_APPLICATION}", this data directory, and a random RADIUS shared secret\n` +
  '; (radius_secret_1; give it to your VPN). `airlock start` points api_port at its own service on\n' +
  '; every start. Every key: docs/proxy-config.md.\n\n';

export function registerStartCommand(program: Command): void {
  serviceOptions(
    program
      .command('start')
      .description('run the service and the RADIUS proxy together (what `npm start` runs)')
      .option(
        '--proxy-config <file>',
        `proxy configuration (default: DATA_DIR/${START_CONFIG_FILE}, written on first start)`,
      ),
  )
    .addHelpText(
      'after',
      `\nWithout --proxy-config, the first start writes DATA_DIR/${START_CONFIG_FILE} (mode 0600) from\n` +
        `examples/authproxy.cfg: the ikey/skey of the application "${EXAMPLE_APPLICATION}" (created then),\n` +
        'DATA_DIR/tls/ca.pem, and a random RADIUS shared secret (never printed: give it to your VPN from\n' +
        'that file). Later starts read that file (api_port always follows --listen). Try a login with\n' +
        '`airlock radius-test USER CODE --proxy-config DATA_DIR/authproxy.cfg`.',
    )
    .action(async (flags: StartFlags) => start(flags));
}

interface StartFlags extends ServeFlags {
  proxyConfig?: string;
}

async function start(flags: StartFlags): Promise<void> {
  const service = await runService(flags);
  try {
    const configPath = resolve(flags.proxyConfig ?? join(service.dataDir, START_CONFIG_FILE));
    const generated =
      flags.proxyConfig === undefined && (await writeStartConfig(configPath, service));
    const text = await startConfigText(configPath, service, flags.proxyConfig === undefined);
    const parsed = parseAuthProxyConfig(text, {
      configDir: dirname(configPath),
      readFile: (p) => readFileSync(p, 'utf8'),
    });
    if (!parsed.ok) throw new ConfigError(configPath, parsed.errors, parsed.warnings);
    // The proxy reaches this service in-process: no TLS, HTTP or signing (api-transport.ts).
    const proxy = await launchProxy(parsed.config, undefined, {
      port: service.port,
      api: service.localAuthApi,
    });
    const lines = [...service.banner, ...proxy.banner, ''];
    if (generated) lines.push(`proxy configuration written to ${configPath} (mode 0600)`, '');
    lines.push(...nextSteps(flags, service.dataDir, configPath, parsed.config.servers[0]));
    process.stdout.write(`${lines.join('\n')}\n`);
    stopOnSignals(service.logger, [() => proxy.close(), () => service.close()]);
  } catch (e) {
    await service.close();
    throw e;
  }
}

type RunningService = Awaited<ReturnType<typeof runService>>;

/**
 * The first start without --proxy-config: DATA_DIR/authproxy.cfg from the example, filled in,
 * with a random shared secret from the service's Random. True when it wrote the file.
 */
async function writeStartConfig(path: string, service: RunningService): Promise<boolean> {
  if (existsSync(path)) return false;
  const app = await exampleApplication(service.ctx);
  const text = fillExample(readFileSync(EXAMPLE_CONFIG, 'utf8'), {
    ikey: app.ikey,
    skey: app.skey,
    port: service.port,
    caFile: join(service.dataDir, 'tls', 'ca.pem'),
    logDir: join(service.dataDir, 'proxy-log'),
    stateDir: join(service.dataDir, 'proxy-state'),
    radiusSecret: generateSecretKey(service.ctx.random, START_SECRET_LENGTH),
  });
  // wx: never overwrite a file that appeared meanwhile; the skey and the secret stay private.
  writeFileSync(path, START_CONFIG_HEADER + text, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return true;
}

/**
 * The configuration text the proxy runs: start's own file with api_port pointing at this
 * service; a file still holding the example's placeholders (an older version's way, or
 * `--proxy-config examples/authproxy.cfg`) filled in memory as before; any other file as it is.
 */
async function startConfigText(
  path: string,
  service: RunningService,
  ownFile: boolean,
): Promise<string> {
  const text = readFileSync(path, 'utf8');
  if (text.includes(PLACEHOLDER_IKEY)) {
    const app = await exampleApplication(service.ctx);
    return fillExample(text, {
      ikey: app.ikey,
      skey: app.skey,
      port: service.port,
      caFile: join(service.dataDir, 'tls', 'ca.pem'),
    });
  }
  return ownFile ? fillExample(text, { port: service.port }) : text;
}

/** What to try next: a user with a TOTP token, a login through the proxy, the console. */
function nextSteps(
  flags: StartFlags,
  dataDir: string,
  configPath: string,
  radius: AuthProxyConfig['servers'][number] | undefined,
): string[] {
  const cli = `./bin/airlock.js`;
  const data = flags.dataDir === undefined ? '' : ` --data-dir ${shellQuote(dataDir)}`;
  const lines = [
    'Next steps, in another terminal:',
    `  ${cli} user create alice${data}`,
    `  ${cli} token add-totp alice${data}      # scan the QR code with an authenticator app`,
  ];
  if (radius) {
    // The shared secret is never printed (a service's output ends up in logs): radius-test reads
    // it from the configuration, radclient gets it from the file through the shell.
    const client = radiusClientFor(radius.radiusClients, '127.0.0.1');
    const config = shellQuote(configPath);
    if (client === undefined) {
      lines.push(
        `  # no radius_ip_N in [${radius.section}] of ${configPath} matches 127.0.0.1: add this host`,
        '  # (radius_ip_N=127.0.0.1 with its radius_secret_N) to try a login from here',
      );
      return [...lines, ...consoleSteps(cli, data)];
    }
    const secret = client.secret;
    const server = `127.0.0.1:${radius.port}`;
    // start's own file has `radius_secret_N=…` on one line; any other file: the admin fills it in.
    const secretWord =
      flags.proxyConfig === undefined
        ? `"$(sed -n 's/^radius_secret_${client.index}=//p' ${config})"`
        : `SECRET   # radius_secret_${client.index} of [${radius.section}]`;
    lines.push(
      '  # then log in through the proxy as a VPN would (the password is the 6-digit code):',
      `  ${cli} radius-test alice 123456 --proxy-config ${config}`,
      "  # or with FreeRADIUS's radclient (apt-get install freeradius-utils), the secret from the file:",
      `  echo "User-Name = alice, User-Password = 123456, Message-Authenticator = 0x00" | radclient -x ${server} auth ${secretWord}`,
      '  # or push: give alice an authenticator (open the printed link, or use the CLI one),',
      '  # then send the password "push" and approve on the device:',
      `  ${cli} device enroll alice${data}`,
      `  ${cli} radius-test alice push --proxy-config ${config} --timeout 60`,
    );
    if (secret.length < RADIUS_SECRET_MIN_LENGTH) {
      lines.push(
        `  # the shared secret in ${configPath} is weak (shorter than ${RADIUS_SECRET_MIN_LENGTH}): put a long random one`,
        `  # there (and in your VPN), or start without --proxy-config to get DATA_DIR/${START_CONFIG_FILE} with one`,
      );
    }
  }
  return [...lines, ...consoleSteps(cli, data)];
}

/** The last next step: the admin console. */
function consoleSteps(cli: string, data: string): string[] {
  return [
    '  # the admin console (https://localhost:…/admin/): create an administrator first',
    `  ${cli} admin create root${data}`,
  ];
}

/** A word for a POSIX shell: as it is when safe, else in single quotes. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

async function exampleApplication(ctx: RunningService['ctx']) {
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

/** What `fillExample` puts in; keys left out stay as they are. */
export interface ExampleValues {
  ikey?: string;
  skey?: string;
  port?: number;
  caFile?: string;
  logDir?: string;
  stateDir?: string;
  radiusSecret?: string;
}

/**
 * Puts the example application's keys, the service's port and CA, the data directory's log and
 * state folders and a shared secret into examples/authproxy.cfg's lines.
 */
export function fillExample(text: string, values: ExampleValues): string {
  const replacements: Record<string, string | number | undefined> = {
    ikey: values.ikey,
    skey: values.skey,
    api_port: values.port,
    api_ca_file: values.caFile,
    log_dir: values.logDir,
    state_dir: values.stateDir,
    radius_secret_1: values.radiusSecret,
  };
  return text
    .split('\n')
    .map((line) => {
      const key = /^\s*([a-z_0-9]+)\s*[=:]/.exec(line)?.[1];
      const value = key === undefined ? undefined : replacements[key];
      return value === undefined ? line : `${key}=${value}`;
    })
    .join('\n');
}
