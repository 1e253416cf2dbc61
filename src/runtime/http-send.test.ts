// httpSend over real loopback HTTP: answers, bounded bodies, redirects, and each failure class.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HttpSendError, MAX_RESPONSE_BYTES, httpSend } from './http-send.ts';

let server: Server;
let base: string;
const seen: Array<{ path: string; body: string; header: string | undefined }> = [];

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      seen.push({
        path,
        body: Buffer.concat(chunks).toString('utf8'),
        header: req.headers['x-test'] as string | undefined,
      });
      if (path === '/big') return res.end('x'.repeat(MAX_RESPONSE_BYTES * 3));
      if (path === '/redirect') {
        res.writeHead(302, { location: '/elsewhere' });
        return res.end();
      }
      if (path === '/hang') return;
      if (path === '/reset') return req.socket.destroy();
      res.statusCode = 503;
      res.end('{"ok":false}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);

async function failure(p: Promise<unknown>): Promise<HttpSendError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof HttpSendError, String(e));
    return e;
  }
  assert.fail('expected a rejection');
}

const post = (path: string, timeoutMs = 2000, signal?: AbortSignal) =>
  httpSend({ url: `${base}${path}`, headers: { 'x-test': 'h' }, body: 'b=1', timeoutMs, signal });

describe('httpSend', () => {
  it('returns any HTTP answer with its body, after sending body and headers', async () => {
    assert.deepEqual(await post('/plain'), { status: 503, bodyText: '{"ok":false}' });
    assert.deepEqual(seen.at(-1), { path: '/plain', body: 'b=1', header: 'h' });
  });

  it('keeps at most MAX_RESPONSE_BYTES of a large answer', async () => {
    const { bodyText } = await post('/big');
    assert.equal(bodyText.length, MAX_RESPONSE_BYTES);
  });

  it('does not follow a redirect', async () => {
    const before = seen.length;
    assert.equal((await post('/redirect')).status, 302);
    assert.equal(seen.length, before + 1);
  });

  it('classifies no answer in time as timeout', async () => {
    assert.equal((await failure(post('/hang', 100))).failure, 'timeout');
  });

  it('classifies a reset connection as unreachable', async () => {
    assert.equal((await failure(post('/reset'))).failure, 'unreachable');
  });

  it("classifies the caller's abort as aborted", async () => {
    const e = await failure(post('/hang', 5000, AbortSignal.abort()));
    assert.equal(e.failure, 'aborted');
  });
});
