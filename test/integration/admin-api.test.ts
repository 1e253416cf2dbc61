// The Admin API (/admin/v1): every route, its OpenAPI document, authentication by API key and by
// console session, and validation errors; against the real service (inject, no sockets).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyTotp } from '../../src/core/otp-verify.ts';
import type { EmergencyControl } from '../../src/core/emergency-control.ts';
import { Validator } from '@seriousme/openapi-schema-validator';
import { openApiPath } from '../../src/service/admin/openapi.ts';
import { ADMIN_ROUTES } from '../../src/service/admin/admin-routes.ts';
import type { AdminExtensions } from '../../src/service/admin/admin-extensions.ts';
import {
  consoleLogin,
  createTestAdmin,
  sessionCall,
  signedCall,
  type KeyCredentials,
  type Params,
  type TestAdmin,
} from './admin-client.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';

interface UserBody {
  user_id: string;
  username: string;
  status: string;
  aliases: string[];
  realname: string | null;
  groups?: { group_id: string; name: string }[];
}

describe('Admin API', () => {
  let h: Harness;
  let key: KeyCredentials;
  let admin: TestAdmin;
  const called = new Set<string>();

  const call = async (
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    params: Params = {},
    version: 2 | 5 = 2,
  ) => {
    const route = ADMIN_ROUTES.find(
      (r) =>
        r.method === method && new RegExp(`^${r.path.replace(/:[a-z_]+/g, '[^/]+')}$`).test(path),
    );
    if (route) called.add(`${route.method} ${route.path}`);
    return signedCall(h.service, h.clock, key, method, path, params, { version });
  };
  const ok = async (
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    params: Params = {},
    version: 2 | 5 = 2,
  ) => {
    const res = await call(method, path, params, version);
    assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.stat, 'OK');
    return res.body;
  };

  before(async () => {
    h = await startService();
    key = { ikey: 'DAADMINKEY0000000001', skey: 'admin-secret-key-'.padEnd(40, 'x') };
    await h.store.createAdminApiKey({ ...key, name: 'tests' });
    admin = await createTestAdmin(h.store, 'root', 'correct horse battery staple');
  });
  after(async () => {
    await h.close();
  });

  describe('OpenAPI document', () => {
    it('validates against the OpenAPI 3.1 JSON schema', async () => {
      const res = await h.service.server.inject({ method: 'GET', url: '/admin/v1/openapi.json' });
      const validator = new Validator();
      const result = await validator.validate(res.json<Record<string, unknown>>());
      assert.equal(validator.version, '3.1');
      assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
    });

    it('is served and lists every route with its method, parameters and responses', async () => {
      const res = await h.service.server.inject({ method: 'GET', url: '/admin/v1/openapi.json' });
      assert.equal(res.statusCode, 200);
      const doc = res.json<{
        openapi: string;
        paths: Record<
          string,
          Record<
            string,
            {
              parameters: { name: string; in: string; required: boolean }[];
              requestBody?: {
                content: Record<
                  string,
                  { schema: { properties: Record<string, unknown>; required?: string[] } }
                >;
              };
              responses: Record<string, unknown>;
            }
          >
        >;
        components: { schemas: Record<string, unknown> };
      }>();
      assert.equal(doc.openapi, '3.1.0');
      let operations = 0;
      for (const route of ADMIN_ROUTES) {
        const op = doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase()];
        assert.ok(op, `${route.method} ${route.path} is missing from the document`);
        operations++;
        const declared = route.params.filter((p) => p.in !== 'body');
        assert.deepEqual(
          op.parameters.map((p) => `${p.in}:${p.name}:${p.required}`).sort(),
          declared.map((p) => `${p.in}:${p.name}:${p.in === 'path' || p.required === true}`).sort(),
          `${route.method} ${route.path} parameters`,
        );
        // Every {name} of the path is a path parameter.
        for (const m of route.path.matchAll(/:([a-z_]+)/g)) {
          assert.ok(
            declared.some((p) => p.in === 'path' && p.name === m[1]),
            `${route.path} declares ${m[1]}`,
          );
        }
        const body = route.params.filter((p) => p.in === 'body');
        if (body.length === 0) assert.equal(op.requestBody, undefined);
        else {
          for (const type of ['application/json', 'application/x-www-form-urlencoded']) {
            const schema: { properties: Record<string, unknown> } | undefined =
              op.requestBody?.content[type]?.schema;
            assert.deepEqual(
              Object.keys(schema?.properties ?? {}).sort(),
              body.map((p) => p.name).sort(),
            );
          }
        }
        for (const status of ['200', '400', '401', '403', '404'])
          assert.ok(op.responses[status], `${route.path} ${status}`);
      }
      // No operation in the document that the router does not serve.
      const documented = Object.values(doc.paths).reduce(
        (n, item) => n + Object.keys(item).length,
        0,
      );
      assert.equal(documented, operations);
      // Every $ref resolves.
      for (const m of res.body.matchAll(/"\$ref":"#\/components\/schemas\/([A-Za-z]+)"/g)) {
        assert.ok(doc.components.schemas[m[1]!], `schema ${m[1]} is defined`);
      }
    });

    it('serves every documented route (no 404 from the router)', () => {
      for (const route of ADMIN_ROUTES) {
        assert.ok(
          h.service.server.hasRoute({ method: route.method, url: route.path }),
          `${route.method} ${route.path} is registered`,
        );
      }
    });
  });

  describe('API key authentication', () => {
    it('refuses a request without credentials', async () => {
      const res = await h.service.server.inject({
        method: 'GET',
        url: '/admin/v1/users',
        headers: { host: 'localhost' },
      });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json<{ code: number }>().code, 40101);
    });

    it('refuses a bad signature, an unknown key, a skewed date and HMAC-SHA1', async () => {
      const bad = await signedCall(
        h.service,
        h.clock,
        key,
        'GET',
        '/admin/v1/users',
        {},
        { skey: 'wrong' },
      );
      assert.deepEqual([bad.status, bad.body.code], [401, 40103]);
      const unknown = await signedCall(
        h.service,
        h.clock,
        { ikey: 'DANOSUCHKEY', skey: 'x' },
        'GET',
        '/admin/v1/users',
      );
      assert.deepEqual([unknown.status, unknown.body.code], [401, 40102]);
      const skewed = await signedCall(
        h.service,
        h.clock,
        key,
        'GET',
        '/admin/v1/users',
        {},
        {
          date: new Date(h.clock.nowMs() - 600_000).toUTCString(),
        },
      );
      assert.deepEqual([skewed.status, skewed.body.code], [401, 40105]);
      const sha1 = await signedCall(
        h.service,
        h.clock,
        key,
        'GET',
        '/admin/v1/users',
        {},
        { digest: 'sha1' },
      );
      assert.deepEqual([sha1.status, sha1.body.code], [401, 40103]);
    });

    it('refuses a revoked key', async () => {
      const temp = { ikey: 'DATEMPKEY00000000001', skey: 'temp-key-secret'.padEnd(40, 'y') };
      await h.store.createAdminApiKey({ ...temp, name: 'temp' });
      assert.equal(
        (await signedCall(h.service, h.clock, temp, 'GET', '/admin/v1/groups')).status,
        200,
      );
      await h.store.deleteAdminApiKey(temp.ikey);
      const res = await signedCall(h.service, h.clock, temp, 'GET', '/admin/v1/groups');
      assert.deepEqual([res.status, res.body.code], [401, 40102]);
    });

    it('accepts a v5-signed JSON body and refuses a JSON body under a v2 signature', async () => {
      const created = await ok(
        'POST',
        '/admin/v1/groups',
        { name: 'json-group', desc: 'made with v5' },
        5,
      );
      assert.equal((created.response as { name: string }).name, 'json-group');
      const res = await h.service.server.inject({
        method: 'POST',
        url: '/admin/v1/groups',
        headers: {
          host: 'localhost',
          'content-type': 'application/json',
          date: new Date(h.clock.nowMs()).toUTCString(),
        },
        payload: '{"name":"x"}',
      });
      assert.equal(res.statusCode, 401);
    });

    it('records the last use of a key', async () => {
      assert.equal((await h.store.getAdminApiKey(key.ikey))?.lastUsedAtMs, h.clock.nowMs());
    });
  });

  describe('console session authentication', () => {
    it('logs in with password and TOTP, reads with the cookie, writes only with the CSRF token', async () => {
      const login = await consoleLogin(h.service, {
        username: 'root',
        password: admin.password,
        code: totpAt(admin.totp, h.clock),
      });
      assert.equal(login.status, 303);
      assert.equal(login.location, '/admin/dashboard');
      assert.ok(login.token);
      const session = { token: login.token };
      assert.equal((await sessionCall(h.service, session, 'GET', '/admin/v1/users')).status, 200);
      const noCsrf = await sessionCall(
        h.service,
        session,
        'POST',
        '/admin/v1/groups',
        { name: 'csrf-1' },
        null,
      );
      assert.deepEqual([noCsrf.status, noCsrf.body.code], [403, 40302]);
      const wrongCsrf = await sessionCall(
        h.service,
        session,
        'POST',
        '/admin/v1/groups',
        { name: 'csrf-1' },
        'forged',
      );
      assert.deepEqual([wrongCsrf.status, wrongCsrf.body.code], [403, 40302]);
      const good = await sessionCall(h.service, session, 'POST', '/admin/v1/groups', {
        name: 'csrf-1',
      });
      assert.equal(good.status, 200);
      const [event] = await h.store
        .listAudit({ action: 'group.create', username: undefined, limit: 1000 })
        .then((e) => e.filter((x) => x.detail.name === 'csrf-1'));
      assert.equal(event?.actor, 'admin:root');
      // The cookie is __Host-, Secure, HttpOnly, SameSite=Strict.
      const res = await h.service.server.inject({
        method: 'POST',
        url: '/admin/login',
        headers: { host: 'localhost', 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          username: 'root',
          password: admin.password,
          code: totpAt(admin.totp, h.clock),
        }).toString(),
      });
      // The same code again: one use per time step.
      assert.equal(res.statusCode, 401);
    });

    it('sets the session cookie with __Host-, Secure, HttpOnly and SameSite=Strict', async () => {
      h.clock.advance(30_000);
      const res = await h.service.server.inject({
        method: 'POST',
        url: '/admin/login',
        headers: { host: 'localhost', 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          username: 'root',
          password: admin.password,
          code: totpAt(admin.totp, h.clock),
        }).toString(),
      });
      const cookie = String(res.headers['set-cookie']);
      assert.match(
        cookie,
        /^__Host-airlock_session=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=28800$/,
      );
    });

    it('gives one generic failure for a wrong password, an unknown user and a wrong code', async () => {
      h.clock.advance(30_000);
      const code = totpAt(admin.totp, h.clock);
      const failures = [
        await consoleLogin(h.service, { username: 'root', password: 'wrong', code }, '10.0.0.1'),
        await consoleLogin(
          h.service,
          { username: 'nobody', password: admin.password, code },
          '10.0.0.1',
        ),
        await consoleLogin(
          h.service,
          {
            username: 'root',
            password: admin.password,
            code: '000000' === code ? '111111' : '000000',
          },
          '10.0.0.1',
        ),
      ];
      for (const f of failures) {
        assert.equal(f.status, 401);
        assert.equal(f.token, undefined);
        assert.match(f.body, /Invalid username, password or code/);
      }
      const audit = await h.store.listAudit({ action: 'admin.login', limit: 1000 });
      assert.ok(audit.filter((e) => e.result === 'fail').length >= 3);
    });

    it('rate-limits logins per username and address', async () => {
      const code = totpAt(admin.totp, h.clock);
      const statuses = [];
      for (let i = 0; i < 7; i++) {
        statuses.push(
          (await consoleLogin(h.service, { username: 'root', password: 'wrong', code }, '10.9.9.9'))
            .status,
        );
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
      // Another address is not held back.
      assert.equal(
        (await consoleLogin(h.service, { username: 'root', password: 'wrong', code }, '10.9.9.10'))
          .status,
        401,
      );
    });

    it('ends a session idle for 15 minutes and one older than 8 hours', async () => {
      h.clock.advance(30_000);
      const first = await consoleLogin(
        h.service,
        { username: 'root', password: admin.password, code: totpAt(admin.totp, h.clock) },
        '10.1.1.1',
      );
      const idle = { token: first.token! };
      h.clock.advance(15 * 60_000);
      const expired = await sessionCall(h.service, idle, 'GET', '/admin/v1/groups');
      assert.deepEqual([expired.status, expired.body.code], [401, 40106]);

      h.clock.advance(30_000);
      const second = await consoleLogin(
        h.service,
        { username: 'root', password: admin.password, code: totpAt(admin.totp, h.clock) },
        '10.1.1.2',
      );
      const busy = { token: second.token! };
      for (let minutes = 0; minutes < 8 * 60 - 10; minutes += 10) {
        h.clock.advance(10 * 60_000);
        assert.equal(
          (await sessionCall(h.service, busy, 'GET', '/admin/v1/groups')).status,
          200,
          `after ${minutes + 10} min`,
        );
      }
      h.clock.advance(10 * 60_000);
      const old = await sessionCall(h.service, busy, 'GET', '/admin/v1/groups');
      assert.deepEqual([old.status, old.body.code], [401, 40106]);
    });

    it('ends the sessions of a disabled administrator', async () => {
      h.clock.advance(30_000);
      const other = await createTestAdmin(h.store, 'second', 'another password here');
      const login = await consoleLogin(
        h.service,
        { username: 'second', password: other.password, code: totpAt(other.totp, h.clock) },
        '10.2.2.2',
      );
      const session = { token: login.token! };
      assert.equal((await sessionCall(h.service, session, 'GET', '/admin/v1/groups')).status, 200);
      await h.store.setAdminDisabled((await h.store.findAdmin('second'))!.id, true);
      assert.equal((await sessionCall(h.service, session, 'GET', '/admin/v1/groups')).status, 401);
    });
  });

  describe('users, aliases, memberships, tokens, bypass codes and devices', () => {
    it('creates, lists, shows, edits and deletes users with Duo field names', async () => {
      const created = (
        await ok('POST', '/admin/v1/users', {
          username: 'alice',
          realname: 'Alice A',
          email: 'a@example.org',
          alias1: 'ali',
        })
      ).response as UserBody;
      assert.deepEqual(
        [created.username, created.realname, created.status, created.aliases],
        ['alice', 'Alice A', 'active', ['ali']],
      );
      await ok('POST', '/admin/v1/users', { username: 'bob', aliases: ['bobby', 'rob'] });
      await ok('POST', '/admin/v1/users', { username: 'carol', status: 'disabled' });

      const page1 = await ok('GET', '/admin/v1/users', { limit: 2 });
      assert.deepEqual(
        (page1.response as UserBody[]).map((u) => u.username),
        ['alice', 'bob'],
      );
      assert.deepEqual(page1.metadata, { next_offset: 2 });
      const page2 = await ok('GET', '/admin/v1/users', { limit: 2, offset: 2 });
      assert.deepEqual(
        (page2.response as UserBody[]).map((u) => u.username),
        ['carol'],
      );
      assert.deepEqual(page2.metadata, {});
      assert.deepEqual(
        ((await ok('GET', '/admin/v1/users', { username: 'bob' })).response as UserBody[]).map(
          (u) => u.aliases,
        ),
        [['bobby', 'rob']],
      );
      assert.deepEqual(
        ((await ok('GET', '/admin/v1/users', { search: 'ALI' })).response as UserBody[]).map(
          (u) => u.username,
        ),
        ['alice'],
      );

      const shown = (await ok('GET', `/admin/v1/users/${created.user_id}`)).response as UserBody;
      assert.deepEqual(shown.groups, []);
      const edited = (
        await ok('POST', `/admin/v1/users/${created.user_id}`, { realname: '', status: 'bypass' })
      ).response as UserBody;
      assert.deepEqual([edited.realname, edited.status], [null, 'bypass']);
      const aliased = (
        await ok('POST', `/admin/v1/users/${created.user_id}/aliases`, {
          aliases: ['alice2', 'al'],
        })
      ).response as UserBody;
      assert.deepEqual(aliased.aliases, ['al', 'alice2']);
      assert.deepEqual(
        ((await ok('POST', `/admin/v1/users/alice/aliases`, { aliases: '' })).response as UserBody)
          .aliases,
        [],
      );

      const carol = (await h.store.findUser('carol'))!;
      assert.deepEqual((await ok('DELETE', `/admin/v1/users/${carol.id}`)).response, {
        deleted: true,
      });
      assert.equal(await h.store.findUser('carol'), undefined);
      const audit = await h.store.listAudit({ action: 'user.set-status', username: 'alice' });
      assert.equal(audit.at(-1)?.actor, `adminkey:${key.ikey}`);
      assert.deepEqual(audit.at(-1)?.detail, { realName: null, from: 'active', to: 'bypass' });
    });

    it('adds a user to groups and removes them (Duo paths)', async () => {
      const group = (await ok('POST', '/admin/v1/groups', { name: 'staff' })).response as {
        group_id: string;
      };
      const groups = (await ok('POST', '/admin/v1/users/bob/groups', { group_id: group.group_id }))
        .response as { name: string }[];
      assert.deepEqual(
        groups.map((g) => g.name),
        ['staff'],
      );
      assert.deepEqual(
        ((await ok('GET', '/admin/v1/users/bob/groups')).response as { name: string }[]).map(
          (g) => g.name,
        ),
        ['staff'],
      );
      assert.deepEqual(
        (await ok('DELETE', `/admin/v1/users/bob/groups/${group.group_id}`)).response,
        { deleted: true },
      );
      assert.deepEqual(
        (await ok('DELETE', `/admin/v1/users/bob/groups/${group.group_id}`)).response,
        { deleted: false },
      );
    });

    it('makes a TOTP token whose code verifies, registers HOTP, lists and deletes tokens', async () => {
      const totp = (await ok('POST', '/admin/v1/users/bob/tokens/totp', { name: 'phone' }))
        .response as { token_id: string; secret: string; uri: string };
      assert.match(totp.uri, /^otpauth:\/\/totp\/Airlock:bob\?/);
      const stored = (await h.store.listOtpTokens((await h.store.findUser('bob'))!.id))[0]!;
      assert.equal(stored.secret, totp.secret);
      assert.ok(
        verifyTotp({
          secret: totp.secret,
          algorithm: 'SHA1',
          digits: 6,
          periodSeconds: 30,
          nowMs: h.clock.nowMs(),
          lastStep: null,
          code: '000000',
        }).ok !== undefined,
      );
      const hotp = (
        await ok('POST', '/admin/v1/users/bob/tokens/hotp', {
          secret: 'jbsw y3dp ehpk 3pxp',
          counter: 5,
          name: 'yubikey',
        })
      ).response as { token_id: string; type: string };
      assert.equal(hotp.type, 'hotp');
      const list = (await ok('GET', '/admin/v1/users/bob/tokens')).response as {
        token_id: string;
      }[];
      assert.equal(list.length, 2);
      assert.ok(!JSON.stringify(list).includes(totp.secret), 'secrets never listed');
      await ok('DELETE', `/admin/v1/users/bob/tokens/${hotp.token_id}`);
      const missing = await call('DELETE', `/admin/v1/users/bob/tokens/${hotp.token_id}`);
      assert.deepEqual([missing.status, missing.body.code], [404, 40401]);
    });

    it('generates bypass codes that the Auth API accepts, listed without the codes', async () => {
      const codes = (
        await ok('POST', '/admin/v1/users/bob/bypass_codes', {
          count: 3,
          reuse_count: 1,
          valid_secs: 3600,
        })
      ).response as string[];
      assert.equal(codes.length, 3);
      for (const c of codes) assert.match(c, /^[0-9]{9}$/);
      const listed = (await ok('GET', '/admin/v1/users/bob/bypass_codes')).response as {
        reuse_count: number;
        expiration: number;
      }[];
      assert.equal(listed.length, 3);
      assert.ok(!JSON.stringify(listed).includes(codes[0]!));
      const app = await h.createApp();
      // Duo's client dates its request by the real clock; earlier tests moved the service's.
      h.clock.set(Date.now());
      const auth = await h.duo(app)('POST', '/auth/v2/auth', {
        username: 'bob',
        factor: 'passcode',
        passcode: codes[0]!,
      });
      assert.equal(
        (auth.response as { result: string } | undefined)?.result,
        'allow',
        JSON.stringify(auth),
      );
    });

    it('lists devices, makes an activation code and removes a device', async () => {
      const bob = (await h.store.findUser('bob'))!;
      await h.store.createDevice({
        id: 'DPBOBPHONE',
        userId: bob.id,
        name: 'phone',
        platform: 'phone',
        phoneNumber: '+15551230100',
      });
      const devices = (await ok('GET', '/admin/v1/users/bob/devices')).response as {
        device_id: string;
        number: string;
      }[];
      assert.deepEqual(
        devices.map((d) => d.device_id),
        ['DPBOBPHONE'],
      );
      assert.ok(!devices[0]!.number.includes('1230100'), 'the number is masked');
      const activation = (
        await ok('POST', '/admin/v1/users/bob/devices/activation', { valid_secs: 600 })
      ).response as { activation_code: string; expiration: number };
      assert.match(activation.activation_code, /^duo:\/\/[A-Z0-9]{20}-/);
      assert.equal(activation.expiration, Math.floor(h.clock.nowMs() / 1000) + 600);
      await ok('DELETE', '/admin/v1/users/bob/devices/DPBOBPHONE');
      const gone = await call('DELETE', '/admin/v1/users/bob/devices/DPBOBPHONE');
      assert.equal(gone.status, 404);
    });
  });

  describe('groups', () => {
    it('creates, shows, edits, lists and deletes groups; members in and out', async () => {
      const g = (
        await ok('POST', '/admin/v1/groups', {
          name: 'contractors',
          desc: 'outside',
          status: 'active',
        })
      ).response as { group_id: string };
      assert.equal(
        ((await ok('GET', `/admin/v1/groups/${g.group_id}`)).response as { desc: string }).desc,
        'outside',
      );
      assert.ok(
        ((await ok('GET', '/admin/v1/groups')).response as { name: string }[]).some(
          (x) => x.name === 'contractors',
        ),
      );
      const members = (
        await ok('POST', `/admin/v1/groups/${g.group_id}/members`, { user_id: 'bob' })
      ).response as { username: string }[];
      assert.deepEqual(
        members.map((m) => m.username),
        ['bob'],
      );
      assert.deepEqual(
        (
          (await ok('GET', `/admin/v1/groups/contractors/members`)).response as {
            username: string;
          }[]
        ).map((m) => m.username),
        ['bob'],
      );
      await ok('DELETE', `/admin/v1/groups/${g.group_id}/members/bob`);
      assert.equal(
        (await call('DELETE', `/admin/v1/groups/${g.group_id}/members/bob`)).status,
        404,
      );
      const renamed = (
        await ok('POST', `/admin/v1/groups/${g.group_id}`, { name: 'vendors', desc: '' })
      ).response as { name: string; desc: string | null };
      assert.deepEqual([renamed.name, renamed.desc], ['vendors', null]);
      await ok('DELETE', `/admin/v1/groups/${g.group_id}`);
      assert.equal((await call('GET', `/admin/v1/groups/${g.group_id}`)).status, 404);
    });

    it("warns with the advisor's findings when a group goes into bypass", async () => {
      const g = (await ok('POST', '/admin/v1/groups', { name: 'travel' })).response as {
        group_id: string;
      };
      const app = await h.createApp();
      await h.store.updateApplication(app.id, { restrictionLevel: 'most-restrictive' });
      const res = await ok('POST', `/admin/v1/groups/${g.group_id}`, { status: 'bypass' });
      const warnings = res.metadata?.warnings as {
        code: string;
        severity: string;
        message: string;
      }[];
      assert.ok(warnings.length >= 1);
      assert.equal(warnings[0]!.code, 'bypass-reaches-unnamed-applications');
      assert.equal(warnings[0]!.severity, 'error');
      assert.match(warnings[0]!.message, new RegExp(app.name));
      const back = await ok('POST', `/admin/v1/groups/${g.group_id}`, { status: 'active' });
      assert.deepEqual(back.metadata, { warnings: [] });
    });

    it('refuses to delete a group an application is restricted to', async () => {
      const g = (await ok('POST', '/admin/v1/groups', { name: 'vpn-users' })).response as {
        group_id: string;
      };
      await ok('POST', '/admin/v1/applications', { name: 'vpn', groups: [g.group_id] });
      const res = await call('DELETE', `/admin/v1/groups/${g.group_id}`);
      assert.deepEqual([res.status, res.body.code], [409, 40901]);
      assert.match(res.body.message_detail ?? '', /would open them to every user/);
    });
  });

  describe('applications', () => {
    it('creates (skey once), lists, shows, edits, rotates the secret and deletes', async () => {
      const created = (
        await ok('POST', '/admin/v1/applications', {
          name: 'wiki',
          type: 'web-sdk',
          new_user_policy: 'deny',
          rate_limit: 5,
          verified_push: true,
          redirect_uris: ['https://wiki.example/duo-callback'],
        })
      ).response as { app_id: string; skey: string; ikey: string };
      assert.equal(created.skey.length, 40);
      const listed = (await ok('GET', '/admin/v1/applications')).response as Record<
        string,
        unknown
      >[];
      assert.ok(listed.some((a) => a.name === 'wiki'));
      assert.ok(!JSON.stringify(listed).includes(created.skey), 'skeys are never listed');
      const shown = (await ok('GET', '/admin/v1/applications/wiki')).response as Record<
        string,
        unknown
      >;
      assert.deepEqual(
        [shown.type, shown.new_user_policy, shown.rate_limit, shown.verified_push, shown.skey],
        ['web-sdk', 'deny', 5, true, undefined],
      );
      assert.deepEqual(shown.redirect_uris, ['https://wiki.example/duo-callback']);
      const edited = (
        await ok('POST', `/admin/v1/applications/${created.app_id}`, {
          restriction_level: 'most-restrictive',
          groups: ['staff'],
        })
      ).response as { restriction_level: string; groups: string[] };
      assert.equal(edited.restriction_level, 'most-restrictive');
      assert.deepEqual(edited.groups, [(await h.store.getGroup('staff'))!.id]);
      const rotated = (await ok('POST', `/admin/v1/applications/${created.app_id}/rotate_secret`))
        .response as { skey: string };
      assert.notEqual(rotated.skey, created.skey);
      assert.equal((await h.store.getApplication(created.app_id))?.skey, rotated.skey);
      await ok('DELETE', `/admin/v1/applications/${created.app_id}`);
      assert.equal((await call('GET', `/admin/v1/applications/${created.app_id}`)).status, 404);
    });
  });

  describe('audit log', () => {
    it('pages by time and cursor, filters by user and action', async () => {
      h.clock.advance(1000);
      const since = h.clock.nowMs();
      for (let i = 0; i < 5; i++) await ok('POST', '/admin/v1/groups', { name: `audit-${i}` });
      const until = h.clock.nowMs() + 1;
      h.clock.advance(1000);
      await ok('POST', '/admin/v1/groups', { name: 'audit-late' });
      const first = await ok('GET', '/admin/v1/audit', {
        since,
        until,
        limit: 3,
        action: 'group.create',
      });
      const names = (first.response as { detail: { name: string } }[]).map((e) => e.detail.name);
      assert.deepEqual(names, ['audit-0', 'audit-1', 'audit-2']);
      const cursor = first.metadata?.next_cursor as number;
      assert.ok(cursor > 0);
      const second = await ok('GET', '/admin/v1/audit', {
        since,
        until,
        limit: 3,
        action: 'group.create',
        cursor,
      });
      assert.deepEqual(
        (second.response as { detail: { name: string } }[]).map((e) => e.detail.name),
        ['audit-3', 'audit-4'],
      );
      assert.deepEqual(second.metadata, {});
      const bob = (await ok('GET', '/admin/v1/audit', { username: 'bob', limit: 1000 }))
        .response as { username: string; actor: string }[];
      assert.ok(bob.length > 0 && bob.every((e) => e.username === 'bob'));
    });
  });

  describe("Duo's log endpoints", () => {
    it('answer the authentication, administrator and telephony logs in their envelopes', async () => {
      h.clock.advance(1000);
      const since = h.clock.nowMs();
      await ok('POST', '/admin/v1/groups', { name: 'logged-group' });
      const auth = await ok('GET', '/admin/v2/logs/authentication', {
        mintime: since,
        maxtime: h.clock.nowMs(),
      });
      assert.deepEqual(auth.response, {
        authlogs: [],
        metadata: { next_offset: null, total_objects: 0 },
      });
      const admins = (
        await ok('GET', '/admin/v1/logs/administrator', { mintime: Math.floor(since / 1000) })
      ).response as { action: string; object: string | null; username: string }[];
      assert.ok(
        admins.some((e) => e.action === 'group_create' && e.username === key.ikey),
        JSON.stringify(admins),
      );
      assert.deepEqual(
        (await ok('GET', '/admin/v1/logs/telephony', { mintime: Math.floor(since / 1000) }))
          .response,
        [],
      );
      const bad = await call('GET', '/admin/v2/logs/authentication', {
        mintime: 2,
        maxtime: 1,
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.message_detail, 'maxtime: before mintime');
    });
  });

  describe('policies and emergency controls', () => {
    it('answer 501 when the service is built without them', async () => {
      const bare = await startService({ adminExtensions: {} });
      await bare.store.createAdminApiKey({ ...key, name: 'tests' });
      try {
        for (const [method, path, params] of [
          ['GET', '/admin/v1/policies', {}],
          ['POST', '/admin/v1/policies/global', { policy: '{}' }],
          ['DELETE', '/admin/v1/policies/global', {}],
          ['GET', '/admin/v1/emergency_controls', {}],
          [
            'POST',
            '/admin/v1/emergency_controls/preview',
            { kind: 'primary-only', proxy: 'p1', reason: 'x' },
          ],
          [
            'POST',
            '/admin/v1/emergency_controls',
            { kind: 'primary-only', proxy: 'p1', reason: 'x' },
          ],
          ['POST', '/admin/v1/emergency_controls/EC1/revert', {}],
        ] as const) {
          const res = await signedCall(bare.service, bare.clock, key, method, path, params);
          assert.deepEqual([res.status, res.body.code], [501, 50101], `${method} ${path}`);
        }
      } finally {
        await bare.close();
      }
    });

    describe('on the service engine (the default)', () => {
      let wiki: string;
      let ops: string;
      before(async () => {
        const p = await h.createApp();
        await h.store.updateApplication(p.id, {
          name: 'ext-payroll',
          restrictionLevel: 'most-restrictive',
        });
        const w = await h.createApp();
        await h.store.updateApplication(w.id, { name: 'ext-wiki' });
        wiki = w.id;
        ops = await h.createGroup('ext-ops');
        await h.createUser('ext-erin', { groups: ['ext-ops'] });
        await h.createGroup('ext-break-glass', 'bypass');
      });
      it('set, preview and clear policies: validated, group names resolved, audited', async () => {
        const bad = await call('POST', `/admin/v1/policies/${wiki}`, {
          policy: JSON.stringify({ allowedFactors: ['pigeon'], denyGroupIds: ['no-such'], x: 1 }),
        });
        assert.deepEqual([bad.status, bad.body.code], [400, 40002]);
        for (const part of [/x: unknown field/, /unknown factor "pigeon"/, /no group "no-such"/]) {
          assert.match(bad.body.message_detail ?? '', part);
        }
        const notObject = await call('POST', '/admin/v1/policies/global', { policy: '[1]' });
        assert.match(notObject.body.message_detail ?? '', /must be a JSON object/);
        const noApp = await call('POST', '/admin/v1/policies/NOPE', { policy: '{}' });
        assert.deepEqual([noApp.status, noApp.body.code], [404, 40401]);
        const missing = await call('POST', `/admin/v1/policies/${wiki}`, {});
        assert.equal(missing.body.code, 40001);

        const set = await ok('POST', `/admin/v1/policies/${wiki}`, {
          policy: JSON.stringify({ allowedFactors: ['push'], denyGroupIds: ['ext-ops'] }),
        });
        assert.deepEqual(set.response, { allowedFactors: ['push'], denyGroupIds: [ops] });
        const listed = (await ok('GET', '/admin/v1/policies')).response as {
          applications: { app_id: string; policy: unknown }[];
        };
        assert.deepEqual(listed.applications.find((a) => a.app_id === wiki)?.policy, {
          allowedFactors: ['push'],
          denyGroupIds: [ops],
        });
        const [setEvent] = await h.store.listAudit({ sinceMs: 0, action: 'policy.set', limit: 10 });
        assert.equal(setEvent?.actor, `adminkey:${key.ikey}`);
        assert.equal(setEvent?.targetId, `app:${wiki}`);

        // Widening: a global bypass group that reaches a most-restrictive application.
        const widening = JSON.stringify({ bypassGroupIds: ['ext-ops'] });
        const preview = await ok('POST', '/admin/v1/policies/global/preview', {
          policy: widening,
        });
        const findings = preview.response as { code: string; message: string }[];
        assert.ok(findings.some((f) => /"ext-payroll" \(most-restrictive\)/.test(f.message)));
        const unconfirmed = await call('POST', '/admin/v1/policies/global', { policy: widening });
        assert.deepEqual([unconfirmed.status, unconfirmed.body.code], [400, 40002]);
        assert.match(unconfirmed.body.message_detail ?? '', /^confirm: the advisor warns/);
        assert.equal(await h.store.getPolicy('global'), undefined);
        await ok('POST', '/admin/v1/policies/global', { policy: widening, confirm: true });
        assert.deepEqual((await h.store.getPolicy('global'))?.policy, { bypassGroupIds: [ops] });

        assert.deepEqual((await ok('DELETE', '/admin/v1/policies/global')).response, {
          deleted: true,
        });
        assert.deepEqual((await ok('DELETE', '/admin/v1/policies/global')).response, {
          deleted: false,
        });
        assert.deepEqual((await ok('DELETE', `/admin/v1/policies/${wiki}`)).response, {
          deleted: true,
        });
        const clears = await h.store.listAudit({ sinceMs: 0, action: 'policy.clear', limit: 10 });
        assert.deepEqual(
          clears.map((e) => [e.actor, e.targetId]),
          [
            [`adminkey:${key.ikey}`, 'global'],
            [`adminkey:${key.ikey}`, `app:${wiki}`],
          ],
        );
      });

      it('start an emergency control after the advisor preview and confirm, then revert it', async () => {
        const request = {
          kind: 'users-to-bypass-group',
          group_id: 'ext-break-glass',
          user_ids: ['ext-erin'],
          app_ids: [wiki],
          reason: 'INC-7 push outage',
          duration_minutes: 30,
        };
        const preview = (await ok('POST', '/admin/v1/emergency_controls/preview', request))
          .response as { severity: string; message: string }[];
        assert.equal(preview.length, 1);
        assert.match(preview[0]!.message, /"ext-break-glass".*"ext-payroll" \(most-restrictive\)/);
        assert.doesNotMatch(preview[0]!.message, /ext-wiki/);

        const unconfirmed = await call('POST', '/admin/v1/emergency_controls', request);
        assert.deepEqual([unconfirmed.status, unconfirmed.body.code], [400, 40002]);
        assert.match(unconfirmed.body.message_detail ?? '', /^confirm: the advisor warns/);
        assert.deepEqual((await ok('GET', '/admin/v1/emergency_controls')).response, []);

        const started = (
          await ok('POST', '/admin/v1/emergency_controls', { ...request, confirm: true })
        ).response as EmergencyControl;
        assert.equal(started.actor, `adminkey:${key.ikey}`);
        assert.equal(started.expiresAtMs - started.createdAtMs, 30 * 60_000);
        const erin = (await h.store.findUser('ext-erin'))!;
        const glass = (await h.store.getGroup('ext-break-glass'))!;
        assert.ok((await h.store.listGroupMembers(glass.id)).some((u) => u.id === erin.id));
        const active = (await ok('GET', '/admin/v1/emergency_controls')).response as {
          id: string;
        }[];
        assert.deepEqual(
          active.map((c) => c.id),
          [started.id],
        );

        const reverted = (
          await ok('POST', `/admin/v1/emergency_controls/${started.id}/revert`, {
            reason: 'push is back',
          })
        ).response as EmergencyControl;
        assert.deepEqual(
          [reverted.state, reverted.endedBy, reverted.endReason],
          ['reverted', `adminkey:${key.ikey}`, 'push is back'],
        );
        assert.ok(!(await h.store.listGroupMembers(glass.id)).some((u) => u.id === erin.id));
        const again = await call('POST', `/admin/v1/emergency_controls/${started.id}/revert`, {
          reason: 'twice',
        });
        assert.deepEqual([again.status, again.body.code], [400, 40002]);
        const unknown = await call('POST', '/admin/v1/emergency_controls/EC-NOPE/revert', {});
        assert.deepEqual([unknown.status, unknown.body.code], [404, 40401]);
        const all = (await ok('GET', '/admin/v1/emergency_controls', { state: 'all' }))
          .response as EmergencyControl[];
        assert.equal(all[0]?.id, started.id);

        const events = (await h.store.listAudit({ sinceMs: 0, limit: 1000 })).filter(
          (e) => e.targetId === started.id,
        );
        assert.deepEqual(
          events.map((e) => [e.action, e.actor]),
          [
            ['emergency.start', `adminkey:${key.ikey}`],
            ['emergency.revert', `adminkey:${key.ikey}`],
          ],
        );
      });

      it('report every problem of a request, and refuse a group that is not a bypass group', async () => {
        const bad = await call('POST', '/admin/v1/emergency_controls', {
          kind: 'app-bypass-groups',
          app_id: 'NOPE',
          group_ids: ['no-such-group'],
          reason: 'x',
        });
        assert.deepEqual([bad.status, bad.body.code], [400, 40002]);
        assert.match(
          bad.body.message_detail ?? '',
          /no application "NOPE".*no group "no-such-group"/,
        );
        const notBypass = await call('POST', '/admin/v1/emergency_controls/preview', {
          kind: 'users-to-bypass-group',
          group_id: 'ext-ops',
          user_ids: ['ext-erin'],
          reason: 'x',
        });
        assert.match(notBypass.body.message_detail ?? '', /"ext-ops" is not a bypass group/);
        const tooLong = await call('POST', '/admin/v1/emergency_controls', {
          kind: 'app-bypass-groups',
          app_id: wiki,
          group_ids: ['ext-ops'],
          reason: 'x',
          duration_minutes: 24 * 60 + 1,
        });
        assert.equal(tooLong.body.code, 40002);
        const relative = await call('POST', '/admin/v1/emergency_controls', {
          kind: 'primary-only',
          proxy: 'relative/dir',
          reason: 'x',
        });
        assert.match(relative.body.message_detail ?? '', /absolute path/);
        const noReason = await call('POST', '/admin/v1/emergency_controls', {
          kind: 'app-bypass-groups',
          app_id: wiki,
          group_ids: ['ext-ops'],
        });
        assert.equal(noReason.body.code, 40001);
      });

      it('refuse callers without credentials or with a console session but no CSRF token', async () => {
        for (const [method, url] of [
          ['GET', '/admin/v1/policies'],
          ['POST', '/admin/v1/policies/global'],
          ['POST', '/admin/v1/emergency_controls'],
          ['POST', '/admin/v1/emergency_controls/EC1/revert'],
        ] as const) {
          const res = await h.service.server.inject({
            method,
            url,
            headers: { host: 'localhost' },
          });
          assert.deepEqual(
            [res.statusCode, res.json<{ code: number }>().code],
            [401, 40101],
            `${method} ${url}`,
          );
        }
        const other = await createTestAdmin(h.store, 'ext-admin', 'another long passphrase');
        const login = await consoleLogin(h.service, {
          username: 'ext-admin',
          password: other.password,
          code: totpAt(other.totp, h.clock),
        });
        const session = { token: login.token! };
        const noCsrf = await sessionCall(
          h.service,
          session,
          'POST',
          '/admin/v1/policies/global',
          { policy: '{}' },
          null,
        );
        assert.deepEqual([noCsrf.status, noCsrf.body.code], [403, 40302]);
        const withCsrf = await sessionCall(h.service, session, 'GET', '/admin/v1/policies');
        assert.equal(withCsrf.status, 200);
      });
    });

    it('call the extensions when plugged in, and ask for confirmation when the advisor warns', async () => {
      const control: EmergencyControl = {
        id: 'EC1',
        scope: { kind: 'primary-only', proxy: 'p1' },
        reason: 'outage',
        actor: 'x',
        createdAtMs: 0,
        expiresAtMs: 1,
        state: 'active',
      };
      const seen: string[] = [];
      const extensions: AdminExtensions = {
        policies: {
          list: () => Promise.resolve({ global: { denyGroupIds: [] } as never, applications: [] }),
          set: (scope, policy, actor) => (
            seen.push(`set ${JSON.stringify(scope)} ${JSON.stringify(policy)} ${actor}`),
            Promise.resolve(policy as never)
          ),
          clear: (scope, actor) => (
            seen.push(`clear ${scope.kind} ${actor}`),
            Promise.resolve(true)
          ),
        },
        emergency: {
          listActive: () => Promise.resolve([control]),
          listAll: () => Promise.resolve([control]),
          preview: () =>
            Promise.resolve([
              {
                code: 'most-restrictive-bypass-reach',
                severity: 'error',
                message: 'reaches payroll',
                subjects: [],
              },
            ]),
          start: (request, actor) => (
            seen.push(`start ${request.scope.kind} ${request.durationMs} ${actor}`),
            Promise.resolve(control)
          ),
          revert: (id, actor) => (
            seen.push(`revert ${id} ${actor}`),
            Promise.resolve({ ...control, state: 'reverted' })
          ),
        },
      };
      const h2 = await startService({ adminExtensions: extensions });
      try {
        await h2.store.createAdminApiKey({ ...key, name: 'tests' });
        const c = (method: 'GET' | 'POST' | 'DELETE', path: string, params: Params = {}) => {
          const route = ADMIN_ROUTES.find(
            (r) =>
              r.method === method &&
              new RegExp(`^${r.path.replace(/:[a-z_]+/g, '[^/]+')}$`).test(path),
          );
          if (route) called.add(`${route.method} ${route.path}`);
          return signedCall(h2.service, h2.clock, key, method, path, params);
        };
        assert.equal((await c('GET', '/admin/v1/policies')).status, 200);
        assert.equal(
          (await c('POST', '/admin/v1/policies/APPX', { policy: '{"denyGroupIds":["G"]}' })).status,
          200,
        );
        assert.equal(
          (await c('POST', '/admin/v1/policies/global', { policy: '{nope' })).body.code,
          40002,
        );
        assert.equal((await c('DELETE', '/admin/v1/policies/global')).status, 200);
        assert.equal(
          (
            (await c('GET', '/admin/v1/emergency_controls', { state: 'all' })).body
              .response as unknown[]
          ).length,
          1,
        );
        const preview = await c('POST', '/admin/v1/emergency_controls/preview', {
          kind: 'primary-only',
          proxy: 'p1',
          reason: 'outage',
        });
        assert.deepEqual(preview.body.response, [
          { code: 'most-restrictive-bypass-reach', severity: 'error', message: 'reaches payroll' },
        ]);
        const unconfirmed = await c('POST', '/admin/v1/emergency_controls', {
          kind: 'primary-only',
          proxy: 'p1',
          reason: 'outage',
          duration_minutes: 30,
        });
        assert.equal(unconfirmed.status, 400);
        assert.match(unconfirmed.body.message_detail ?? '', /reaches payroll/);
        assert.equal(
          (
            await c('POST', '/admin/v1/emergency_controls', {
              kind: 'primary-only',
              proxy: 'p1',
              reason: 'outage',
              duration_minutes: 30,
              confirm: true,
            })
          ).status,
          200,
        );
        assert.equal(
          (await c('POST', '/admin/v1/emergency_controls/EC1/revert', { reason: 'fixed' })).status,
          200,
        );
        assert.deepEqual(seen, [
          `set {"kind":"application","appId":"APPX"} {"denyGroupIds":["G"]} adminkey:${key.ikey}`,
          `clear global adminkey:${key.ikey}`,
          `start primary-only 1800000 adminkey:${key.ikey}`,
          `revert EC1 adminkey:${key.ikey}`,
        ]);
      } finally {
        await h2.close();
      }
    });
  });

  describe('validation', () => {
    it('reports a missing, an unknown, and a badly typed parameter', async () => {
      const missing = await call('POST', '/admin/v1/users', { realname: 'x' });
      assert.deepEqual(
        [missing.status, missing.body.code, missing.body.message_detail],
        [400, 40001, 'username'],
      );
      const unknown = await call('POST', '/admin/v1/users', { username: 'dave', nickname: 'd' });
      assert.deepEqual(
        [unknown.status, unknown.body.code, unknown.body.message_detail],
        [400, 40002, 'unknown parameter nickname'],
      );
      const badEnum = await call('POST', '/admin/v1/users', {
        username: 'dave',
        status: 'sleeping',
      });
      assert.equal(badEnum.body.code, 40002);
      assert.match(
        badEnum.body.message_detail ?? '',
        /^status: must be one of active, bypass, disabled, locked out$/,
      );
      const badInt = await call('GET', '/admin/v1/users', { limit: 'ten' });
      assert.deepEqual(
        [badInt.body.code, badInt.body.message_detail],
        [40002, 'limit: must be a whole number'],
      );
      const tooMany = await call('GET', '/admin/v1/audit', { limit: 5000 });
      assert.deepEqual(
        [tooMany.body.code, tooMany.body.message_detail],
        [40002, 'limit: must be at most 1000'],
      );
      const badBool = await call('POST', '/admin/v1/applications', {
        name: 'x',
        verified_push: 'maybe',
      });
      assert.equal(badBool.body.code, 40002);
      const twice = await call('POST', '/admin/v1/groups', { name: ['a', 'b'] });
      assert.deepEqual(
        [twice.body.code, twice.body.message_detail],
        [40002, 'name: given more than once'],
      );
      const badBase32 = await call('POST', '/admin/v1/users/bob/tokens/hotp', {
        secret: 'not base32!',
      });
      assert.equal(badBase32.body.code, 40002);
      assert.equal(await h.store.findUser('dave'), undefined);
    });

    it('answers 404 for an unknown user, group, application and path, 409 for a duplicate', async () => {
      for (const path of [
        '/admin/v1/users/NOPE',
        '/admin/v1/groups/NOPE',
        '/admin/v1/applications/NOPE',
        '/admin/v1/nothing-here',
      ]) {
        const res = await call('GET', path);
        assert.deepEqual([res.status, res.body.code], [404, 40401], path);
      }
      const dup = await call('POST', '/admin/v1/users', { username: 'bob' });
      assert.deepEqual([dup.status, dup.body.code], [409, 40901]);
      const clash = await call('POST', '/admin/v1/users', { username: 'erin', aliases: ['bob'] });
      assert.equal(clash.status, 409);
    });
  });

  describe('status page: incidents, subscriptions, overrides', () => {
    it('lists, edits and resets the user-message templates (shapes, audited)', async () => {
      const listed = (await ok('GET', '/admin/v1/message_templates')).response as {
        kind: string;
        language: string;
        edited: boolean;
      }[];
      assert.equal(listed.length, 6);
      assert.ok(listed.every((t) => !t.edited));
      const bad = await call('POST', '/admin/v1/message_templates/failmode-safe/en', {
        subject: 'x',
        body: 'Hello {nobody}',
      });
      assert.deepEqual([bad.status, bad.body.code], [400, 40002]);
      const unknown = await call('POST', '/admin/v1/message_templates/failmode-open/en', {
        subject: 'x',
        body: 'y',
      });
      assert.equal(unknown.status, 400);
      assert.deepEqual(
        (
          await ok('POST', '/admin/v1/message_templates/failmode-safe/de', {
            subject: 'Anmeldung {incident}',
            body: '{application} ist offen.',
          })
        ).response,
        {
          kind: 'failmode-safe',
          language: 'de',
          subject: 'Anmeldung {incident}',
          body: '{application} ist offen.',
          edited: true,
        },
      );
      assert.deepEqual(
        (await ok('DELETE', '/admin/v1/message_templates/failmode-safe/de')).response,
        { reset: true },
      );
      assert.deepEqual(
        (await ok('DELETE', '/admin/v1/message_templates/failmode-safe/de')).response,
        { reset: false },
      );
      const audit = await h.store.listAudit({ action: 'template.set', limit: 1 });
      assert.equal(audit[0]?.targetId, 'failmode-safe/de');
    });

    it('creates, lists, shows and updates an incident; subscribes and overrides (shapes)', async () => {
      const created = (
        await ok('POST', '/admin/v1/incidents', {
          title: 'SMS delayed',
          message: 'Looking into it.',
          factor: 'sms',
          impact: 'minor',
        })
      ).response as { incident_id: number; status: string; factor: string };
      assert.deepEqual([created.status, created.factor], ['investigating', 'sms']);
      const id = created.incident_id;
      await ok('POST', `/admin/v1/incidents/${id}/updates`, {
        status: 'identified',
        message: 'Provider confirmed.',
      });
      const listed = (await ok('GET', '/admin/v1/incidents', { open: true })).response as {
        incident_id: number;
      }[];
      assert.ok(listed.some((i) => i.incident_id === id));
      const shown = (await ok('GET', `/admin/v1/incidents/${id}`)).response as {
        updates: { status: string }[];
      };
      assert.deepEqual(
        shown.updates.map((u) => u.status),
        ['investigating', 'identified'],
      );
      const missing = await call('GET', '/admin/v1/incidents/999999');
      assert.deepEqual([missing.status, missing.body.code], [404, 40401]);
      const bad = await call('POST', '/admin/v1/status_subscriptions', {
        kind: 'email',
        target: 'not-an-address',
      });
      assert.equal(bad.status, 400);
      const sub = (
        await ok('POST', '/admin/v1/status_subscriptions', {
          kind: 'webhook',
          target: 'https://chat.example.org/hook',
        })
      ).response as { subscription_id: string };
      assert.ok(
        (
          (await ok('GET', '/admin/v1/status_subscriptions')).response as {
            subscription_id: string;
          }[]
        ).some((s) => s.subscription_id === sub.subscription_id),
      );
      assert.deepEqual(
        (await ok('DELETE', `/admin/v1/status_subscriptions/${sub.subscription_id}`)).response,
        { removed: true },
      );
      await ok('POST', '/admin/v1/status_components/auth-api/override', {
        status: 'degraded_performance',
        reason: 'planned failover',
      });
      assert.deepEqual(
        (await ok('POST', '/admin/v1/status_components/auth-api/override', { status: 'measured' }))
          .response,
        { component_id: 'auth-api', status: 'measured' },
      );
    });
  });

  it('every route was called by this suite', () => {
    const all = ADMIN_ROUTES.map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(
      all.filter((r) => !called.has(r)),
      [],
    );
  });
});
