// `airlock secret-key rotate`: every sealed secret re-sealed under a new secret key, in one
// transaction; the old key file kept as a copy.
import type { Command } from 'commander';
import { resolveLocation } from '../../config/airlock-env.ts';
import {
  generateSecretKeyBytes,
  secretKeyFileSwap,
  writeKeyFile,
} from '../../config/secret-key.ts';
import { AirlockError } from '../../core/error-registry.ts';
import { createSecretBox } from '../../store/secret-box.ts';
import { deriveKeys, openContext } from '../open-context.ts';
import { emit } from '../output.ts';
import { commonOptions, type CommonFlags } from './common.ts';

type RotateFlags = CommonFlags & { invalidateBypassCodes?: boolean; newKeyFile?: string };

export function registerSecretKeyCommands(program: Command): void {
  const secretKey = program
    .command('secret-key')
    .description('the key that seals skeys and token secrets in the database');
  commonOptions(
    secretKey
      .command('rotate')
      .description(
        're-seal every secret under a new key in one transaction (stop the service first)',
      )
      .option(
        '--invalidate-bypass-codes',
        'delete every bypass code: they are hashed with a key derived from the secret key',
      )
      .option(
        '--new-key-file <file>',
        'with AIRLOCK_SECRET_KEY set: write the new key here (0600) instead of DATA_DIR/secret.key',
      ),
  ).action(rotateCommand);
}

async function rotateCommand(flags: RotateFlags): Promise<void> {
  const location = resolveLocation(flags, process.env, process.cwd());
  const fromEnv = (process.env.AIRLOCK_SECRET_KEY ?? '') !== '';
  if (fromEnv && flags.newKeyFile === undefined) {
    throw new AirlockError('SECRET_KEY_ROTATION_REFUSED', undefined, {
      message:
        'AIRLOCK_SECRET_KEY is set: give --new-key-file FILE for the new key, then set ' +
        'AIRLOCK_SECRET_KEY to its content on every node',
    });
  }
  const newKey = generateSecretKeyBytes();
  const next = createSecretBox(deriveKeys(newKey).storeKey);
  const { rotateSecretKey } = await import('../../operations/database-operations.ts');
  const ctx = await openContext(flags, { migrate: false });
  const stamp = new Date(ctx.clock.nowMs()).toISOString().replace(/[:.]/g, '-');
  const swap = fromEnv ? undefined : secretKeyFileSwap(location.dataDir, newKey, stamp);
  try {
    // The new key is on disk before the database needs it.
    if (swap) swap.stage();
    else writeKeyFile(flags.newKeyFile!, newKey);
    let summary;
    try {
      summary = await rotateSecretKey(ctx, {
        next,
        invalidateBypassCodes: flags.invalidateBypassCodes === true,
      });
    } catch (err) {
      swap?.abandon();
      throw err;
    }
    swap?.commit();
    const keyNow = swap ? `${location.dataDir}/secret.key` : flags.newKeyFile!;
    emit(
      flags,
      {
        resealed: Object.fromEntries(summary.tallies.map((t) => [t.kind, t.total])),
        bypass_codes_deleted: summary.bypassCodesDeleted,
        key_file: keyNow,
        old_key_copy: swap?.retiredPath ?? null,
      },
      () =>
        [
          'Re-sealed under the new key:',
          ...summary.tallies.map((t) => `  ${t.kind}: ${t.total}`),
          `Bypass codes deleted: ${summary.bypassCodesDeleted}`,
          `New key: ${keyNow}` +
            (swap ? `; the old one is kept as ${swap.retiredPath} (0600)` : ''),
          fromEnv
            ? 'Set AIRLOCK_SECRET_KEY to the new key on every node and restart them.'
            : 'Restart the service now: it still holds the old key.',
          'Backups made before now hold secrets sealed with the old key: a restore of one needs that key.',
        ].join('\n'),
    );
  } finally {
    await ctx.close();
  }
}
