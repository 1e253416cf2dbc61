// `airlock serve`: runs the Auth API service (HTTPS with a local CA by default).
import { collectDefaultMetrics } from 'prom-client';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeApiHost } from '../../config/api-host-file.ts';
import { DEFAULT_LISTEN, defaultApiHost, parseListen } from '../../config/airlock-env.ts';
import { emergencyLimitsFromEnv } from '../../config/emergency-limits.ts';
import { AirlockError } from '../../core/error-registry.ts';
import { isLoopbackHost } from '../../core/loopback-host.ts';
import { allowedHostName } from '../../protocol/request-host.ts';
import {
  describeFactorsConfig,
  parseFactorsConfigText,
  type FactorsConfig,
} from '../../factors/factors-config.ts';
import type { Logger } from 'pino';
import type { InProcessAuthApi } from '../../client/in-process-auth-api-client.ts';
import { openContext, type AirlockContext } from '../open-context.ts';
import { readSyslogConfig } from '../../config/syslog-config.ts';
import { createSyslogSender, type SyslogSender } from '../../runtime/syslog-sender.ts';
import { createSmtpSender } from '../../runtime/mail-sender.ts';
import { takeProcessLock } from '../../runtime/process-lock.ts';
import { nonNegativeInt } from './common.ts';
import { proxySections } from './dr-plan-command.ts';
import { DEFAULT_LOCKOUT_DURATION_SECONDS } from '../../core/lockout.ts';

/** Default of --lockout-threshold (docs/design/auth-api.md, Decisions: 10 failures in a row). */
const DEFAULT_LOCKOUT_THRESHOLD = 10;

export interface ServeFlags {
  dataDir?: string;
  databaseUrl?: string;
  listen: string;
  apiHost?: string;
  strictHost?: boolean;
  allowedHost: string[];
  trustProxy?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsSan: string[];
  plainHttp?: boolean;
  logLevel: string;
  lockoutThreshold: number;
  lockoutDuration: number;
  factorsConfig?: string;
  syslogTarget?: string;
  syslogFacility?: string;
  syslogAppName?: string;
  syslogCaFile?: string;
  smtp?: string;
  smtpFrom?: string;
  smtpCaFile?: string;
  statusName?: string;
  statusSilence?: number;
  statusWebhookSecretFile?: string;
  /** `serve --proxy-config` (repeatable) or `start --proxy-config`: shown in the console's DR plan. */
  proxyConfig?: string | string[];
}

export function registerServeCommand(program: Command): void {
  serviceOptions(program.command('serve').description('run the Auth API service'))
    .option(
      '--proxy-config <file>',
      "a proxy's authproxy.cfg, for the console's DR plan (repeatable)",
      collect,
      [],
    )
    .addHelpText(
      'after',
      '\nPrints "listening on https://HOST:PORT" when ready. The local CA certificate is DATA_DIR/tls/ca.pem;\n' +
        "give it to clients (e.g. Duo clients' CA option, curl --cacert).",
    )
    .action(async (flags: ServeFlags) => serve(flags));
}

/** The options of `serve`, shared with `start`. */
export function serviceOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'data directory (env AIRLOCK_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'postgres://… to use PostgreSQL (env AIRLOCK_DATABASE_URL)')
    .option(
      '--listen <host:port>',
      'address to listen on; port 0 picks a free port',
      DEFAULT_LISTEN,
    )
    .option('--api-host <host[:port]>', 'host name clients use (default: localhost:<port>)')
    .option(
      '--strict-host',
      'refuse signed requests for any host name but --api-host and --allowed-host (docs/operations.md)',
    )
    .option(
      '--allowed-host <host[:port]>',
      'with --strict-host: a further host name clients may sign for (repeatable)',
      collect,
      [],
    )
    .option(
      '--trust-proxy <addr[,addr…]>',
      'addresses or CIDRs of the TLS terminator: honour X-Forwarded-For from these peers only (docs/operations.md)',
    )
    .option('--tls-cert <file>', "your own certificate (PEM) instead of the local CA's")
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option(
      '--tls-san <name>',
      "extra DNS name or IP for the local CA's server certificate (repeatable)",
      collect,
      [],
    )
    .option('--plain-http', 'serve plain HTTP (loopback only: for a TLS terminator on this host)')
    .option(
      '--lockout-threshold <n>',
      'failed second factors in a row that lock a user out',
      nonNegativeInt,
      DEFAULT_LOCKOUT_THRESHOLD,
    )
    .option(
      '--lockout-duration <seconds>',
      'how long a lockout lasts before it ends by itself; 0 = until an administrator unlocks',
      nonNegativeInt,
      DEFAULT_LOCKOUT_DURATION_SECONDS,
    )
    .option(
      '--factors-config <file>',
      'SMS / phone providers and factor health thresholds, JSON (default: DATA_DIR/factors.json if present; see docs/factors.md)',
    )
    .option(
      '--syslog-target <url>',
      'SIEM output: audit events as RFC 5424 syslog to udp://, tcp:// or tls://HOST[:PORT] (docs/operations.md)',
    )
    .option('--syslog-facility <name>', 'syslog facility (default auth)')
    .option('--syslog-app-name <name>', 'syslog APP-NAME (default airlock)')
    .option('--syslog-ca-file <file>', 'CA certificates (PEM) trusted for a tls:// syslog target')
    .option(
      '--smtp <url>',
      'status page e-mail subscribers: smtp://[user:pass@]host:port or smtps://… (env AIRLOCK_SMTP_URL)',
    )
    .option('--smtp-from <address>', 'sender of status e-mails (env AIRLOCK_SMTP_FROM)')
    .option('--smtp-ca-file <file>', 'CA certificates (PEM) for the SMTP server')
    .option('--status-name <name>', 'the status page title (default Airlock)')
    .option(
      '--status-silence <seconds>',
      'a proxy or gateway silent this long is major_outage on the status page',
      nonNegativeInt,
      90,
    )
    .option(
      '--status-webhook-secret-file <file>',
      "HMAC key file: X-Airlock-Signature on the status page's webhooks",
    )
    .option('--log-level <level>', 'fatal|error|warn|info|debug', 'info');
}

/** factors.json: the flag's file, else DATA_DIR/factors.json when it exists, else none. */
function loadFactorsConfig(flag: string | undefined, dataDir: string): FactorsConfig | undefined {
  const path = flag ?? join(dataDir, 'factors.json');
  if (flag === undefined && !existsSync(path)) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AirlockError('CONFIG_INVALID', undefined, {
      message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    });
  }
  const parsed = parseFactorsConfigText(text);
  if (!parsed.ok) {
    throw new AirlockError('CONFIG_INVALID', undefined, {
      message: `${path}:\n  ${parsed.errors.join('\n  ')}`,
    });
  }
  const config = parsed.config;
  // A file provider's relative path is relative to the data directory.
  const resolveFile = <T extends { provider: string; path?: string } | undefined>(p: T): T =>
    p && p.provider === 'file' && p.path !== undefined
      ? { ...p, path: resolve(dataDir, p.path) }
      : p;
  return { ...config, sms: resolveFile(config.sms), phone: resolveFile(config.phone) };
}

async function serve(flags: ServeFlags): Promise<void> {
  const running = await runService(flags);
  const lines = [...running.banner];
  if (running.firstRun)
    lines.push('', ...nextSteps(running.dataDir, running.scheme, running.apiHost));
  process.stdout.write(`${lines.join('\n')}\n`);
  stopOnSignals(running.logger, [() => running.close()]);
}

export interface RunningService {
  port: number;
  apiHost: string;
  scheme: 'http' | 'https';
  dataDir: string;
  /** Lines to print at start: where it listens, the CA, the data. */
  banner: string[];
  /** True while no application exists yet. */
  firstRun: boolean;
  ctx: AirlockContext;
  logger: Logger;
  /** The Auth API in-process, for a proxy in this process (`airlock start`). */
  localAuthApi: InProcessAuthApi;
  close(): Promise<void>;
}

/** Held by the service running on a data directory's SQLite database. */
export const SERVICE_LOCK_FILE = 'airlock-service.lock';

/** Starts the service as `airlock serve` does; `airlock start` reuses it beside the proxy. */
export async function runService(flags: ServeFlags): Promise<RunningService> {
  const listen = parseListen(flags.listen);
  if (flags.plainHttp && !isLoopbackHost(listen.host)) {
    throw new AirlockError('CLI_USAGE', undefined, {
      message: `--plain-http is refused on ${listen.host}: listen on 127.0.0.1 behind a TLS terminator on this host, or drop --plain-http`,
    });
  }
  const allowedHosts = strictHosts(flags, flags.apiHost ?? defaultApiHost(listen, listen.port));
  const trustProxy = trustedProxies(flags.trustProxy);
  // The limit `airlock emergency` honours: one limit for the CLI, the Admin API and the console.
  const emergencyLimits = emergencyLimitsFromEnv(process.env);
  if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey)) {
    throw new AirlockError('CLI_USAGE', undefined, {
      message: '--tls-cert and --tls-key go together',
    });
  }
  // The service's modules load only for `serve`, so admin commands start quickly.
  const [{ default: pino }, { buildService, DEFAULT_SERVICE_OPTIONS }] = await Promise.all([
    import('pino'),
    import('../../service/build-service.ts'),
  ]);
  const ctx = await openContext(flags);
  const lock = lockSqliteService(ctx);
  const logger = pino({ level: flags.logLevel, base: { service: 'airlock' } });
  const tls = await loadTls(flags, ctx.location.dataDir, ctx.clock.nowMs());
  const logoPath = join(ctx.location.dataDir, 'logo.png');
  const factors = loadFactorsConfig(flags.factorsConfig, ctx.location.dataDir);
  const options = {
    ...DEFAULT_SERVICE_OPTIONS,
    factors,
    lockoutThreshold: flags.lockoutThreshold,
    lockoutDurationSeconds: flags.lockoutDuration,
    apiHost: flags.apiHost ?? defaultApiHost(listen, listen.port),
    allowedHosts,
    trustProxy,
    logoPng: existsSync(logoPath) ? readFileSync(logoPath) : undefined,
    https: tls.material,
    emergencyLimits,
    proxySections: [flags.proxyConfig ?? []].flat().flatMap((file) => proxySections(file)),
    statusPage: { name: flags.statusName ?? 'Airlock', silenceSeconds: flags.statusSilence ?? 90 },
    statusWebhookSecret: flags.statusWebhookSecretFile
      ? readFileSync(flags.statusWebhookSecretFile, 'utf8').trim()
      : '',
  };
  const siem = openSiem(flags, ctx, (message) => logger.warn(message));
  const smtpUrl = flags.smtp ?? process.env.AIRLOCK_SMTP_URL;
  const smtpFrom = flags.smtpFrom ?? process.env.AIRLOCK_SMTP_FROM;
  if ((smtpUrl === undefined) !== (smtpFrom === undefined)) {
    throw new AirlockError('CLI_USAGE', undefined, {
      message: '--smtp and --smtp-from go together (or AIRLOCK_SMTP_URL and AIRLOCK_SMTP_FROM)',
    });
  }
  const statusMail =
    smtpUrl !== undefined && smtpFrom !== undefined
      ? createSmtpSender({
          url: smtpUrl,
          from: smtpFrom,
          caPem: flags.smtpCaFile ? readFileSync(flags.smtpCaFile, 'utf8') : undefined,
        })
      : undefined;
  const { server, metrics, localAuthApi } = buildService(
    {
      store: ctx.store,
      clock: ctx.clock,
      random: ctx.random,
      logger,
      bypassPepper: ctx.bypassPepper,
      ...(siem ? { siem: siem.sender } : {}),
      ...(statusMail ? { statusMail } : {}),
    },
    options,
  );

  // The process's own figures (RSS, heap, event-loop delay, open files) beside the service's, for
  // the long-lived process only: tests build many services in one process.
  collectDefaultMetrics({ register: metrics });
  await server.listen({ host: listen.host, port: listen.port });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  const apiHost = flags.apiHost ?? defaultApiHost(listen, port);
  // With port 0 the advertised host is known only now; routes read it per request.
  options.apiHost = apiHost;
  writeApiHost(ctx.location.dataDir, apiHost);

  const scheme = tls.material ? 'https' : 'http';
  const shownHost = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  const banner = [`listening on ${scheme}://${shownHost}:${port}`];
  if (tls.caPath)
    banner.push(`CA certificate: ${tls.caPath}${tls.createdCa ? ' (created now)' : ''}`);
  // Host names only: the port of the Host header is not compared (docs/operations.md).
  if (allowedHosts) banner.push(`strict host: ${allowedHosts.map(allowedHostName).join(', ')}`);
  if (trustProxy) banner.push(`X-Forwarded-For trusted from: ${trustProxy.join(', ')}`);
  for (const line of factors
    ? describeFactorsConfig(factors)
    : ['sms, phone: no provider configured (factors.json)']) {
    banner.push(`factors: ${line}`);
  }
  if (siem) banner.push(`SIEM output: ${siem.description}`);
  banner.push(
    `status page: ${scheme}://${shownHost}:${port}/status (JSON: /api/v2/summary.json)${statusMail ? '; e-mail subscribers via SMTP' : ''}`,
  );
  banner.push(
    `data: ${ctx.location.databaseUrl ? 'PostgreSQL' : join(ctx.location.dataDir, 'airlock.db')}`,
  );
  return {
    port,
    apiHost,
    scheme,
    dataDir: ctx.location.dataDir,
    banner,
    firstRun: (await ctx.store.listApplications()).length === 0,
    ctx,
    logger,
    localAuthApi,
    close: async () => {
      await server.close();
      await ctx.close();
      lock?.release();
    },
  };
}

/**
 * On SQLite, one service per database file (DATA_DIR/airlock-service.lock): a second one would
 * keep its own push waiters and budgets and lose pushes answered on the first. PostgreSQL runs
 * several nodes (docs/multi-node.md).
 */
function lockSqliteService(ctx: AirlockContext): { release(): void } | undefined {
  if (ctx.location.databaseUrl) return undefined;
  const path = join(ctx.location.dataDir, SERVICE_LOCK_FILE);
  const lock = takeProcessLock(path);
  if (lock.ok) return lock;
  void ctx.close();
  throw new AirlockError('CLI_USAGE', undefined, {
    message:
      `another Airlock service (pid ${lock.holder}) runs on ${join(ctx.location.dataDir, 'airlock.db')}: ` +
      'one service per SQLite database (several need PostgreSQL: docs/multi-node.md). Stop it, or ' +
      `remove ${path} if no such process runs`,
  });
}

/** `--syslog-*`: the SIEM output, or undefined without `--syslog-target`. */
function openSiem(
  flags: ServeFlags,
  ctx: AirlockContext,
  onProblem: (message: string) => void,
): { sender: SyslogSender; description: string } | undefined {
  let caPem: string | undefined;
  if (flags.syslogCaFile !== undefined) {
    try {
      caPem = readFileSync(flags.syslogCaFile, 'utf8');
    } catch (err) {
      throw new AirlockError('CLI_USAGE', undefined, {
        message: `--syslog-ca-file: cannot read ${flags.syslogCaFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      });
    }
  }
  const { config, errors } = readSyslogConfig(
    {
      target: flags.syslogTarget,
      facility: flags.syslogFacility,
      appName: flags.syslogAppName,
      caPem,
    },
    'airlock',
  );
  const names = {
    target: '--syslog-target',
    facility: '--syslog-facility',
    appName: '--syslog-app-name',
    caPem: '--syslog-ca-file',
  } as const;
  if (errors.length > 0) {
    throw new AirlockError('CLI_USAGE', undefined, {
      message: errors.map((e) => `${names[e.setting]}: ${e.message}`).join('\n'),
    });
  }
  if (!config) return undefined;
  const sender = createSyslogSender({
    target: config.target,
    facility: config.facility,
    appName: config.appName,
    hostname: hostname(),
    clock: ctx.clock,
    caPem: config.caPem,
    onProblem,
  });
  const t = config.target;
  return {
    sender,
    description: `RFC 5424 syslog to ${t.transport}://${t.host}:${t.port}, facility ${config.facility}, app name ${config.appName}`,
  };
}

/**
 * Strict host mode: the API host and every --allowed-host, or undefined (any Host) without
 * --strict-host. The API host's port does not matter, so the one known before listening will do.
 */
function strictHosts(flags: ServeFlags, apiHost: string): string[] | undefined {
  const usage = (message: string) => new AirlockError('CLI_USAGE', undefined, { message });
  for (const host of flags.allowedHost) {
    // host, host:port, [v6]:port or a bare IPv6 literal; nothing with a scheme, path or space.
    if (!/^(?:[^\s/:[\]@]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$|^[0-9A-Fa-f:.]+$/.test(host)) {
      throw usage(`--allowed-host must be HOST[:PORT], got ${JSON.stringify(host)}`);
    }
  }
  if (!flags.strictHost) {
    if (flags.allowedHost.length > 0) throw usage('--allowed-host needs --strict-host');
    return undefined;
  }
  return [apiHost, ...flags.allowedHost];
}

/** --trust-proxy ADDR[,ADDR…]: IPv4/IPv6 addresses or CIDRs; undefined without the flag. */
function trustedProxies(flag: string | undefined): string[] | undefined {
  if (flag === undefined) return undefined;
  const entries = flag.split(',').map((e) => e.trim());
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= max);
    if (family === 0 || !prefixOk || extra !== undefined) {
      throw new AirlockError('CLI_USAGE', undefined, {
        message: `--trust-proxy takes IP addresses or CIDRs separated by commas, got ${JSON.stringify(entry)}`,
      });
    }
  }
  return entries;
}

/** Stops everything cleanly on SIGINT/SIGTERM. */
export function stopOnSignals(logger: Logger, closers: (() => Promise<void>)[]): void {
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    for (const close of closers) await close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

async function loadTls(flags: ServeFlags, dataDir: string, nowMs: number) {
  const { ensureTlsMaterial, loadOwnTlsMaterial } = await import('../../runtime/tls-material.ts');
  if (flags.plainHttp) return { material: undefined, caPath: undefined, createdCa: false };
  if (flags.tlsCert && flags.tlsKey) {
    const own = await loadOwnTlsMaterial({ certPath: flags.tlsCert, keyPath: flags.tlsKey });
    return {
      material: { cert: own.certPem, key: own.keyPem },
      caPath: undefined,
      createdCa: false,
    };
  }
  const m = await ensureTlsMaterial({
    dataDir,
    hostname: hostname(),
    extraSans: flags.tlsSan,
    nowMs,
  });
  return {
    material: { cert: m.certPem, key: m.keyPem },
    caPath: m.caCertPath,
    createdCa: m.createdCa,
  };
}

function nextSteps(dataDir: string, scheme: string, apiHost: string): string[] {
  const cacert = scheme === 'https' ? ` --cacert ${join(dataDir, 'tls', 'ca.pem')}` : '';
  return [
    'No application yet. Next steps, in another terminal:',
    '  ./bin/airlock.js app create my-vpn          # prints the ikey, skey and API host for your integration',
    '  ./bin/airlock.js user create alice',
    '  ./bin/airlock.js token add-totp alice       # scan the QR code with an authenticator app',
    `  curl${cacert} ${scheme}://${apiHost}/auth/v2/ping`,
  ];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
