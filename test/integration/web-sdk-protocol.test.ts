// Web SDK v4 at the request level: the shapes of Duo's Python client (duo_universal_python: token
// request as query parameters, nonce beside the request object, exp as a float, no iat), and the
// security properties: CSP and framing, replay of assertion/state/code, open redirect attempts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { TOTP } from 'otpauth';
import type { Application } from '../../src/core/model.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';
import { createWebSdkApp } from './web-sdk-helpers.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const REDIRECT = 'https://app.example/duo-callback';

describe('Web SDK endpoints at the request level', () => {
  let h: Harness;
  let app: Application;
  let other: Application;
  let totp: TOTP;
  const host = () => `localhost:${h.port}`;

  before(async () => {
    h = await startService();
    app = await createWebSdkApp(h, [REDIRECT, 'http://127.0.0.1:9/cb']);
    other = await createWebSdkApp(h, [REDIRECT]);
    totp = (await h.createUser('dana', { totp: true })).totp!;
  });
  after(async () => {
    await h?.close();
  });

  function send(
    method: 'GET' | 'POST',
    path: string,
    options: { form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: h.port,
          servername: 'localhost',
          ca: h.caPem,
          method,
          path,
          headers: {
            host: host(),
            ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
            ...options.headers,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  const nowS = () => Date.now() / 1000;
  const alnum = (n: number) =>
    randomBytes(n)
      .toString('base64')
      .replace(/[^A-Za-z0-9]/g, 'a')
      .slice(0, n);

  /** duo_universal_python's _create_jwt_args: iss, sub, aud, float exp, 36-char jti, no iat. */
  function pythonAssertion(
    a: Application,
    endpoint: string,
    overrides: JWTPayload = {},
    alg = 'HS512',
  ): Promise<string> {
    return new SignJWT({
      iss: a.ikey,
      sub: a.ikey,
      aud: `https://${host()}${endpoint}`,
      exp: nowS() + 300,
      jti: alnum(36),
      ...overrides,
    })
      .setProtectedHeader({ alg })
      .sign(new TextEncoder().encode(a.skey));
  }

  /** create_auth_url: the request object (float exp, no iat) and the query Python sends. */
  async function pythonAuthorizePath(
    a: Application,
    options: { state?: string; nonce?: string; redirectUri?: string; claims?: JWTPayload } = {},
  ): Promise<{ path: string; state: string }> {
    const state = options.state ?? alnum(36);
    const request = await new SignJWT({
      scope: 'openid',
      redirect_uri: options.redirectUri ?? REDIRECT,
      client_id: a.ikey,
      iss: a.ikey,
      aud: `https://${host()}`,
      exp: nowS() + 300,
      state,
      response_type: 'code',
      duo_uname: 'dana',
      use_duo_code_attribute: false,
      ...options.claims,
    })
      .setProtectedHeader({ alg: 'HS512' })
      .sign(new TextEncoder().encode(a.skey));
    const query = new URLSearchParams({ response_type: 'code', client_id: a.ikey, request });
    if (options.nonce) query.set('nonce', options.nonce);
    return { path: `/oauth/v1/authorize?${query.toString()}`, state };
  }

  /** Runs the prompt without a browser: authorize, the frame, a TOTP passcode; the callback URL. */
  async function loginWithPasscode(path: string): Promise<URL> {
    const start = await send('GET', path);
    assert.equal(start.status, 303, start.body);
    const frame = String(start.headers.location);
    assert.match(frame, /^\/frame\/v4\/[A-Za-z0-9_-]{43}$/);
    const prompt = await send('GET', frame);
    assert.equal(prompt.status, 200);
    h.clock.advance(30_000);
    const done = await send('POST', `${frame}/passcode`, {
      form: { passcode: totpAt(totp, h.clock) },
    });
    assert.equal(done.status, 303, done.body);
    return new URL(String(done.headers.location));
  }

  async function tokenByQuery(
    a: Application,
    code: string,
    redirectUri = REDIRECT,
  ): Promise<Answer> {
    const query = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: a.ikey,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await pythonAssertion(a, '/oauth/v1/token'),
    });
    // requests.post(url, params=…): everything in the query string, an empty body.
    return send('POST', `/oauth/v1/token?${query.toString()}`, {
      headers: { 'user-agent': 'duo_universal_python/2.1.0' },
    });
  }

  describe("Duo's Python client's shapes", () => {
    it('health_check with a float exp and no iat: OK', async () => {
      const r = await send('POST', '/oauth/v1/health_check', {
        form: {
          client_assertion: await pythonAssertion(app, '/oauth/v1/health_check'),
          client_id: app.ikey,
        },
      });
      assert.equal(r.status, 200, r.body);
      const body = JSON.parse(r.body) as { stat: string; response: { timestamp: number } };
      assert.equal(body.stat, 'OK');
      assert.equal(typeof body.response.timestamp, 'number');
    });

    it('authorize with nonce beside the request, use_duo_code_attribute false, token as query parameters', async () => {
      const nonce = alnum(40);
      const { path, state } = await pythonAuthorizePath(app, { nonce });
      const back = await loginWithPasscode(path);
      assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
      assert.equal(back.searchParams.get('state'), state);
      assert.equal(back.searchParams.get('duo_code'), null);
      const code = back.searchParams.get('code') ?? '';
      const r = await tokenByQuery(app, code);
      assert.equal(r.status, 200, r.body);
      const body = JSON.parse(r.body) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), [
        'access_token',
        'expires_in',
        'id_token',
        'token_type',
      ]);
      assert.equal(body.token_type, 'Bearer');
      const idToken = String(body.id_token);
      assert.equal(decodeProtectedHeader(idToken).alg, 'HS512');
      // What jwt.decode(…, audience, issuer, leeway=60, require exp+iat) in the Python client checks.
      const { payload } = await jwtVerify(idToken, new TextEncoder().encode(app.skey), {
        algorithms: ['HS512'],
        audience: app.ikey,
        issuer: `https://${host()}/oauth/v1/token`,
        currentDate: new Date(h.clock.nowMs()),
        requiredClaims: ['exp', 'iat'],
      });
      assert.equal(payload.preferred_username, 'dana');
      assert.equal(payload.nonce, nonce);
      assert.equal((payload.auth_result as { result: string }).result, 'allow');
    });
  });

  describe('prompt pages: CSP and framing', () => {
    it('every prompt page and error page refuses framing and inline code', async () => {
      const { path } = await pythonAuthorizePath(app);
      const start = await send('GET', path);
      const pages = [
        await send('GET', String(start.headers.location)),
        await send('GET', '/frame/v4/' + 'A'.repeat(43)),
        await send('GET', '/oauth/v1/authorize?response_type=code&client_id=nope&request=x'),
      ];
      for (const p of pages) {
        const csp = String(p.headers['content-security-policy']);
        assert.match(csp, /frame-ancestors 'none'/);
        assert.match(csp, /default-src 'none'/);
        assert.match(csp, /script-src 'self'(;|$)/);
        assert.doesNotMatch(csp, /unsafe-inline/);
        assert.equal(p.headers['x-frame-options'], 'DENY');
        assert.equal(p.headers['cache-control'], 'no-store');
        assert.doesNotMatch(p.body, /<script>|\son[a-z]+=/i);
        assert.ok(!p.body.includes(app.skey));
      }
    });
  });

  describe('answers of the Auth API the prompt relays', () => {
    it('a name that means several users is denied, not reported as an outage', async () => {
      await h.createUser('amb@a.example');
      await h.createUser('amb@b.example');
      const { path } = await pythonAuthorizePath(app, { claims: { duo_uname: 'amb' } });
      const start = await send('GET', path);
      const page = await send('GET', String(start.headers.location));
      assert.equal(page.status, 403);
      assert.match(page.body, /Access denied\./);
    });

    it('a locked-out user gets a page that says so, and the application a deny (locked_out)', async () => {
      const { id } = await h.createUser('lou');
      await h.store.setUserStatus(id, 'locked out');
      const { path, state } = await pythonAuthorizePath(app, { claims: { duo_uname: 'lou' } });
      const frame = String((await send('GET', path)).headers.location);
      const page = await send('GET', frame);
      assert.equal(page.status, 403);
      assert.match(page.body, /Your account is locked out\./);
      assert.doesNotMatch(page.body, /name="passcode"/);
      const back = await send('POST', `${frame}/return`, { form: {} });
      const url = new URL(String(back.headers.location));
      assert.equal(url.searchParams.get('state'), state);
      const token = await tokenByQuery(app, url.searchParams.get('code') ?? '');
      const idToken = (JSON.parse(token.body) as { id_token: string }).id_token;
      const { payload } = await jwtVerify(idToken, new TextEncoder().encode(app.skey), {
        currentDate: new Date(h.clock.nowMs()),
      });
      assert.deepEqual(payload.auth_result, {
        result: 'deny',
        status: 'locked_out',
        status_msg: 'Your account is locked out.',
      });
    });

    it('an application over its Auth API rate limit gets "try again", not a decision', async () => {
      const limited = await createWebSdkApp(h, [REDIRECT]);
      await h.store.updateApplication(limited.id, { rateLimitPerSecond: 1 });
      const { path } = await pythonAuthorizePath(limited);
      const frame = String((await send('GET', path)).headers.location);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await send('GET', frame)).status);
      assert.deepEqual(statuses.slice(0, 2), [200, 200]);
      const last = await send('GET', frame);
      assert.equal(last.status, 503);
      assert.match(last.body, /cannot answer right now/);
    });
  });

  describe('replay', () => {
    it('a client assertion is used once, also across a restart', async () => {
      const assertion = await pythonAssertion(app, '/oauth/v1/health_check');
      const form = { client_assertion: assertion, client_id: app.ikey };
      assert.equal((await send('POST', '/oauth/v1/health_check', { form })).status, 200);
      const again = await send('POST', '/oauth/v1/health_check', { form });
      assert.equal(again.status, 400);
      assert.deepEqual(
        { ...(JSON.parse(again.body) as Record<string, unknown>), timestamp: 0 },
        {
          stat: 'FAIL',
          code: 40002,
          message: 'invalid_client',
          message_detail: 'client_assertion: jti used before',
          timestamp: 0,
        },
      );
      await h.restart();
      assert.equal((await send('POST', '/oauth/v1/health_check', { form })).status, 400);
    });

    it('the same authorize request (its state) starts one login only', async () => {
      const { path } = await pythonAuthorizePath(app);
      assert.equal((await send('GET', path)).status, 303);
      const again = await send('GET', path);
      assert.equal(again.status, 400);
      assert.equal(again.headers.location, undefined);
      assert.match(again.body, /already used/);
    });

    it('a code is exchanged once; a finished login issues no second code', async () => {
      const { path } = await pythonAuthorizePath(app);
      const start = await send('GET', path);
      const frame = String(start.headers.location);
      h.clock.advance(30_000);
      const done = await send('POST', `${frame}/passcode`, {
        form: { passcode: totpAt(totp, h.clock) },
      });
      const code = new URL(String(done.headers.location)).searchParams.get('code') ?? '';
      assert.equal((await tokenByQuery(app, code)).status, 200);
      const replay = await tokenByQuery(app, code);
      assert.equal(replay.status, 400);
      assert.equal((JSON.parse(replay.body) as { error: string }).error, 'invalid_grant');
      // The prompt's form posted again after the end: no second code.
      h.clock.advance(30_000);
      const twice = await send('POST', `${frame}/passcode`, {
        form: { passcode: totpAt(totp, h.clock) },
      });
      assert.equal(twice.status, 410);
      assert.equal(twice.headers.location, undefined);
    });

    it('a code is bound to its client and its redirect URI', async () => {
      const first = await loginWithPasscode((await pythonAuthorizePath(app)).path);
      const byOther = await tokenByQuery(other, first.searchParams.get('code') ?? '');
      assert.equal((JSON.parse(byOther.body) as { error: string }).error, 'invalid_grant');
      const second = await loginWithPasscode((await pythonAuthorizePath(app)).path);
      const elsewhere = await tokenByQuery(
        app,
        second.searchParams.get('code') ?? '',
        'http://127.0.0.1:9/cb',
      );
      assert.equal((JSON.parse(elsewhere.body) as { error: string }).error, 'invalid_grant');
    });

    it("a login cannot follow or complete another user's push", async () => {
      const { id } = await h.createUser('vic');
      await h.store.createDevice({
        id: 'DPVICPHONE0000000001',
        userId: id,
        name: 'phone',
        platform: 'cli',
        publicKeyJwk: '{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}',
      });
      const vic = await pythonAuthorizePath(app, { claims: { duo_uname: 'vic' } });
      const vicFrame = String((await send('GET', vic.path)).headers.location);
      const waiting = await send('POST', `${vicFrame}/push`, { form: { device: 'auto' } });
      const txid = /name="txid" value="([^"]+)"/.exec(waiting.body)?.[1] ?? '';
      assert.match(txid, /^[0-9a-f-]{36}$/);
      // vic's push is approved (as the device would, through the store's one transition).
      await h.store.resolveOobRequest(txid, 'allow', h.clock.nowMs());
      await h.store.updateAuthTransaction(txid, {
        result: 'allow',
        status: 'allow',
        statusMsg: 'Success. Logging you in...',
      });
      const dana = await pythonAuthorizePath(app);
      const danaFrame = String((await send('GET', dana.path)).headers.location);
      const status = await send('GET', `${danaFrame}/status?txid=${txid}`);
      assert.equal(status.status, 404);
      const complete = await send('POST', `${danaFrame}/complete`, { form: { txid } });
      assert.equal(complete.headers.location, undefined, 'no code for dana from vic’s push');
      // vic's own login completes with it.
      const own = await send('POST', `${vicFrame}/complete`, { form: { txid } });
      assert.equal(own.status, 303);
      assert.ok(String(own.headers.location).startsWith(REDIRECT));
    });

    it('a nonce beside the request must equal a signed one', async () => {
      const { path } = await pythonAuthorizePath(app, {
        nonce: alnum(30),
        claims: { nonce: alnum(30) },
      });
      const r = await send('GET', path);
      assert.equal(r.status, 400);
      assert.equal(r.headers.location, undefined);
    });
  });

  describe('client assertions that are refused', () => {
    const cases: [string, () => Promise<string>][] = [
      ['signed with HS256', () => pythonAssertion(app, '/oauth/v1/health_check', {}, 'HS256')],
      ['for another endpoint', () => pythonAssertion(app, '/oauth/v1/token')],
      [
        'for another host',
        () =>
          pythonAssertion(app, '/oauth/v1/health_check', {
            aud: 'https://api-x.duosecurity.com/oauth/v1/health_check',
          }),
      ],
      [
        'alive for an hour',
        () => pythonAssertion(app, '/oauth/v1/health_check', { exp: nowS() + 3600 }),
      ],
      ['expired', () => pythonAssertion(app, '/oauth/v1/health_check', { exp: nowS() - 120 })],
      ['without jti', () => pythonAssertion(app, '/oauth/v1/health_check', { jti: undefined })],
      [
        'issued by another client',
        () => pythonAssertion(app, '/oauth/v1/health_check', { iss: other.ikey }),
      ],
    ];
    for (const [name, make] of cases) {
      it(`refuses an assertion ${name}`, async () => {
        const r = await send('POST', '/oauth/v1/health_check', {
          form: { client_assertion: await make(), client_id: app.ikey },
        });
        assert.equal(r.status, 400);
        assert.equal((JSON.parse(r.body) as { message: string }).message, 'invalid_client');
      });
    }

    it('an unsigned (alg none) assertion is invalid_client at the token endpoint', async () => {
      const header = Buffer.from('{"alg":"none"}').toString('base64url');
      const claims = Buffer.from(
        JSON.stringify({
          iss: app.ikey,
          sub: app.ikey,
          aud: `https://${host()}/oauth/v1/token`,
          exp: Math.floor(nowS()) + 60,
          jti: alnum(36),
        }),
      ).toString('base64url');
      const r = await send('POST', '/oauth/v1/token', {
        form: {
          grant_type: 'authorization_code',
          code: 'x',
          redirect_uri: REDIRECT,
          client_id: app.ikey,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: `${header}.${claims}.`,
        },
      });
      assert.equal(r.status, 400);
      assert.equal((JSON.parse(r.body) as { error: string }).error, 'invalid_client');
    });
  });

  describe('open redirect attempts', () => {
    const attempts = [
      'https://evil.example/duo-callback',
      'https://app.example/duo-callback/../../evil',
      'https://APP.example/duo-callback',
      'https://app.example/duo-callback/',
      'https://app.example/duo-callback?next=https://evil.example',
      'https://app.example/duo-callback#x',
      'https://app.example@evil.example/duo-callback',
      'https://app.example.evil.example/duo-callback',
      '//evil.example/duo-callback',
      'javascript:alert(1)',
    ];
    for (const uri of attempts) {
      it(`refuses redirect_uri ${uri}`, async () => {
        const { path } = await pythonAuthorizePath(app, { redirectUri: uri });
        const r = await send('GET', path);
        assert.equal(r.status, 400);
        assert.equal(r.headers.location, undefined);
      });
    }

    it('refuses a query redirect_uri that differs from the signed one', async () => {
      const { path } = await pythonAuthorizePath(app);
      const r = await send(
        'GET',
        `${path}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
      );
      assert.equal(r.status, 400);
      assert.equal(r.headers.location, undefined);
    });

    it('refuses a request object signed with another client secret', async () => {
      const forged = { ...app, skey: other.skey };
      const { path } = await pythonAuthorizePath(forged);
      const r = await send('GET', path);
      assert.equal(r.status, 400);
      assert.equal(r.headers.location, undefined);
    });
  });
});
