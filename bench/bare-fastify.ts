// Baseline for bench:authapi: a bare Fastify HTTPS route that reads a form body and answers JSON.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const [certPath, keyPath] = process.argv.slice(2);
if (!certPath || !keyPath) throw new Error('usage: bare-fastify.ts CERT KEY');
const app = Fastify({ https: { cert: readFileSync(certPath), key: readFileSync(keyPath) } });
app.addContentTypeParser(
  'application/x-www-form-urlencoded',
  { parseAs: 'string' },
  (_req, body, done) => done(null, new URLSearchParams(body as string)),
);
app.post('/auth/v2/:endpoint', () => ({
  stat: 'OK',
  response: { result: 'allow', status: 'allow' },
}));
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(
  `listening on https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`,
);
