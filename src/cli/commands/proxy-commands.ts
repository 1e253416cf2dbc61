// `airlock proxy`: run the authentication proxy, check its config, switch primary-only mode.
import { collectDefaultMetrics } from 'prom-client';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { loadAuthProxyConfig, type AuthProxyConfig } from '../../config/authproxy-config.ts';
import type { ListenAddress } from '../../config/listen-address.ts';
import type { ReloadOutcome } from '../../proxy/reload-plan.ts';
import type { CoLocatedService } from '../../proxy/api-transport.ts';
import { AirlockError } from '../../core/error-registry.ts';
import {
  PRIMARY_ONLY_DEFAULT_MINUTES,
  primaryOnlyState,
  validatePrimaryOnlyMinutes,
} from '../../core/primary-only.ts';
import { SystemClock } from '../../runtime/clock.ts';
import {
  disablePrimaryOnly,
  enablePrimaryOnly,
  readPrimaryOnly,
  readPrimaryOnlyHistory,
} from '../../runtime/primary-only-state-file.ts';
import { CryptoRandom } from '../../runtime/random.ts';
import { emit, isoTime } from '../output.ts';
import { positiveInt } from './common.ts';

const clock = new SystemClock();

interface ConfigFlags {
  config?: string;
  json?: boolean;
}

export function registerProxyCommands(program: Command): void {
  const proxy = program
    .command('proxy')
    .description(
      'run the RADIUS authentication proxy (authproxy.cfg, Duo Authentication Proxy format)',
    )
    .option('--config <file>', 'the proxy configuration (authproxy.cfg)')
    .enablePositionalOptions()
    .addHelpText(
      'after',
      '\nExamples:\n  airlock proxy --config examples/authproxy.cfg\n  airlock proxy check --config /etc/airlock/authproxy.cfg\n' +
        '  airlock proxy primary-only enable --config authproxy.cfg --minutes 60 --reason "Auth API outage INC-42"',
    )
    .action(async (flags: ConfigFlags) => runProxy(requireConfig(flags)));

  proxy
    .command('check')
    .description('validate a configuration: print every error and warning, exit non-zero on errors')
    .option('--config <file>', 'the proxy configuration')
    .option('--json', 'print machine-readable JSON')
    .action((flags: ConfigFlags) => {
      const config = loadAuthProxyConfig(requireConfig(flags));
      emit(
        flags,
        { ok: true, servers: config.servers.map((s) => s.section), warnings: config.warnings },
        () =>
          [
            `OK: ${config.servers.length} server section(s): ${config.servers.map((s) => `[${s.section}] failmode=${s.failmode}`).join(', ')}`,
            ...config.warnings.map((w) => `warning: ${w}`),
          ].join('\n'),
      );
    });

  proxy
    .command('reload')
    .description(
      'make the running proxy re-read its configuration (as SIGHUP does); logins in flight finish on the old one',
    )
    .option('--config <file>', 'the configuration the proxy runs with (for [main] admin_listen)')
    .option('--json', 'print machine-readable JSON')
    .action(async (flags: ConfigFlags) => {
      // An invalid file is refused here already, with every error: the proxy would refuse it too.
      const config = loadAuthProxyConfig(requireConfig(flags));
      const outcome = await requestReload(config.main.adminListen);
      emit(flags, outcome, () => describeReload(outcome));
      if (!outcome.ok) process.exitCode = 1;
    });

  const primaryOnly = proxy
    .command('primary-only')
    .description(
      'emergency switch: safe sections skip the second factor, secure sections deny (ends by itself; max 4 hours)',
    );

  primaryOnly
    .command('enable')
    .description(
      'turn primary-only mode on for N minutes (a running proxy picks it up within a second)',
    )
    .option('--config <file>', 'the proxy configuration')
    .option('--minutes <n>', 'how long, 1-240', positiveInt, PRIMARY_ONLY_DEFAULT_MINUTES)
    .requiredOption('--reason <text>', 'why (recorded with your name)')
    .option('--json', 'print machine-readable JSON')
    .action((flags: ConfigFlags & { minutes: number; reason: string }) => {
      const problem = validatePrimaryOnlyMinutes(flags.minutes);
      if (problem)
        throw new AirlockError('CLI_USAGE', undefined, { message: `--minutes: ${problem}` });
      const config = loadAuthProxyConfig(requireConfig(flags));
      const record = enablePrimaryOnly(config.main.stateDir, {
        nowMs: clock.nowMs(),
        minutes: flags.minutes,
        actor: actor(),
        reason: flags.reason,
      });
      const safe = config.servers.filter((s) => s.failmode === 'safe').map((s) => s.section);
      const secure = config.servers.filter((s) => s.failmode === 'secure').map((s) => s.section);
      emit(
        flags,
        {
          active: true,
          expires: isoTime(record.expiresAtMs),
          actor: record.actor,
          reason: record.reason,
        },
        () =>
          [
            `Primary-only mode is ON until ${isoTime(record.expiresAtMs)} (${flags.minutes} min), by ${record.actor}.`,
            safe.length ? `  failmode=safe, second factor SKIPPED: ${safe.join(', ')}` : '',
            secure.length ? `  failmode=secure, every login DENIED: ${secure.join(', ')}` : '',
            'Turn it off early with: airlock proxy primary-only disable --config …',
          ]
            .filter(Boolean)
            .join('\n'),
      );
    });

  primaryOnly
    .command('disable')
    .description('turn primary-only mode off now')
    .option('--config <file>', 'the proxy configuration')
    .option('--reason <text>', 'why (recorded with your name)', 'disabled by an administrator')
    .option('--json', 'print machine-readable JSON')
    .action((flags: ConfigFlags & { reason: string }) => {
      const config = loadAuthProxyConfig(requireConfig(flags));
      const was = disablePrimaryOnly(config.main.stateDir, {
        nowMs: clock.nowMs(),
        actor: actor(),
        reason: flags.reason,
      });
      emit(flags, { active: false, changed: was }, () =>
        was
          ? 'Primary-only mode is OFF: the second factor is required again.'
          : 'Primary-only mode was not on.',
      );
    });

  primaryOnly
    .command('status')
    .description('show whether primary-only mode is on, until when, who turned it on and why')
    .option('--config <file>', 'the proxy configuration')
    .option('--json', 'print machine-readable JSON')
    .action((flags: ConfigFlags) => {
      const config = loadAuthProxyConfig(requireConfig(flags));
      const state = primaryOnlyState(readPrimaryOnly(config.main.stateDir), clock.nowMs());
      const history = readPrimaryOnlyHistory(config.main.stateDir).slice(-10);
      const data = state.active
        ? {
            active: true,
            expires: isoTime(state.record.expiresAtMs),
            remaining_minutes: Math.ceil(state.remainingMs / 60_000),
            actor: state.record.actor,
            reason: state.record.reason,
            history,
          }
        : { active: false, history };
      emit(flags, data, () =>
        state.active
          ? `Primary-only mode is ON until ${isoTime(state.record.expiresAtMs)} (${Math.ceil(state.remainingMs / 60_000)} min left), by ${state.record.actor}: ${state.record.reason}`
          : 'Primary-only mode is off.',
      );
    });
}

function requireConfig(flags: ConfigFlags): string {
  if (!flags.config)
    throw new AirlockError('CLI_USAGE', undefined, { message: '--config <file> is required' });
  return flags.config;
}

function actor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}

async function runProxy(configPath: string): Promise<void> {
  const config = loadAuthProxyConfig(configPath);
  const running = await launchProxy(config, configPath);
  process.stdout.write(`${running.banner.join('\n')}\n`);
  // systemd's ExecReload sends SIGHUP: re-read the file; logins in flight finish on the old one.
  process.on('SIGHUP', () => {
    void running.reload().then((outcome) => {
      process.stderr.write(`${describeReload(outcome)}\n`);
    });
  });
  const stop = async () => {
    await running.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

/** Starts the proxy for a loaded config; `airlock start` uses it too. */
export async function launchProxy(
  config: AuthProxyConfig,
  /** The file `config` came from: a reload reads it again. */
  configPath?: string,
  /** `airlock start`: the service in this process, reached in-process (api-transport.ts). */
  coLocated?: CoLocatedService,
): Promise<{ banner: string[]; reload(): Promise<ReloadOutcome>; close(): Promise<void> }> {
  const [{ startProxy }, { describeTransports }] = await Promise.all([
    import('../../proxy/start-proxy.ts'),
    import('../../proxy/api-transport.ts'),
  ]);
  for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`);
  const version = (
    JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;
  const proxy = await startProxy(config, {
    clock: new SystemClock(),
    random: new CryptoRandom(),
    version,
    ...(configPath !== undefined ? { loadConfig: () => loadAuthProxyConfig(configPath) } : {}),
    ...(coLocated ? { coLocated } : {}),
  });
  // The process's own figures (RSS, heap, event-loop delay, open files) beside the proxy's.
  collectDefaultMetrics({ register: proxy.metrics });
  const banner = proxy.servers.map((s) => {
    const section = config.servers.find((c) => c.section === s.section)!;
    const protocol = 'protocol' in s ? 'LDAP' : 'RADIUS';
    return `proxy [${s.section}] listening for ${protocol} on ${s.address.address}:${s.address.port} (failmode=${section.failmode}; Auth API ${describeTransports(section, coLocated)})`;
  });
  banner.push(`proxy logs: ${config.main.logDir}`);
  banner.push(
    `proxy status: http://${proxy.adminAddress.address}:${proxy.adminAddress.port}/status and /metrics`,
  );
  return { banner, reload: () => proxy.reloadFromSource(), close: () => proxy.close() };
}

/** The proxy's answer to POST /reload on its admin endpoint. */
async function requestReload(listen: ListenAddress): Promise<ReloadOutcome> {
  if (listen.port === 0) {
    throw new AirlockError('CLI_USAGE', undefined, {
      message:
        '[main] admin_listen has port 0 (any free port): send SIGHUP to the proxy instead (systemctl reload)',
    });
  }
  // A wildcard listen address is reached on this machine's loopback.
  const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port: listen.port, method: 'POST', path: '/reload', timeout: 30_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          try {
            resolve(JSON.parse(body) as ReloadOutcome);
          } catch {
            reject(
              new Error(`the proxy at ${host}:${listen.port} answered ${res.statusCode}: ${body}`),
            );
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', (e) =>
      reject(
        new Error(
          `cannot reach the proxy's admin endpoint at ${host}:${listen.port} ([main] admin_listen): ${e.message}`,
        ),
      ),
    );
    req.end();
  });
}

function describeReload(outcome: ReloadOutcome): string {
  return outcome.ok
    ? `Configuration reloaded: ${outcome.sections.map((s) => `[${s}]`).join(', ')}. Logins in flight finish on the previous configuration.`
    : `Configuration reload refused; the running configuration stays:\n${outcome.errors.map((e) => `  ${e}`).join('\n')}`;
}
