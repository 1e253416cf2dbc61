// Tests for openStore's choice of database from the URL (the Store itself is covered by the contract suite).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { FixedClock } from '../runtime/clock.ts';
import { openStore } from './open-store.ts';
import { createSecretBox } from './secret-box.ts';
import { isStoreError } from './store-error.ts';

const base = mkdtempSync(join(tmpdir(), 'airlock-open-'));
const deps = { secretBox: createSecretBox(randomBytes(32)), clock: new FixedClock(0) };

void describe('openStore', () => {
  after(() => rmSync(base, { recursive: true, force: true }));

  void test('without a URL opens <dataDir>/airlock.db in WAL mode, creating dataDir', async () => {
    const dataDir = join(base, 'nested', 'data');
    const store = await openStore({ dataDir, ...deps });
    assert.equal(store.dialect, 'sqlite');
    await store.close();
    const file = join(dataDir, 'airlock.db');
    assert.ok(existsSync(file));
    const db = new BetterSqlite3(file);
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      db.close();
    }
  });

  void test('accepts sqlite:/abs, sqlite:///abs and sqlite:relative (to the working directory)', async () => {
    const cases = [
      [`sqlite:${join(base, 'a.db')}`, join(base, 'a.db')],
      [`sqlite://${join(base, 'b.db')}`, join(base, 'b.db')],
      [`sqlite:${relative(process.cwd(), join(base, 'c.db'))}`, join(base, 'c.db')],
    ] as const;
    for (const [databaseUrl, file] of cases) {
      const store = await openStore({ databaseUrl, dataDir: join(base, 'unused'), ...deps });
      await store.createGroup({ id: 'G', name: 'g' });
      await store.close();
      assert.ok(existsSync(file), `${databaseUrl} should create ${file}`);
    }
    assert.ok(!existsSync(join(base, 'unused')));
  });

  void test('refuses any other scheme, naming the accepted forms but not the URL (it may hold a password)', async () => {
    await assert.rejects(
      openStore({ databaseUrl: 'mysql://root:hunter2@db/airlock', dataDir: base, ...deps }),
      (err: unknown) => {
        assert.ok(isStoreError(err, 'STORE_INVALID_URL'));
        assert.match(err.message, /mysql:/);
        assert.match(err.message, /postgres:\/\//);
        assert.match(err.message, /sqlite:/);
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      },
    );
  });
});
