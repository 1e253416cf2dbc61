// Response schemas (issue #19): every JSON route serializes with the schema its OpenAPI document
// shows (one declaration), a route without one fails, and the serializer (fast-json-stringify,
// which drops undeclared fields and coerces types) loses nothing on real answers of every surface.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fastJson from 'fast-json-stringify';
import type { FastifyRequest } from 'fastify';
import { DeviceClient, newDeviceKey } from '../../src/authenticator/device-client.ts';
import type { Application } from '../../src/core/model.ts';
import { CryptoRandom, generateId } from '../../src/runtime/random.ts';
import { openApiPath } from '../../src/service/admin/openapi.ts';
import { ADMIN_ROUTES } from '../../src/service/admin/routes/all-routes.ts';
import type { JsonSchema } from '../../src/service/api-schema.ts';
import type { ServedRoute } from '../../src/service/build-service.ts';
import { createTestAdmin, signedCall, type KeyCredentials } from './admin-client.ts';
import { startService, type Harness } from './service-harness.ts';

/**
 * Routes that answer something else than JSON, so no serializer applies (Fastify sends strings
 * and buffers as they are). Any other route without response schemas fails the first test.
 */
const NOT_JSON: Record<string, string> = {
  'GET /metrics': 'Prometheus text',
  'GET /openapi.json': 'the service document, a prepared string',
  'GET /admin/v1/openapi.json': 'the Admin API document, a prepared string',
  'GET /authenticator': 'redirect to the web authenticator',
  'GET /authenticator/': 'web authenticator (HTML)',
  'GET /authenticator/*': 'web authenticator assets',
  'GET /frame/qr': 'QR code (PNG)',
  'GET /activate/:code': 'redirect to the web authenticator',
  'GET /status': 'status page (HTML)',
  'GET /oauth/v1/authorize': 'Web SDK: redirect to the prompt, or an HTML error page',
  'GET /frame/v4/:id': 'Web SDK prompt (HTML)',
  'POST /frame/v4/:id/passcode': 'Web SDK prompt form (HTML, redirects)',
  'POST /frame/v4/:id/push': 'Web SDK prompt form (HTML, redirects)',
  'POST /frame/v4/:id/phone': 'Web SDK prompt form (HTML, redirects)',
  'POST /frame/v4/:id/sms': 'Web SDK prompt form (HTML, redirects)',
  'POST /frame/v4/:id/complete': 'Web SDK prompt form (HTML, redirects)',
  'POST /frame/v4/:id/return': 'Web SDK prompt form (HTML, redirects)',
  'GET /frame/assets/prompt.css': 'Web SDK prompt asset',
  'GET /frame/assets/prompt.js': 'Web SDK prompt asset',
};
/** The console (HTML pages and form posts) lives under /admin/, outside the API's /admin/vN/. */
const isConsole = (r: ServedRoute) => r.url.startsWith('/admin') && !/^\/admin\/v\d+\//.test(r.url);
/** Admin API routes are in the Admin API's document; every other JSON route in the service's. */
const isAdminApi = (r: ServedRoute) =>
  ADMIN_ROUTES.some((a) => a.method === r.method && a.path === r.url);

type Operation = { responses: Record<string, { content: Record<string, { schema: unknown }> }> };
type Document = { paths: Record<string, Record<string, Operation>> };

/** The schemas of an operation's JSON answers, by Fastify's status keys (`4XX` → `4xx`). */
function jsonResponses(op: Operation): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(op.responses)
      .filter(([, r]) => r.content['application/json'])
      .map(([status, r]) => [status.toLowerCase(), r.content['application/json']!.schema]),
  );
}

/** Plain JSON, as a document is served: TypeBox's hidden markers and symbols left out. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

describe('response schemas: one declaration for the serializer and the OpenAPI documents', () => {
  let h: Harness;
  let adminDoc: Document;
  let serviceDoc: Document;
  /** What a route handed to the serializer and what the serializer wrote, per request. */
  const seen: { route: string; status: number; given: string; written: string }[] = [];

  before(async () => {
    const given = new WeakMap<FastifyRequest, string>();
    h = await startService({
      authStatusWaitSeconds: 1,
      beforeListen: (service) => {
        service.server.addHook('preSerialization', async (req, _reply, payload) => {
          given.set(req, JSON.stringify(payload));
          return payload;
        });
        service.server.addHook('onSend', async (req, reply, payload) => {
          const before = given.get(req);
          if (before !== undefined && typeof payload === 'string') {
            seen.push({
              route: `${req.method} ${req.routeOptions.url ?? req.url}`,
              status: reply.statusCode,
              given: before,
              written: payload,
            });
          }
          return payload;
        });
      },
    });
    adminDoc = (
      await h.service.server.inject({ method: 'GET', url: '/admin/v1/openapi.json' })
    ).json<Document>();
    serviceDoc = (await h.service.server.inject({ method: 'GET', url: '/openapi.json' })).json();
  });
  after(async () => {
    await h.close();
  });

  const routes = () => h.service.routes.filter((r) => r.method !== 'HEAD');
  const documentOf = (r: ServedRoute) => (isAdminApi(r) ? adminDoc : serviceDoc);

  it('every JSON route serializes with the schemas its OpenAPI operation shows', () => {
    let compared = 0;
    for (const route of routes()) {
      const name = `${route.method} ${route.url}`;
      if (NOT_JSON[name] !== undefined || isConsole(route)) continue;
      assert.ok(route.response, `${name} has no response schema`);
      const op = documentOf(route).paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
      assert.ok(op, `${name} is missing from its OpenAPI document`);
      assert.deepEqual(plain(route.response), plain(jsonResponses(op)), name);
      for (const status of ['200', '4xx', '5xx']) {
        if (status !== '200' || op.responses['200']?.content['application/json']) {
          assert.ok(route.response[status], `${name} declares ${status}`);
        }
      }
      compared++;
    }
    assert.ok(compared >= 50, `compared ${compared} routes`);
  });

  it('every documented operation is served, and every exemption names a served route', () => {
    const served = new Set(routes().map((r) => `${r.method} ${openApiPath(r.url)}`));
    for (const doc of [adminDoc, serviceDoc]) {
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const method of Object.keys(item)) {
          assert.ok(served.has(`${method.toUpperCase()} ${path}`), `${method} ${path} is served`);
        }
      }
    }
    for (const name of Object.keys(NOT_JSON)) {
      assert.ok(served.has(name.replace(/:([a-z]+)/g, '{$1}')), `${name} is served`);
    }
  });

  it('the service document is valid OpenAPI 3.1', async () => {
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const validator = new Validator();
    const result = await validator.validate(serviceDoc);
    assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
  });

  it('every declared answer serializes without losing a field (all set, and every null)', () => {
    for (const route of routes()) {
      for (const [status, schema] of Object.entries(route.response ?? {})) {
        const serialize = fastJson(schema as Parameters<typeof fastJson>[0]);
        for (const variant of ['full', 'nulls'] as const) {
          const value = example(schema as JsonSchema, variant);
          assert.deepEqual(
            JSON.parse(serialize(value)),
            plain(value),
            `${route.method} ${route.url} ${status} (${variant})`,
          );
        }
      }
    }
  });

  it('a request schema refusal is a 40002 naming the parameter, in the FAIL envelope', async () => {
    const res = await h.service.server.inject({
      method: 'GET',
      url: '/device/v1/requests?wait=soon',
    });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), {
      stat: 'FAIL',
      code: 40002,
      message: 'Invalid request parameters',
      message_detail: 'wait',
    });
  });

  it('a JSON body is checked against its declaration: 40001 names the missing field, 40002 the invalid one', async () => {
    const activate = async (body: unknown) => {
      const res = await h.service.server.inject({
        method: 'POST',
        url: '/device/v1/activate',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      assert.equal(res.statusCode, 400);
      const { code, message_detail } = res.json<{ code: number; message_detail: string }>();
      return `${code} ${message_detail}`;
    };
    const valid = { activation_code: 'x', name: 'phone', platform: 'cli', public_key: {} };
    assert.equal(await activate({}), '40001 activation_code');
    assert.equal(await activate({ ...valid, name: undefined }), '40001 name');
    assert.equal(await activate({ ...valid, platform: 'phone' }), '40002 platform');
    assert.equal(await activate({ ...valid, name: 'n'.repeat(101) }), '40002 name');
    assert.equal(await activate({ ...valid, public_key: 'pem' }), '40002 public_key');
    assert.equal(await activate([valid]), '40002 body must be a JSON object');
  });

  describe('real answers of every surface pass the serializer unchanged', () => {
    let app: Application;
    let devices: DeviceClient;
    before(async () => {
      app = await h.createApp({ newUserPolicy: 'enroll' });
      devices = new DeviceClient({ apiHost: `localhost:${h.port}`, caPem: h.caPem });
    });
    after(() => devices.close());

    it('Auth API, device API and status answers, successes and failures', async () => {
      const duo = h.duo(app);
      await duo('GET', '/auth/v2/ping');
      await duo('GET', '/auth/v2/check');
      await duo('GET', '/auth/v2/logo'); // no logo configured: FAIL envelope
      const enrolled = await duo('POST', '/auth/v2/enroll', { username: 'walk-new' });
      const e = enrolled.response as { user_id: string; activation_code: string };
      await duo('POST', '/auth/v2/enroll_status', {
        user_id: e.user_id,
        activation_code: e.activation_code,
      });
      await duo('POST', '/auth/v2/preauth', { username: 'nobody-here' }); // enroll
      await duo('POST', '/auth/v2/preauth', {}); // 400, message_detail
      await h.createUser('walk-bypass', { status: 'bypass' });
      await duo('POST', '/auth/v2/preauth', { username: 'walk-bypass' }); // allow
      await h.createUser('walk-disabled', { status: 'disabled' });
      await duo('POST', '/auth/v2/preauth', { username: 'walk-disabled' }); // deny

      // A user with an activated authenticator: devices, capabilities, Duo Unix's text prompt.
      const { id, totp } = await h.createUser('walk-user', { totp: true });
      const code = generateId(new CryptoRandom(), '', 20);
      await h.store.createDeviceActivation({
        activationCode: code,
        userId: id,
        expiresAtMs: h.clock.nowMs() + 60_000,
      });
      const key = newDeviceKey();
      const activated = await devices.activate({
        activationCode: code,
        publicJwk: key.publicJwk,
        name: 'walk phone',
        platform: 'cli',
      });
      const phone = { deviceId: activated.deviceId, privateKey: key.privateKey };
      await devices.info(phone);
      await duo('POST', '/auth/v2/preauth', { username: 'walk-user', text_prompt: '1' });
      await duo('POST', '/auth/v2/auth', {
        username: 'walk-user',
        factor: 'passcode',
        passcode: totp!.generate({ timestamp: h.clock.nowMs() }),
      });
      await duo('POST', '/auth/v2/auth', {
        username: 'walk-user',
        factor: 'passcode',
        passcode: '000000x',
      });
      // Airlock's preauth_auth: preauth and a passcode's answer, and preauth's deny alone.
      await duo('POST', '/auth/v2/preauth_auth', { username: 'walk-user', passcode: '000000' });
      await duo('POST', '/auth/v2/preauth_auth', { username: 'walk-disabled', passcode: '0' });
      const pushed = await duo('POST', '/auth/v2/auth', {
        username: 'walk-user',
        factor: 'push',
        device: 'auto',
        async: '1',
      });
      const txid = (pushed.response as { txid: string }).txid;
      const requests = await devices.requests(phone);
      assert.equal(requests.length, 1);
      await devices.answer(phone, txid, 'approve');
      await duo('GET', '/auth/v2/auth_status', { txid });
      await duo('GET', '/auth/v2/auth_status', { txid: 'no-such-txid' }); // 400
      await h.service.server.inject({ method: 'GET', url: '/status/v1/factors' });
      await h.service.server.inject({ method: 'GET', url: '/device/v1/device' }); // 401

      assertNothingLost([
        'GET /auth/v2/ping',
        'GET /auth/v2/check',
        'GET /auth/v2/logo',
        'POST /auth/v2/enroll',
        'POST /auth/v2/enroll_status',
        'POST /auth/v2/preauth',
        'POST /auth/v2/auth',
        'GET /auth/v2/auth_status',
        'POST /auth/v2/preauth_auth',
        'POST /device/v1/activate',
        'GET /device/v1/device',
        'GET /device/v1/requests',
        'POST /device/v1/requests/:txid',
        'GET /status/v1/factors',
      ]);
      // Every kind of preauth answer went through: enroll, allow, deny, auth with devices.
      const preauths = seen
        .filter((s) => s.route === 'POST /auth/v2/preauth' && s.status === 200)
        .map((s) => (JSON.parse(s.written) as { response: { result: string } }).response.result);
      assert.deepEqual([...new Set(preauths)].sort(), ['allow', 'auth', 'deny', 'enroll']);
      assert.ok(
        seen.some((s) => s.written.includes('"prompt":{"text"')),
        'text prompt',
      );
    });

    it('Admin API answers (objects, lists, open maps, metadata, failures)', async () => {
      const key: KeyCredentials = {
        ikey: 'DAADMINKEY0000000009',
        skey: 'admin-secret-key-'.padEnd(40, 'y'),
      };
      await h.store.createAdminApiKey({ ...key, name: 'schemas' });
      await createTestAdmin(h.store, 'schemas-root', 'correct horse battery staple');
      const call = (method: 'GET' | 'POST' | 'DELETE', path: string, params = {}) =>
        signedCall(h.service, h.clock, key, method, path, params);
      await call('GET', '/admin/v1/users');
      await call('GET', '/admin/v1/users', { username: 'walk-user' });
      await call('GET', '/admin/v1/groups');
      await call('POST', '/admin/v1/groups', { name: 'walkers', desc: 'walk' });
      await call('GET', '/admin/v1/applications');
      await call('GET', '/admin/v1/logs');
      await call('GET', '/admin/v1/policies');
      await call('GET', '/admin/v1/message_templates');
      await call('GET', '/admin/v1/users/DUNOSUCHUSER00000000'); // 404
      await call('POST', '/admin/v1/users', {}); // 400
      assertNothingLost(['GET /admin/v1/users', 'GET /admin/v1/logs', 'GET /admin/v1/policies']);
    });
  });

  /** No answer changed in the serializer, and each named route answered at least once. */
  function assertNothingLost(routesCovered: string[]): void {
    // The serializer's safety net writes a misfit answer unchecked: none may have been needed.
    const misfits = h.logs.filter((l) =>
      String(l.msg).includes('does not fit its response schema'),
    );
    assert.deepEqual(misfits, [], 'answers that did not fit their schema');
    for (const s of seen) {
      assert.deepEqual(JSON.parse(s.written), JSON.parse(s.given), `${s.route} ${s.status}`);
      assert.notEqual(s.status, 500, `${s.route} answered 500: ${s.written}`);
    }
    const answered = new Set(seen.map((s) => s.route));
    for (const route of routesCovered) assert.ok(answered.has(route), `${route} was walked`);
  }
});

/**
 * A value of `schema` with every property set: `full` takes the first type of a nullable,
 * `nulls` null wherever null is allowed. Open maps get nested content the serializer must keep.
 */
function example(schema: JsonSchema, variant: 'full' | 'nulls'): unknown {
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const types = [schema.type].flat();
  if (types.includes('null') && (variant === 'nulls' || types.length === 1)) return null;
  const items = schema.items as JsonSchema | undefined;
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const pattern = Object.values((schema.patternProperties ?? {}) as Record<string, JsonSchema>)[0];
  switch (types[0]) {
    case 'string':
      return 'text é "quoted"';
    case 'integer':
      return 1_700_000_000;
    case 'number':
      return 0.25;
    case 'boolean':
      return true;
    case 'array':
      return items ? [example(items, variant), example(items, variant)] : [];
    case 'object':
      return {
        ...Object.fromEntries(
          Object.entries(properties).map(([name, s]) => [name, example(s, variant)]),
        ),
        ...(pattern ? { '1': example(pattern, variant), default: example(pattern, variant) } : {}),
        // An open map, and also an object declared with no fields at all: a bare
        // `{type:"object"}` would be written as `{}` — it must say `OpenObject` to keep content.
        ...(schema.additionalProperties === true ||
        (schema.additionalProperties === undefined && !schema.properties && !pattern)
          ? { open: { nested: [1, 'two', null, { deep: true }] }, n: null }
          : {}),
      };
    default:
      // No type: anything (TypeBox's Unknown).
      return { any: [1, 'two'] };
  }
}
