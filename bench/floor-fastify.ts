// Floor for bench:authapi: the bare Fastify route plus only the work a signed passcode login cannot
// skip, with none of the service's other layers — the request's signature checked
// (protocol/duo-signature.ts), the login's subject read (the service's one statement,
// store/hot-queries.ts) from the service's own database, and for /auth the bypass code's use and an
// audit row written before the answer (one transaction for the logins of an event-loop turn, as
// the service's group commit does). No policy, limits, lockout, error envelope or schemas, and the
// passcode's hash is not checked: what it answers says how close any implementation of the same
// work could come to the bare route on this machine. Not a product path; the benchmark's third target.
import { readFileSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import Fastify from 'fastify';
import { usernameKey } from '../src/core/username.ts';
import { parseAuthorization, verifySignature } from '../src/protocol/duo-signature.ts';
import { hotQueries } from '../src/store/hot-queries.ts';

const [certPath, keyPath, dbPath] = process.argv.slice(2);
const skey = process.env.FLOOR_SKEY;
if (!certPath || !keyPath || !dbPath || !skey) {
  throw new Error('usage: FLOOR_SKEY=… floor-fastify.ts CERT KEY AIRLOCK_DB');
}

const db = new BetterSqlite3(dbPath);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
const sql = hotQueries('sqlite');
const readSubject = db.prepare(sql.subjectByUsernameKey);
const consumeCode = db.prepare(sql.consumeBypassCode);
const appendAudit = db.prepare(sql.appendAudit);
interface Pending {
  codeId: string;
  username: string;
  done: () => void;
}
let pending: Pending[] = [];
const commitTurn = db.transaction((logins: Pending[]) => {
  const nowMs = Date.now();
  for (const { codeId, username } of logins) {
    consumeCode.get(codeId, nowMs);
    const row = [
      nowMs,
      'floor',
      'auth.floor',
      'user',
      username,
      null,
      username,
      'allow',
      null,
      '{}',
    ];
    appendAudit.get(...row);
  }
});
/** Resolves once the login's writes are committed with the others of this event-loop turn. */
function recordLogin(codeId: string, username: string): Promise<void> {
  return new Promise((done) => {
    if (pending.length === 0) {
      setImmediate(() => {
        const logins = pending;
        pending = [];
        commitTurn(logins);
        for (const login of logins) login.done();
      });
    }
    pending.push({ codeId, username, done });
  });
}

const app = Fastify({ https: { cert: readFileSync(certPath), key: readFileSync(keyPath) } });
app.addContentTypeParser(
  'application/x-www-form-urlencoded',
  { parseAs: 'string' },
  (_req, body, done) => done(null, body),
);
app.post('/auth/v2/:endpoint', async (req, reply) => {
  const params = Object.fromEntries(new URLSearchParams(req.body as string));
  const { signature } = parseAuthorization(req.headers.authorization);
  const verified = verifySignature({
    skey,
    signature,
    method: 'POST',
    host: req.headers.host ?? '',
    path: req.url,
    params,
    date: req.headers.date ?? '',
  });
  if (!verified.ok) return reply.code(401).send({ stat: 'FAIL', code: 40103 });
  const subject = readSubject.get(usernameKey(params.username ?? '')) as
    { codes_json: string } | undefined;
  if (subject === undefined) return reply.code(400).send({ stat: 'FAIL', code: 40002 });
  if (req.url.endsWith('/auth')) {
    const [code] = JSON.parse(subject.codes_json) as { id: string }[];
    if (code === undefined) return reply.code(400).send({ stat: 'FAIL', code: 40002 });
    await recordLogin(code.id, params.username!);
  }
  return { stat: 'OK', response: { result: 'allow', status: 'allow' } };
});
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(
  `listening on https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`,
);
