// Finding 6: console logins limited per address as well as per username and address, and
// `serve --trust-proxy`: X-Forwarded-For honoured from the TLS terminator only, for audit records,
// the login limits, the Auth API's client address and the loopback-only /metrics.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signRequest } from '../../src/protocol/duo-signature.ts';
import { createTestAdmin, type TestAdmin } from './admin-client.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';

const HOST = 'localhost';

/** A console login as a TLS terminator on 127.0.0.1 forwards it (`forwardedFor` = its client). */
async function login(
  h: Harness,
  fields: { username: string; password: string; code: string },
  forwardedFor?: string,
) {
  const res = await h.service.server.inject({
    method: 'POST',
    url: '/admin/login',
    remoteAddress: '127.0.0.1',
    headers: {
      host: HOST,
      'content-type': 'application/x-www-form-urlencoded',
      ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
    },
    payload: new URLSearchParams(fields).toString(),
  });
  return { status: res.statusCode, retryAfter: res.headers['retry-after'] };
}

async function metrics(h: Harness, forwardedFor?: string): Promise<number> {
  const res = await h.service.server.inject({
    method: 'GET',
    url: '/metrics',
    remoteAddress: '127.0.0.1',
    headers: { host: HOST, ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
  });
  return res.statusCode;
}

async function lastLoginIp(h: Harness, username: string): Promise<string | null | undefined> {
  const events = await h.store.listAudit({ action: 'admin.login', limit: 1000 });
  return events.filter((e) => e.detail.username === username).at(-1)?.ip;
}

describe('console logins from one address', () => {
  let h: Harness;
  before(async () => {
    h = await startService();
  });
  after(async () => {
    await h?.close();
  });

  it('refuses most of 40 logins with 40 different usernames before any password check', async () => {
    const results = [];
    for (let i = 0; i < 40; i++) {
      results.push(await login(h, { username: `user${i}`, password: 'guess', code: '123456' }));
    }
    const limited = results.filter((r) => r.status === 429);
    assert.ok(limited.length >= 30, `only ${limited.length} of 40 refused with 429`);
    for (const r of limited) assert.match(String(r.retryAfter), /^[1-9][0-9]*$/);
    assert.deepEqual(
      results.filter((r) => r.status !== 429).map((r) => r.status),
      results.filter((r) => r.status !== 429).map(() => 401),
    );
  });
});

describe('serve --trust-proxy 127.0.0.1 (a TLS terminator on this host)', () => {
  let h: Harness;
  let admin: TestAdmin;
  before(async () => {
    h = await startService({ trustProxy: ['127.0.0.1'] });
    admin = await createTestAdmin(h.store, 'root', 'correct horse battery staple');
  });
  after(async () => {
    await h?.close();
  });

  it('audits the forwarded client address', async () => {
    const r = await login(h, { username: 'mallory', password: 'x', code: '000000' }, '192.0.2.7');
    assert.equal(r.status, 401);
    assert.equal(await lastLoginIp(h, 'mallory'), '192.0.2.7');
  });

  it("gives the Auth API the forwarded client's address", async () => {
    const app = await h.createApp();
    await h.createUser('alice');
    const date = new Date(h.clock.nowMs()).toUTCString().replace('GMT', '-0000');
    const params = { username: 'alice' };
    const res = await h.service.server.inject({
      method: 'POST',
      url: '/auth/v2/preauth',
      remoteAddress: '127.0.0.1',
      headers: {
        host: HOST,
        date,
        'content-type': 'application/x-www-form-urlencoded',
        'x-forwarded-for': '192.0.2.7',
        authorization: signRequest({
          ikey: app.ikey,
          skey: app.skey,
          date,
          method: 'POST',
          host: HOST,
          path: '/auth/v2/preauth',
          params,
        }),
      },
      payload: new URLSearchParams(params).toString(),
    });
    assert.equal(res.statusCode, 200, res.body);
    const [event] = await h.store.listAudit({ action: 'auth.preauth', limit: 10 });
    assert.equal(event?.detail.clientIp, '192.0.2.7');
  });

  it('refuses /metrics to a forwarded remote client, serves it to a local scraper', async () => {
    assert.equal(await metrics(h, '192.0.2.7'), 404);
    assert.equal(await metrics(h), 200);
  });

  it('limits logins per client address, so one client cannot lock the administrator out', async () => {
    for (let i = 0; i < 40; i++) {
      await login(h, { username: `u${i}`, password: 'x', code: '000000' }, '192.0.2.66');
    }
    assert.equal(
      (await login(h, { username: 'u99', password: 'x', code: '000000' }, '192.0.2.66')).status,
      429,
    );
    h.clock.advance(30_000);
    const ok = await login(
      h,
      { username: 'root', password: admin.password, code: totpAt(admin.totp, h.clock) },
      '198.51.100.1',
    );
    assert.equal(ok.status, 303);
  });
});

describe('serve without --trust-proxy', () => {
  let h: Harness;
  before(async () => {
    h = await startService();
  });
  after(async () => {
    await h?.close();
  });

  it('ignores X-Forwarded-For for the audited address', async () => {
    const r = await login(h, { username: 'eve', password: 'x', code: '000000' }, '192.0.2.7');
    assert.equal(r.status, 401);
    assert.equal(await lastLoginIp(h, 'eve'), '127.0.0.1');
  });

  it('refuses /metrics to any request a proxy forwarded', async () => {
    assert.equal(await metrics(h, '192.0.2.7'), 404);
    assert.equal(await metrics(h), 200);
  });
});
