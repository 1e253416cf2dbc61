// The API host the running service advertises, kept in the data directory so admin commands can print it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILE = 'api-host';

export function writeApiHost(dataDir: string, apiHost: string): void {
  writeFileSync(join(dataDir, FILE), `${apiHost}\n`, { mode: 0o644 });
}

/** `AIRLOCK_API_HOST`, else what the last `airlock serve` on this data directory advertised, else the default. */
export function readApiHost(dataDir: string, env: Record<string, string | undefined>): string {
  if (env.AIRLOCK_API_HOST) return env.AIRLOCK_API_HOST;
  try {
    const text = readFileSync(join(dataDir, FILE), 'utf8').trim();
    if (text) return text;
  } catch {
    // Not served yet from this data directory: fall through to the default.
  }
  return 'localhost:8443';
}
