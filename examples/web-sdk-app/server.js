// Example web application protected by Airlock's hosted prompt (docs/web-sdk.md): a password
// form, then the second factor through `airlock/sdk`, with an explicit failmode.
//
//   npm run build
//   AIRLOCK_API_HOST=localhost:8443 AIRLOCK_CLIENT_ID=DI... AIRLOCK_CLIENT_SECRET=... \
//   EXAMPLE_FAILMODE=secure EXAMPLE_USERS=alice:correct-horse node examples/web-sdk-app/server.js
//
// Register its callback first: airlock app create portal --type web-sdk \
//   --redirect-uri http://127.0.0.1:3000/duo-callback
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { URLSearchParams } from 'node:url';
import Fastify from 'fastify';
import {
  createWebSdkClient,
  decideFailmode,
  isSameState,
  isWebFailmode,
  isWebSdkError,
} from 'airlock/sdk';

const env = process.env;
const failmode = env.EXAMPLE_FAILMODE ?? 'secure';
if (!isWebFailmode(failmode)) throw new Error('EXAMPLE_FAILMODE must be safe or secure');
const port = Number(env.EXAMPLE_PORT ?? 3000);
/** Demo users `name:password,…`; a real application checks its own user store here. */
const users = new Map(
  (env.EXAMPLE_USERS ?? 'alice:correct-horse')
    .split(',')
    .map((pair) => pair.split(':'))
    .map(([name, password]) => [name, digest(password ?? '')]),
);
/** Sessions in memory: id -> { user, secondFactor, pending: { state, username } }. */
const sessions = new Map();

/** One JSON line per event: failmode decisions must be visible (when did 2FA not run, and why). */
function logEvent(event) {
  console.log(JSON.stringify({ time: new Date().toISOString(), ...event }));
}

function digest(text) {
  return createHash('sha256').update(text, 'utf8').digest();
}

function checkPassword(username, password) {
  const expected = users.get(username) ?? digest(randomBytes(16).toString('hex'));
  return timingSafeEqual(expected, digest(password)) && users.has(username);
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

const server = Fastify();
server.addContentTypeParser(
  'application/x-www-form-urlencoded',
  { parseAs: 'string' },
  (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
);

let client;

function session(req, reply) {
  const match = /(?:^|;\s*)sid=([A-Za-z0-9_-]{43})/.exec(req.headers.cookie ?? '');
  let id = match?.[1];
  if (!id || !sessions.has(id)) {
    id = randomBytes(32).toString('base64url');
    sessions.set(id, {});
    // Lax: the browser sends it on the prompt's redirect back (a top-level GET).
    void reply.header('set-cookie', `sid=${id}; Path=/; HttpOnly; SameSite=Lax`);
  }
  return sessions.get(id);
}

server.get('/', async (req, reply) => {
  const s = session(req, reply);
  reply.type('text/html; charset=utf-8');
  if (s.user) {
    const how = s.secondFactor
      ? 'second factor checked'
      : `second factor NOT checked (failmode ${failmode}: the 2FA service was unreachable)`;
    return page(
      'Welcome',
      `<p id="who">Logged in as ${escapeHtml(s.user)}; ${escapeHtml(how)}.</p>`,
    );
  }
  return page(
    'Log in',
    `<form method="post" action="/login">
      <label for="username">Username</label><input id="username" name="username" autocomplete="username" required>
      <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
      <button type="submit">Continue</button></form>`,
  );
});

// Step 1, the password; step 2, the health check and the redirect to the prompt.
server.post('/login', async (req, reply) => {
  const s = session(req, reply);
  const { username = '', password = '' } = req.body ?? {};
  reply.type('text/html; charset=utf-8');
  if (!checkPassword(username, password)) {
    return reply.code(401).send(page('Log in failed', '<p>Wrong username or password.</p>'));
  }
  try {
    const health = await client.healthCheck();
    if (health.status === 'degraded') {
      // The service answers; a factor is having problems. The prompt steers the user away from it.
      logEvent({ event: 'health', status: 'degraded', degradedFactors: health.degradedFactors });
    }
  } catch (error) {
    const decision = decideFailmode({ failmode, error });
    logEvent({
      event: 'failmode',
      failmode,
      username,
      error: isWebSdkError(error) ? error.kind : 'unknown',
      ...decision,
    });
    if (!decision.allowed) {
      return reply
        .code(503)
        .send(
          page(
            'Two-factor login is unavailable',
            '<p>The second factor cannot be checked right now, so the login is refused. Please try again later.</p>',
          ),
        );
    }
    s.user = username;
    s.secondFactor = false;
    return reply.redirect('/', 303);
  }
  const state = client.createState();
  s.pending = { state, username };
  return reply.redirect(await client.createAuthUrl(username, state), 303);
});

// Step 3, back from the prompt: the state must be this session's, then the code is exchanged.
// Failmode does not apply here: the prompt ran, and only a verified allow logs the user in.
server.get('/duo-callback', async (req, reply) => {
  const s = session(req, reply);
  const pending = s.pending;
  delete s.pending; // a state is used once
  const query = req.query ?? {};
  reply.type('text/html; charset=utf-8');
  if (!pending || !isSameState(pending.state, query.state)) {
    logEvent({ event: 'login', result: 'refused', reason: 'bad-state' });
    return reply
      .code(400)
      .send(page('Login refused', '<p>The login state does not match. Start again.</p>'));
  }
  try {
    const result = await client.exchangeAuthorizationCodeFor2FAResult(
      String(query.duo_code ?? ''),
      pending.username,
    );
    if (!result.allowed) {
      logEvent({
        event: 'login',
        result: 'denied',
        username: pending.username,
        status: result.authResult.status,
      });
      return reply
        .code(403)
        .send(page('Access denied', `<p>${escapeHtml(result.authResult.status_msg)}</p>`));
    }
    s.user = pending.username;
    s.secondFactor = true;
    logEvent({ event: 'login', result: 'allowed', username: pending.username });
    return reply.redirect('/', 303);
  } catch (error) {
    logEvent({
      event: 'login',
      result: 'refused',
      reason: isWebSdkError(error) ? error.kind : 'unknown',
    });
    return reply
      .code(403)
      .send(page('Login refused', '<p>The second factor could not be confirmed.</p>'));
  }
});

const address = await server.listen({ host: '127.0.0.1', port });
const publicUrl = env.EXAMPLE_PUBLIC_URL ?? address;
client = createWebSdkClient({
  clientId: env.AIRLOCK_CLIENT_ID ?? '',
  clientSecret: env.AIRLOCK_CLIENT_SECRET ?? '',
  apiHost: env.AIRLOCK_API_HOST ?? 'localhost:8443',
  redirectUri: `${publicUrl}/duo-callback`,
  timeoutMs: Number(env.EXAMPLE_TIMEOUT_MS ?? 5000),
});
logEvent({ event: 'listening', url: publicUrl, failmode });
