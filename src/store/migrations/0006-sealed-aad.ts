// Migration 0006: every sealed secret is bound to its table, column and row (security finding 9).
// Values sealed before it (v1, no associated data) are re-sealed as v2 with the row's binding, so a
// value copied into another row stops opening. It needs the SecretBox, which is why it is made by
// a factory given the resealer (see migration-provider.ts).
import type { Kysely, Migration } from 'kysely';
import { SEALED_COLUMNS, sealedIn, type SealedColumn } from '../sealed-columns.ts';
import type { SealedValueResealer } from '../secret-box.ts';

export function sealedAadMigration(secretBox: SealedValueResealer): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const column of Object.keys(SEALED_COLUMNS) as SealedColumn[]) {
        await resealColumn(db, secretBox, column);
      }
    },
    // No down(): undoing it would write unbound v1 values again, the very thing it removes. Going
    // back to a release before 0006 means restoring the backup taken before the upgrade.
  };
}

/**
 * Re-seals one column row by row. A value that does not open (another secret key, or altered)
 * stops the migration, naming the row, and nothing is changed then: the Migrator runs migrations
 * in a transaction on both dialects (see AirlockSqliteDialect). A v2 value is left as it is, so a
 * database re-sealed by hand or by an older partial run is taken as it is.
 */
async function resealColumn(
  db: Kysely<unknown>,
  secretBox: SealedValueResealer,
  column: SealedColumn,
): Promise<void> {
  const { table, column: name, key } = SEALED_COLUMNS[column];
  const any = db as Kysely<Record<string, Record<string, string>>>;
  const rows = await any
    .selectFrom(table)
    .select([`${key} as id`, `${name} as sealed`])
    .execute();
  for (const { id, sealed } of rows) {
    const resealed = secretBox.reseal(sealed, sealedIn(column, id));
    if (resealed === sealed) continue;
    await any
      .updateTable(table)
      .set({ [name]: resealed })
      .where(key, '=', id)
      .execute();
  }
}
