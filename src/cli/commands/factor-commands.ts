// `airlock factors …`: check factors.json, and show the running service's per-factor health.
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { readApiHost } from '../../config/api-host-file.ts';
import { resolveLocation } from '../../config/airlock-env.ts';
import { AirlockError } from '../../core/error-registry.ts';
import { describeFactorsConfig, parseFactorsConfigText } from '../../factors/factors-config.ts';
import { emit, table } from '../output.ts';

interface FactorFlags {
  dataDir?: string;
  json?: boolean;
  apiHost?: string;
  ca?: string;
}

export function registerFactorCommands(program: Command): void {
  const factors = program
    .command('factors')
    .description('SMS and phone providers (factors.json) and the health of every factor');

  factors
    .command('check [file]')
    .description(
      'validate a factors.json (default DATA_DIR/factors.json); lists every error at once',
    )
    .option('--data-dir <dir>', 'data directory (env AIRLOCK_DATA_DIR, default ./data)')
    .option('--json', 'print machine-readable JSON')
    .action((file: string | undefined, flags: FactorFlags) => {
      const location = resolveLocation(flags, process.env, process.cwd());
      const path = file ? resolve(file) : join(location.dataDir, 'factors.json');
      if (!existsSync(path)) {
        throw new AirlockError('CLI_USAGE', undefined, { message: `${path} does not exist` });
      }
      const parsed = parseFactorsConfigText(readFileSync(path, 'utf8'));
      if (!parsed.ok) {
        throw new AirlockError('CONFIG_INVALID', undefined, {
          message: `${path}:\n  ${parsed.errors.join('\n  ')}`,
        });
      }
      const lines = describeFactorsConfig(parsed.config);
      emit(flags, { ok: true, factors: lines }, () => [`${path}: OK`, ...lines].join('\n'));
    });

  factors
    .command('status')
    .description("the running service's per-factor health (GET /status/v1/factors)")
    .option('--data-dir <dir>', 'data directory: its api-host and tls/ca.pem are used')
    .option('--api-host <host:port>', 'the service (default: what `airlock serve` advertised)')
    .option('--ca <file>', "PEM of the service's CA (default DATA_DIR/tls/ca.pem if present)")
    .option('--json', 'print machine-readable JSON')
    .action(async (flags: FactorFlags) => {
      const location = resolveLocation(flags, process.env, process.cwd());
      const apiHost = flags.apiHost ?? readApiHost(location.dataDir, process.env);
      const caFile = flags.ca ?? join(location.dataDir, 'tls', 'ca.pem');
      const ca = existsSync(caFile) ? readFileSync(caFile, 'utf8') : undefined;
      const body = await getJson(`https://${apiHost}/status/v1/factors`, ca);
      const rows = (body.response as { factors: Record<string, unknown>[] }).factors;
      emit(flags, rows, () =>
        rows.length === 0
          ? '(no deliveries recorded yet: every factor counts as healthy)'
          : table(rows, [
              'factor',
              'provider',
              'state',
              'reason',
              'failureRate',
              'p95LatencyMs',
              'samples',
            ]),
      );
    });
}

function getJson(url: string, ca: string | undefined): Promise<{ response: unknown }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(url, { ca, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolvePromise(JSON.parse(text) as { response: unknown });
        } catch {
          reject(new Error(`${url} answered HTTP ${res.statusCode ?? 0} without JSON`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 10 s`)));
    req.on('error', (e) => reject(new Error(`cannot reach ${url}: ${e.message}`)));
    req.end();
  });
}
