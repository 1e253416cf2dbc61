// `airlock db backup`, `db restore` and `db verify`: encrypted backups of the SQLite database and
// the checks that a database (restored or not) is whole and opens with the current secret key.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { resolveLocation } from '../../config/airlock-env.ts';
import { readKeyFile, SECRET_KEY_FILE } from '../../config/secret-key.ts';
import { AirlockError } from '../../core/error-registry.ts';
import type { SealedSecretTally } from '../../store/maintenance-store.ts';
import { latestSchemaVersion } from '../../store/migrations/migration-provider.ts';
import { openContext } from '../open-context.ts';
import { emit } from '../output.ts';
import { commonOptions, type CommonFlags } from './common.ts';

type KeyFlags = CommonFlags & { keyFile: string };

/** What a restore needs besides the backup: said by the docs, `db backup` and `db restore`. */
const RESTORE_NEEDS =
  'A restore also needs the secret key (DATA_DIR/secret.key, or AIRLOCK_SECRET_KEY): it is not ' +
  'in the backup, and without it no application skey or token secret opens. Keep a copy apart ' +
  'from the backups, with the backup key file. Copy DATA_DIR/tls (the CA clients trust), ' +
  'factors.json and authproxy.cfg too.';

const PG_DUMP_GUIDANCE =
  'airlock db backup copies the embedded SQLite database; on PostgreSQL use the server tools: ' +
  'pg_dump --format=custom --file=airlock.dump "$AIRLOCK_DATABASE_URL" (encrypt the dump, e.g. ' +
  'with age or gpg), and pg_restore --dbname=… into an empty database. See docs/deployment.md.';

export function registerDbBackupCommands(db: Command): void {
  commonOptions(
    db
      .command('backup <file>')
      .description('encrypted copy of the SQLite database, taken while the service runs')
      .requiredOption(
        '--key-file <file>',
        'the backup key: base64 of 32 bytes (openssl rand -base64 32), mode 0600',
      ),
  ).action(backupCommand);

  commonOptions(
    db
      .command('restore <file>')
      .description('restore a backup into a new data directory (the service stopped)')
      .requiredOption('--key-file <file>', 'the backup key the backup was made with'),
  ).action(restoreCommand);

  commonOptions(
    db
      .command('verify')
      .description('integrity check, and every sealed secret opens with the current secret key'),
  ).action(verifyCommand);
}

async function backupCommand(file: string, flags: KeyFlags): Promise<void> {
  const location = resolveLocation(flags, process.env, process.cwd());
  const { isPostgresUrl, sqlitePath } = await import('../../store/open-store.ts');
  if (isPostgresUrl(location.databaseUrl)) {
    throw new AirlockError('BACKUP_REFUSED', undefined, { message: PG_DUMP_GUIDANCE });
  }
  const backupKey = readKeyFile(flags.keyFile);
  const { backupDatabase } = await import('../../operations/database-operations.ts');
  const ctx = await openContext(flags, { migrate: false });
  try {
    const summary = await backupDatabase(ctx, {
      sqlitePath: sqlitePath(location.databaseUrl, location.dataDir),
      file,
      backupKey,
    });
    emit(
      flags,
      {
        file: summary.file,
        bytes: summary.bytes,
        schema_version: summary.schemaVersion,
        created: new Date(summary.createdMs).toISOString(),
        restore_needs: RESTORE_NEEDS,
      },
      () =>
        `Backup written: ${summary.file} (${summary.bytes} bytes, schema ${summary.schemaVersion}, ` +
        `encrypted with ${flags.keyFile}).\n${RESTORE_NEEDS}`,
    );
  } finally {
    await ctx.close();
  }
}

async function restoreCommand(file: string, flags: KeyFlags): Promise<void> {
  const location = resolveLocation(flags, process.env, process.cwd());
  const { isPostgresUrl, sqlitePath } = await import('../../store/open-store.ts');
  if (isPostgresUrl(location.databaseUrl)) {
    throw new AirlockError('BACKUP_REFUSED', undefined, { message: PG_DUMP_GUIDANCE });
  }
  const backupKey = readKeyFile(flags.keyFile);
  const { restoreDatabase } = await import('../../operations/database-operations.ts');
  const summary = restoreDatabase({
    file: readFileSync(file),
    backupKey,
    sqlitePath: sqlitePath(location.databaseUrl, location.dataDir),
    latestSchemaVersion: latestSchemaVersion(),
  });
  const hasKey =
    (process.env.AIRLOCK_SECRET_KEY ?? '') !== '' ||
    existsSync(join(location.dataDir, SECRET_KEY_FILE));
  const current = summary.schemaVersion === latestSchemaVersion();
  // Only with the secret key at hand (opening the store without one would create a new key), and
  // at this release's schema (before 0006 secrets are sealed differently; the start migrates).
  const tallies = hasKey && current ? await sealedTallies(flags) : undefined;
  const unreadable = tallies?.some((t) => t.unreadableRowIds.length > 0) ?? false;
  emit(
    flags,
    {
      database: summary.sqlitePath,
      schema_version: summary.schemaVersion,
      backup_created: new Date(summary.createdMs).toISOString(),
      sealed_secrets: tallies?.map(renderTally) ?? null,
      restore_needs: RESTORE_NEEDS,
    },
    () =>
      [
        `Restored ${summary.sqlitePath} (schema ${summary.schemaVersion}, backup of ` +
          `${new Date(summary.createdMs).toISOString()}).`,
        !current
          ? `The backup is at schema ${summary.schemaVersion}; airlock serve (or airlock db migrate) ` +
            `migrates it to ${latestSchemaVersion()}. Copy the original ${SECRET_KEY_FILE} first, ` +
            `then run: airlock db verify --data-dir ${location.dataDir}`
          : tallies === undefined
            ? `No secret key in ${location.dataDir} yet: copy the original ${SECRET_KEY_FILE} there ` +
              `(chmod 600) or set AIRLOCK_SECRET_KEY, then run: airlock db verify --data-dir ${location.dataDir}`
            : describeTallies(tallies),
        RESTORE_NEEDS,
      ].join('\n'),
  );
  if (unreadable)
    failWith('some sealed secrets do not open with this secret key: is it the original one?');
}

async function verifyCommand(flags: CommonFlags): Promise<void> {
  const ctx = await openContext(flags, { migrate: false });
  try {
    const integrity = await ctx.store.checkIntegrity();
    const schemaVersion = await ctx.store.schemaVersion();
    // Secrets are checked in this release's schema only (before 0006 they are sealed otherwise).
    if (schemaVersion !== latestSchemaVersion()) {
      integrity.problems.push(
        `schema ${schemaVersion}, this release's is ${latestSchemaVersion()}: ` +
          (schemaVersion < latestSchemaVersion()
            ? 'run airlock db migrate, then verify again'
            : 'the database was migrated by a newer release'),
      );
    }
    const tallies =
      schemaVersion === latestSchemaVersion() ? await ctx.store.tallySealedSecrets() : [];
    const unreadable = tallies.reduce((n, t) => n + t.unreadableRowIds.length, 0);
    const ok = integrity.problems.length === 0 && unreadable === 0;
    emit(
      flags,
      { ok, schema_version: schemaVersion, integrity, sealed_secrets: tallies.map(renderTally) },
      () =>
        [
          `Schema ${schemaVersion}. Checked: ${integrity.checks.join(', ')}: ` +
            (integrity.problems.length === 0 ? 'ok' : `\n  ${integrity.problems.join('\n  ')}`),
          describeTallies(tallies),
        ].join('\n'),
    );
    if (!ok) failWith('the database did not verify (see above)');
  } finally {
    await ctx.close();
  }
}

async function sealedTallies(flags: CommonFlags): Promise<SealedSecretTally[]> {
  const ctx = await openContext(flags, { migrate: false });
  try {
    return await ctx.store.tallySealedSecrets();
  } finally {
    await ctx.close();
  }
}

function renderTally(t: SealedSecretTally) {
  return { kind: t.kind, total: t.total, opened: t.opened, unreadable_row_ids: t.unreadableRowIds };
}

/** Counts per kind; rows that do not open by id, never a value. */
function describeTallies(tallies: SealedSecretTally[]): string {
  return [
    'Sealed secrets (opened / total):',
    ...tallies.map(
      (t) =>
        `  ${t.kind}: ${t.opened} / ${t.total}` +
        (t.unreadableRowIds.length ? `  — do not open: ${t.unreadableRowIds.join(', ')}` : ''),
    ),
  ].join('\n');
}

/** The report is printed; the command still fails. */
function failWith(message: string): void {
  process.stderr.write(`error: ${message}\n`);
  process.exitCode = 1;
}
