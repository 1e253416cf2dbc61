// The list of schema migrations, given to Kysely's Migrator statically (no directory scan).
import type { Migration, MigrationProvider } from 'kysely';
import type { StoreDialect } from '../store.ts';
import { initialMigration } from './0001-initial.ts';
import { devicesMigration } from './0002-devices.ts';
import { policiesMigration } from './0003-policies.ts';
import { adminMigration } from './0004-admin.ts';
import { usernameKeysMigration } from './0005-username-keys.ts';
import { membershipOriginMigration } from './0008-membership-origin.ts';

/**
 * Migrations by name; the Migrator applies them in name order. A static list rather than
 * FileMigrationProvider, so the same code runs under tsx and compiled, with no file-name globbing.
 * Append new ones here; never edit or rename one that has shipped.
 */
export function createMigrationProvider(dialect: StoreDialect): MigrationProvider {
  const migrations: Record<string, Migration> = {
    '0001-initial': initialMigration(dialect),
    '0002-devices': devicesMigration(),
    '0003-policies': policiesMigration(),
    '0004-admin': adminMigration(dialect),
    '0005-username-keys': usernameKeysMigration(dialect),
    // 0006 and 0007 are kept for changes made at the same time (security review, docs/security.md).
    '0008-membership-origin': membershipOriginMigration(),
  };
  return { getMigrations: () => Promise.resolve(migrations) };
}
