// The list of schema migrations, given to Kysely's Migrator statically (no directory scan).
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { SealedValueResealer } from '../secret-box.ts';
import type { StoreDialect } from '../store.ts';
import { initialMigration } from './0001-initial.ts';
import { devicesMigration } from './0002-devices.ts';
import { policiesMigration } from './0003-policies.ts';
import { adminMigration } from './0004-admin.ts';
import { usernameKeysMigration } from './0005-username-keys.ts';
import { sealedAadMigration } from './0006-sealed-aad.ts';
import { lockoutExpiryMigration } from './0007-lockout-expiry.ts';
import { authTransactionWithoutUserMigration } from './0008-auth-transaction-without-user.ts';
import { membershipOriginMigration } from './0009-membership-origin.ts';
import { allowV1SignatureMigration } from './0010-allow-v1-signature.ts';
import { outageMigration } from './0011-outage.ts';
import { webSdkMigration } from './0012-web-sdk.ts';
import { sharedNodeStateMigration } from './0013-shared-node-state.ts';
import { healthReportOwnerMigration } from './0014-health-report-owner.ts';

/**
 * Migrations by name; the Migrator applies them in name order. A static list rather than
 * FileMigrationProvider, so the same code runs under tsx and compiled, with no file-name globbing.
 * Append new ones here; never edit or rename one that has shipped.
 *
 * Kysely hands each migration only the database. What else one needs is given to its factory
 * here: `secretBox` for 0006, which re-seals the stored secrets (it only reads v1 values and
 * writes v2 ones, see SealedValueResealer). The store passes its own SecretBox, so a migration
 * uses the same key the store then opens with.
 */
export function createMigrationProvider(
  dialect: StoreDialect,
  deps: { secretBox: SealedValueResealer },
): MigrationProvider {
  const migrations = migrationTable(dialect, deps);
  return { getMigrations: () => Promise.resolve(migrations) };
}

/**
 * The Migrator the store migrates with: this build's migrations, forward only (the store never
 * migrates down: going back is a restore of the backup taken before the upgrade). Kysely runs the
 * pending migrations in one transaction on both dialects (on SQLite through the store's
 * AirlockSqliteDialect), and refuses a database that has a migration this build does not know —
 * one made by a newer release. Tests use it to stop at a given step (`migrateTo`).
 */
export function createStoreMigrator(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema: the Migrator reads only its own tables
  db: Kysely<any>,
  dialect: StoreDialect,
  deps: { secretBox: SealedValueResealer },
  /** Tests only: this build's migrations with one altered (e.g. made to fail after its work). */
  provider: MigrationProvider = createMigrationProvider(dialect, deps),
): Migrator {
  return new Migrator({ db, provider });
}

/** The migrations by name, as the provider hands them to the Migrator. */
function migrationTable(
  dialect: StoreDialect,
  deps: { secretBox: SealedValueResealer },
): Record<string, Migration> {
  return {
    '0001-initial': initialMigration(dialect),
    '0002-devices': devicesMigration(),
    '0003-policies': policiesMigration(),
    '0004-admin': adminMigration(dialect),
    '0005-username-keys': usernameKeysMigration(dialect),
    '0006-sealed-aad': sealedAadMigration(deps.secretBox),
    '0007-lockout-expiry': lockoutExpiryMigration(),
    '0008-auth-transaction-without-user': authTransactionWithoutUserMigration(dialect),
    '0009-membership-origin': membershipOriginMigration(),
    '0010-allow-v1-signature': allowV1SignatureMigration(),
    '0011-outage': outageMigration(dialect),
    '0012-web-sdk': webSdkMigration(),
    '0013-shared-node-state': sharedNodeStateMigration(dialect),
    '0014-health-report-owner': healthReportOwnerMigration(),
  };
}

/**
 * The schema version this build migrates a database to: the number of its latest migration
 * (`0009-membership-origin` -> 9). `airlock --version` prints it. Read from the same table the
 * Migrator gets; building the table runs no migration, so the resealer is never called.
 */
export function latestSchemaVersion(): number {
  const unused: SealedValueResealer = {
    reseal: () => {
      throw new Error('listing the migrations must not run one');
    },
  };
  const latest = Object.keys(migrationTable('sqlite', { secretBox: unused }))
    .sort()
    .at(-1);
  return Number(latest?.slice(0, 4));
}
