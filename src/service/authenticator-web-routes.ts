// Serves the web authenticator (a static PWA) under /authenticator/ with strict security headers.
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AirlockError } from '../core/error-registry.ts';

export const AUTHENTICATOR_WEB_PREFIX = '/authenticator/';

/** Beside this module both under tsx (src/) and compiled (dist/, copied by scripts/copy-assets.mjs). */
export const AUTHENTICATOR_WEB_DIR = fileURLToPath(
  new URL('./authenticator-web/', import.meta.url),
);

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

// The page runs only its own files: no inline code, no third-party origins, no framing.
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // Revalidate every time: an updated service must not leave an old app shell in browsers.
  'Cache-Control': 'no-cache',
};

interface Asset {
  body: Buffer;
  contentType: string;
}

/**
 * Registers GET (and HEAD) routes for the web authenticator's files. The files are read once,
 * here; requests are answered from that map only, so no request path ever reaches the file system.
 */
export function registerAuthenticatorWeb(server: FastifyInstance): void {
  const assets = loadAssets(AUTHENTICATOR_WEB_DIR);
  const index = assets.get('index.html');
  if (!index) throw new Error(`web authenticator: index.html missing in ${AUTHENTICATOR_WEB_DIR}`);
  const routeOptions = { onSend: addSecurityHeaders };

  // Relative URLs in index.html need the trailing slash.
  server.get('/authenticator', routeOptions, (_req, reply) =>
    reply.redirect(AUTHENTICATOR_WEB_PREFIX, 308),
  );
  server.get(AUTHENTICATOR_WEB_PREFIX, routeOptions, (_req, reply) => sendAsset(reply, index));
  server.get<{ Params: { '*': string } }>(
    `${AUTHENTICATOR_WEB_PREFIX}*`,
    routeOptions,
    (req, reply) => {
      const asset = assets.get(req.params['*']);
      if (!asset) throw new AirlockError('AUTH_NOT_FOUND');
      if (req.params['*'] === 'sw.js') {
        // The worker lives at /authenticator/sw.js and controls exactly that scope.
        void reply.header('Service-Worker-Allowed', AUTHENTICATOR_WEB_PREFIX);
      }
      return sendAsset(reply, asset);
    },
  );
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const contentType = CONTENT_TYPES[extname(entry.name)];
    if (!entry.isFile() || !contentType) continue;
    assets.set(entry.name, { body: readFileSync(join(dir, entry.name)), contentType });
  }
  return assets;
}

function sendAsset(reply: FastifyReply, asset: Asset): FastifyReply {
  return reply.code(200).type(asset.contentType).send(asset.body);
}

// A route-level onSend hook also runs for the error (404) answers of these routes.
function addSecurityHeaders(
  _req: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: (err: Error | null, payload: unknown) => void,
): void {
  void reply.headers(SECURITY_HEADERS);
  done(null, payload);
}
