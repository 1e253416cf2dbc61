// Parameter names that are also Object.prototype members reach every Auth API endpoint without a 5xx.
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { signRequest, type RequestParams } from '../../src/protocol/duo-signature.ts';
import { API_HOST, IT_BACKEND, startService, type Harness } from './service-harness.ts';

let h: Harness;
before(async () => {
  h = await startService();
});
after(async () => {
  await h?.close();
});

const ENDPOINTS = [
  ['GET', '/auth/v2/ping'],
  ['GET', '/auth/v2/check'],
  ['GET', '/auth/v2/logo'],
  ['POST', '/auth/v2/enroll'],
  ['POST', '/auth/v2/enroll_status'],
  ['POST', '/auth/v2/preauth'],
  ['POST', '/auth/v2/auth'],
  ['GET', '/auth/v2/auth_status'],
  ['GET', '/auth/v2/auth_results'],
] as const;

// Keys an object literal already "has" through its prototype, and the one that sets it.
const HOSTILE_KEYS = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'];

describe(`Auth API parameters named like Object.prototype members, on ${IT_BACKEND}`, () => {
  it('answers a form body with key "constructor" 400/401 in Duo\'s envelope, not 500', async () => {
    const app = await h.createApp();
    // Unsigned for these parameters: the signature check must be what rejects it.
    const res = await send('POST', '/auth/v2/preauth', {
      credentials: app,
      signedParams: {},
      form: 'constructor=x&username=alice',
    });
    assert.equal(res.status, 401, res.body);
    assert.deepEqual(pick(JSON.parse(res.body) as { stat: string; code: number }), {
      stat: 'FAIL',
      code: 40103,
    });
  });

  for (const key of HOSTILE_KEYS) {
    for (const [method, path] of ENDPOINTS) {
      it(`never answers 5xx to ${method} ${path} with parameter "${key}" (signed and unsigned)`, async () => {
        const app = await h.createApp({ newUserPolicy: 'allow' });
        const params = ownParams([
          [key, 'x'],
          ['username', `u-${key}`],
        ]);
        const encoded = `${encodeURIComponent(key)}=x&username=u-${encodeURIComponent(key)}`;
        const where = method === 'GET' ? { query: encoded } : { form: encoded };
        const cases = [
          // Signed over exactly these parameters: reaches the endpoint itself.
          await send(method, path, { credentials: app, signedParams: params, ...where }),
          // Signed over none: must fail the signature check with 401.
          await send(method, path, { credentials: app, signedParams: {}, ...where }),
          // Also in the query string of a POST, and with repeated keys.
          await send(method, path, {
            credentials: app,
            signedParams: {},
            query: `${encodeURIComponent(key)}=1&${encodeURIComponent(key)}=2`,
            ...(method === 'POST' ? { form: encoded } : {}),
          }),
        ];
        for (const res of cases) {
          assert.ok(res.status < 500, `${method} ${path} answered ${res.status}: ${res.body}`);
          if (res.contentType.startsWith('application/json')) {
            const body = JSON.parse(res.body) as { stat: string; code?: number };
            assert.ok(body.stat === 'OK' || body.stat === 'FAIL', res.body);
          }
        }
        if (path !== '/auth/v2/ping') assert.equal(cases[1]!.status, 401, cases[1]!.body);
      });
    }
  }

  it('treats "__proto__" as an ordinary parameter that the signature covers', async () => {
    const app = await h.createApp();
    const params = ownParams([['__proto__', 'x']]);
    const ok = await send('GET', '/auth/v2/check', {
      credentials: app,
      signedParams: params,
      query: '__proto__=x',
    });
    assert.equal(ok.status, 200, ok.body);
    // The same signature does not cover another value.
    const tampered = await send('GET', '/auth/v2/check', {
      credentials: app,
      signedParams: params,
      query: '__proto__=y',
    });
    assert.equal(tampered.status, 401, tampered.body);
  });
});

describe(`Admin API and device API parameters named like Object.prototype members, on ${IT_BACKEND}`, () => {
  // The Admin API decodes its query and form with the Auth API's decoder, before authentication.
  for (const key of HOSTILE_KEYS) {
    it(`answers Admin API requests with parameter "${key}" 401, not 500`, async () => {
      const encoded = `${encodeURIComponent(key)}=x`;
      const date = new Date(h.clock.nowMs()).toUTCString();
      const headers = { host: API_HOST, date, authorization: 'Basic RElYWFhYOmFiYw==' };
      const get = await h.service.server.inject({
        method: 'GET',
        url: `/admin/v1/users?${encoded}`,
        headers,
      });
      const post = await h.service.server.inject({
        method: 'POST',
        url: '/admin/v1/users',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        payload: encoded,
      });
      for (const res of [get, post]) {
        assert.equal(res.statusCode, 401, res.body);
        assert.equal(res.json<{ stat: string }>().stat, 'FAIL');
      }
    });
  }

  it('answers a device activation whose JSON body has such keys 400, not 500', async () => {
    const body = `{${HOSTILE_KEYS.map((k) => `"${k}":"x"`).join(',')}}`;
    const res = await h.service.server.inject({
      method: 'POST',
      url: '/device/v1/activate',
      headers: { host: API_HOST, 'content-type': 'application/json' },
      payload: body,
    });
    assert.equal(res.statusCode, 400, res.body);
  });
});

/** Params with own properties named anything, including `__proto__` (a literal would set the prototype). */
function ownParams(entries: Array<[string, string]>): RequestParams {
  const out = Object.create(null) as Record<string, string>;
  for (const [key, value] of entries) {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true });
  }
  return out;
}

function pick(body: { stat: string; code: number }) {
  return { stat: body.stat, code: body.code };
}

async function send(
  method: string,
  path: string,
  o: {
    credentials: { ikey: string; skey: string };
    signedParams: RequestParams;
    query?: string;
    form?: string;
  },
): Promise<{ status: number; contentType: string; body: string }> {
  const date = new Date(h.clock.nowMs()).toUTCString();
  const headers: Record<string, string | number> = {
    Host: API_HOST,
    Date: date,
    Authorization: signRequest({
      ikey: o.credentials.ikey,
      skey: o.credentials.skey,
      version: 2,
      digest: 'sha512',
      method,
      host: API_HOST,
      path,
      params: o.signedParams,
      date,
    }),
  };
  if (o.form !== undefined) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    headers['Content-Length'] = Buffer.byteLength(o.form);
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: h.port,
        method,
        path: o.query === undefined ? path : `${path}?${o.query}`,
        headers,
        ca: h.caPem,
        servername: API_HOST,
        agent: new https.Agent(),
      },
      (res) => {
        const contentType = String(res.headers['content-type'] ?? '');
        // auth_results is an endless event stream: its status line is the answer.
        if (contentType.startsWith('text/event-stream')) {
          res.destroy();
          resolve({ status: res.statusCode ?? 0, contentType, body: '' });
          return;
        }
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType, body }));
      },
    );
    req.on('error', reject);
    req.end(o.form);
  });
}
