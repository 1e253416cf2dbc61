import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { AirlockError } from '../core/error-registry.ts';
import { sendFail } from './auth-api/envelope.ts';
import { AUTHENTICATOR_WEB_DIR, registerAuthenticatorWeb } from './authenticator-web-routes.ts';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Asserts the headers every web authenticator answer carries, errors included. */
function assertSecurityHeaders(headers: Record<string, unknown>): void {
  assert.equal(headers['content-security-policy'], CSP);
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.equal(headers['referrer-policy'], 'no-referrer');
  assert.equal(headers['cache-control'], 'no-cache');
}

describe('web authenticator routes', () => {
  let server: FastifyInstance;

  before(async () => {
    server = Fastify();
    // The service's own error and not-found handling (build-service.ts).
    server.setErrorHandler((error, _req, reply) =>
      sendFail(
        reply,
        error instanceof AirlockError ? error : new AirlockError('AUTH_INTERNAL', undefined),
      ),
    );
    server.setNotFoundHandler((_req, reply) => sendFail(reply, new AirlockError('AUTH_NOT_FOUND')));
    registerAuthenticatorWeb(server);
    await server.ready();
  });

  after(() => server.close());

  const files = [
    ['/authenticator/', 'index.html', 'text/html; charset=utf-8'],
    ['/authenticator/index.html', 'index.html', 'text/html; charset=utf-8'],
    ['/authenticator/app.js', 'app.js', 'text/javascript; charset=utf-8'],
    ['/authenticator/style.css', 'style.css', 'text/css; charset=utf-8'],
    [
      '/authenticator/manifest.webmanifest',
      'manifest.webmanifest',
      'application/manifest+json; charset=utf-8',
    ],
    ['/authenticator/sw.js', 'sw.js', 'text/javascript; charset=utf-8'],
    ['/authenticator/icon.svg', 'icon.svg', 'image/svg+xml'],
    ['/authenticator/icon-192.png', 'icon-192.png', 'image/png'],
    ['/authenticator/icon-512.png', 'icon-512.png', 'image/png'],
  ] as const;

  for (const [url, file, contentType] of files) {
    it(`serves ${url} as ${contentType} with the security headers`, async () => {
      const res = await server.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], contentType);
      assert.deepEqual(res.rawPayload, readFileSync(`${AUTHENTICATOR_WEB_DIR}${file}`));
      assertSecurityHeaders(res.headers);
    });
  }

  it('lets the service worker control /authenticator/ and nothing else', async () => {
    const sw = await server.inject({ method: 'GET', url: '/authenticator/sw.js' });
    assert.equal(sw.headers['service-worker-allowed'], '/authenticator/');
    const app = await server.inject({ method: 'GET', url: '/authenticator/app.js' });
    assert.equal(app.headers['service-worker-allowed'], undefined);
  });

  it('answers HEAD like GET without a body', async () => {
    const res = await server.inject({ method: 'HEAD', url: '/authenticator/app.js' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(res.body, '');
    assertSecurityHeaders(res.headers);
  });

  it('redirects /authenticator to /authenticator/ so relative URLs resolve', async () => {
    const res = await server.inject({ method: 'GET', url: '/authenticator' });
    assert.equal(res.statusCode, 308);
    assert.equal(res.headers.location, '/authenticator/');
  });

  it('answers an unknown file with the 404 envelope and the security headers', async () => {
    const res = await server.inject({ method: 'GET', url: '/authenticator/nope.js' });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { stat: 'FAIL', code: 40401, message: 'Resource not found' });
    assertSecurityHeaders(res.headers);
  });

  const traversals = [
    '/authenticator/..%2fpackage.json',
    '/authenticator/..%2F..%2F..%2Fpackage.json',
    '/authenticator/..%2fauthenticator-web-routes.ts',
    '/authenticator/%2e%2e/package.json',
    '/authenticator/../package.json',
    '/authenticator/..%5cpackage.json',
    '/authenticator/./app.js/../../authenticator-web-routes.ts',
    '/authenticator/%2Fetc%2Fpasswd',
    '/authenticator/authenticator-web-routes.ts',
  ];
  for (const url of traversals) {
    it(`does not serve files outside the asset set: ${url}`, async () => {
      const res = await server.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json<{ code: number }>().code, 40401);
    });
  }

  it('serves a page that loads no inline script or style (the CSP forbids them)', () => {
    const html = readFileSync(`${AUTHENTICATOR_WEB_DIR}index.html`, 'utf8');
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i);
    assert.doesNotMatch(html, /<style\b/i);
    assert.doesNotMatch(html, /\sstyle=/i);
    assert.doesNotMatch(html, /\son[a-z]+=/i);
  });

  it('serves a manifest that makes the page an installable standalone app', async () => {
    const res = await server.inject({ method: 'GET', url: '/authenticator/manifest.webmanifest' });
    const manifest = res.json<{
      name: string;
      start_url: string;
      display: string;
      icons: { src: string }[];
    }>();
    assert.equal(manifest.name, 'Airlock Authenticator');
    assert.equal(manifest.start_url, '/authenticator/');
    assert.equal(manifest.display, 'standalone');
    for (const icon of manifest.icons) {
      const iconRes = await server.inject({ method: 'GET', url: `/authenticator/${icon.src}` });
      assert.equal(iconRes.statusCode, 200, icon.src);
    }
  });
});
