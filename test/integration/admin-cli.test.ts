// `airlock admin` and `airlock admin-key` end to end: the built command beside a running
// service; the administrator logs in with the printed TOTP secret, Duo's own client uses the key.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { TOTP, URI } from 'otpauth';
import {
  airlock,
  airlockJson,
  startServe,
  stopServe,
  type RunningService,
} from './airlock-process.ts';
import { duoClient, routeDuoClients } from './duo-client.ts';

const BIN = fileURLToPath(new URL('../../bin/airlock.js', import.meta.url));

/** Runs the command with `input` on standard input. */
function airlockWithInput(
  args: string[],
  input: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

describe('airlock admin and admin-key', () => {
  let dir: string;
  let service: RunningService;
  let routing: { close(): void };
  let ca: string;
  const data = () => ['--data-dir', dir];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-admin-cli-'));
    service = await startServe([...data(), '--listen', '127.0.0.1:0']);
    ca = readFileSync(join(dir, 'tls', 'ca.pem'), 'utf8');
    routing = routeDuoClients(service.port, ca);
  });
  after(async () => {
    routing?.close();
    if (service) await stopServe(service);
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates an administrator who logs in to the console with the printed TOTP secret', async () => {
    const short = await airlockWithInput(
      ['admin', 'create', 'root', '--password-stdin', ...data()],
      'short\n',
    );
    assert.equal(short.code, 2);
    assert.match(short.stderr, /at least 12 characters/);

    const created = await airlockWithInput(
      ['admin', 'create', 'root', '--password-stdin', '--json', ...data()],
      'a long admin password\n',
    );
    assert.equal(created.code, 0, created.stderr);
    const { totp_uri: uri } = JSON.parse(created.stdout) as { totp_uri: string };
    const totp = URI.parse(uri) as TOTP;
    assert.ok(totp instanceof TOTP);
    const login = await post('/admin/login', {
      username: 'root',
      password: 'a long admin password',
      code: totp.generate(),
    });
    assert.equal(login.status, 303);
    assert.match(login.cookie, /^__Host-airlock_session=/);

    const listed = await airlockJson<{ username: string; disabled: boolean }[]>([
      'admin',
      'list',
      ...data(),
    ]);
    assert.deepEqual(
      listed.map((a) => [a.username, a.disabled]),
      [['root', false]],
    );
    await airlock(['admin', 'disable', 'root', ...data()]);
    assert.equal(
      (await airlockJson<{ disabled: boolean }[]>(['admin', 'list', ...data()]))[0]?.disabled,
      true,
    );
  });

  it("makes an Admin API key that Duo's own client can use, until it is revoked", async () => {
    await airlock(['user', 'create', 'alice', ...data()]);
    const key = await airlockJson<{ ikey: string; skey: string }>([
      'admin-key',
      'create',
      'ci',
      ...data(),
    ]);
    const call = duoClient(key);
    const users = await call('GET', '/admin/v1/users', { limit: '10' });
    assert.equal(users.stat, 'OK', JSON.stringify(users));
    assert.deepEqual(
      (users.response as { username: string }[]).map((u) => u.username),
      ['alice'],
    );
    const created = await call('POST', '/admin/v1/users', { username: 'bob', realname: 'Bob B' });
    assert.equal(created.stat, 'OK', JSON.stringify(created));
    const keys = await airlockJson<{ ikey: string; last_used: string | null }[]>([
      'admin-key',
      'list',
      ...data(),
    ]);
    assert.equal(keys[0]?.ikey, key.ikey);
    assert.ok(keys[0]?.last_used);
    await airlock(['admin-key', 'revoke', key.ikey, ...data()]);
    const refused = await call('GET', '/admin/v1/users');
    assert.deepEqual([refused.stat, refused.code], ['FAIL', 40102]);
  });

  function post(
    path: string,
    fields: Record<string, string>,
  ): Promise<{ status: number; cookie: string }> {
    const body = new URLSearchParams(fields).toString();
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          // Through the routing agent of routeDuoClients: 127.0.0.1, TLS checked for localhost.
          host: 'localhost',
          port: service.port,
          path,
          method: 'POST',
          ca,
          headers: {
            host: `localhost:${service.port}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              cookie: String(res.headers['set-cookie'] ?? ''),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
});
