// A stand-in for Duo's cloud Auth API v2: a real HTTPS server (Fastify) that verifies signature v2
// as Duo does and answers with the recorded Duo bodies of test/fixtures/duo-recorded/. It has
// nothing of Airlock's own: `/auth/v2/auth_results` is an unknown path, answered 404 40401. The
// signature check is written from the spec (docs/design/auth-api.md §2.2-2.3), apart from
// src/protocol, so the proxy's signing is cross-checked.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { ensureTlsMaterial } from '../../src/runtime/tls-material.ts';

const FIXTURES = new URL('../fixtures/duo-recorded/', import.meta.url);

export interface DuoStandinRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  /** Whether the request was signed correctly (ping is never signed). */
  signed: boolean;
}

export interface DuoStandin {
  port: number;
  caPem: string;
  ikey: string;
  skey: string;
  /** Every request, in order. */
  readonly requests: readonly DuoStandinRequest[];
  /** The txid of every async push started, in order. */
  readonly pushes: readonly string[];
  /** The user's answer to a pending push: auth_status returns it (long poll until then). */
  answerPush(txid: string, answer: 'allow' | 'deny'): void;
  close(): Promise<void>;
}

/** The users the stand-in knows: one who must authenticate, one who is disabled. */
export const STANDIN_PASSCODE = '123456';

export async function startDuoStandin(): Promise<DuoStandin> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-duo-standin-'));
  const tls = await ensureTlsMaterial({
    dataDir: dir,
    hostname: 'localhost',
    extraSans: [],
    nowMs: Date.now(),
  });
  const ikey = 'DIWJ8X6AEYOR5OMC6TQ1';
  const skey = 'Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep';
  const requests: DuoStandinRequest[] = [];
  const pushes: string[] = [];
  const answers = new Map<string, 'allow' | 'deny'>();
  const waiters = new Map<string, () => void>();

  const server = Fastify({ https: { cert: tls.certPem, key: tls.keyPem } });
  server.removeAllContentTypeParsers();
  server.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, body, done) => done(null, body),
  );

  const recorded = (name: string, txid = ''): unknown =>
    JSON.parse(
      readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')
        .replace('"{{time}}"', String(Math.floor(Date.now() / 1000)))
        .replace('{{txid}}', txid),
    );
  const send = (reply: FastifyReply, status: number, name: string, txid?: string) =>
    reply.code(status).type('application/json').send(recorded(name, txid));

  /** Reads and records the request; false (and a 401 sent) when its signature is wrong. */
  const admit = (req: FastifyRequest, reply: FastifyReply, needsSignature: boolean): boolean => {
    const [path = '', query = ''] = (req.raw.url ?? '').split('?');
    const form = typeof req.body === 'string' ? req.body : query;
    const params = Object.fromEntries(new URLSearchParams(form));
    const signed = isSignedV2(req, path, params, skey, ikey);
    requests.push({ method: req.method, path, params, signed });
    if (needsSignature && !signed) {
      void send(reply, 401, 'bad-signature');
      return false;
    }
    return true;
  };

  server.get('/auth/v2/ping', (req, reply) => admit(req, reply, false) && send(reply, 200, 'ping'));
  server.get(
    '/auth/v2/check',
    (req, reply) => admit(req, reply, true) && send(reply, 200, 'check'),
  );
  server.post('/auth/v2/preauth', (req, reply) => {
    if (!admit(req, reply, true)) return reply;
    const { username } = requests.at(-1)!.params;
    return send(reply, 200, username === 'disabled-user' ? 'preauth-deny' : 'preauth-auth');
  });
  server.post('/auth/v2/auth', (req, reply) => {
    if (!admit(req, reply, true)) return reply;
    const p = requests.at(-1)!.params;
    if (p.factor === 'push' && p.async === '1') {
      const txid = randomUUID();
      pushes.push(txid);
      return send(reply, 200, 'auth-async', txid);
    }
    if (p.factor === 'passcode') {
      return send(
        reply,
        200,
        p.passcode === STANDIN_PASSCODE ? 'auth-allow' : 'auth-deny-passcode',
      );
    }
    return send(reply, 400, 'not-found');
  });
  server.get('/auth/v2/auth_status', async (req, reply) => {
    if (!admit(req, reply, true)) return reply;
    const { txid = '' } = requests.at(-1)!.params;
    // Duo's auth_status is a long poll: answer once the user has, or after a while "waiting".
    if (!answers.has(txid)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2_000);
        waiters.set(txid, () => {
          clearTimeout(timer);
          resolve();
        });
      });
      waiters.delete(txid);
    }
    const answer = answers.get(txid);
    return send(
      reply,
      200,
      answer === undefined
        ? 'auth-status-waiting'
        : answer === 'allow'
          ? 'auth-status-allow'
          : 'auth-status-deny',
    );
  });
  server.setNotFoundHandler((req, reply) => {
    admit(req, reply, false);
    return send(reply, 404, 'not-found');
  });

  await server.listen({ host: '127.0.0.1', port: 0 });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    caPem: tls.caCertPem,
    ikey,
    skey,
    requests,
    pushes,
    answerPush(txid, answer) {
      answers.set(txid, answer);
      waiters.get(txid)?.();
    },
    async close() {
      for (const wake of waiters.values()) wake();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Signature v2 as Duo checks it: `Basic base64(ikey:hex HMAC(skey, date\nMETHOD\nhost\npath\nparams))`,
 * SHA-512 (or SHA-1 for 40 hex digits), the host lower-case without a port, params percent-encoded
 * (RFC 3986 unreserved kept) and sorted.
 */
function isSignedV2(
  req: FastifyRequest,
  path: string,
  params: Record<string, string>,
  skey: string,
  ikey: string,
): boolean {
  const auth = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const date = req.headers['x-duo-date'] ?? req.headers.date;
  if (auth === undefined || typeof date !== 'string') return false;
  const [givenIkey, signature = ''] = Buffer.from(auth, 'base64').toString('utf8').split(':');
  if (givenIkey !== ikey || !/^([0-9a-f]{40}|[0-9a-f]{128})$/.test(signature)) return false;
  if (Math.abs(Date.parse(date) - Date.now()) > 300_000) return false;
  const encode = (s: string) =>
    [...Buffer.from(s, 'utf8')]
      .map((b) =>
        /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))
          ? String.fromCharCode(b)
          : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
      )
      .join('');
  const line = Object.entries(params)
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const host = (req.headers.host ?? '').toLowerCase().replace(/:[0-9]+$/, '');
  const canonical = [date, req.method.toUpperCase(), host, path, line].join('\n');
  const digest = signature.length === 40 ? 'sha1' : 'sha512';
  const expected = createHmac(digest, skey).update(canonical, 'utf8').digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}
