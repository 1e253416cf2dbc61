// The `airlock` command end to end: serve in a child process, admin commands beside it, Duo's client.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TOTP } from 'otpauth';
import {
  airlock,
  airlockFails,
  airlockJson,
  startServe,
  stopServe,
  type RunningService,
} from './airlock-process.ts';
import { duoClient, routeDuoClients } from './duo-client.ts';

describe('airlock serve with admin commands beside it', () => {
  let dir: string;
  let service: RunningService;
  let routing: { close(): void };
  const data = () => ['--data-dir', dir];

  before(async () => {
    // A usual umask: the modes below must come from airlock, not from a strict environment.
    process.umask(0o022);
    dir = join(mkdtempSync(join(tmpdir(), 'airlock-cli-')), 'data');
    service = await startServe([...data(), '--listen', '127.0.0.1:0']);
    routing = routeDuoClients(service.port, readFileSync(join(dir, 'tls', 'ca.pem'), 'utf8'));
  });
  after(async () => {
    routing?.close();
    if (service) await stopServe(service);
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('creates its CA and secret key in the data directory and prints the next step', () => {
    assert.ok(existsSync(join(dir, 'tls', 'ca.pem')));
    assert.equal(statSync(join(dir, 'secret.key')).mode & 0o777, 0o600);
    assert.match(service.output(), /CA certificate: .*tls\/ca\.pem/);
    assert.match(service.output(), /Next steps/);
  });

  it('refuses a second service on the same SQLite database, naming the first one', async () => {
    const lock = readFileSync(join(dir, 'airlock-service.lock'), 'utf8').trim();
    assert.match(lock, /^[0-9]+$/);
    const second = await airlockFails(['serve', '--listen', '127.0.0.1:0', ...data()]);
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, new RegExp(`another Airlock service \\(pid ${lock}\\) runs on`));
    assert.match(second.stderr, /several need PostgreSQL/);
    // The refused one left the first one's lock in place.
    assert.equal(readFileSync(join(dir, 'airlock-service.lock'), 'utf8').trim(), lock);
  });

  it('keeps the data directory and the database to its owner: 0700 and 0600', () => {
    const mode = (name: string) => (statSync(join(dir, name)).mode & 0o777).toString(8);
    assert.deepEqual(
      ['.', 'tls', 'airlock.db', 'airlock.db-wal', 'airlock.db-shm', 'secret.key'].map((f) => [
        f,
        mode(f),
      ]),
      [
        ['.', '700'],
        ['tls', '700'],
        ['airlock.db', '600'],
        ['airlock.db-wal', '600'],
        ['airlock.db-shm', '600'],
        ['secret.key', '600'],
      ],
    );
  });

  it('tightens a data directory and database an older version left readable by everyone', async () => {
    const old = join(mkdtempSync(join(tmpdir(), 'airlock-cli-old-')), 'data');
    try {
      await airlock(['user', 'create', 'olga', '--data-dir', old]);
      chmodSync(old, 0o755);
      chmodSync(join(old, 'airlock.db'), 0o644);
      await airlock(['user', 'list', '--data-dir', old]);
      assert.equal(statSync(old).mode & 0o777, 0o700);
      assert.equal(statSync(join(old, 'airlock.db')).mode & 0o777, 0o600);
    } finally {
      rmSync(join(old, '..'), { recursive: true, force: true });
    }
  });

  it('refuses to start, naming the fix, when secret.key is readable by other users', async () => {
    const other = join(mkdtempSync(join(tmpdir(), 'airlock-cli-key-')), 'data');
    try {
      await airlock(['user', 'create', 'kim', '--data-dir', other]);
      const key = join(other, 'secret.key');
      chmodSync(key, 0o644);
      const serve = await airlockFails(['serve', '--listen', '127.0.0.1:0', '--data-dir', other]);
      assert.notEqual(serve.code, 0);
      const fix = `chmod 600 ${key}`;
      assert.ok(serve.stderr.includes(key), serve.stderr);
      assert.ok(serve.stderr.includes(fix), serve.stderr);
      const list = await airlockFails(['user', 'list', '--data-dir', other]);
      assert.notEqual(list.code, 0);
      assert.ok(list.stderr.includes(fix), list.stderr);
      // The key is left as it was: the administrator decides (another user may have read it).
      assert.equal(statSync(key).mode & 0o777, 0o644);
    } finally {
      rmSync(join(other, '..'), { recursive: true, force: true });
    }
  });

  it("authenticates with an app, user and TOTP token made by the CLI, through Duo's client", async () => {
    const app = await airlockJson<{ ikey: string; skey: string; api_host: string }>([
      'app',
      'create',
      'vpn',
      ...data(),
    ]);
    assert.match(app.ikey, /^DI[A-Z0-9]{18}$/);
    assert.match(app.skey, /^[A-Za-z0-9]{40}$/);
    assert.equal(app.api_host, `localhost:${service.port}`);
    await airlock(['user', 'create', 'bob', '--real-name', 'Bob Example', ...data()]);
    const token = await airlockJson<{ secret: string; uri: string }>([
      'token',
      'add-totp',
      'bob',
      ...data(),
    ]);
    assert.match(token.secret, /^[A-Z2-7]+$/);
    assert.match(token.uri, /^otpauth:\/\/totp\/Airlock:bob\?/);

    const call = duoClient(app);
    const pre = await call('POST', '/auth/v2/preauth', { username: 'bob' });
    assert.equal((pre.response as { result: string }).result, 'auth');
    assert.equal(secretOf(token.uri), token.secret);
    const code = new TOTP({ secret: token.secret }).generate();
    const auth = await call('POST', '/auth/v2/auth', {
      username: 'bob',
      factor: 'passcode',
      passcode: code,
    });
    assert.equal((auth.response as { result: string }).result, 'allow');

    const codes = await airlockJson<{ codes: string[] }>([
      'bypass-codes',
      'bob',
      '--count',
      '2',
      ...data(),
    ]);
    assert.equal(codes.codes.length, 2);
    const bypass = await call('POST', '/auth/v2/auth', {
      username: 'bob',
      factor: 'passcode',
      passcode: codes.codes[0],
    });
    assert.equal((bypass.response as { result: string }).result, 'allow');

    await airlock(['user', 'set-status', 'bob', 'disabled', ...data()]);
    const denied = await call('POST', '/auth/v2/preauth', { username: 'bob' });
    assert.equal((denied.response as { result: string }).result, 'deny');

    const audit = await airlockJson<{ action: string; actor: string }[]>([
      'audit',
      '--user',
      'bob',
      ...data(),
    ]);
    assert.deepEqual(
      audit.map((e) => e.action),
      [
        'user.create',
        'token.add',
        'auth.passcode',
        'bypass-codes.replace',
        'auth.passcode',
        'user.set-status',
        'auth.preauth',
      ],
    );
    assert.match(audit[0]!.actor, /^cli:/);
  });

  it('puts a group in bypass and the member is allowed without a second factor', async () => {
    const app = await airlockJson<{ ikey: string; skey: string }>([
      'app',
      'create',
      'wiki',
      ...data(),
    ]);
    await airlock(['user', 'create', 'dora', ...data()]);
    await airlock(['token', 'add-totp', 'dora', ...data()]);
    await airlock(['group', 'create', 'helpdesk', ...data()]);
    await airlock(['group', 'add-member', 'helpdesk', 'dora', ...data()]);
    const call = duoClient(app);
    assert.equal(
      (
        (await call('POST', '/auth/v2/preauth', { username: 'dora' })).response as {
          result: string;
        }
      ).result,
      'auth',
    );
    const out = await airlock(['group', 'set-status', 'helpdesk', 'bypass', ...data()]);
    assert.match(out, /every application the group can reach/);
    assert.equal(
      (
        (await call('POST', '/auth/v2/preauth', { username: 'dora' })).response as {
          result: string;
        }
      ).result,
      'allow',
    );
    const groups = await airlockJson<{ name: string; status: string }[]>([
      'group',
      'list',
      ...data(),
    ]);
    assert.deepEqual(
      groups.map((g) => [g.name, g.status]),
      [['helpdesk', 'bypass']],
    );
  });

  it('rotates a secret: the new key works and the old one is refused', async () => {
    const app = await airlockJson<{ ikey: string; skey: string }>([
      'app',
      'create',
      'rotating',
      ...data(),
    ]);
    assert.equal((await duoClient(app)('GET', '/auth/v2/check')).stat, 'OK');
    const rotated = await airlockJson<{ ikey: string; skey: string }>([
      'app',
      'rotate-secret',
      'rotating',
      ...data(),
    ]);
    assert.notEqual(rotated.skey, app.skey);
    // The service caches credentials for at most a second; wait for the change, bounded.
    const deadline = Date.now() + 5_000;
    let res = await duoClient(rotated)('GET', '/auth/v2/check');
    while (res.stat !== 'OK' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      res = await duoClient(rotated)('GET', '/auth/v2/check');
    }
    assert.equal(res.stat, 'OK');
    assert.equal((await duoClient(app)('GET', '/auth/v2/check')).code, 40103);
  });

  it('refuses bad input with a clear message and a non-zero exit', async () => {
    const usage = await airlockFails(['user', 'set-status', 'nobody-here', 'sleeping', ...data()]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /status must be one of active, bypass, disabled, locked out/);
    const missing = await airlockFails(['user', 'show', 'nobody-here', ...data()]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no user "nobody-here"/);
    const dup = await airlockFails(['app', 'create', 'vpn', ...data()]);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already exists|name/);
    const plain = await airlockFails(['serve', '--plain-http', '--listen', '0.0.0.0:0', ...data()]);
    assert.match(plain.stderr, /--plain-http is refused on 0\.0\.0\.0/);
  });
});

describe('airlock serve --trust-proxy behind a TLS terminator on this host', () => {
  let dir: string;
  let service: RunningService;
  const data = () => ['--data-dir', dir];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-cli-proxy-'));
    service = await startServe([
      ...data(),
      '--plain-http',
      '--listen',
      '127.0.0.1:0',
      '--trust-proxy',
      '127.0.0.1,10.0.0.0/8',
    ]);
  });
  after(async () => {
    if (service) await stopServe(service);
    rmSync(dir, { recursive: true, force: true });
  });

  it('says whom it trusts and audits the forwarded client address', async () => {
    assert.match(service.output(), /X-Forwarded-For trusted from: 127\.0\.0\.1, 10\.0\.0\.0\/8/);
    const res = await fetch(`http://127.0.0.1:${service.port}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': '192.0.2.7',
      },
      body: new URLSearchParams({ username: 'proxied', password: 'x', code: '000000' }),
    });
    assert.equal(res.status, 401);
    const events = await airlockJson<{ action: string; ip: string | null }[]>([
      'audit',
      '--action',
      'admin.login',
      '--json',
      ...data(),
    ]);
    assert.deepEqual(
      events.map((e) => e.ip),
      ['192.0.2.7'],
    );
  });

  it('refuses /metrics to a forwarded remote client, serves a local scraper', async () => {
    const url = `http://127.0.0.1:${service.port}/metrics`;
    const forwarded = await fetch(url, { headers: { 'x-forwarded-for': '192.0.2.7' } });
    assert.equal(forwarded.status, 404);
    assert.equal((await fetch(url)).status, 200);
  });

  it('refuses a --trust-proxy that is not addresses or CIDRs', async () => {
    const bad = await airlockFails(['serve', '--trust-proxy', '127.0.0.1,proxy.local', ...data()]);
    assert.match(bad.stderr, /--trust-proxy takes IP addresses or CIDRs.*"proxy\.local"/);
  });
});

function secretOf(uri: string): string {
  return new URL(uri).searchParams.get('secret')!;
}
