// The Store contract: one suite, run against SQLite (temp dir) and PostgreSQL (AIRLOCK_TEST_DATABASE_URL).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { Application, User } from '../core/model.ts';
import { FixedClock } from '../runtime/clock.ts';
import { openStore } from './open-store.ts';
import { createSecretBox } from './secret-box.ts';
import type { SecretBox } from './secret-box.ts';
import { isStoreError } from './store-error.ts';
import type { StoreErrorCode } from './store-error.ts';
import type { EmergencyControl } from '../core/emergency-control.ts';
import { isAirlockError } from '../core/error-registry.ts';
import type { NewApplication, Store, StoreDialect } from './store.ts';

const START_MS = 1_700_000_000_000;

/** Plain SQL on the same database, beside the store: to look at rows as stored. */
interface RawSql {
  query(text: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

interface Opened {
  store: Store;
  raw: RawSql;
  clock: FixedClock;
  cleanup(): Promise<void>;
}

interface Backend {
  dialect: StoreDialect;
  /** A store on an empty database of its own. */
  open(options?: { migrate?: boolean }): Promise<Opened>;
}

const sqliteBackend: Backend = {
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

const postgresBackend: Backend = {
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

const testSecretBox: SecretBox = createSecretBox(randomBytes(32));

function rejectsWith(code: StoreErrorCode, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(isStoreError(err, code), `expected StoreError ${code}, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  };
}

function newApplication(n: string, overrides: Partial<NewApplication> = {}): NewApplication {
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

async function count(raw: RawSql, table: string, where: string): Promise<number> {
  const rows = await raw.query(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`);
  return Number(rows[0]?.n);
}

function storeContract(backend: Backend): void {
  void describe(`Store contract on ${backend.dialect}`, () => {
    let opened: Opened;
    let store: Store;
    let raw: RawSql;
    let clock: FixedClock;

    let openError: Error | undefined;

    before(async () => {
      try {
        opened = await backend.open();
        ({ store, raw, clock } = opened);
      } catch (err) {
        openError = err instanceof Error ? err : new Error(String(err));
      }
    });
    after(async () => {
      if (openError === undefined) await opened.cleanup();
    });

    // Every test fails, and counts as failed, when the backend could not be opened; a failing
    // before hook would only mark them cancelled, which reads as "# fail 0".
    const contractTest = (name: string, fn: () => Promise<void> | void) =>
      test(name, async () => {
        if (openError !== undefined) throw openError;
        await fn();
      });

    const createUser = (id: string, extra: { aliases?: string[] } = {}): Promise<User> =>
      store.createUser({ id, username: `user-${id}`, ...extra });

    void describe('migrations', () => {
      void contractTest(
        'migrate applies every migration on an empty database, then returns [] when up to date',
        async () => {
          const fresh = await backend.open({ migrate: false });
          try {
            assert.deepEqual(await fresh.store.migrate(), [
              '0001-initial',
              '0002-devices',
              '0003-policies',
              '0004-admin',
              '0005-username-keys',
              '0006-auth-transaction-without-user',
            ]);
            assert.deepEqual(await fresh.store.migrate(), []);
          } finally {
            await fresh.cleanup();
          }
        },
      );

      void contractTest('openStore has already migrated, so migrate returns []', async () => {
        assert.deepEqual(await store.migrate(), []);
      });

      void contractTest('the store reports its dialect', () => {
        assert.equal(store.dialect, backend.dialect);
      });
    });

    void describe('devices, activations, out-of-band requests and SMS passcodes', () => {
      const context = {
        application: 'VPN',
        username: 'u',
        displayUsername: 'u',
        type: 'Login request',
        ipaddr: '198.51.100.7',
        hostname: null,
        pushinfo: [['Server', 'vpn1']] as [string, string][],
      };

      void contractTest(
        'an activation code is claimed once, and not after it expired',
        async () => {
          const user = await createUser('DUACT1');
          await store.createDeviceActivation({
            activationCode: 'ACT1',
            userId: user.id,
            expiresAtMs: START_MS + 1000,
          });
          await store.createDeviceActivation({
            activationCode: 'ACT2',
            userId: user.id,
            expiresAtMs: START_MS + 1000,
          });
          const claims = await Promise.all([
            store.claimActivation('ACT1', START_MS),
            store.claimActivation('ACT1', START_MS),
          ]);
          assert.deepEqual(
            claims.filter((c) => c !== undefined),
            [{ userId: user.id, appId: null }],
          );
          assert.equal(await store.claimActivation('ACT2', START_MS + 1000), undefined);
          assert.equal(await store.claimActivation('NOPE', START_MS), undefined);
        },
      );

      void contractTest('an /enroll code is claimed once and names its application', async () => {
        const app = await store.createApplication(newApplication('act3'));
        const user = await createUser('DUACT3');
        await store.createEnrollment({
          activationCode: 'ACT3',
          userId: user.id,
          appId: app.id,
          state: 'waiting',
          expiresAtMs: START_MS + 1000,
        });
        assert.deepEqual(await store.claimActivation('ACT3', START_MS), {
          userId: user.id,
          appId: app.id,
        });
        assert.equal((await store.getEnrollment('ACT3'))?.state, 'success');
        assert.equal(await store.claimActivation('ACT3', START_MS), undefined);
      });

      void contractTest(
        'devices belong to a user, load with the subject, and go with it',
        async () => {
          const user = await createUser('DUDEV1');
          await store.addOtpToken(totpToken('TDEV1', user.id));
          const device = await store.createDevice({
            id: 'DVDEV1',
            userId: user.id,
            name: 'phone',
            platform: 'cli',
            publicKeyJwk: '{"kty":"EC"}',
            otpTokenId: 'TDEV1',
          });
          await store.createDevice({
            id: 'DVDEV2',
            userId: user.id,
            name: 'desk',
            platform: 'phone',
            phoneNumber: '+15550100',
          });
          assert.deepEqual(await store.getDevice('DVDEV1'), device);
          assert.deepEqual(
            (await store.listDevices(user.id)).map((d) => d.id),
            ['DVDEV1', 'DVDEV2'],
          );
          const subject = await store.loadAuthSubject({ userId: user.id });
          assert.deepEqual(
            subject?.devices.map((d) => [d.id, d.phoneNumber]),
            [
              ['DVDEV1', null],
              ['DVDEV2', '+15550100'],
            ],
          );
          await store.touchDevice('DVDEV1', START_MS + 5);
          assert.equal((await store.getDevice('DVDEV1'))?.lastSeenAtMs, START_MS + 5);
          // Removing the device removes the TOTP secret it carried.
          assert.equal(await store.deleteDevice('DVDEV1'), true);
          assert.equal(await store.deleteDevice('DVDEV1'), false);
          assert.deepEqual(await store.listOtpTokens(user.id), []);
          await store.deleteUser(user.id);
          assert.equal(await store.getDevice('DVDEV2'), undefined);
        },
      );

      void contractTest(
        'an out-of-band request resolves once; expiry moves it to timeout',
        async () => {
          const app = await store.createApplication(newApplication('oob1'));
          const user = await createUser('DUOOB1');
          await store.createDevice({ id: 'DVOOB1', userId: user.id, name: 'p', platform: 'cli' });
          const base = {
            factor: 'push' as const,
            appId: app.id,
            userId: user.id,
            deviceId: 'DVOOB1',
            status: 'pushed' as const,
            context,
            verificationCode: null,
            callbackTokenHash: null,
          };
          await store.createOobRequest({ ...base, txid: 'tx-a', expiresAtMs: START_MS + 60_000 });
          await store.createOobRequest({ ...base, txid: 'tx-b', expiresAtMs: START_MS + 1_000 });
          assert.deepEqual(
            (await store.listPendingOobRequests('DVOOB1', START_MS)).map((r) => r.txid),
            ['tx-a', 'tx-b'],
          );
          // Expired requests are no longer offered, even before the sweep marks them.
          assert.deepEqual(
            (await store.listPendingOobRequests('DVOOB1', START_MS + 1_000)).map((r) => r.txid),
            ['tx-a'],
          );
          await store.markOobDelivered(['tx-a'], START_MS + 10);
          await store.markOobDelivered(['tx-a'], START_MS + 20);
          assert.equal((await store.getOobRequest('tx-a'))?.deliveredAtMs, START_MS + 10);
          const answers = await Promise.all([
            store.resolveOobRequest('tx-a', 'allow', START_MS + 30),
            store.resolveOobRequest('tx-a', 'deny', START_MS + 30),
          ]);
          assert.deepEqual(answers.filter(Boolean).length, 1);
          assert.deepEqual(await store.expireOobRequests(START_MS + 1_000), [
            { txid: 'tx-b', appId: app.id, username: 'u', factor: 'push', delivered: false },
          ]);
          assert.equal(await store.resolveOobRequest('tx-b', 'allow', START_MS + 1_001), false);
          const b = await store.getOobRequest('tx-b');
          assert.equal(b?.status, 'timeout');
          assert.deepEqual(b?.context, context);
          assert.deepEqual(await store.expireOobRequests(START_MS + 1_000_000), []);
        },
      );

      void contractTest(
        'SMS passcodes: a new batch replaces the old, each is used once',
        async () => {
          const user = await createUser('DUSMS1');
          await store.createDevice({ id: 'DVSMS1', userId: user.id, name: 'p', platform: 'phone' });
          const batch = (prefix: string) =>
            [1, 2].map((seq) => ({
              id: `${prefix}${seq}`,
              seq,
              codeHash: `hash-${prefix}${seq}`,
              firstDigit: String(seq),
              expiresAtMs: START_MS + 1000,
            }));
          await store.replaceSmsPasscodes(user.id, 'DVSMS1', batch('old'));
          await store.replaceSmsPasscodes(user.id, 'DVSMS1', batch('new'));
          const subject = await store.loadAuthSubject({ userId: user.id });
          assert.deepEqual(
            subject?.smsPasscodes.map((c) => [c.id, c.firstDigit]),
            [
              ['new1', '1'],
              ['new2', '2'],
            ],
          );
          const uses = await Promise.all([
            store.consumeSmsPasscode('new1', START_MS),
            store.consumeSmsPasscode('new1', START_MS),
          ]);
          assert.equal(uses.filter(Boolean).length, 1);
          assert.equal(await store.consumeSmsPasscode('old1', START_MS), false);
          assert.equal(await store.consumeSmsPasscode('new2', START_MS + 1000), false);
        },
      );
    });

    void describe('applications', () => {
      void contractTest(
        'createApplication returns the application with its skey in plaintext and id = ikey',
        async () => {
          const app = await store.createApplication(
            newApplication('a1', { rateLimitPerSecond: 50 }),
          );
          assert.deepEqual(app, {
            id: 'DIA1XXXXXXXXXXXXXXXX',
            name: 'app a1',
            ikey: 'DIA1XXXXXXXXXXXXXXXX',
            skey: `skey-a1-${'s'.repeat(30)}`,
            type: 'auth-api',
            newUserPolicy: 'enroll',
            restrictionLevel: 'most-restrictive',
            rateLimitPerSecond: 50,
            verifiedPush: false,
            usernameNormalization: 'simple',
            allowedGroupIds: [],
            createdAtMs: START_MS,
            updatedAtMs: START_MS,
          } satisfies Application);
        },
      );

      void contractTest(
        'getApplication finds an application by id, ikey or name; getApplicationByIkey by ikey',
        async () => {
          const app = await store.createApplication(newApplication('a2'));
          assert.deepEqual(await store.getApplication(app.id), app);
          assert.deepEqual(await store.getApplication(app.ikey), app);
          assert.deepEqual(await store.getApplication('app a2'), app);
          assert.deepEqual(await store.getApplicationByIkey(app.ikey), app);
          assert.equal(await store.getApplication('no such app'), undefined);
          assert.equal(await store.getApplicationByIkey('app a2'), undefined);
          assert.equal(typeof app.createdAtMs, 'number');
        },
      );

      void contractTest(
        'getApplication prefers an ikey match over another application named like that ikey',
        async () => {
          const first = await store.createApplication(newApplication('a3'));
          await store.createApplication(newApplication('a4', { name: first.ikey }));
          assert.equal((await store.getApplication(first.ikey))?.id, first.id);
        },
      );

      void contractTest('the skey is sealed at rest: the raw row holds no plaintext', async () => {
        const app = await store.createApplication(newApplication('a5'));
        const rows = await raw.query(`SELECT * FROM applications WHERE id = '${app.id}'`);
        const stored = JSON.stringify(rows);
        assert.ok(!stored.includes(app.skey), 'plaintext skey found in the database');
        assert.match(String(rows[0]?.skey_sealed), /^v1:/);
      });

      void contractTest(
        'a duplicate application name or ikey is refused with a conflict naming it',
        async () => {
          await store.createApplication(newApplication('a6'));
          await assert.rejects(
            store.createApplication(newApplication('a7', { name: 'app a6' })),
            rejectsWith('STORE_CONFLICT', /application with name "app a6" already exists/),
          );
          await assert.rejects(
            store.createApplication(newApplication('a6', { name: 'other' })),
            rejectsWith('STORE_CONFLICT', /application with ikey "DIA6X+" already exists/),
          );
        },
      );

      void contractTest('listApplications returns every application ordered by name', async () => {
        const names = (await store.listApplications()).map((a) => a.name);
        assert.ok(names.includes('app a1'));
        assert.deepEqual(names, [...names].sort());
      });

      void contractTest(
        'updateApplication changes only the patched fields, re-seals a new skey and bumps updatedAtMs',
        async () => {
          const app = await store.createApplication(newApplication('a8'));
          clock.advance(1000);
          const updated = await store.updateApplication(app.id, {
            name: 'app a8 renamed',
            skey: 'new-skey-a8',
            rateLimitPerSecond: 7,
            restrictionLevel: 'less-restrictive',
          });
          assert.deepEqual(updated, {
            ...app,
            name: 'app a8 renamed',
            skey: 'new-skey-a8',
            rateLimitPerSecond: 7,
            restrictionLevel: 'less-restrictive',
            updatedAtMs: app.updatedAtMs + 1000,
          });
          assert.deepEqual(await store.getApplication(app.id), updated);
          const rows = await raw.query(
            `SELECT skey_sealed FROM applications WHERE id = '${app.id}'`,
          );
          assert.ok(!String(rows[0]?.skey_sealed).includes('new-skey-a8'));
        },
      );

      void contractTest(
        'updateApplication of an unknown id or to a taken name is refused',
        async () => {
          await assert.rejects(
            store.updateApplication('DINOSUCHAPP', { name: 'x' }),
            rejectsWith('STORE_NOT_FOUND', /application "DINOSUCHAPP" not found/),
          );
          const app = await store.createApplication(newApplication('a9'));
          await assert.rejects(
            store.updateApplication(app.id, { name: 'app a1' }),
            rejectsWith('STORE_CONFLICT', /name "app a1"/),
          );
        },
      );

      void contractTest(
        'setApplicationGroups restricts to the given groups, replaces them, and [] lifts the restriction',
        async () => {
          const app = await store.createApplication(newApplication('a10'));
          await store.createGroup({ id: 'GA10a', name: 'a10 ops' });
          await store.createGroup({ id: 'GA10b', name: 'a10 dev' });
          await store.setApplicationGroups(app.id, ['GA10b', 'GA10a', 'GA10a']);
          assert.deepEqual((await store.getApplicationByIkey(app.ikey))?.allowedGroupIds, [
            'GA10a',
            'GA10b',
          ]);
          assert.deepEqual((await store.getApplication('app a10'))?.allowedGroupIds, [
            'GA10a',
            'GA10b',
          ]);
          const listed = (await store.listApplications()).find((a) => a.id === app.id);
          assert.deepEqual(listed?.allowedGroupIds, ['GA10a', 'GA10b']);
          await store.setApplicationGroups(app.id, ['GA10b']);
          assert.deepEqual((await store.getApplication(app.id))?.allowedGroupIds, ['GA10b']);
          await store.setApplicationGroups(app.id, []);
          assert.deepEqual((await store.getApplication(app.id))?.allowedGroupIds, []);
        },
      );

      void contractTest(
        'setApplicationGroups with an unknown group or application changes nothing and says which',
        async () => {
          const app = await store.createApplication(newApplication('a11'));
          await store.createGroup({ id: 'GA11', name: 'a11 group' });
          await store.setApplicationGroups(app.id, ['GA11']);
          await assert.rejects(
            store.setApplicationGroups(app.id, ['GA11', 'GNOPE']),
            rejectsWith('STORE_NOT_FOUND', /group not found: GNOPE/),
          );
          assert.deepEqual((await store.getApplication(app.id))?.allowedGroupIds, ['GA11']);
          await assert.rejects(
            store.setApplicationGroups('DINOPE', []),
            rejectsWith('STORE_NOT_FOUND', /application "DINOPE" not found/),
          );
        },
      );

      void contractTest(
        'deleting a group removes it from the applications it restricted (cascade)',
        async () => {
          const app = await store.createApplication(newApplication('a12'));
          await store.createGroup({ id: 'GA12', name: 'a12 group' });
          await store.setApplicationGroups(app.id, ['GA12']);
          await raw.query(`DELETE FROM groups WHERE id = 'GA12'`);
          assert.deepEqual((await store.getApplication(app.id))?.allowedGroupIds, []);
        },
      );
    });

    void describe('users', () => {
      void contractTest(
        'createUser returns the user with defaults and sorted aliases; getUser reads it back',
        async () => {
          const user = await store.createUser({
            id: 'U1',
            username: 'alice',
            aliases: ['alice.smith', 'asmith'],
            realName: 'Alice Smith',
            email: 'alice@example.org',
          });
          assert.deepEqual(user, {
            id: 'U1',
            username: 'alice',
            aliases: ['alice.smith', 'asmith'],
            realName: 'Alice Smith',
            email: 'alice@example.org',
            status: 'active',
            failedAttempts: 0,
            createdAtMs: clock.nowMs(),
            updatedAtMs: clock.nowMs(),
          } satisfies User);
          assert.deepEqual(await store.getUser('U1'), user);
          assert.equal(await store.getUser('UNOPE'), undefined);
        },
      );

      void contractTest(
        'findUser matches the username or any alias, and nothing else',
        async () => {
          const user = await store.createUser({
            id: 'U2',
            username: 'bob',
            aliases: ['robert', 'bobby'],
          });
          assert.deepEqual(await store.findUser('bob'), user);
          assert.deepEqual(await store.findUser('robert'), user);
          assert.deepEqual(await store.findUser('bobby'), user);
          assert.equal(await store.findUser('U2'), undefined);
          assert.equal(await store.findUser('bob2'), undefined);
        },
      );

      void contractTest(
        'names match regardless of case and surrounding spaces, aliases too',
        async () => {
          const user = await store.createUser({
            id: 'UCI1',
            username: ' Erin ',
            aliases: ['E.Smith'],
          });
          assert.equal(user.username, 'Erin', 'surrounding whitespace is never part of a name');
          for (const name of ['erin', 'ERIN', 'erin ', ' Erin', 'e.smith', 'E.SMITH ']) {
            assert.equal((await store.findUser(name))?.id, 'UCI1', name);
            assert.equal((await store.loadAuthSubject({ username: name }))?.user.id, 'UCI1');
          }
          assert.equal(await store.findUser('EXAMPLE\\erin'), undefined, 'none: no domain forms');
          assert.equal(await store.findUser(''), undefined);
          assert.equal(await store.findUser('   '), undefined);
        },
      );

      void contractTest(
        'simple normalization: DOMAIN\\name and name@domain mean name; a shared bare name is refused',
        async () => {
          await store.createUser({ id: 'USN1', username: 'frank', aliases: ['fr.ank'] });
          await store.createUser({ id: 'USN2', username: 'gina@a.example' });
          await store.createUser({ id: 'USN3', username: 'gina@b.example' });
          for (const name of [
            'EXAMPLE\\Frank',
            'frank@example.org',
            'fr.ank@corp',
            'CORP\\FR.ANK',
          ]) {
            assert.equal((await store.findUser(name, 'simple'))?.id, 'USN1', name);
            const subject = await store.loadAuthSubject({
              username: name,
              normalization: 'simple',
            });
            assert.equal(subject?.user.id, 'USN1', name);
          }
          assert.equal(await store.findUser('EXAMPLE\\frank', 'none'), undefined);
          assert.equal((await store.findUser('GINA@A.example', 'simple'))?.id, 'USN2');
          for (const lookup of [
            () => store.findUser('gina', 'simple'),
            () => store.loadAuthSubject({ username: 'EXAMPLE\\gina', normalization: 'simple' }),
          ]) {
            await assert.rejects(
              lookup(),
              rejectsWith('STORE_AMBIGUOUS_USERNAME', /matches 2 users/),
            );
          }
        },
      );

      void contractTest(
        'names are unique regardless of case, across usernames and aliases',
        async () => {
          await store.createUser({ id: 'UCU1', username: 'harry', aliases: ['h.potter'] });
          await assert.rejects(
            store.createUser({ id: 'UCU2', username: 'HARRY' }),
            rejectsWith('STORE_CONFLICT', /user with username "HARRY" already exists/),
          );
          await assert.rejects(
            store.createUser({ id: 'UCU3', username: 'harry2', aliases: ['Harry '] }),
            rejectsWith('STORE_CONFLICT', /alias "Harry" is already another user's username/),
          );
          await assert.rejects(
            store.createUser({ id: 'UCU4', username: 'H.Potter' }),
            rejectsWith('STORE_CONFLICT', /username "H.Potter" is already another user's alias/),
          );
          const other = await store.createUser({ id: 'UCU5', username: 'ivy' });
          await assert.rejects(
            store.setUserAliases(other.id, ['HARRY']),
            rejectsWith('STORE_CONFLICT', /alias "HARRY" is already another user's username/),
          );
          await assert.rejects(
            store.renameUser(other.id, 'Harry'),
            rejectsWith('STORE_CONFLICT', /user with username "Harry" already exists/),
          );
          const renamed = await store.renameUser(other.id, ' Ivy2 ');
          assert.equal(renamed.username, 'Ivy2');
          assert.equal((await store.findUser('IVY2'))?.id, 'UCU5');
          assert.equal(await store.findUser('ivy'), undefined);
          assert.equal(
            (await store.renameUser(other.id, 'IVY2')).username,
            'IVY2',
            'a user may recase',
          );
        },
      );

      void contractTest('a duplicate username is refused with a conflict naming it', async () => {
        await store.createUser({ id: 'U3', username: 'carol' });
        await assert.rejects(
          store.createUser({ id: 'U3b', username: 'carol' }),
          rejectsWith('STORE_CONFLICT', /user with username "carol" already exists/),
        );
        await assert.rejects(
          store.createUser({ id: 'U3', username: 'carol2' }),
          rejectsWith('STORE_CONFLICT', /user with id "U3" already exists/),
        );
      });

      void contractTest(
        "an alias may not be another user's username or alias, nor a username another's alias",
        async () => {
          await store.createUser({ id: 'U4', username: 'dave', aliases: ['david'] });
          await assert.rejects(
            store.createUser({ id: 'U4b', username: 'dave2', aliases: ['dave'] }),
            rejectsWith('STORE_CONFLICT', /alias "dave" is already another user's username/),
          );
          await assert.rejects(
            store.createUser({ id: 'U4c', username: 'dave3', aliases: ['david'] }),
            rejectsWith('STORE_CONFLICT', /alias "david" already belongs to another user/),
          );
          await assert.rejects(
            store.createUser({ id: 'U4d', username: 'david' }),
            rejectsWith('STORE_CONFLICT', /username "david" is already another user's alias/),
          );
          await assert.rejects(
            store.createUser({ id: 'U4e', username: 'eve', aliases: ['eve'] }),
            rejectsWith('STORE_CONFLICT', /own username/),
          );
          for (const id of ['U4b', 'U4c', 'U4d', 'U4e'])
            assert.equal(await store.getUser(id), undefined);
          assert.equal(
            await count(raw, 'user_aliases', `user_id <> 'U4' AND alias LIKE 'dav%'`),
            0,
          );
        },
      );

      void contractTest(
        'listUsers orders by username and pages over users, not alias rows',
        async () => {
          const all = await store.listUsers();
          const names = all.map((u) => u.username);
          assert.deepEqual(names, [...names].sort());
          assert.ok(all.length >= 4);
          const page1 = await store.listUsers({ limit: 2 });
          const page2 = await store.listUsers({ limit: 2, offset: 2 });
          assert.deepEqual(
            [...page1, ...page2].map((u) => u.id),
            all.slice(0, 4).map((u) => u.id),
          );
          assert.deepEqual(await store.listUsers({ offset: 1 }), all.slice(1));
          assert.deepEqual(all.find((u) => u.id === 'U1')?.aliases, ['alice.smith', 'asmith']);
        },
      );

      void contractTest(
        'setUserStatus changes the status and bumps updatedAtMs; unknown users are refused',
        async () => {
          await createUser('U5');
          clock.advance(5);
          const updated = await store.setUserStatus('U5', 'bypass');
          assert.equal(updated.status, 'bypass');
          assert.equal(updated.updatedAtMs, clock.nowMs());
          assert.equal((await store.getUser('U5'))?.status, 'bypass');
          await assert.rejects(
            store.setUserStatus('UNOPE', 'active'),
            rejectsWith('STORE_NOT_FOUND', /user "UNOPE" not found/),
          );
        },
      );

      void contractTest(
        'deleteUser removes the user and cascades to aliases, tokens, codes, memberships, enrollments, transactions',
        async () => {
          const app = await store.createApplication(newApplication('u6'));
          await createUser('U6', { aliases: ['u6-alias'] });
          await store.createGroup({ id: 'GU6', name: 'u6 group' });
          await store.addGroupMember('GU6', 'U6');
          await store.addOtpToken(totpToken('TU6', 'U6'));
          await store.replaceBypassCodes('U6', [
            { id: 'BU6', codeHash: 'h', remainingUses: 1, expiresAtMs: null },
          ]);
          await store.createEnrollment({
            activationCode: 'ACU6',
            userId: 'U6',
            appId: app.id,
            state: 'waiting',
            expiresAtMs: START_MS + 1000,
          });
          await store.createAuthTransaction({
            txid: 'TXU6',
            appId: app.id,
            userId: 'U6',
            factor: 'push',
            result: 'waiting',
            status: 'pushed',
            statusMsg: 'Pushed a login request',
          });
          assert.equal(await store.deleteUser('U6'), true);
          assert.equal(await store.getUser('U6'), undefined);
          assert.equal(await store.findUser('u6-alias'), undefined);
          for (const table of [
            'user_aliases',
            'otp_tokens',
            'bypass_codes',
            'group_members',
            'enrollments',
            'auth_transactions',
          ]) {
            assert.equal(await count(raw, table, `user_id = 'U6'`), 0, `${table} rows left behind`);
          }
          assert.ok(await store.getGroup('GU6'), 'the group itself stays');
          assert.equal(await store.deleteUser('U6'), false);
        },
      );
    });

    void describe('second-factor failures and lockout', () => {
      void contractTest(
        'the failure that reaches the threshold locks the user out, reported once',
        async () => {
          await createUser('L1');
          const results = [];
          for (let i = 0; i < 5; i++) results.push(await store.recordSecondFactorFailure('L1', 3));
          assert.deepEqual(results, [
            { failedAttempts: 1, lockedOut: false },
            { failedAttempts: 2, lockedOut: false },
            { failedAttempts: 3, lockedOut: true },
            { failedAttempts: 4, lockedOut: false },
            { failedAttempts: 5, lockedOut: false },
          ]);
          const user = await store.getUser('L1');
          assert.equal(user?.status, 'locked out');
          assert.equal(user?.failedAttempts, 5);
        },
      );

      void contractTest('a disabled user is counted but never becomes locked out', async () => {
        await store.createUser({ id: 'L2', username: 'user-L2', status: 'disabled' });
        for (let i = 0; i < 3; i++) {
          assert.equal((await store.recordSecondFactorFailure('L2', 2)).lockedOut, false);
        }
        assert.equal((await store.getUser('L2'))?.status, 'disabled');
        assert.equal((await store.getUser('L2'))?.failedAttempts, 3);
      });

      void contractTest(
        'concurrent failures cross the threshold exactly once and every failure is counted',
        async () => {
          await createUser('L3');
          const results = await Promise.all(
            Array.from({ length: 10 }, () => store.recordSecondFactorFailure('L3', 5)),
          );
          assert.equal(results.filter((r) => r.lockedOut).length, 1);
          assert.deepEqual(
            results.map((r) => r.failedAttempts).sort((a, b) => a - b),
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
          );
          assert.equal(results.find((r) => r.lockedOut)?.failedAttempts, 5);
          assert.equal((await store.getUser('L3'))?.status, 'locked out');
        },
      );

      void contractTest(
        'resetSecondFactorFailures zeroes the count without unlocking; unlocking also zeroes it',
        async () => {
          await createUser('L4');
          await store.recordSecondFactorFailure('L4', 2);
          await store.resetSecondFactorFailures('L4');
          assert.equal((await store.getUser('L4'))?.failedAttempts, 0);
          await store.recordSecondFactorFailure('L4', 2);
          await store.recordSecondFactorFailure('L4', 2);
          assert.equal((await store.getUser('L4'))?.status, 'locked out');
          const unlocked = await store.setUserStatus('L4', 'active');
          assert.equal(unlocked.failedAttempts, 0);
          assert.deepEqual(await store.recordSecondFactorFailure('L4', 2), {
            failedAttempts: 1,
            lockedOut: false,
          });
          assert.deepEqual(await store.recordSecondFactorFailure('L4', 2), {
            failedAttempts: 2,
            lockedOut: true,
          });
        },
      );

      void contractTest(
        'recordSecondFactorFailure refuses an unknown user and a non-positive threshold',
        async () => {
          await assert.rejects(
            store.recordSecondFactorFailure('UNOPE', 3),
            rejectsWith('STORE_NOT_FOUND', /user "UNOPE" not found/),
          );
          await assert.rejects(store.recordSecondFactorFailure('L4', 0), RangeError);
          await store.resetSecondFactorFailures('UNOPE');
        },
      );
    });

    void describe('groups', () => {
      void contractTest(
        'createGroup, getGroup by id or name, listGroups by name, setGroupStatus',
        async () => {
          const group = await store.createGroup({
            id: 'G1',
            name: 'engineering',
            description: 'eng',
          });
          assert.deepEqual(group, {
            id: 'G1',
            name: 'engineering',
            description: 'eng',
            status: 'active',
            createdAtMs: clock.nowMs(),
            updatedAtMs: clock.nowMs(),
          });
          assert.deepEqual(await store.getGroup('G1'), group);
          assert.deepEqual(await store.getGroup('engineering'), group);
          assert.equal(await store.getGroup('nope'), undefined);
          const names = (await store.listGroups()).map((g) => g.name);
          assert.ok(names.includes('engineering'));
          assert.deepEqual(names, [...names].sort());
          clock.advance(1);
          const bypassed = await store.setGroupStatus('G1', 'bypass');
          assert.equal(bypassed.status, 'bypass');
          assert.equal(bypassed.updatedAtMs, clock.nowMs());
          await assert.rejects(
            store.setGroupStatus('GNOPE', 'active'),
            rejectsWith('STORE_NOT_FOUND', /GNOPE/),
          );
        },
      );

      void contractTest('a duplicate group name is refused with a conflict naming it', async () => {
        await store.createGroup({ id: 'G2', name: 'sales' });
        await assert.rejects(
          store.createGroup({ id: 'G2b', name: 'sales' }),
          rejectsWith('STORE_CONFLICT', /group with name "sales" already exists/),
        );
      });

      void contractTest(
        'addGroupMember and removeGroupMember report whether they changed anything',
        async () => {
          await store.createGroup({ id: 'G3', name: 'g3' });
          await store.createGroup({ id: 'G3b', name: 'g3b' });
          await createUser('M1', { aliases: ['m1-alias'] });
          await createUser('M2');
          assert.equal(await store.addGroupMember('G3', 'M1'), true);
          assert.equal(await store.addGroupMember('G3', 'M1'), false);
          assert.equal(await store.addGroupMember('G3', 'M2'), true);
          assert.equal(await store.addGroupMember('G3b', 'M1'), true);
          assert.deepEqual(
            (await store.listGroupMembers('G3')).map((u) => [u.id, u.aliases]),
            [
              ['M1', ['m1-alias']],
              ['M2', []],
            ],
          );
          assert.deepEqual(
            (await store.listUserGroups('M1')).map((g) => g.id),
            ['G3', 'G3b'],
          );
          assert.equal(await store.removeGroupMember('G3', 'M1'), true);
          assert.equal(await store.removeGroupMember('G3', 'M1'), false);
          assert.deepEqual(
            (await store.listUserGroups('M1')).map((g) => g.id),
            ['G3b'],
          );
          assert.deepEqual(await store.listGroupMembers('GNOPE'), []);
        },
      );

      void contractTest('addGroupMember with an unknown group or user is refused', async () => {
        await assert.rejects(
          store.addGroupMember('G3', 'UNOPE'),
          rejectsWith('STORE_NOT_FOUND', /UNOPE/),
        );
        await assert.rejects(
          store.addGroupMember('GNOPE', 'M2'),
          rejectsWith('STORE_NOT_FOUND', /GNOPE/),
        );
      });
    });

    void describe('OTP tokens', () => {
      void contractTest(
        "addOtpToken returns the token with its secret in plaintext; listOtpTokens returns the user's tokens",
        async () => {
          await createUser('O1');
          const token = await store.addOtpToken(totpToken('T1', 'O1'));
          assert.deepEqual(token, {
            id: 'T1',
            userId: 'O1',
            type: 'totp',
            secret: 'JBSWY3DPEHPK3PXPT1',
            algorithm: 'SHA1',
            digits: 6,
            periodSeconds: 30,
            counter: 0,
            lastStep: null,
            name: 'phone',
            createdAtMs: clock.nowMs(),
          });
          const hotp = await store.addOtpToken({
            ...totpToken('T1h', 'O1'),
            type: 'hotp',
            counter: 5,
            name: null,
          });
          assert.deepEqual(await store.listOtpTokens('O1'), [token, hotp]);
          assert.deepEqual(await store.listOtpTokens('UNOPE'), []);
        },
      );

      void contractTest(
        'token secrets are sealed at rest: the raw row holds no plaintext',
        async () => {
          const rows = await raw.query(`SELECT * FROM otp_tokens WHERE id = 'T1'`);
          assert.equal(rows.length, 1);
          assert.ok(!JSON.stringify(rows).includes('JBSWY3DPEHPK3PXPT1'));
          assert.match(String(rows[0]?.secret_sealed), /^v1:/);
        },
      );

      void contractTest('addOtpToken for an unknown user is refused', async () => {
        await assert.rejects(
          store.addOtpToken(totpToken('TX', 'UNOPE')),
          rejectsWith('STORE_NOT_FOUND', /UNOPE/),
        );
      });

      void contractTest(
        'claimTotpStep accepts a step once, then refuses it and any earlier step',
        async () => {
          await createUser('O2');
          await store.addOtpToken(totpToken('T2', 'O2'));
          assert.equal(await store.claimTotpStep('T2', 1000), true);
          assert.equal(await store.claimTotpStep('T2', 1000), false);
          assert.equal(await store.claimTotpStep('T2', 999), false);
          assert.equal(await store.claimTotpStep('T2', 1001), true);
          assert.equal((await store.listOtpTokens('O2'))[0]?.lastStep, 1001);
          assert.equal(await store.claimTotpStep('TNOPE', 1), false);
        },
      );

      void contractTest('ten concurrent claims of one TOTP step: exactly one wins', async () => {
        await createUser('O3');
        await store.addOtpToken(totpToken('T3', 'O3'));
        const step = 56_666_666;
        const wins = await Promise.all(
          Array.from({ length: 10 }, () => store.claimTotpStep('T3', step)),
        );
        assert.equal(wins.filter(Boolean).length, 1);
      });

      void contractTest(
        'advanceHotpCounter moves the counter only from the expected value, once under concurrency',
        async () => {
          await createUser('O4');
          await store.addOtpToken({ ...totpToken('T4', 'O4'), type: 'hotp', counter: 10 });
          assert.equal(await store.advanceHotpCounter('T4', 9, 12), false);
          assert.equal(await store.advanceHotpCounter('T4', 10, 12), true);
          assert.equal(await store.advanceHotpCounter('T4', 10, 12), false);
          const wins = await Promise.all(
            Array.from({ length: 10 }, (_, i) => store.advanceHotpCounter('T4', 12, 13 + i)),
          );
          assert.equal(wins.filter(Boolean).length, 1);
          const counter = (await store.listOtpTokens('O4'))[0]?.counter;
          assert.equal(counter, 13 + wins.indexOf(true));
        },
      );
    });

    void describe('bypass codes', () => {
      void contractTest(
        'replaceBypassCodes replaces every code of the user and returns the new ones',
        async () => {
          await createUser('B1');
          const first = await store.replaceBypassCodes('B1', [
            { id: 'BC1', codeHash: 'hash1', remainingUses: 1, expiresAtMs: null },
            { id: 'BC2', codeHash: 'hash2', remainingUses: null, expiresAtMs: START_MS + 60_000 },
          ]);
          assert.deepEqual(first, [
            {
              id: 'BC1',
              userId: 'B1',
              codeHash: 'hash1',
              remainingUses: 1,
              expiresAtMs: null,
              createdAtMs: clock.nowMs(),
            },
            {
              id: 'BC2',
              userId: 'B1',
              codeHash: 'hash2',
              remainingUses: null,
              expiresAtMs: START_MS + 60_000,
              createdAtMs: clock.nowMs(),
            },
          ]);
          assert.deepEqual(await store.listBypassCodes('B1'), first);
          const second = await store.replaceBypassCodes('B1', [
            { id: 'BC3', codeHash: 'hash3', remainingUses: 2, expiresAtMs: null },
          ]);
          assert.deepEqual(await store.listBypassCodes('B1'), second);
          assert.deepEqual(await store.replaceBypassCodes('B1', []), []);
          assert.deepEqual(await store.listBypassCodes('B1'), []);
          await assert.rejects(
            store.replaceBypassCodes('UNOPE', []),
            rejectsWith('STORE_NOT_FOUND', /UNOPE/),
          );
        },
      );

      void contractTest(
        'consumeBypassCode uses a counted code up and then removes it',
        async () => {
          await createUser('B2');
          await store.replaceBypassCodes('B2', [
            { id: 'BC4', codeHash: 'h', remainingUses: 2, expiresAtMs: null },
          ]);
          assert.equal(await store.consumeBypassCode('BC4', START_MS), true);
          assert.equal((await store.listBypassCodes('B2'))[0]?.remainingUses, 1);
          assert.equal(await store.consumeBypassCode('BC4', START_MS), true);
          assert.deepEqual(await store.listBypassCodes('B2'), []);
          assert.equal(await store.consumeBypassCode('BC4', START_MS), false);
          assert.equal(await store.consumeBypassCode('BCNOPE', START_MS), false);
        },
      );

      void contractTest(
        'an unlimited code works until it expires, and not at its expiry instant',
        async () => {
          await createUser('B3');
          const expiresAtMs = START_MS + 1000;
          await store.replaceBypassCodes('B3', [
            { id: 'BC5', codeHash: 'h', remainingUses: null, expiresAtMs },
          ]);
          for (let i = 0; i < 3; i++)
            assert.equal(await store.consumeBypassCode('BC5', expiresAtMs - 1), true);
          assert.equal((await store.listBypassCodes('B3'))[0]?.remainingUses, null);
          assert.equal(await store.consumeBypassCode('BC5', expiresAtMs), false);
          assert.equal(await store.consumeBypassCode('BC5', expiresAtMs + 1), false);
        },
      );

      void contractTest('an expired counted code is refused and keeps its uses', async () => {
        await createUser('B4');
        await store.replaceBypassCodes('B4', [
          { id: 'BC6', codeHash: 'h', remainingUses: 3, expiresAtMs: START_MS },
        ]);
        assert.equal(await store.consumeBypassCode('BC6', START_MS + 1), false);
        assert.equal((await store.listBypassCodes('B4'))[0]?.remainingUses, 3);
      });

      void contractTest('concurrent uses of a 3-use code: exactly three succeed', async () => {
        await createUser('B5');
        await store.replaceBypassCodes('B5', [
          { id: 'BC7', codeHash: 'h', remainingUses: 3, expiresAtMs: null },
        ]);
        const results = await Promise.all(
          Array.from({ length: 10 }, () => store.consumeBypassCode('BC7', START_MS)),
        );
        assert.equal(results.filter(Boolean).length, 3);
        assert.deepEqual(await store.listBypassCodes('B5'), []);
      });
    });

    void describe('enrollments and auth transactions', () => {
      void contractTest(
        'createEnrollment, getEnrollment and setEnrollmentState round-trip',
        async () => {
          const app = await store.createApplication(newApplication('e1'));
          await createUser('E1');
          const enrollment = await store.createEnrollment({
            activationCode: 'AC1',
            userId: 'E1',
            appId: app.id,
            state: 'waiting',
            expiresAtMs: START_MS + 86_400_000,
          });
          assert.deepEqual(enrollment, {
            activationCode: 'AC1',
            userId: 'E1',
            appId: app.id,
            state: 'waiting',
            expiresAtMs: START_MS + 86_400_000,
            createdAtMs: clock.nowMs(),
          });
          assert.deepEqual(await store.getEnrollment('AC1'), enrollment);
          await store.setEnrollmentState('AC1', 'success');
          assert.equal((await store.getEnrollment('AC1'))?.state, 'success');
          assert.equal(await store.getEnrollment('ACNOPE'), undefined);
          await assert.rejects(
            store.setEnrollmentState('ACNOPE', 'success'),
            rejectsWith('STORE_NOT_FOUND', /ACNOPE/),
          );
          await assert.rejects(
            store.createEnrollment({ ...enrollment, activationCode: 'AC2', userId: 'UNOPE' }),
            rejectsWith('STORE_NOT_FOUND', /UNOPE/),
          );
          await assert.rejects(
            store.createEnrollment(enrollment),
            rejectsWith('STORE_CONFLICT', /enrollment/),
          );
        },
      );

      void contractTest(
        'createAuthTransaction, getAuthTransaction and updateAuthTransaction round-trip',
        async () => {
          const app = await store.createApplication(newApplication('x1'));
          await createUser('X1');
          const created = await store.createAuthTransaction({
            txid: 'TX1',
            appId: app.id,
            userId: 'X1',
            factor: 'push',
            result: 'waiting',
            status: 'pushed',
            statusMsg: 'Pushed a login request to your device...',
          });
          assert.equal(created.createdAtMs, clock.nowMs());
          assert.deepEqual(await store.getAuthTransaction('TX1'), created);
          clock.advance(2000);
          await store.updateAuthTransaction('TX1', {
            result: 'allow',
            status: 'allow',
            statusMsg: 'Success.',
          });
          assert.deepEqual(await store.getAuthTransaction('TX1'), {
            ...created,
            result: 'allow',
            status: 'allow',
            statusMsg: 'Success.',
            updatedAtMs: created.updatedAtMs + 2000,
          });
          assert.equal(await store.getAuthTransaction('TXNOPE'), undefined);
          // An unknown user's transaction (the new-user policy's answer) refers to no user.
          const unknownUsers = await store.createAuthTransaction({
            ...created,
            txid: 'TX2',
            userId: null,
            result: 'allow',
            status: 'allow',
          });
          assert.deepEqual(await store.getAuthTransaction('TX2'), unknownUsers);
          await assert.rejects(
            store.updateAuthTransaction('TXNOPE', {
              result: 'deny',
              status: 'deny',
              statusMsg: '',
            }),
            rejectsWith('STORE_NOT_FOUND', /TXNOPE/),
          );
          await assert.rejects(
            store.createAuthTransaction(created),
            rejectsWith('STORE_CONFLICT', /txid "TX1"/),
          );
        },
      );
    });

    void describe('audit log', () => {
      const event = (n: number, overrides: Record<string, unknown> = {}) => ({
        tsMs: START_MS + n,
        actor: 'cli:root',
        action: n % 2 === 0 ? 'user.create' : 'auth.passcode',
        targetType: 'user',
        targetId: `U${n}`,
        appId: null,
        username: n % 3 === 0 ? 'audited' : `someone${n}`,
        result: 'success',
        ip: '127.0.0.1',
        detail: { n, nested: { ok: true } },
        ...overrides,
      });

      void contractTest(
        'appendAudit returns increasing ids and listAudit returns events in id order, detail intact',
        async () => {
          const ids = [];
          for (let n = 1; n <= 6; n++) ids.push(await store.appendAudit(event(n)));
          assert.deepEqual(
            ids,
            [...ids].sort((a, b) => a - b),
          );
          assert.equal(new Set(ids).size, 6);
          const listed = await store.listAudit();
          assert.deepEqual(
            listed.slice(0, 6),
            ids.map((id, i) => ({ id, ...event(i + 1) })),
          );
        },
      );

      void contractTest(
        'listAudit filters by afterId, time range (since inclusive, until exclusive), action and username',
        async () => {
          const all = await store.listAudit();
          const third = all[2];
          assert.ok(third);
          assert.deepEqual(await store.listAudit({ afterId: third.id }), all.slice(3));
          assert.deepEqual(
            (await store.listAudit({ sinceMs: START_MS + 2, untilMs: START_MS + 5 })).map(
              (e) => e.tsMs,
            ),
            [START_MS + 2, START_MS + 3, START_MS + 4],
          );
          assert.deepEqual(
            (await store.listAudit({ action: 'user.create' })).map((e) => e.targetId),
            ['U2', 'U4', 'U6'],
          );
          assert.deepEqual(
            (await store.listAudit({ username: 'audited', action: 'user.create' })).map(
              (e) => e.targetId,
            ),
            ['U6'],
          );
          assert.deepEqual(await store.listAudit({ sinceMs: START_MS + 10 ** 9 }), []);
          assert.deepEqual(await store.listAudit({ limit: 2 }), all.slice(0, 2));
        },
      );

      void contractTest('listAudit returns 100 events by default and at most 1000', async () => {
        await store.transaction(async (tx) => {
          for (let n = 0; n < 1005; n++) await tx.appendAudit(event(100 + n, { action: 'bulk' }));
        });
        assert.equal((await store.listAudit({ action: 'bulk' })).length, 100);
        assert.equal((await store.listAudit({ action: 'bulk', limit: 5000 })).length, 1000);
      });

      void contractTest('the database refuses UPDATE and DELETE of audit events', async () => {
        const before = await raw.query('SELECT COUNT(*) AS n FROM audit_events');
        await assert.rejects(raw.query(`UPDATE audit_events SET actor = 'forged'`), /append-only/);
        await assert.rejects(raw.query('DELETE FROM audit_events'), /append-only/);
        assert.deepEqual(await raw.query('SELECT COUNT(*) AS n FROM audit_events'), before);
        assert.equal(await count(raw, 'audit_events', `actor = 'forged'`), 0);
      });
    });

    void describe('policies', () => {
      void contractTest(
        'setPolicy creates then replaces; getPolicy, listPolicies (global first) and deletePolicy',
        async () => {
          assert.equal(await store.getPolicy('global'), undefined);
          const global = await store.setPolicy(
            'global',
            { denyGroupIds: ['GD1'], networkRules: [{ ranges: ['10.0.0.0/8'], action: 'deny' }] },
            'cli:alice',
          );
          assert.deepEqual(global, {
            scope: 'global',
            policy: {
              denyGroupIds: ['GD1'],
              networkRules: [{ ranges: ['10.0.0.0/8'], action: 'deny' }],
            },
            updatedAtMs: clock.nowMs(),
            updatedBy: 'cli:alice',
          });
          await store.setPolicy('app:DIA', { allowedFactors: ['passcode'] }, 'cli:alice');
          clock.advance(5);
          const replaced = await store.setPolicy(
            'app:DIA',
            { newUserPolicy: 'deny', bypassGroupIds: [] },
            'cli:bob',
          );
          assert.deepEqual(await store.getPolicy('app:DIA'), replaced);
          assert.deepEqual(replaced.policy, { newUserPolicy: 'deny', bypassGroupIds: [] });
          assert.equal(replaced.updatedBy, 'cli:bob');
          assert.equal(replaced.updatedAtMs, clock.nowMs());
          await store.setPolicy('app:ABC', {}, 'cli:bob');
          assert.deepEqual(
            (await store.listPolicies()).map((p) => p.scope),
            ['global', 'app:ABC', 'app:DIA'],
          );
          assert.equal(await store.deletePolicy('app:ABC'), true);
          assert.equal(await store.deletePolicy('app:ABC'), false);
          assert.equal(await store.getPolicy('app:ABC'), undefined);
        },
      );

      void contractTest('setPolicy refuses a policy with problems, listing each one', async () => {
        await assert.rejects(
          store.setPolicy(
            'global',
            {
              allowedFactors: [],
              networkRules: [{ ranges: ['10.0.0.0/33'], action: 'deny' }],
            },
            'cli:alice',
          ),
          (err: unknown) => {
            assert.ok(isAirlockError(err) && err.code === 'POLICY_INVALID', String(err));
            assert.match(err.message, /allowedFactors: must name at least one factor/);
            assert.match(err.message, /networkRules\[0\]\.ranges/);
            return true;
          },
        );
        await assert.rejects(store.setPolicy('nope', {}, 'cli:alice'), /policy scope/);
        assert.equal(
          (await store.listPolicies()).some((p) => p.scope === 'nope'),
          false,
        );
      });
    });

    void describe('emergency controls', () => {
      const control = (id: string, expiresAtMs: number): EmergencyControl => ({
        id,
        scope: {
          kind: 'users-to-bypass-group',
          groupId: 'GB',
          requestedUserIds: ['U1', 'U2'],
          addedUserIds: ['U2'],
          alreadyMemberUserIds: ['U1'],
        },
        reason: 'INC-42',
        actor: 'cli:alice',
        createdAtMs: clock.nowMs(),
        expiresAtMs,
        state: 'active',
      });

      void contractTest(
        'createEmergencyControl keeps the whole record; list filters by state, oldest first',
        async () => {
          const a = await store.createEmergencyControl(control('EC1', clock.nowMs() + 60_000));
          assert.deepEqual(await store.getEmergencyControl('EC1'), a);
          clock.advance(1);
          await store.createEmergencyControl({
            id: 'EC2',
            scope: { kind: 'primary-only', proxy: '/var/lib/proxy' },
            reason: 'outage',
            actor: 'cli:bob',
            createdAtMs: clock.nowMs(),
            expiresAtMs: clock.nowMs() + 1000,
            state: 'active',
          });
          assert.equal(await store.getEmergencyControl('NOPE'), undefined);
          const ids = (await store.listEmergencyControls()).map((c) => c.id);
          assert.ok(ids.indexOf('EC1') < ids.indexOf('EC2'), ids.join());
          await assert.rejects(
            store.createEmergencyControl(control('EC1', clock.nowMs() + 1)),
            rejectsWith('STORE_CONFLICT', /emergency control with id "EC1"/),
          );
        },
      );

      void contractTest(
        'updateEmergencyControl applies only from the expected state, so only one reverter wins',
        async () => {
          const c = await store.createEmergencyControl(control('EC3', clock.nowMs() + 60_000));
          const reverted: EmergencyControl = {
            ...c,
            state: 'reverted',
            endedAtMs: clock.nowMs(),
            endedBy: 'cli:alice',
            endReason: 'over',
          };
          const expired: EmergencyControl = { ...c, state: 'expired', endedBy: 'system' };
          const [first, second] = await Promise.all([
            store.updateEmergencyControl(reverted, 'active'),
            store.updateEmergencyControl(expired, 'active'),
          ]);
          assert.equal([first, second].filter(Boolean).length, 1, 'exactly one update wins');
          const winner = first ? reverted : expired;
          assert.deepEqual(await store.getEmergencyControl('EC3'), winner);
          assert.ok(
            (await store.listEmergencyControls({ state: winner.state })).some(
              (x) => x.id === 'EC3',
            ),
          );
          assert.equal(
            (await store.listEmergencyControls({ state: 'active' })).some((x) => x.id === 'EC3'),
            false,
          );
          assert.equal(await store.updateEmergencyControl(reverted, 'active'), false);
        },
      );
    });

    void describe('administrators, Admin API keys and console sessions', () => {
      const newAdmin = (id: string) => ({
        id,
        username: `admin-${id}`,
        passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA',
        totpSecret: `JBSWY3DPEHPK3PXP${id}`,
      });

      void contractTest(
        'an administrator is stored with its TOTP secret sealed and read back',
        async () => {
          const created = await store.createAdmin(newAdmin('AD1'));
          assert.equal(created.disabled, false);
          assert.equal(created.totpLastStep, null);
          assert.deepEqual(await store.findAdmin('admin-AD1'), created);
          assert.deepEqual(await store.getAdmin('AD1'), created);
          const rows = await raw.query("SELECT totp_secret_sealed FROM admins WHERE id = 'AD1'");
          assert.ok(!String(rows[0]?.totp_secret_sealed).includes('JBSWY3DP'));
          assert.equal(await store.findAdmin('nobody'), undefined);
        },
      );

      void contractTest('an administrator username is unique', async () => {
        await store.createAdmin(newAdmin('AD2'));
        await assert.rejects(
          store.createAdmin({ ...newAdmin('AD2b'), username: 'admin-AD2' }),
          rejectsWith('STORE_CONFLICT', /username "admin-AD2"/),
        );
      });

      void contractTest('a TOTP step is accepted once, and never an earlier one', async () => {
        await store.createAdmin(newAdmin('AD3'));
        const claims = await Promise.all([
          store.claimAdminTotpStep('AD3', 100),
          store.claimAdminTotpStep('AD3', 100),
        ]);
        assert.deepEqual(claims.sort(), [false, true]);
        assert.equal(await store.claimAdminTotpStep('AD3', 99), false);
        assert.equal(await store.claimAdminTotpStep('AD3', 101), true);
        assert.equal((await store.getAdmin('AD3'))?.totpLastStep, 101);
      });

      void contractTest('disabling an administrator ends its sessions', async () => {
        await store.createAdmin(newAdmin('AD4'));
        await store.createAdminSession({
          idHash: 'sess-ad4',
          adminId: 'AD4',
          csrfTokenHash: 'csrf',
          expiresAtMs: START_MS + 1000,
        });
        const disabled = await store.setAdminDisabled('AD4', true);
        assert.equal(disabled.disabled, true);
        assert.equal(await store.getAdminSession('sess-ad4'), undefined);
        assert.equal((await store.setAdminDisabled('AD4', false)).disabled, false);
        await assert.rejects(
          store.setAdminDisabled('NOPE', true),
          rejectsWith('STORE_NOT_FOUND', /NOPE/),
        );
        assert.ok((await store.listAdmins()).some((a) => a.id === 'AD4'));
      });

      void contractTest('an Admin API key keeps its skey sealed and can be revoked', async () => {
        const key = await store.createAdminApiKey({
          ikey: 'DAKEY1',
          skey: 'secret-skey-1',
          name: 'ci',
        });
        assert.equal(key.lastUsedAtMs, null);
        assert.deepEqual(await store.getAdminApiKey('DAKEY1'), key);
        const rows = await raw.query(
          "SELECT skey_sealed FROM admin_api_keys WHERE ikey = 'DAKEY1'",
        );
        assert.notEqual(rows[0]?.skey_sealed, 'secret-skey-1');
        await store.touchAdminApiKey('DAKEY1', START_MS + 5);
        assert.equal((await store.getAdminApiKey('DAKEY1'))?.lastUsedAtMs, START_MS + 5);
        await assert.rejects(
          store.createAdminApiKey({ ikey: 'DAKEY1', skey: 'x', name: 'dup' }),
          rejectsWith('STORE_CONFLICT', /DAKEY1/),
        );
        assert.ok((await store.listAdminApiKeys()).some((k) => k.ikey === 'DAKEY1'));
        assert.equal(await store.deleteAdminApiKey('DAKEY1'), true);
        assert.equal(await store.deleteAdminApiKey('DAKEY1'), false);
        assert.equal(await store.getAdminApiKey('DAKEY1'), undefined);
      });

      void contractTest(
        'a console session is touched, deleted, and swept when expired or idle',
        async () => {
          const t0 = clock.nowMs();
          await store.createAdmin(newAdmin('AD5'));
          const session = await store.createAdminSession({
            idHash: 'sess-a',
            adminId: 'AD5',
            csrfTokenHash: 'csrf-a',
            expiresAtMs: t0 + 10_000,
          });
          assert.equal(session.lastSeenAtMs, t0);
          await store.createAdminSession({
            idHash: 'sess-b',
            adminId: 'AD5',
            csrfTokenHash: 'csrf-b',
            expiresAtMs: t0 + 10_000,
          });
          await store.createAdminSession({
            idHash: 'sess-c',
            adminId: 'AD5',
            csrfTokenHash: 'csrf-c',
            expiresAtMs: t0 + 100,
          });
          await store.touchAdminSession('sess-a', t0 + 500);
          assert.equal((await store.getAdminSession('sess-a'))?.lastSeenAtMs, t0 + 500);
          // At t0 + 200: sess-c passed its absolute expiry, sess-b idle since t0.
          assert.equal(await store.deleteExpiredAdminSessions(t0 + 200, t0 + 100), 2);
          assert.equal(await store.getAdminSession('sess-b'), undefined);
          assert.ok(await store.getAdminSession('sess-a'));
          assert.equal(await store.deleteAdminSession('sess-a'), true);
          assert.equal(await store.deleteAdminSession('sess-a'), false);
          await assert.rejects(
            store.createAdminSession({
              idHash: 'sess-x',
              adminId: 'NOPE',
              csrfTokenHash: 'c',
              expiresAtMs: t0,
            }),
            rejectsWith('STORE_NOT_FOUND', /NOPE/),
          );
        },
      );

      void contractTest("a user's name, e-mail and aliases are edited", async () => {
        await store.createUser({ id: 'DUED1', username: 'ed-one', aliases: ['ed-a'] });
        await store.createUser({ id: 'DUED2', username: 'ed-two', aliases: ['ed-b'] });
        const edited = await store.updateUser('DUED1', { realName: 'Ed One', email: null });
        assert.equal(edited.realName, 'Ed One');
        const aliased = await store.setUserAliases('DUED1', ['ed-c', 'ed-a', 'ed-c']);
        assert.deepEqual(aliased.aliases, ['ed-a', 'ed-c']);
        assert.equal((await store.findUser('ed-c'))?.id, 'DUED1');
        await assert.rejects(
          store.setUserAliases('DUED1', ['ed-b']),
          rejectsWith('STORE_CONFLICT', /"ed-b" already belongs/),
        );
        await assert.rejects(
          store.setUserAliases('DUED1', ['ed-two']),
          rejectsWith('STORE_CONFLICT', /"ed-two" is already another user's username/),
        );
        assert.deepEqual((await store.setUserAliases('DUED1', [])).aliases, []);
        await assert.rejects(store.updateUser('NOPE', {}), rejectsWith('STORE_NOT_FOUND', /NOPE/));
      });

      void contractTest(
        'a group restricting an application is not deleted; others are, with memberships',
        async () => {
          const app = await store.createApplication(newApplication('delgrp'));
          await store.createGroup({ id: 'GDEL1', name: 'del-one' });
          await store.createGroup({ id: 'GDEL2', name: 'del-two' });
          await store.setApplicationGroups(app.id, ['GDEL1']);
          await store.createUser({ id: 'DUDEL', username: 'del-user' });
          await store.addGroupMember('GDEL2', 'DUDEL');
          await assert.rejects(
            store.deleteGroup('GDEL1'),
            rejectsWith('STORE_CONFLICT', /would open them to every user/),
          );
          assert.equal((await store.updateGroup('GDEL2', { description: 'x' })).description, 'x');
          assert.equal(await store.deleteGroup('GDEL2'), true);
          assert.deepEqual(await store.listUserGroups('DUDEL'), []);
          assert.equal(await store.deleteGroup('GDEL2'), false);
          assert.equal(await store.deleteApplication(app.id), true);
          assert.equal(await store.getApplication(app.id), undefined);
          assert.equal(await store.deleteGroup('GDEL1'), true);
        },
      );

      void contractTest('an OTP token is deleted only through its own user', async () => {
        await store.createUser({ id: 'DUTOK1', username: 'tok-one' });
        await store.createUser({ id: 'DUTOK2', username: 'tok-two' });
        await store.addOtpToken(totpToken('DTDEL1', 'DUTOK1'));
        assert.equal(await store.deleteOtpToken('DUTOK2', 'DTDEL1'), false);
        assert.equal(await store.deleteOtpToken('DUTOK1', 'DTDEL1'), true);
        assert.deepEqual(await store.listOtpTokens('DUTOK1'), []);
      });

      void contractTest(
        'users are searched by username, alias, name or e-mail, case-insensitively',
        async () => {
          await store.createUser({
            id: 'DUSRCH1',
            username: 'srch-Zeta',
            aliases: ['zz_alias'],
            realName: 'Quentin Search',
            email: 'q@srch.example',
          });
          await store.createUser({ id: 'DUSRCH2', username: 'srch-other' });
          const names = async (search: string) =>
            (await store.listUsers({ search })).map((u) => u.username);
          assert.deepEqual(await names('SRCH-z'), ['srch-Zeta']);
          assert.deepEqual(await names('zz_al'), ['srch-Zeta']);
          assert.deepEqual(await names('quentin'), ['srch-Zeta']);
          assert.deepEqual(await names('@SRCH.example'), ['srch-Zeta']);
          assert.deepEqual(await names('srch-'), ['srch-Zeta', 'srch-other']);
          // LIKE wildcards in the search are literal characters.
          assert.deepEqual(await names('srch%'), []);
          assert.deepEqual(await names('z_al'), ['srch-Zeta']);
          assert.deepEqual(await names('z_a_'), []);
          const page = await store.listUsers({ search: 'srch-', limit: 1, offset: 1 });
          assert.deepEqual(
            page.map((u) => u.username),
            ['srch-other'],
          );
        },
      );
    });

    void describe('transactions', () => {
      void contractTest('transaction commits when fn resolves and returns its value', async () => {
        const result = await store.transaction(async (tx) => {
          await tx.createUser({ id: 'TR1', username: 'tr1' });
          assert.ok(await tx.getUser('TR1'), 'a transaction sees its own writes');
          return 42;
        });
        assert.equal(result, 42);
        assert.ok(await store.getUser('TR1'));
      });

      void contractTest(
        'transaction rolls back every write when fn throws, and rethrows',
        async () => {
          await assert.rejects(
            store.transaction(async (tx) => {
              await tx.createUser({ id: 'TR2', username: 'tr2', aliases: ['tr2-alias'] });
              await tx.createGroup({ id: 'GTR2', name: 'tr2 group' });
              await tx.appendAudit({
                tsMs: START_MS,
                actor: 'system',
                action: 'rollback.test',
                targetType: null,
                targetId: null,
                appId: null,
                username: null,
                result: null,
                ip: null,
                detail: {},
              });
              throw new Error('boom');
            }),
            /boom/,
          );
          assert.equal(await store.getUser('TR2'), undefined);
          assert.equal(await store.findUser('tr2-alias'), undefined);
          assert.equal(await store.getGroup('GTR2'), undefined);
          assert.deepEqual(await store.listAudit({ action: 'rollback.test' }), []);
        },
      );

      void contractTest(
        'a nested transaction joins the outer one: a later throw rolls back both',
        async () => {
          await assert.rejects(
            store.transaction(async (tx) => {
              await tx.transaction(async (inner) => {
                await inner.createUser({ id: 'TR3', username: 'tr3' });
              });
              await tx.setApplicationGroups(
                (await tx.createApplication(newApplication('tr3'))).id,
                [],
              );
              throw new Error('after nested');
            }),
            /after nested/,
          );
          assert.equal(await store.getUser('TR3'), undefined);
          assert.equal(await store.getApplication('app tr3'), undefined);
        },
      );

      void contractTest(
        'runBatch commits every unit in one transaction and rolls back only the unit that throws',
        async () => {
          const results = await store.runBatch([
            async (tx) => (await tx.createUser({ id: 'RB1', username: 'rb1' })).id,
            async (tx) => {
              await tx.createUser({ id: 'RB2', username: 'rb2' });
              await tx.createUser({ id: 'RB2b', username: 'rb1' }); // conflicts with RB1
              return 'unreachable';
            },
            async (tx) => (await tx.createGroup({ id: 'GRB3', name: 'rb3' })).id,
          ]);
          assert.deepEqual(
            results.map((r) => r.status),
            ['fulfilled', 'rejected', 'fulfilled'],
          );
          assert.ok(await store.getUser('RB1'));
          assert.equal(
            await store.getUser('RB2'),
            undefined,
            'the failed unit left nothing behind',
          );
          assert.ok(await store.getGroup('GRB3'));
        },
      );

      void contractTest('runBatch with one unit that throws writes nothing', async () => {
        const [result] = await store.runBatch([
          async (tx) => {
            await tx.createUser({ id: 'RB9', username: 'rb9' });
            throw new Error('unit failed');
          },
        ]);
        assert.equal(result?.status, 'rejected');
        assert.equal(await store.getUser('RB9'), undefined);
      });

      void contractTest(
        'loadAuthSubject returns the user by username, alias or id with groups, tokens and codes',
        async () => {
          await store.createUser({ id: 'AS1', username: 'subject', aliases: ['subj-alias'] });
          await store.createGroup({ id: 'GAS1', name: 'subject group', status: 'bypass' });
          await store.addGroupMember('GAS1', 'AS1');
          await store.addOtpToken(totpToken('TAS1', 'AS1'));
          await store.replaceBypassCodes('AS1', [
            { id: 'BAS1', codeHash: 'h', remainingUses: 2, expiresAtMs: null },
          ]);
          for (const ref of [
            { username: 'subject' },
            { username: 'subj-alias' },
            { userId: 'AS1' },
          ]) {
            const subject = await store.loadAuthSubject(ref);
            assert.ok(subject, JSON.stringify(ref));
            assert.equal(subject.user.id, 'AS1');
            assert.deepEqual(subject.user.aliases, ['subj-alias']);
            assert.deepEqual(
              subject.groups.map((g) => [g.id, g.status]),
              [['GAS1', 'bypass']],
            );
            assert.deepEqual(
              subject.tokens.map((t) => t.id),
              ['TAS1'],
            );
            assert.equal(
              subject.tokens[0]!.secret,
              totpToken('TAS1', 'AS1').secret,
              'secret opened',
            );
            assert.deepEqual(
              subject.bypassCodes.map((c) => [c.id, c.remainingUses]),
              [['BAS1', 2]],
            );
          }
          assert.equal(await store.loadAuthSubject({ username: 'nobody' }), undefined);
          assert.equal(await store.loadAuthSubject({ userId: 'NOPE' }), undefined);
        },
      );

      void contractTest(
        'a failed constraint inside a transaction surfaces as StoreError and rolls back',
        async () => {
          await assert.rejects(
            store.transaction(async (tx) => {
              await tx.createGroup({ id: 'GTR4', name: 'tr4' });
              await tx.createGroup({ id: 'GTR4b', name: 'tr4' });
            }),
            rejectsWith('STORE_CONFLICT', /name "tr4"/),
          );
          assert.equal(await store.getGroup('GTR4'), undefined);
        },
      );
    });
  });
}

function totpToken(id: string, userId: string) {
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

storeContract(sqliteBackend);
storeContract(postgresBackend);
