// Database maintenance: schema version, integrity check, and the sealed secrets opened or re-sealed
// (for `airlock db verify` and `airlock secret-key rotate`).
import { sql, type Kysely } from 'kysely';
import type { IntegrityReport, SealedSecretTally } from '../maintenance-store.ts';
import { SEALED_COLUMNS, sealedIn, type SealedColumn } from '../sealed-columns.ts';
import type { SecretBox } from '../secret-box.ts';
import type { Database } from '../schema.ts';
import { Repository } from './repository.ts';

/** A table by name, for the columns SEALED_COLUMNS lists (all text). */
type AnyTables = Kysely<Record<string, Record<string, string>>>;

export class MaintenanceRepository extends Repository {
  async schemaVersion(): Promise<number> {
    return schemaVersionOf(this.db);
  }

  async checkIntegrity(): Promise<IntegrityReport> {
    if (this.dialect === 'postgres') {
      // PostgreSQL checks pages and constraints itself; a query that reaches every table is the
      // readable part of a check here (amcheck is an extension the operator may add).
      await sql`select 1`.execute(this.db);
      return { checks: ['postgresql connection'], problems: [] };
    }
    const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(
      this.db,
    );
    const problems = integrity.rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
    const keys = await sql<{
      table: string;
      rowid: number;
      parent: string;
    }>`pragma foreign_key_check`.execute(this.db);
    for (const r of keys.rows) {
      problems.push(`${r.table} row ${r.rowid}: reference to a missing ${r.parent} row`);
    }
    return { checks: ['sqlite integrity_check', 'sqlite foreign_key_check'], problems };
  }

  async tallySealedSecrets(): Promise<SealedSecretTally[]> {
    const tallies: SealedSecretTally[] = [];
    for (const kind of Object.keys(SEALED_COLUMNS) as SealedColumn[]) {
      const rows = await sealedRows(this.db, kind);
      const unreadableRowIds = rows
        .filter(({ id, sealed }) => !opens(this.secretBox, sealed, kind, id))
        .map((r) => r.id);
      tallies.push({
        kind,
        total: rows.length,
        opened: rows.length - unreadableRowIds.length,
        unreadableRowIds,
      });
    }
    return tallies;
  }

  resealSecrets(next: SecretBox): Promise<SealedSecretTally[]> {
    return this.atomic(async (db) => {
      const tallies: SealedSecretTally[] = [];
      for (const kind of Object.keys(SEALED_COLUMNS) as SealedColumn[]) {
        const { table, column, key } = SEALED_COLUMNS[kind];
        const rows = await sealedRows(db, kind);
        for (const { id, sealed } of rows) {
          // open() throws STORE_SECRET_UNREADABLE: the transaction rolls back, nothing changes.
          const plaintext = this.secretBox.open(sealed, sealedIn(kind, id));
          await (db as unknown as AnyTables)
            .updateTable(table)
            .set({ [column]: next.seal(plaintext, sealedIn(kind, id)) })
            .where(key, '=', id)
            .execute();
        }
        tallies.push({ kind, total: rows.length, opened: rows.length, unreadableRowIds: [] });
      }
      return tallies;
    });
  }

  async countLiveBypassCodes(nowMs: number): Promise<number> {
    const row = await this.db
      .selectFrom('bypass_codes')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where((eb) =>
        eb.and([
          eb.or([eb('expires_at_ms', 'is', null), eb('expires_at_ms', '>', nowMs)]),
          eb.or([eb('remaining_uses', 'is', null), eb('remaining_uses', '>', 0)]),
        ]),
      )
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async deleteAllBypassCodes(): Promise<number> {
    const result = await this.db.deleteFrom('bypass_codes').executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** The number of the latest migration recorded in the database; 0 before the first. */
export async function schemaVersionOf(db: Kysely<Database>): Promise<number> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === 'kysely_migration')) return 0;
  const latest = await db
    .selectFrom('kysely_migration')
    .select('name')
    .orderBy('name', 'desc')
    .limit(1)
    .executeTakeFirst();
  return latest === undefined ? 0 : Number(latest.name.slice(0, 4));
}

async function sealedRows(
  db: Kysely<Database>,
  kind: SealedColumn,
): Promise<{ id: string; sealed: string }[]> {
  const { table, column, key } = SEALED_COLUMNS[kind];
  return (db as unknown as AnyTables)
    .selectFrom(table)
    .select([`${key} as id`, `${column} as sealed`])
    .orderBy(key)
    .execute();
}

function opens(box: SecretBox, sealed: string, kind: SealedColumn, id: string): boolean {
  try {
    box.open(sealed, sealedIn(kind, id));
    return true;
  } catch {
    return false;
  }
}
