// The gateway app with a stand-in directory and Auth API: restrictions, the failmode table at
// preauth and auth, headers and cookies, each through HTTP (Fastify inject).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { AuthApiClient } from '../client/auth-api-client.ts';
import type { ApiOutcome } from '../client/auth-api-response.ts';
import { parseGatewayConfig } from '../config/gateway-config.ts';
import { FixedClock } from '../runtime/clock.ts';
import { openGatewayStateDb } from '../runtime/gateway-state-db.ts';
import { enablePrimaryOnly } from '../runtime/primary-only-state-file.ts';
import { CryptoRandom } from '../runtime/random.ts';
import type { PrimaryAuthenticator } from '../proxy/primary/primary-authenticator.ts';
import { buildGatewayApp } from './gateway-app.ts';
import { createGatewayMetrics, type FailmodeEvent, type GatewayEvents } from './gateway-events.ts';
import { SessionStore } from './session-store.ts';

const PORTAL = 'https://auth.example.org';
const CONFIG = `
[gateway]
portal_url = ${PORTAL}/
cookie_domain = example.org
session_secret = ${'k'.repeat(40)}
[ad_client]
host = 127.0.0.1
auth_type = plain
bind_dn = cn=svc
service_account_password = x
search_dn = dc=example,dc=org
[service]
ikey = DIXXXXXXXXXXXXXXXXXX
skey = ${'s'.repeat(40)}
api_host = localhost
[app:safe]
hosts = safe.example.org
failmode = safe
[app:secure]
hosts = secure.example.org
failmode = secure
[app:wiki]
hosts = wiki.example.org
restriction = one_factor
[app:public]
hosts = public.example.org
restriction = bypass
[app:closed]
hosts = closed.example.org
restriction = deny
`;

type Outcome = ApiOutcome<unknown>;
const ok = (response: unknown): Outcome => ({ kind: 'ok', response, latencyMs: 1 });
const down = (reason: 'connect' | 'timeout' | 'server-error'): Outcome => ({
  kind: 'unreachable',
  reason,
  detail: reason,
  latencyMs: 1,
});
const PREAUTH_AUTH = ok({
  result: 'auth',
  status_msg: 'Account is active',
  devices: [{ device: 'DP1', type: 'phone', capabilities: ['push'], display_name: 'phone' }],
});

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function gatewayWith(api: { preauth: Outcome; auth?: Outcome }, primaryOnly = false) {
  const configDir = mkdtempSync(join(tmpdir(), 'airlock-gateway-app-'));
  dirs.push(configDir);
  const parsed = parseGatewayConfig(CONFIG, { configDir, readFile: () => '' });
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.errors.join('\n'));
  const clock = new FixedClock(1_800_000_000_000);
  if (primaryOnly) {
    enablePrimaryOnly(parsed.config.main.stateDir, {
      nowMs: clock.nowMs(),
      minutes: 30,
      actor: 'test',
      reason: 'service outage drill',
    });
  }
  const calls = { preauth: 0 };
  const random = new CryptoRandom();
  const failmodes: FailmodeEvent[] = [];
  const events: GatewayEvents = {
    line: () => undefined,
    login: () => undefined,
    failmode: (e) => void failmodes.push(e),
    forwardAuth: () => undefined,
    metrics: createGatewayMetrics(new Registry()),
    close: () => Promise.resolve(),
  };
  const primary: PrimaryAuthenticator = {
    authenticate: ({ username, password }) =>
      Promise.resolve(
        username === 'alice' && password === 'alicepw'
          ? { kind: 'accept', username: 'alice', groups: ['cn=staff,dc=x'], attributes: [] }
          : { kind: 'reject', reason: 'bad-password' },
      ),
    close: () => Promise.resolve(),
  };
  const client = {
    preauth: () => {
      calls.preauth += 1;
      return Promise.resolve(api.preauth);
    },
    auth: () => Promise.resolve(api.auth ?? down('connect')),
  } as unknown as AuthApiClient;
  const sessions = new SessionStore(
    { clock, random, db: openGatewayStateDb(':memory:') },
    { idleMs: 900_000, lifetimeMs: 28_800_000, loginTimeoutMs: 300_000 },
  );
  const app = buildGatewayApp({
    config: parsed.config,
    primary,
    api: client,
    sessions,
    events,
    clock,
    random,
  });
  return { app, failmodes, calls };
}

type App = ReturnType<typeof gatewayWith>['app'];

/** Cookies a browser would hold after `set-cookie` headers, as one Cookie header. */
function jar(headers: string | string[] | undefined, previous = ''): string {
  const cookies = new Map(
    previous
      .split('; ')
      .filter(Boolean)
      .map((c) => [c.split('=')[0]!, c]),
  );
  for (const line of Array.isArray(headers) ? headers : headers ? [headers] : []) {
    const pair = line.split(';')[0]!;
    const name = pair.split('=')[0]!;
    if (/Max-Age=0/.test(line)) cookies.delete(name);
    else cookies.set(name, pair);
  }
  return [...cookies.values()].join('; ');
}

/** GET /login?rd, then POST the password; returns the answer and the cookie jar. */
async function login(app: App, target: string, password = 'alicepw') {
  const page = await app.inject({ url: `/login?rd=${encodeURIComponent(target)}` });
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
  let cookies = jar(page.headers['set-cookie']);
  const answer = await app.inject({
    method: 'POST',
    url: '/login',
    headers: {
      cookie: cookies,
      'content-type': 'application/x-www-form-urlencoded',
      origin: PORTAL,
    },
    payload: `csrf=${csrf}&username=alice&password=${password}`,
  });
  cookies = jar(answer.headers['set-cookie'], cookies);
  return { answer, cookies, csrf };
}

async function authz(app: App, target: string, cookies: string) {
  return app.inject({
    url: '/authz/auth-request',
    headers: { 'x-original-url': target, cookie: cookies },
  });
}

describe('gateway app', () => {
  it('one_factor: the directory password alone opens the app, Remote-2FA none; never a two_factor app', async () => {
    const { app } = gatewayWith({ preauth: PREAUTH_AUTH });
    const { answer, cookies } = await login(app, 'https://wiki.example.org/');
    assert.equal(answer.statusCode, 303);
    assert.equal(answer.headers.location, 'https://wiki.example.org/');
    const res = await authz(app, 'https://wiki.example.org/page', cookies);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['remote-user'], 'alice');
    assert.equal(res.headers['remote-groups'], 'staff');
    assert.equal(res.headers['remote-2fa'], 'none');
    assert.equal((await authz(app, 'https://safe.example.org/', cookies)).statusCode, 401);
  });

  it('bypass opens without a session; deny refuses even a full session', async () => {
    const { app } = gatewayWith({ preauth: PREAUTH_AUTH });
    const open = await authz(app, 'https://public.example.org/', '');
    assert.equal(open.statusCode, 200);
    // Empty, never absent: a proxy copying an absent header may pass on the client's own.
    for (const name of ['remote-user', 'remote-groups', 'remote-email', 'remote-2fa']) {
      assert.equal(open.headers[name], '', name);
    }
    assert.equal((await authz(app, 'https://closed.example.org/', '')).statusCode, 403);
  });

  for (const [name, preauth, expectStatus, expectAction] of [
    ['connect refused, safe', down('connect'), 200, 'allow'],
    ['timeout, safe', down('timeout'), 200, 'allow'],
    ['5xx, safe', down('server-error'), 200, 'allow'],
  ] as const) {
    it(`preauth ${name}: in without a second factor, a failmode event`, async () => {
      const { app, failmodes } = gatewayWith({ preauth });
      const { answer, cookies } = await login(app, 'https://safe.example.org/');
      assert.equal(answer.statusCode, expectStatus);
      assert.match(answer.body, /id="failmode-banner"/);
      assert.equal(failmodes[0]?.action, expectAction);
      const res = await authz(app, 'https://safe.example.org/', cookies);
      assert.equal(res.headers['remote-2fa'], 'skipped-failmode');
      // The failmode session does not open the secure app.
      assert.equal((await authz(app, 'https://secure.example.org/', cookies)).statusCode, 401);
    });
  }

  it('preauth unreachable, secure: refused with 503, no session', async () => {
    const { app, failmodes } = gatewayWith({ preauth: down('connect') });
    const { answer, cookies } = await login(app, 'https://secure.example.org/');
    assert.equal(answer.statusCode, 503);
    assert.match(answer.body, /secure requires a second factor/);
    assert.equal(failmodes[0]?.action, 'deny');
    assert.ok(!cookies.includes('airlock_session'));
  });

  it('a 4xx from preauth never allows, even in a safe app', async () => {
    const rejected: Outcome = {
      kind: 'rejected',
      httpStatus: 401,
      code: 40103,
      message: 'Invalid signature',
      latencyMs: 1,
    };
    const { app, failmodes } = gatewayWith({ preauth: rejected });
    const { answer } = await login(app, 'https://safe.example.org/');
    assert.equal(answer.statusCode, 403);
    assert.equal(failmodes.length, 0);
  });

  it('a network failure at /auth denies, even in a safe app (the proxy rule)', async () => {
    const { app } = gatewayWith({ preauth: PREAUTH_AUTH, auth: down('timeout') });
    const { answer, cookies, csrf } = await login(app, 'https://safe.example.org/');
    assert.equal(answer.statusCode, 200);
    const res = await app.inject({
      method: 'POST',
      url: '/login/passcode',
      headers: { cookie: cookies, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `csrf=${csrf}&passcode=123456`,
    });
    assert.equal(res.statusCode, 503);
    assert.ok(!jar(res.headers['set-cookie'], cookies).includes('airlock_session'));
  });

  it('a wrong password never reaches the service, in either failmode', async () => {
    for (const host of ['safe', 'secure']) {
      const { app, failmodes } = gatewayWith({ preauth: down('connect') });
      const { answer } = await login(app, `https://${host}.example.org/`, 'wrong');
      assert.equal(answer.statusCode, 401, host);
      assert.equal(failmodes.length, 0, host);
    }
  });

  it('primary-only mode: a safe app skips the second factor without asking the service; a secure one refuses', async () => {
    const safe = gatewayWith({ preauth: PREAUTH_AUTH }, true);
    const { answer, cookies } = await login(safe.app, 'https://safe.example.org/');
    assert.equal(answer.statusCode, 200);
    assert.match(answer.body, /id="failmode-banner"/);
    assert.equal(safe.calls.preauth, 0);
    assert.equal(safe.failmodes[0]?.cause, 'primary-only');
    assert.equal(safe.failmodes[0]?.msg, 'Primary Only Mode - Secondary authentication bypassed');
    const res = await authz(safe.app, 'https://safe.example.org/', cookies);
    assert.equal(res.headers['remote-2fa'], 'skipped-failmode');

    const secure = gatewayWith({ preauth: PREAUTH_AUTH }, true);
    const refused = await login(secure.app, 'https://secure.example.org/');
    assert.equal(refused.answer.statusCode, 503);
    assert.equal(secure.calls.preauth, 0);
  });
});
