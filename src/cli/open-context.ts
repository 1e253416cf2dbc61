// Opens what every command needs: location, keys, store; closes it again.
import { hkdfSync } from 'node:crypto';
import { userInfo } from 'node:os';
import { resolveLocation, type AirlockLocation } from '../config/airlock-env.ts';
import { loadSecretKey } from '../config/secret-key.ts';
import { SystemClock, type Clock } from '../runtime/clock.ts';
import { ensurePrivateDir } from '../runtime/private-files.ts';
import { CryptoRandom, type Random } from '../runtime/random.ts';
import { createCachingSecretBox, createSecretBox } from '../store/secret-box.ts';
import type { Store } from '../store/store.ts';

export interface LocationFlags {
  dataDir?: string;
  databaseUrl?: string;
}

export interface AirlockContext {
  location: AirlockLocation;
  store: Store;
  clock: Clock;
  random: Random;
  bypassPepper: Buffer;
  /** Who the audit log names for admin changes made from here. */
  actor: string;
  close(): Promise<void>;
}

export async function openContext(
  flags: LocationFlags,
  options: { migrate?: boolean } = {},
): Promise<AirlockContext> {
  const location = resolveLocation(flags, process.env, process.cwd());
  // The database, the secret key and the CA key live here: 0700, also when an older version
  // created it readable by everyone.
  ensurePrivateDir(location.dataDir);
  const secretKey = loadSecretKey({ dataDir: location.dataDir, env: process.env });
  const clock = new SystemClock();
  const { storeKey, bypassPepper } = deriveKeys(secretKey);
  // Loaded on demand: `airlock --help` should not pay for the database drivers.
  const { openStore } = await import('../store/open-store.ts');
  const store = await openStore({
    databaseUrl: location.databaseUrl,
    dataDir: location.dataDir,
    secretBox: createCachingSecretBox(createSecretBox(storeKey)),
    clock,
    migrate: options.migrate ?? true,
  });
  return {
    location,
    store,
    clock,
    random: new CryptoRandom(),
    bypassPepper,
    actor: `cli:${safeUserName()}`,
    close: () => store.close(),
  };
}

/** Separate keys for separate jobs, both derived from the one secret key (RFC 5869 HKDF). */
export function deriveKeys(secretKey: Buffer): { storeKey: Buffer; bypassPepper: Buffer } {
  return {
    storeKey: Buffer.from(hkdfSync('sha256', secretKey, '', 'airlock store secrets v1', 32)),
    bypassPepper: Buffer.from(hkdfSync('sha256', secretKey, '', 'airlock bypass codes v1', 32)),
  };
}

/** Runs `fn` with an open context and always closes it. */
export async function withContext<T>(
  flags: LocationFlags,
  fn: (ctx: AirlockContext) => Promise<T>,
): Promise<T> {
  const ctx = await openContext(flags);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
