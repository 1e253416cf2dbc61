// What `airlock db verify`, `db backup` and `secret-key rotate` need of the store: the schema
// version, an integrity check, and every sealed secret opened or re-sealed.
import type { SecretBox } from './secret-box.ts';
import type { SealedColumn } from './sealed-columns.ts';

/** How the sealed secrets of one kind fared: counts and the rows that did not open (never values). */
export interface SealedSecretTally {
  kind: SealedColumn;
  total: number;
  opened: number;
  /** Primary keys of the rows whose value did not open. */
  unreadableRowIds: string[];
}

export interface IntegrityReport {
  /** What was checked, e.g. `sqlite integrity_check, foreign_key_check`. */
  checks: string[];
  /** Problems found; empty when the database is sound. */
  problems: string[];
}

export interface MaintenanceStore {
  /** The number of the latest migration applied to this database (0 for an empty one). */
  schemaVersion(): Promise<number>;
  /** SQLite: `PRAGMA integrity_check` and `foreign_key_check`; PostgreSQL: the server's own checks only. */
  checkIntegrity(): Promise<IntegrityReport>;
  /** Opens every sealed secret with the store's key; counts per kind. */
  tallySealedSecrets(): Promise<SealedSecretTally[]>;
  /**
   * Opens every sealed secret with the store's key and seals it again with `next` (same binding),
   * in the store's transaction or in one of its own. Throws STORE_SECRET_UNREADABLE, changing
   * nothing, when one does not open.
   */
  resealSecrets(next: SecretBox): Promise<SealedSecretTally[]>;
  /** Bypass codes not yet used up or expired, of every user. */
  countLiveBypassCodes(nowMs: number): Promise<number>;
  /** Deletes every bypass code of every user; returns how many. */
  deleteAllBypassCodes(): Promise<number>;
}
