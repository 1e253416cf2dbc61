// Upgrades keep every byte: a database made at each earlier migration step, filled with
// representative rows (users, aliases, groups, applications, tokens with sealed secrets, bypass
// codes, devices, policies, emergency controls, administrators, audit), is migrated to the latest
// schema, and every row and sealed secret must have survived. Each migration must also run in one
// transaction: one made to fail after its work must leave the database exactly as it was. Both on
// SQLite and on PostgreSQL (AIRLOCK_TEST_DATABASE_URL, as the store contract).
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { NO_MIGRATIONS, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import { hashBypassCode } from '../core/bypass-code.ts';
import { simpleUsernameKey, usernameKey } from '../core/username.ts';
import { FixedClock } from '../runtime/clock.ts';
import {
  createMigrationProvider,
  createStoreMigrator,
  latestSchemaVersion,
} from './migrations/migration-provider.ts';
import { openDatabase, openStore } from './open-store.ts';
import { SEALED_COLUMNS, sealedIn, type SealedColumn } from './sealed-columns.ts';
import { createSecretBox } from './secret-box.ts';
import type { StoreDialect } from './store.ts';

const KEY = randomBytes(32);
const secretBox = createSecretBox(KEY);
const PEPPER = randomBytes(32);
const T = 1_700_000_000_000;
const MIGRATIONS = Object.keys(
  await createMigrationProvider('sqlite', { secretBox }).getMigrations(),
).sort();

/** A database of its own: a SQLite file in a temp dir, or a new PostgreSQL database. */
interface Place {
  location: { databaseUrl?: string; dataDir: string };
  drop(): Promise<void>;
}

async function newPlace(dialect: StoreDialect): Promise<Place> {
  if (dialect === 'sqlite') {
    const dataDir = mkdtempSync(join(tmpdir(), 'airlock-upgrade-'));
    return {
      location: { dataDir },
      drop: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
    };
  }
  const adminUrl = process.env.AIRLOCK_TEST_DATABASE_URL;
  if (adminUrl === undefined || adminUrl === '') {
    throw new Error(
      'AIRLOCK_TEST_DATABASE_URL not set: start PostgreSQL with scripts/start-pg.sh and export ' +
        'AIRLOCK_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:54329/airlock_test',
    );
  }
  const database = `airlock_upgrade_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = async (text: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${database}`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return {
    location: { databaseUrl: url.toString(), dataDir: '/nonexistent-unused' },
    drop: () => admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
  };
}

/** How values were sealed before migration 0006: AES-256-GCM without associated data. */
function sealV1(plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', KEY, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return 'v1:' + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
}

type Row = Record<string, string | number | null>;

/** The plaintext of each sealed value the rows carry, by kind and row id. */
const PLAINTEXTS: Record<SealedColumn, Record<string, string>> = {
  applicationSkey: { AP1: 'skey-of-the-vpn-application-0123456789ab' },
  otpTokenSecret: { TK1: 'JBSWY3DPEHPK3PXP', TK2: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' },
  adminTotpSecret: { AD1: 'KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF' },
  adminApiKeySkey: { DIADMINKEY0000000001: 'admin-api-skey-0123456789abcdefghijklmn' },
};

/**
 * Representative rows in the latest schema's terms, in insertion order (parents first). At an
 * earlier step only the tables and columns that exist then are written; sealed columns are
 * filled by `sealedValue` for the step.
 */
function representativeRows(): [table: string, rows: Row[]][] {
  return [
    [
      'users',
      [
        user('US1', 'Alice', 'active', 'Alice Example', 'alice@example.org'),
        user('US2', 'bob', 'bypass', null, null),
      ],
    ],
    [
      'user_aliases',
      [
        {
          alias: 'A.Walker',
          user_id: 'US1',
          alias_key: usernameKey('A.Walker'),
          alias_simple: simpleUsernameKey('A.Walker'),
        },
      ],
    ],
    [
      'applications',
      [
        {
          id: 'AP1',
          name: 'vpn',
          ikey: 'DIVPN000000000000001',
          skey_sealed: 'sealed',
          type: 'radius',
          new_user_policy: 'deny',
          restriction_level: 'most-restrictive',
          rate_limit_per_second: 25,
          verified_push: 1,
          username_normalization: 'none',
          created_at_ms: T,
          updated_at_ms: T + 1,
        },
      ],
    ],
    [
      'groups',
      [
        {
          id: 'GR1',
          name: 'staff',
          description: 'Everyone',
          status: 'active',
          created_at_ms: T,
          updated_at_ms: T,
        },
      ],
    ],
    ['application_groups', [{ app_id: 'AP1', group_id: 'GR1' }]],
    ['group_members', [{ group_id: 'GR1', user_id: 'US1', added_by_control: null }]],
    [
      'otp_tokens',
      [
        token('TK1', 'totp', 'SHA1', 6, 30, 0, 56_666_666),
        token('TK2', 'hotp', 'SHA256', 8, 30, 42, null),
      ],
    ],
    [
      'bypass_codes',
      [
        {
          id: 'BC1',
          user_id: 'US1',
          code_hash: hashBypassCode(PEPPER, '123456789'),
          remaining_uses: 1,
          expires_at_ms: null,
          created_at_ms: T,
        },
        {
          id: 'BC2',
          user_id: 'US1',
          code_hash: hashBypassCode(PEPPER, '987654321'),
          remaining_uses: null,
          expires_at_ms: T + 86_400_000,
          created_at_ms: T,
        },
      ],
    ],
    [
      'enrollments',
      [
        {
          activation_code: 'ENR0001',
          user_id: 'US2',
          app_id: 'AP1',
          state: 'pending',
          expires_at_ms: T + 60_000,
          created_at_ms: T,
        },
      ],
    ],
    [
      'auth_transactions',
      [
        {
          txid: 'TX1',
          app_id: 'AP1',
          user_id: 'US1',
          factor: 'push',
          result: 'allow',
          status: 'allow',
          status_msg: 'Success. Logging you in...',
          created_at_ms: T,
          updated_at_ms: T + 5,
        },
      ],
    ],
    [
      'audit_events',
      [
        audit(1, 'user.create', 'Alice', { realName: 'Alice Example' }),
        audit(2, 'auth.passcode', 'Alice', { factor: 'passcode', reason: 'valid passcode' }),
      ],
    ],
    [
      'devices',
      [
        {
          id: 'DV1',
          user_id: 'US1',
          name: 'Pixel',
          platform: 'Android',
          public_key: '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n',
          phone_number: '+15551230100',
          otp_token_id: 'TK1',
          created_at_ms: T,
          last_seen_at_ms: T + 100,
        },
      ],
    ],
    [
      'device_activations',
      [
        {
          activation_code: 'ACT0001',
          user_id: 'US2',
          state: 'pending',
          expires_at_ms: T + 60_000,
          created_at_ms: T,
        },
      ],
    ],
    [
      'policies',
      [
        {
          scope: 'global',
          policy: '{"newUserPolicy":"deny"}',
          updated_at_ms: T,
          updated_by: 'cli:root',
        },
      ],
    ],
    [
      'emergency_controls',
      [
        {
          id: 'EC1',
          kind: 'group-bypass',
          state: 'reverted',
          record: '{"reason":"drill"}',
          expires_at_ms: T + 3_600_000,
          created_at_ms: T,
        },
      ],
    ],
    [
      'admins',
      [
        {
          id: 'AD1',
          username: 'root',
          password_hash: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA',
          totp_secret_sealed: 'sealed',
          totp_last_step: 56_666_000,
          disabled: 0,
          created_at_ms: T,
          updated_at_ms: T,
        },
      ],
    ],
    [
      'admin_api_keys',
      [
        {
          ikey: 'DIADMINKEY0000000001',
          skey_sealed: 'sealed',
          name: 'ops',
          created_at_ms: T,
          last_used_at_ms: null,
        },
      ],
    ],
    [
      'admin_sessions',
      [
        {
          id: 'SESSIONHASH1',
          admin_id: 'AD1',
          csrf_token_hash: 'CSRFHASH1',
          created_at_ms: T,
          expires_at_ms: T + 3_600_000,
          last_seen_at_ms: T + 10,
        },
      ],
    ],
  ];
}

function user(
  id: string,
  username: string,
  status: string,
  realName: string | null,
  email: string | null,
): Row {
  return {
    id,
    username,
    username_key: usernameKey(username),
    username_simple: simpleUsernameKey(username),
    real_name: realName,
    email,
    status,
    failed_attempts: 2,
    lockout_on_last_failure: 0,
    locked_until_ms: null,
    failure_sources: '{}',
    created_at_ms: T,
    updated_at_ms: T + 1,
  };
}

function token(
  id: string,
  type: string,
  algorithm: string,
  digits: number,
  period: number,
  counter: number,
  lastStep: number | null,
): Row {
  return {
    id,
    user_id: 'US1',
    type,
    secret_sealed: 'sealed',
    algorithm,
    digits,
    period_seconds: period,
    counter,
    last_step: lastStep,
    name: `${type} token`,
    created_at_ms: T,
  };
}

function audit(n: number, action: string, username: string, detail: object): Row {
  return {
    ts_ms: T + n,
    actor: 'cli:root',
    action,
    target_type: 'user',
    target_id: 'US1',
    app_id: null,
    username,
    result: 'ok',
    ip: null,
    detail: JSON.stringify(detail),
  };
}

/** The sealed column of `table`, if it has one. */
function sealedKindOf(table: string): SealedColumn | undefined {
  return (Object.keys(SEALED_COLUMNS) as SealedColumn[]).find(
    (k) => SEALED_COLUMNS[k].table === table,
  );
}

/** Writes the representative rows that fit the schema `db` is at; returns what it wrote. */
async function fill(db: Kysely<unknown>, applied: number): Promise<[string, Row[]][]> {
  const tables = new Map(
    (await db.introspection.getTables()).map((t) => [
      t.name,
      new Set(t.columns.map((c) => c.name)),
    ]),
  );
  const any = db as unknown as Kysely<Record<string, Row>>;
  const written: [string, Row[]][] = [];
  for (const [table, rows] of representativeRows()) {
    const columns = tables.get(table);
    if (columns === undefined) continue;
    const kind = sealedKindOf(table);
    const fitted = rows.map((row) => {
      const out: Row = {};
      for (const [column, value] of Object.entries(row))
        if (columns.has(column)) out[column] = value;
      if (kind !== undefined) {
        const { column, key } = SEALED_COLUMNS[kind];
        const id = String(row[key]);
        const plaintext = PLAINTEXTS[kind][id]!;
        // Before 0006 the store sealed without binding (v1); from 0006 on, bound to the row (v2).
        out[column] =
          applied < 6 ? sealV1(plaintext) : secretBox.seal(plaintext, sealedIn(kind, id));
      }
      return out;
    });
    await any.insertInto(table).values(fitted).execute();
    written.push([table, fitted]);
  }
  return written;
}

/** Everything a failed migration must leave as it was: the schema's objects and every row. */
async function snapshot(db: Kysely<unknown>, dialect: StoreDialect): Promise<unknown> {
  const rows = async (text: string) =>
    (await sql.raw<Record<string, unknown>>(text).execute(db)).rows;
  const schema =
    dialect === 'sqlite'
      ? await rows(
          "select type, name, tbl_name, sql from sqlite_master where name not like 'kysely_%' " +
            "and name not like 'sqlite_%' order by type, name",
        )
      : [
          ...(await rows(
            "select table_name, column_name, data_type, is_nullable, column_default from information_schema.columns where table_schema = 'public' and table_name not like 'kysely_%' order by 1, 2",
          )),
          ...(await rows(
            "select indexname, indexdef from pg_indexes where schemaname = 'public' and tablename not like 'kysely_%' order by 1",
          )),
          ...(await rows(
            "select conname, pg_get_constraintdef(oid) as def from pg_constraint where connamespace = 'public'::regnamespace order by 1",
          )),
          ...(await rows(
            'select tgname from pg_trigger t join pg_class c on c.oid = t.tgrelid where not t.tgisinternal order by 1',
          )),
        ];
  const tables = (await db.introspection.getTables()).map((t) => t.name).sort();
  const data: Record<string, unknown> = {};
  for (const table of tables) data[table] = await rows(`select * from ${table} order by 1`);
  return { schema, data };
}

/** The provider with migration `name` made to fail after all its work. */
function failingAfter(dialect: StoreDialect, name: string): MigrationProvider {
  const provider = createMigrationProvider(dialect, { secretBox });
  return {
    async getMigrations() {
      const migrations = await provider.getMigrations();
      const original = migrations[name]!;
      const failing: Migration = {
        async up(db) {
          await original.up(db);
          throw new Error(`injected failure at the end of ${name}`);
        },
      };
      return { ...migrations, [name]: failing };
    },
  };
}

async function appliedMigrations(db: Kysely<unknown>): Promise<string[]> {
  const { rows } = await sql<{
    name: string;
  }>`select name from kysely_migration order by name`.execute(db);
  return rows.map((r) => r.name);
}

/** Every row written at the old step is in the migrated database with the same values. */
async function assertSurvived(db: Kysely<unknown>, written: [string, Row[]][]): Promise<void> {
  for (const [table, rows] of written) {
    const { rows: stored } = await sql.raw<Row>(`select * from ${table}`).execute(db);
    assert.equal(stored.length, rows.length, `${table}: row count`);
    const kind = sealedKindOf(table);
    for (const row of rows) {
      const match = stored.find((s) =>
        Object.entries(row).every(([column, value]) =>
          kind !== undefined && column === SEALED_COLUMNS[kind].column
            ? true
            : normalize(s[column]) === normalize(value),
        ),
      );
      assert.ok(
        match,
        `${table}: ${JSON.stringify(row)} did not survive; stored: ${JSON.stringify(stored)}`,
      );
      if (kind !== undefined) {
        const { column, key } = SEALED_COLUMNS[kind];
        const id = String(row[key]);
        const sealed = String(match[column]);
        assert.match(sealed, /^v2:/, `${table}.${column} of ${id} is bound to its row`);
        assert.equal(secretBox.open(sealed, sealedIn(kind, id)), PLAINTEXTS[kind][id]);
      }
      if (table === 'users') {
        // 0005 derived the keys from the name.
        assert.equal(match.username_key, usernameKey(String(row.username)));
        assert.equal(match.username_simple, simpleUsernameKey(String(row.username)));
      }
    }
  }
}

/** SQLite gives integers as numbers, pg as numbers too (the pool parses BIGINT); JSON text as is. */
function normalize(value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}

/** The database as the store opens it, seen without its schema types (it is at an older step). */
function openRaw(place: Place): Kysely<unknown> {
  return openDatabase(place.location).db as unknown as Kysely<unknown>;
}

function upgradeSuite(dialect: StoreDialect): void {
  void describe(`schema upgrades on ${dialect}`, () => {
    const places: Place[] = [];
    after(async () => {
      for (const place of places) await place.drop();
    });
    const open = async () => {
      const place = await newPlace(dialect);
      places.push(place);
      return place;
    };

    test('the migrations are numbered 0001… without gaps, and the latest is the schema version', () => {
      assert.deepEqual(
        MIGRATIONS.map((name) => Number(name.slice(0, 4))),
        MIGRATIONS.map((_, i) => i + 1),
      );
      assert.equal(latestSchemaVersion(), MIGRATIONS.length);
    });

    for (const [index, name] of MIGRATIONS.entries()) {
      const from =
        index === 0 ? 'an empty database' : `a filled database at ${MIGRATIONS[index - 1]}`;
      test(`${name} runs in one transaction from ${from}, and the upgrade to the latest keeps every row and secret`, async () => {
        const place = await open();
        const db = openRaw(place);
        let written: [string, Row[]][];
        try {
          const migrator = createStoreMigrator(db, dialect, { secretBox });
          const step = await migrator.migrateTo(
            index === 0 ? NO_MIGRATIONS : MIGRATIONS[index - 1]!,
          );
          assert.equal(step.error, undefined);
          written = await fill(db, index);
          const before = await snapshot(db, dialect);

          const failed = await createStoreMigrator(
            db,
            dialect,
            { secretBox },
            failingAfter(dialect, name),
          ).migrateTo(name);
          assert.match(String(failed.error), new RegExp(`injected failure at the end of ${name}`));
          // Nothing of the migration's work is left, and it is not recorded as applied.
          assert.deepEqual(await snapshot(db, dialect), before);
          assert.deepEqual(await appliedMigrations(db), MIGRATIONS.slice(0, index));
        } finally {
          await db.destroy();
        }

        // The upgrade as a release does it: the store opens the database and migrates it.
        const store = await openStore({ ...place.location, secretBox, clock: new FixedClock(T) });
        try {
          assert.equal(await store.schemaVersion(), latestSchemaVersion());
          if (index > 0) {
            const subject = await store.loadAuthSubject({ username: 'alice' });
            assert.equal(subject?.user.id, 'US1');
            assert.deepEqual(subject.tokens.map((t) => [t.id, t.secret]).sort(), [
              ['TK1', PLAINTEXTS.otpTokenSecret.TK1],
              ['TK2', PLAINTEXTS.otpTokenSecret.TK2],
            ]);
            assert.deepEqual(
              subject.bypassCodes.map((c) => c.codeHash).sort(),
              [hashBypassCode(PEPPER, '123456789'), hashBypassCode(PEPPER, '987654321')].sort(),
            );
            assert.equal(
              (await store.getApplicationByIkey('DIVPN000000000000001'))?.skey,
              PLAINTEXTS.applicationSkey.AP1,
            );
            assert.deepEqual(
              (await store.listAudit({ limit: 10 })).map((e) => e.action),
              ['user.create', 'auth.passcode'],
            );
            const tallies = await store.tallySealedSecrets();
            assert.ok(
              tallies.every((t) => t.unreadableRowIds.length === 0),
              JSON.stringify(tallies),
            );
          }
        } finally {
          await store.close();
        }
        const after = openRaw(place);
        try {
          await assertSurvived(after, written!);
          assert.deepEqual(await appliedMigrations(after), MIGRATIONS);
        } finally {
          await after.destroy();
        }
      });
    }

    test('a database with a migration this release does not know (a newer release made it) is refused, unchanged', async () => {
      const place = await open();
      const store = await openStore({ ...place.location, secretBox, clock: new FixedClock(T) });
      await store.close();
      const db = openRaw(place);
      const future = `${String(MIGRATIONS.length + 1).padStart(4, '0')}-from-a-newer-release`;
      try {
        await sql`insert into kysely_migration (name, timestamp) values (${future}, ${'2027-01-01T00:00:00.000Z'})`.execute(
          db,
        );
      } finally {
        await db.destroy();
      }
      await assert.rejects(
        openStore({ ...place.location, secretBox, clock: new FixedClock(T) }),
        /database migration failed: .*(missing|corrupted)/i,
      );
    });
  });
}

upgradeSuite('sqlite');
upgradeSuite('postgres');
