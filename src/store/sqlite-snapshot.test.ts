// The online copy of `airlock db backup` finishes while another connection keeps writing, and is a
// whole, consistent database; a restore target that has a database is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { installSqliteFile, snapshotSqlite } from './sqlite-snapshot.ts';

const ROWS = 3000;

describe('snapshotSqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-snapshot-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('copies a database of some thousand pages while another connection writes between its steps', async () => {
    const path = join(dir, 'airlock.db');
    const writer = new BetterSqlite3(path);
    writer.pragma('journal_mode = WAL');
    writer.exec('create table events (id integer primary key, body blob not null)');
    const insert = writer.prepare('insert into events (body) values (?)');
    writer.transaction(() => {
      for (let i = 0; i < ROWS; i++) insert.run(Buffer.alloc(2048, i % 251));
    })();
    // A write on every turn of the event loop, as a service under steady logins does: SQLite
    // restarts a backup whose source another connection changed between two steps.
    let writing = true;
    let writes = 0;
    const write = () => {
      if (!writing) return;
      insert.run(Buffer.alloc(64, 1));
      writes++;
      setImmediate(write);
    };
    setImmediate(write);
    try {
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('the copy did not finish within 20 s')), 20_000).unref(),
      );
      const { bytes } = await Promise.race([snapshotSqlite(path), timeout]);
      writing = false;
      assert.ok(writes > 0, 'the writer ran during the copy');
      const copy = new BetterSqlite3(bytes);
      try {
        assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok');
        const { n } = copy.prepare('select count(*) as n from events').get() as { n: number };
        assert.ok(n >= ROWS, `${n} rows`);
      } finally {
        copy.close();
      }
    } finally {
      writing = false;
      writer.close();
    }
  });

  it('refuses to restore over an existing database, leaving it alone', () => {
    const path = join(dir, 'existing.db');
    writeFileSync(path, 'keep me');
    assert.throws(
      () => installSqliteFile(path, Buffer.from('x')),
      /exists: restore into a new data directory/,
    );
  });
});
