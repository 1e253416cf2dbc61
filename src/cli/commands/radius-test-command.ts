// `airlock radius-test`: one login through a RADIUS server (the proxy) as a VPN would send it,
// with Message-Authenticator; no radclient needed. Exit 0 Accept, 1 Reject/Challenge, 2 usage,
// 3 no verified answer in time.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { InvalidArgumentError, type Command } from 'commander';
import { loadAuthProxyConfig } from '../../config/authproxy-config.ts';
import { radiusClientFor } from '../../config/authproxy-config-model.ts';
import { AirlockError } from '../../core/error-registry.ts';
import { isIpAddress } from '../../core/ip-ranges.ts';
import { sendRadiusLogin, type RadiusLoginAnswer } from '../../proxy/radius-login-client.ts';
import { CryptoRandom } from '../../runtime/random.ts';
import { emit } from '../output.ts';

/** Where `airlock start`'s example proxy listens (examples/authproxy.cfg). */
export const DEFAULT_RADIUS_SERVER = '127.0.0.1:18120';
const DEFAULT_TIMEOUT_SECONDS = 10;
const RADIUS_PORT = 1812;

/** The exit status per outcome; 2 (usage) comes from main's CLI_USAGE handling. */
export const RADIUS_TEST_EXIT = { accept: 0, reject: 1, usage: 2, timeout: 3 } as const;

interface RadiusTestFlags {
  server?: string;
  secret?: string;
  secretFile?: string;
  proxyConfig?: string;
  timeout: number;
  state?: string;
  json?: boolean;
}

const usage = (message: string) => new AirlockError('CLI_USAGE', undefined, { message });

export function registerRadiusTestCommand(program: Command): void {
  program
    .command('radius-test')
    .description(
      'send one RADIUS Access-Request (PAP, with Message-Authenticator) and print the answer: a login through the proxy as a VPN would make it',
    )
    .argument('<user>', 'User-Name')
    .argument(
      '<password>',
      'User-Password: a 6-digit code, "push", "phone", "sms", or primary password[,factor]',
    )
    .option(
      '--server <host:port>',
      `the RADIUS server (the proxy; default ${DEFAULT_RADIUS_SERVER}, or the port of --proxy-config)`,
    )
    .option('--secret <secret>', 'the shared secret (radius_secret_N of authproxy.cfg)')
    .option(
      '--secret-file <file>',
      'read the shared secret from a file (keeps it out of the process list)',
    )
    .option(
      '--proxy-config <file>',
      "take the shared secret (and the port) from the proxy's authproxy.cfg, as a NAS on this host would use them",
    )
    .option(
      '--timeout <seconds>',
      'how long to wait for the answer (a push waits for the device: use 60)',
      positiveSeconds,
      DEFAULT_TIMEOUT_SECONDS,
    )
    .option('--state <hex>', 'answer an Access-Challenge: its State, as printed (hex)')
    .option('--json', 'print machine-readable JSON')
    .addHelpText(
      'after',
      '\nExit status: 0 Access-Accept, 1 Access-Reject or Access-Challenge, 2 usage error,\n' +
        '3 no verified answer within --timeout (proxy not running, or a wrong shared secret:\n' +
        'an answer signed with another secret is ignored, as a NAS would).\n' +
        '\nExamples (`airlock start` keeps its secret in DATA_DIR/authproxy.cfg):\n' +
        '  airlock radius-test alice 123456 --proxy-config DATA_DIR/authproxy.cfg\n' +
        '  airlock radius-test alice 123456 --secret S\n' +
        '  airlock radius-test alice push --secret-file /etc/airlock/radius-secret --timeout 60\n' +
        '  airlock radius-test alice 123456 --server 10.0.0.5:1812 --secret S --json\n' +
        "\nThe same with FreeRADIUS's radclient (apt-get install freeradius-utils):\n" +
        '  echo "User-Name = alice, User-Password = 123456, Message-Authenticator = 0x00" | radclient -x 127.0.0.1:18120 auth S',
    )
    .action(async (user: string, password: string, flags: RadiusTestFlags) =>
      radiusTest(user, password, flags),
    );
}

async function radiusTest(user: string, password: string, flags: RadiusTestFlags): Promise<void> {
  const fromConfig =
    flags.proxyConfig === undefined ? undefined : proxyConfigSecret(flags.proxyConfig, flags);
  const server =
    flags.server === undefined && fromConfig !== undefined
      ? { host: '127.0.0.1', port: fromConfig.port }
      : parseServer(flags.server ?? DEFAULT_RADIUS_SERVER);
  const secret = fromConfig?.secret ?? readSecret(flags);
  const state = flags.state === undefined ? undefined : parseState(flags.state);
  const answer = await sendRadiusLogin({
    host: server.host,
    port: server.port,
    secret,
    username: user,
    password,
    ...(state ? { state } : {}),
    timeoutMs: flags.timeout * 1000,
    random: new CryptoRandom(),
  });
  const result = describeAnswer(answer);
  emit(flags, { server: `${server.host}:${server.port}`, ...result }, () =>
    formatAnswer(result, flags.timeout),
  );
  process.exitCode =
    result.code === 'Access-Accept'
      ? RADIUS_TEST_EXIT.accept
      : result.code === 'timeout'
        ? RADIUS_TEST_EXIT.timeout
        : RADIUS_TEST_EXIT.reject;
}

interface RadiusTestResult {
  code: 'Access-Accept' | 'Access-Reject' | 'Access-Challenge' | 'timeout';
  replyMessage: string | null;
  /** An Access-Challenge's State, hex, for `--state`. */
  state: string | null;
}

function describeAnswer(answer: RadiusLoginAnswer): RadiusTestResult {
  if (answer.kind === 'timeout') return { code: 'timeout', replyMessage: null, state: null };
  return {
    code: answer.code,
    replyMessage: answer.replyMessage ?? null,
    state: answer.code === 'Access-Challenge' && answer.state ? answer.state.toString('hex') : null,
  };
}

function formatAnswer(result: RadiusTestResult, timeoutSeconds: number): string {
  if (result.code === 'timeout') {
    return (
      `no answer within ${timeoutSeconds} s (is the proxy running on --server? ` +
      'is the shared secret right? an answer signed with another secret is ignored)'
    );
  }
  const lines = [
    result.replyMessage === null ? result.code : `${result.code}: ${result.replyMessage}`,
  ];
  if (result.state !== null) lines.push(`answer with --state ${result.state}`);
  return lines.join('\n');
}

/** HOST:PORT, [IPv6]:PORT, or HOST alone (port 1812). */
export function parseServer(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(text) ?? /^([^:[\]]+)(?::([0-9]+))?$/.exec(text);
  const host = m?.[1];
  const port = m?.[2] === undefined ? RADIUS_PORT : Number(m[2]);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    // A bare IPv6 address, without brackets and port, is fine too.
    if (isIP(text) === 6) return { host: text, port: RADIUS_PORT };
    throw usage(`--server takes HOST:PORT (e.g. ${DEFAULT_RADIUS_SERVER}); got "${text}"`);
  }
  return { host, port };
}

/**
 * The shared secret a NAS at --server's address (default 127.0.0.1) would use with the first
 * RADIUS server section of an authproxy.cfg, and that section's port.
 */
function proxyConfigSecret(path: string, flags: RadiusTestFlags): { secret: string; port: number } {
  if (flags.secret !== undefined || flags.secretFile !== undefined)
    throw usage('give one of --secret, --secret-file or --proxy-config');
  const config = loadAuthProxyConfig(path);
  const section = config.servers.find((s) => s.radiusClients.length > 0);
  if (section === undefined)
    throw usage(`${path} has no RADIUS server section with radius_ip_N/radius_secret_N`);
  const host = flags.server === undefined ? '127.0.0.1' : parseServer(flags.server).host;
  const client = isIpAddress(host)
    ? radiusClientFor(section.radiusClients, host)
    : section.radiusClients[0];
  if (client === undefined)
    throw usage(`no radius_ip_N in [${section.section}] of ${path} matches ${host}`);
  return { secret: client.secret, port: section.port };
}

function readSecret(flags: RadiusTestFlags): string {
  if (flags.secret !== undefined && flags.secretFile !== undefined)
    throw usage('give --secret or --secret-file, not both');
  let secret = flags.secret;
  if (flags.secretFile !== undefined) {
    try {
      secret = readFileSync(flags.secretFile, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw usage(
        `cannot read --secret-file ${flags.secretFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      );
    }
  }
  if (secret === undefined)
    throw usage(
      'the shared secret is required: --secret S, --secret-file F or --proxy-config authproxy.cfg (radius_secret_N)',
    );
  if (secret === '') throw usage('the shared secret is empty');
  return secret;
}

function parseState(hex: string): Buffer {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex))
    throw usage(`--state takes the hex State printed with the Access-Challenge; got "${hex}"`);
  return Buffer.from(hex, 'hex');
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value) || !(n > 0) || n > 3600)
    throw new InvalidArgumentError('must be a number of seconds > 0 and ≤ 3600');
  return n;
}
