import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { AdapterPayload } from 'oidc-provider';
import { FixedClock } from '../runtime/clock.ts';
import { openGatewayStateDb, type GatewayStateDb } from '../runtime/gateway-state-db.ts';
import { CryptoRandom } from '../runtime/random.ts';
import { createOidcAdapter, endOidcAccount } from './oidc-adapter.ts';

const SECRET = 'gateway-session-secret-'.repeat(2);
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function stateFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-oidc-adapter-'));
  dirs.push(dir);
  return join(dir, 'gateway-state.sqlite');
}

function adapterOn(db: GatewayStateDb, secret = SECRET) {
  const clock = new FixedClock(1_700_000_000_000);
  return createOidcAdapter(db, { clock, random: new CryptoRandom(), secret });
}

/** Every byte SQLite wrote for the file (the database and its write-ahead log). */
function fileBytes(path: string): string {
  return [path, `${path}-wal`]
    .filter((p) => existsSync(p))
    .map((p) => readFileSync(p).toString('latin1'))
    .join('');
}

const ACCESS_TOKEN = 'at-Q3JlZGVudGlhbFRoYXRNdXN0TmV2ZXJCZVJlYWQ';
const CODE = 'code-QXV0aG9yaXphdGlvbkNvZGVTZWNyZXQ';
const SESSION = 'sess-U2Vzc2lvbklkZW50aWZpZXJTZWNyZXQ';
const UID = 'uid-U2Vzc2lvblVpZFNlY3JldA';
const GRANT = 'grant-R3JhbnRJZGVudGlmaWVy';

const token = (jti: string, extra: Partial<AdapterPayload> = {}): AdapterPayload => ({
  jti,
  kind: 'AccessToken',
  grantId: GRANT,
  accountId: 'alice',
  clientId: 'rp',
  scope: 'openid scope-marker-in-the-payload',
  ...extra,
});

describe('the OpenID Connect adapter over the gateway state file', () => {
  it('keeps no token, code, session id, uid or grant id readable in the file', async () => {
    const path = stateFile();
    const db = openGatewayStateDb(path);
    const adapter = adapterOn(db);
    await adapter('AccessToken').upsert(ACCESS_TOKEN, token(ACCESS_TOKEN), 3600);
    await adapter('AuthorizationCode').upsert(CODE, token(CODE, { kind: 'AuthorizationCode' }), 60);
    await adapter('Session').upsert(SESSION, { jti: SESSION, uid: UID, accountId: 'alice' }, 3600);

    // What the provider stored, it reads back, by id and by uid.
    assert.deepEqual(await adapter('AccessToken').find(ACCESS_TOKEN), token(ACCESS_TOKEN));
    assert.equal((await adapter('Session').findByUid(UID))?.jti, SESSION);
    db.close();

    const bytes = fileBytes(path);
    for (const secret of [ACCESS_TOKEN, CODE, SESSION, UID, GRANT, 'scope-marker-in-the-payload']) {
      assert.equal(bytes.includes(secret), false, `${secret} is readable in the state file`);
    }
  });

  it('reads nothing sealed under another secret, or moved to another row', async () => {
    const path = stateFile();
    const db = openGatewayStateDb(path);
    const adapter = adapterOn(db);
    const second = `${ACCESS_TOKEN}-2`;
    await adapter('AccessToken').upsert(ACCESS_TOKEN, token(ACCESS_TOKEN), 3600);
    await adapter('AccessToken').upsert(second, token(second), 3600);
    await adapter('AuthorizationCode').upsert(CODE, token(CODE, { kind: 'AuthorizationCode' }), 60);

    assert.equal(
      await adapterOn(db, 'another-secret-'.repeat(3))('AccessToken').find(ACCESS_TOKEN),
      undefined,
    );

    // Someone who can write the file copies sealed payloads between rows: none of them opens.
    const raw = new BetterSqlite3(path);
    const rows = raw
      .prepare("SELECT id, payload FROM gateway_state WHERE kind = 'oidc:AccessToken' ORDER BY id")
      .all() as { id: string; payload: string }[];
    assert.equal(rows.length, 2);
    const swap = raw.prepare(
      "UPDATE gateway_state SET payload = ? WHERE kind = 'oidc:AccessToken' AND id = ?",
    );
    swap.run(rows[1]!.payload, rows[0]!.id);
    swap.run(rows[0]!.payload, rows[1]!.id);
    raw
      .prepare("UPDATE gateway_state SET payload = ? WHERE kind = 'oidc:AuthorizationCode'")
      .run(rows[0]!.payload);
    raw.close();

    assert.equal(await adapter('AccessToken').find(ACCESS_TOKEN), undefined);
    assert.equal(await adapter('AccessToken').find(second), undefined);
    assert.equal(await adapter('AuthorizationCode').find(CODE), undefined);
    db.close();
  });

  it('consumes a code once: a second consume (another gateway on the file) is refused and revokes the grant', async () => {
    const path = stateFile();
    const first = openGatewayStateDb(path);
    const other = openGatewayStateDb(path);
    const a = adapterOn(first);
    const b = adapterOn(other);
    await a('AuthorizationCode').upsert(CODE, token(CODE, { kind: 'AuthorizationCode' }), 60);
    await a('AccessToken').upsert(ACCESS_TOKEN, token(ACCESS_TOKEN), 3600);

    // Both processes found the code unconsumed before either consumed it.
    assert.equal((await a('AuthorizationCode').find(CODE))?.consumed, undefined);
    assert.equal((await b('AuthorizationCode').find(CODE))?.consumed, undefined);
    await a('AuthorizationCode').consume(CODE);
    assert.equal(typeof (await b('AuthorizationCode').find(CODE))?.consumed, 'number');
    await assert.rejects(b('AuthorizationCode').consume(CODE), { name: 'InvalidGrant' });

    // Revoking the grant takes its token and the code with it.
    assert.equal(await a('AccessToken').find(ACCESS_TOKEN), undefined);
    assert.equal(await a('AuthorizationCode').find(CODE), undefined);
    first.close();
    other.close();
  });

  it('ends an account: its sessions and grants go, another user’s stay', async () => {
    const db = openGatewayStateDb(':memory:');
    const adapter = adapterOn(db);
    await adapter('Session').upsert(SESSION, { jti: SESSION, uid: UID, accountId: 'alice' }, 3600);
    await adapter('Session').upsert(
      'bob-session',
      { jti: 'bob-session', uid: 'u2', accountId: 'bob' },
      3600,
    );
    await adapter('Grant').upsert(GRANT, { jti: GRANT, accountId: 'alice' }, 3600);

    endOidcAccount(db, 'alice');

    assert.equal(await adapter('Session').find(SESSION), undefined);
    assert.equal(await adapter('Grant').find(GRANT), undefined);
    assert.equal((await adapter('Session').find('bob-session'))?.accountId, 'bob');
    db.close();
  });

  it('drops the clear-text provider records of an older state file and keeps its portal sessions', async () => {
    const path = stateFile();
    const old = new BetterSqlite3(path);
    old.exec(`CREATE TABLE gateway_state (
      kind TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL, expires_at_ms INTEGER NOT NULL,
      grant_id TEXT, uid TEXT, user_code TEXT, PRIMARY KEY (kind, id)) WITHOUT ROWID`);
    const insert = old.prepare('INSERT INTO gateway_state VALUES (?, ?, ?, ?, NULL, NULL, NULL)');
    insert.run('oidc:AccessToken', ACCESS_TOKEN, JSON.stringify(token(ACCESS_TOKEN)), 9e15);
    insert.run('session', 'session-key', JSON.stringify({ username: 'alice' }), 9e15);
    old.close();

    const db = openGatewayStateDb(path);
    // Gone from the file and its write-ahead log as soon as it is open, not only once closed.
    assert.equal(fileBytes(path).includes(ACCESS_TOKEN), false);
    assert.deepEqual(db.get('session', 'session-key', 0), { username: 'alice' });
    assert.equal(await adapterOn(db)('AccessToken').find(ACCESS_TOKEN), undefined);
    db.close();
    assert.equal(fileBytes(path).includes(ACCESS_TOKEN), false);
  });
});
