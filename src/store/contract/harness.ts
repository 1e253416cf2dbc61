// The Store contract's harness: the two backends (SQLite in a temp dir, PostgreSQL on
// AIRLOCK_TEST_DATABASE_URL), and what every part of the contract shares.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { User } from '../../core/model.ts';
import { FixedClock } from '../../runtime/clock.ts';
import { openStore } from '../open-store.ts';
import { createSecretBox } from '../secret-box.ts';
import type { SecretBox } from '../secret-box.ts';
import { isStoreError } from '../store-error.ts';
import type { StoreErrorCode } from '../store-error.ts';
import type { NewApplication, Store, StoreDialect } from '../store.ts';

export const START_MS = 1_700_000_000_000;

/** Plain SQL on the same database, beside the store: to look at rows as stored. */
export interface RawSql {
  query(text: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export interface Opened {
  store: Store;
  raw: RawSql;
  clock: FixedClock;
  cleanup(): Promise<void>;
}

export interface Backend {
  dialect: StoreDialect;
  /** A store on an empty database of its own. */
  open(options?: { migrate?: boolean }): Promise<Opened>;
}

export const sqliteBackend: Backend = {
  dialect: 'sqlite',
  async open({ migrate } = {}) {
    const dataDir = mkdtempSync(join(tmpdir(), 'airlock-store-'));
    const clock = new FixedClock(START_MS);
    const store = await openStore({ dataDir, secretBox: testSecretBox, clock, migrate });
    const db = new BetterSqlite3(join(dataDir, 'airlock.db'));
    const raw: RawSql = {
      // async, so a refused statement rejects rather than throws, as with pg.
      async query(text) {
        await Promise.resolve();
        const statement = db.prepare(text);
        if (statement.reader) return statement.all() as Record<string, unknown>[];
        statement.run();
        return [];
      },
      close() {
        db.close();
        return Promise.resolve();
      },
    };
    return {
      store,
      raw,
      clock,
      async cleanup() {
        await raw.close();
        await store.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
};

export const postgresBackend: Backend = {
  dialect: 'postgres',
  async open({ migrate } = {}) {
    const adminUrl = process.env.AIRLOCK_TEST_DATABASE_URL;
    if (adminUrl === undefined || adminUrl === '') {
      throw new Error(
        'AIRLOCK_TEST_DATABASE_URL not set: start PostgreSQL with scripts/start-pg.sh and export ' +
          'AIRLOCK_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:54329/airlock_test',
      );
    }
    // A database of its own per run, so runs never see each other's rows.
    const database = `airlock_contract_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${database}`);
    } finally {
      await admin.end();
    }
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    const clock = new FixedClock(START_MS);
    const store = await openStore({
      databaseUrl: url.toString(),
      dataDir: '/nonexistent-unused',
      secretBox: testSecretBox,
      clock,
      migrate,
    });
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    const raw: RawSql = {
      async query(text) {
        return (await client.query(text)).rows as Record<string, unknown>[];
      },
      close: () => client.end(),
    };
    return {
      store,
      raw,
      clock,
      async cleanup() {
        await raw.close();
        await store.close();
        const dropper = new pg.Client({ connectionString: adminUrl });
        await dropper.connect();
        try {
          await dropper.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        } finally {
          await dropper.end();
        }
      },
    };
  },
};

export const testSecretBox: SecretBox = createSecretBox(randomBytes(32));

export function rejectsWith(code: StoreErrorCode, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(isStoreError(err, code), `expected StoreError ${code}, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  };
}

export function newApplication(n: string, overrides: Partial<NewApplication> = {}): NewApplication {
  return {
    name: `app ${n}`,
    type: 'auth-api',
    newUserPolicy: 'enroll',
    restrictionLevel: 'most-restrictive',
    rateLimitPerSecond: 0,
    ikey: `DI${n.toUpperCase().padEnd(18, 'X')}`,
    skey: `skey-${n}-${'s'.repeat(30)}`,
    ...overrides,
  };
}

export async function count(raw: RawSql, table: string, where: string): Promise<number> {
  const rows = await raw.query(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`);
  return Number(rows[0]?.n);
}

export function totpToken(id: string, userId: string) {
  return {
    id,
    userId,
    type: 'totp' as const,
    secret: `JBSWY3DPEHPK3PXP${id}`,
    algorithm: 'SHA1' as const,
    digits: 6,
    periodSeconds: 30,
    counter: 0,
    name: 'phone',
  };
}

/** What one part of the contract gets from the runner (store.ts's contract on one backend). */
export interface ContractContext {
  backend: Backend;
  /** The opened store, raw SQL and clock; valid from the part's own before hook on. */
  opened: () => { store: Store; raw: RawSql; clock: FixedClock };
  /** A test that fails (not skips) when the backend could not be opened. */
  contractTest: (name: string, fn: () => Promise<void> | void) => Promise<void>;
  createUser: (id: string, extra?: { aliases?: string[] }) => Promise<User>;
}
