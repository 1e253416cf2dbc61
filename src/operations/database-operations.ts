// Backup, restore and secret-key rotation: the database-wide admin actions, each audited once
// (a restore writes a new database and is reported to the operator instead).
import { writeFileSync } from 'node:fs';
import { AirlockError } from '../core/error-registry.ts';
import { withOwnerOnlyUmask } from '../runtime/private-files.ts';
import { openBackup, sealBackup } from '../store/backup-archive.ts';
import type { SealedSecretTally } from '../store/maintenance-store.ts';
import type { SecretBox } from '../store/secret-box.ts';
import {
  installSqliteFile,
  snapshotSqlite,
  sqliteFileSchemaVersion,
} from '../store/sqlite-snapshot.ts';
import { auditEvent, type OperationContext } from './operation-context.ts';

export interface BackupSummary {
  file: string;
  bytes: number;
  schemaVersion: number;
  createdMs: number;
}

/**
 * Copies the SQLite database at `sqlitePath` while the service runs (online backup API), encrypts
 * it under `backupKey` into `file` (mode 0600, never overwriting), and audits `db.backup`. The
 * audit event is written after the copy, so the backup does not contain it.
 */
export async function backupDatabase(
  ctx: OperationContext,
  input: { sqlitePath: string; file: string; backupKey: Buffer },
): Promise<BackupSummary> {
  const snapshot = await snapshotSqlite(input.sqlitePath);
  const createdMs = ctx.clock.nowMs();
  const sealed = sealBackup(snapshot.bytes, input.backupKey, {
    schemaVersion: snapshot.schemaVersion,
    createdMs,
  });
  writeNewPrivateFile(input.file, sealed);
  await ctx.store.appendAudit(
    auditEvent(
      ctx,
      'db.backup',
      { type: 'database', id: 'sqlite' },
      { file: input.file, bytes: sealed.length, schemaVersion: snapshot.schemaVersion },
    ),
  );
  return {
    file: input.file,
    bytes: sealed.length,
    schemaVersion: snapshot.schemaVersion,
    createdMs,
  };
}

export interface RestoreSummary {
  sqlitePath: string;
  schemaVersion: number;
  createdMs: number;
}

/**
 * Decrypts and checks a backup and installs it as the database at `sqlitePath`, which must not
 * exist yet. Refuses a backup that does not open with `backupKey` or was altered (BACKUP_UNREADABLE)
 * and one made by a release with a newer schema than `latestSchemaVersion` (BACKUP_NEWER_SCHEMA);
 * nothing is written then. A backup of an older schema is restored as it is: the next start
 * migrates it.
 */
export function restoreDatabase(input: {
  file: Buffer;
  backupKey: Buffer;
  sqlitePath: string;
  latestSchemaVersion: number;
}): RestoreSummary {
  const { header, database } = openBackup(input.file, input.backupKey);
  // The header is authenticated; the database's own record must agree with it.
  const schemaVersion = sqliteFileSchemaVersion(database);
  if (schemaVersion !== header.schema_version) {
    throw new AirlockError(
      'BACKUP_UNREADABLE',
      `the header says schema ${header.schema_version}, the database is at ${schemaVersion}`,
    );
  }
  if (schemaVersion > input.latestSchemaVersion) {
    throw new AirlockError(
      'BACKUP_NEWER_SCHEMA',
      `the backup is at schema ${schemaVersion}, this release knows schema ` +
        `${input.latestSchemaVersion}: restore it with the release that made it (or a later one)`,
    );
  }
  installSqliteFile(input.sqlitePath, database);
  return { sqlitePath: input.sqlitePath, schemaVersion, createdMs: header.created_ms };
}

export interface RotationSummary {
  tallies: SealedSecretTally[];
  bypassCodesDeleted: number;
}

/**
 * Re-seals every sealed secret (application and Admin API skeys, OTP and administrator TOTP
 * secrets) under `next` in one transaction, and audits `secret-key.rotate`. Bypass codes are
 * HMACs under a key derived from the secret key and cannot be re-keyed: while live ones exist the
 * rotation is refused unless `invalidateBypassCodes`, which deletes them in the same transaction
 * (after a key leak they could be brute-forced offline, so they must go anyway).
 */
export async function rotateSecretKey(
  ctx: OperationContext,
  input: { next: SecretBox; invalidateBypassCodes: boolean },
): Promise<RotationSummary> {
  return ctx.store.transaction(async (tx) => {
    const live = await tx.countLiveBypassCodes(ctx.clock.nowMs());
    if (live > 0 && !input.invalidateBypassCodes) {
      throw new AirlockError(
        'SECRET_KEY_ROTATION_REFUSED',
        `${live} live bypass code(s) are hashed with a key derived from the secret key and ` +
          'would stop working: repeat with --invalidate-bypass-codes, then issue new ones',
      );
    }
    const tallies = await tx.resealSecrets(input.next);
    const bypassCodesDeleted = input.invalidateBypassCodes ? await tx.deleteAllBypassCodes() : 0;
    await tx.appendAudit(
      auditEvent(
        ctx,
        'secret-key.rotate',
        { type: 'secret-key', id: 'store' },
        {
          resealed: Object.fromEntries(tallies.map((t) => [t.kind, t.total])),
          bypassCodesDeleted,
        },
      ),
    );
    return { tallies, bypassCodesDeleted };
  });
}

/** Writes `bytes` to a file that must not exist yet, readable by its owner only. */
function writeNewPrivateFile(path: string, bytes: Buffer): void {
  withOwnerOnlyUmask(() => writeFileSync(path, bytes, { mode: 0o600, flag: 'wx' }));
}
