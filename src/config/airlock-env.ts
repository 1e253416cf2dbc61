// Where Airlock keeps its state: data directory and database URL, from flags or the environment.
import { resolve } from 'node:path';
import { isLoopbackHost } from '../core/loopback-host.ts';
import { parseListenAddress, type ListenAddress } from './listen-address.ts';

export const DEFAULT_DATA_DIR = 'data';
export const DEFAULT_LISTEN = '127.0.0.1:8443';

export interface AirlockLocation {
  /** Absolute data directory (SQLite file, secret key, TLS material, logs). */
  dataDir: string;
  /** `postgres://…` when PostgreSQL is used; undefined = SQLite in the data directory. */
  databaseUrl: string | undefined;
}

export function resolveLocation(
  flags: { dataDir?: string | undefined; databaseUrl?: string | undefined },
  env: Record<string, string | undefined>,
  cwd: string,
): AirlockLocation {
  const dataDir = resolve(cwd, flags.dataDir ?? nonEmpty(env.AIRLOCK_DATA_DIR) ?? DEFAULT_DATA_DIR);
  const databaseUrl = flags.databaseUrl ?? nonEmpty(env.AIRLOCK_DATABASE_URL);
  return { dataDir, databaseUrl };
}

/** Parses `--listen`: `HOST:PORT`, `[v6]:PORT`; port 0 picks a free port. */
export function parseListen(value: string): ListenAddress {
  const listen = parseListenAddress(value.trim());
  if (!listen) {
    throw new Error(`--listen must be HOST:PORT or [IPv6]:PORT (port 0-65535), got "${value}"`);
  }
  return listen;
}

/** The host clients are told to use: `localhost:PORT`, or `localhost` for 443. */
export function defaultApiHost(listen: ListenAddress, actualPort: number): string {
  const host =
    isLoopbackHost(listen.host) || listen.host === '0.0.0.0' || listen.host === '::'
      ? 'localhost'
      : listen.host;
  const shown = host.includes(':') ? `[${host}]` : host;
  return actualPort === 443 ? shown : `${shown}:${actualPort}`;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
