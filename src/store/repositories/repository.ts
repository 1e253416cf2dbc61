// The base of the store's repositories: one per kind of record, all bound to one Kysely instance
// (the database, or a transaction when KyselyStore.transaction() builds a store on it).
import { CompiledQuery } from 'kysely';
import type { Kysely } from 'kysely';
import type { Clock } from '../../runtime/clock.ts';
import type { HotQuery } from '../hot-queries.ts';
import type { Database } from '../schema.ts';
import type { SecretBox } from '../secret-box.ts';
import type { StoreDialect } from '../store.ts';

/** What every repository of one store shares: built once per store (and per transaction). */
export interface StoreContext {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  readonly secretBox: SecretBox;
  readonly clock: Clock;
  /** hotQueries(dialect): the fixed hot-path statements. */
  readonly hot: Readonly<Record<HotQuery, string>>;
}

export abstract class Repository {
  protected readonly db: Kysely<Database>;
  protected readonly dialect: StoreDialect;
  protected readonly secretBox: SecretBox;
  protected readonly clock: Clock;
  readonly #hot: Readonly<Record<HotQuery, string>>;

  constructor({ db, dialect, secretBox, clock, hot }: StoreContext) {
    this.db = db;
    this.dialect = dialect;
    this.secretBox = secretBox;
    this.clock = clock;
    this.#hot = hot;
  }

  /** Runs one of the fixed hot-path statements (see hot-queries.ts). */
  protected run<R>(query: HotQuery, parameters: unknown[]) {
    return this.db.executeQuery<R>(CompiledQuery.raw(this.#hot[query], parameters));
  }

  /** Runs `fn` in this store's transaction, or in a new one when there is none. */
  protected atomic<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this.db);
    return this.db.transaction().execute(fn);
  }
}
