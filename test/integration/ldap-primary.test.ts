// LDAP/AD primary authentication against real OpenLDAP slapd servers started by scripts/start-slapd.sh.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client } from 'ldapts';
import {
  createLdapPrimary,
  escapeFilterValue,
  isValidUsername,
  namingContextOf,
  normalizeDn,
  resolveServiceAccountBindName,
  type LdapPrimaryOptions,
} from '../../src/proxy/primary/ldap-primary.ts';
import type { PrimaryAuthenticator } from '../../src/proxy/primary/primary-authenticator.ts';
import { FixedClock } from '../../src/runtime/clock.ts';

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../scripts/', import.meta.url));
const SUFFIX = 'dc=example,dc=org';
const ADMIN_DN = `cn=admin,${SUFFIX}`;
const ALICE_DN = `uid=alice,ou=people,${SUFFIX}`;
const VPN_USERS = `cn=vpn-users,ou=groups,${SUFFIX}`;
const CONTRACTORS = `cn=contractors,ou=groups,${SUFFIX}`;

interface Slapd {
  dir: string;
  port: number;
  ldapsPort: number;
  pid: number;
  ca: string;
}

const started: Slapd[] = [];

async function stopAll(): Promise<void> {
  const stops = await Promise.allSettled(
    started.splice(0).map((slapd) => run('bash', [join(SCRIPTS, 'stop-slapd.sh'), slapd.dir])),
  );
  assert.deepEqual(
    stops.filter((s) => s.status === 'rejected').map((s) => String(s.reason)),
    [],
    'every slapd stopped',
  );
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startSlapd(env: Record<string, string> = {}): Promise<Slapd> {
  const [port, ldapsPort] = [await freePort(), await freePort()];
  const dir = await mkdtemp(join(tmpdir(), 'airlock-slapd-'));
  try {
    await run('bash', [join(SCRIPTS, 'start-slapd.sh')], {
      env: {
        ...process.env,
        LDAP_PORT: String(port),
        LDAPS_PORT: String(ldapsPort),
        LDAP_DIR: dir,
        ...env,
      },
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    await run('bash', [join(SCRIPTS, 'stop-slapd.sh'), dir]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`could not start slapd with scripts/start-slapd.sh: ${stderr.trim()}`, {
      cause: err,
    });
  }
  const pid = Number((await readFile(join(dir, 'slapd.pid'), 'utf8')).trim());
  const ca = env.LDAP_TLS === '1' ? await readFile(join(dir, 'ca.pem'), 'utf8') : '';
  const slapd = { dir, port, ldapsPort, pid, ca };
  started.push(slapd);
  return slapd;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 5000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A client bound as the rootdn that reads slapd's cn=Monitor counters. */
async function monitorOf(slapd: Slapd): Promise<{
  counter(dn: string, attribute: string): Promise<number>;
  /** slapd's numbers of its open connections (numbered in the order opened, never reused). */
  connectionNumbers(): Promise<number[]>;
  close(): Promise<void>;
}> {
  const client = new Client({ url: `ldap://127.0.0.1:${slapd.port}`, timeout: 5000 });
  await client.bind(ADMIN_DN, 'admin');
  return {
    async counter(dn, attribute) {
      const { searchEntries } = await client.search(dn, { scope: 'base', attributes: [attribute] });
      return Number(searchEntries[0]?.[attribute]);
    },
    async connectionNumbers() {
      const { searchEntries } = await client.search('cn=Connections,cn=Monitor', {
        scope: 'one',
        filter: '(objectClass=monitorConnection)',
        attributes: ['monitorConnectionNumber'],
      });
      return searchEntries.map((e) => Number(e['monitorConnectionNumber']));
    },
    close: () => client.unbind(),
  };
}

const bindsStarted = (m: Awaited<ReturnType<typeof monitorOf>>): Promise<number> =>
  m.counter('cn=Bind,cn=Operations,cn=Monitor', 'monitorOpInitiated');
const searchesStarted = (m: Awaited<ReturnType<typeof monitorOf>>): Promise<number> =>
  m.counter('cn=Search,cn=Operations,cn=Monitor', 'monitorOpInitiated');
const openConnections = (m: Awaited<ReturnType<typeof monitorOf>>): Promise<number> =>
  m.counter('cn=Current,cn=Connections,cn=Monitor', 'monitorCounter');

/**
 * Waits until every connection slapd opened after `since` (the highest connection number then) is
 * closed. Connections of earlier tests still closing do not count, either way: a count compared
 * with a baseline taken while one of them was open never came back to it.
 */
async function allClosedSince(m: Awaited<ReturnType<typeof monitorOf>>, since: number) {
  // slapd counts a connection as closed once it has read the unbind; on a loaded CI machine (2
  // cores, every suite at once) that took seconds. A leaked connection never closes.
  await until(
    'slapd to see every connection of this test closed',
    async () => (await m.connectionNumbers()).every((n) => n <= since),
    15_000,
  );
}
const newestConnection = async (m: Awaited<ReturnType<typeof monitorOf>>) =>
  Math.max(0, ...(await m.connectionNumbers()));

function options(slapd: Slapd, overrides: Partial<LdapPrimaryOptions> = {}): LdapPrimaryOptions {
  return {
    hosts: [`127.0.0.1:${slapd.port}`],
    port: 389,
    transport: 'clear',
    verifyHostname: true,
    serviceAccountDn: `cn=airlock-svc,${SUFFIX}`,
    serviceAccountPassword: 'svcpw',
    searchDn: `ou=people,${SUFFIX}`,
    usernameAttribute: 'uid',
    timeoutMs: 3000,
    ...overrides,
  };
}

/** An authenticator closed when the test ends. */
function primary(t: TestContext, opts: LdapPrimaryOptions): PrimaryAuthenticator {
  const p = createLdapPrimary(opts);
  t.after(() => p.close());
  return p;
}

/** An accept names the user as the directory spells it (the entry's username attribute). */
const accept = (groups: string[], username: string) => ({
  kind: 'accept',
  username,
  groups,
  attributes: [],
});
const reject = (reason: string) => ({ kind: 'reject', reason });
const error = (reason: string) => ({ kind: 'error', reason });

describe('LDAP primary helpers', () => {
  it('escapes the RFC 4515 special characters of a filter value and nothing else', () => {
    const cases: [string, string][] = [
      ['alice', 'alice'],
      ['*)(uid=*', '\\2a\\29\\28uid=\\2a'],
      ['a\\b', 'a\\5cb'],
      ['nul\0', 'nul\\00'],
      ['Jürgen@example.org', 'Jürgen@example.org'],
    ];
    for (const [input, escaped] of cases) assert.equal(escapeFilterValue(input), escaped, input);
  });

  it('refuses empty, blank, overlong and control-character usernames', () => {
    for (const bad of [
      '',
      '   ',
      'alice\n',
      'al\0ice',
      'a\x7f',
      'a\u0085',
      'a\ud800',
      'x'.repeat(257),
    ]) {
      assert.equal(isValidUsername(bad), false, JSON.stringify(bad));
    }
    for (const good of ['alice', 'alice@example.org', 'EXAMPLE\\alice', 'Jürgen', '*)(uid=*']) {
      assert.equal(isValidUsername(good), true, good);
    }
  });

  it('compares DNs without regard to case or spaces around separators', () => {
    assert.equal(normalizeDn('CN=VPN-Users, OU=Groups,DC=Example, dc=org'), normalizeDn(VPN_USERS));
    assert.equal(normalizeDn('cn=a\\, b,dc=x'), 'cn=a\\, b,dc=x');
  });

  it('takes the dc= suffix of the search base as the group search base', () => {
    assert.equal(namingContextOf(`ou=people,${SUFFIX}`), SUFFIX);
    assert.equal(
      namingContextOf('OU=Staff,DC=corp, DC=example,DC=com'),
      'DC=corp,DC=example,DC=com',
    );
    assert.equal(namingContextOf('o=acme'), 'o=acme');
  });

  it('binds the service account with bind_dn when set, else with the username as given', () => {
    assert.equal(
      resolveServiceAccountBindName({ serviceAccountUsername: 'svc', bindDn: `cn=svc,${SUFFIX}` }),
      `cn=svc,${SUFFIX}`,
    );
    assert.equal(
      resolveServiceAccountBindName({ serviceAccountUsername: 'svc@example.org' }),
      'svc@example.org',
    );
  });

  it('rejects unusable options, naming every problem at once', () => {
    assert.throws(
      () =>
        createLdapPrimary({
          ...options({ dir: '', port: 1, ldapsPort: 1, pid: 0, ca: '' }),
          hosts: ['ldap.example.org:99999'],
          serviceAccountPassword: '',
          usernameAttribute: 'uid)(x',
          ldapFilter: '(&(broken',
        }),
      (err: Error) =>
        /port out of range/.test(err.message) &&
        /serviceAccountPassword/.test(err.message) &&
        /usernameAttribute/.test(err.message) &&
        /ldapFilter/.test(err.message),
    );
  });
});

describe('LDAP primary against slapd', { timeout: 60_000 }, () => {
  let plain: Slapd; // group search path, TLS, accepts unauthenticated binds
  let withMemberOf: Slapd; // memberof overlay, TLS certificate for another name
  let restartable: Slapd;
  let monitor: Awaited<ReturnType<typeof monitorOf>>;
  let deadPort: number;
  const blackhole = net.createServer((socket) => blackholed.add(socket));
  const blackholed = new Set<net.Socket>();

  before(async () => {
    const starting = [
      startSlapd({ LDAP_TLS: '1', LDAP_GLOBAL_CONF: 'allow bind_anon_dn' }),
      startSlapd({ LDAP_TLS: '1', LDAP_MEMBEROF: '1', LDAP_TLS_SAN: 'DNS:ldap.invalid' }),
      startSlapd({ LDAP_USERS: '3' }),
    ] as const;
    try {
      [plain, withMemberOf, restartable] = await Promise.all(starting);
    } catch (err) {
      // node:test skips after() when before() fails: stop the ones that did start.
      await Promise.allSettled(starting);
      await stopAll();
      throw err;
    }
    monitor = await monitorOf(plain);
    deadPort = await freePort();
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
  });

  after(async () => {
    await monitor?.close();
    for (const socket of blackholed) socket.destroy();
    blackhole.close();
    await stopAll();
  });

  it('accepts alice with her password and returns her groups as DNs', async (t) => {
    const p = primary(t, options(plain));
    assert.deepEqual(
      await p.authenticate({ username: 'alice', password: 'alicepw' }),
      accept([VPN_USERS], 'alice'),
    );
    assert.deepEqual(
      await p.authenticate({ username: 'carol', password: 'carolpw' }),
      accept([CONTRACTORS], 'carol'),
    );
    assert.deepEqual(
      await p.authenticate({ username: 'dave', password: 'davepw' }),
      accept([], 'dave'),
    );
  });

  it('rejects a wrong password as bad-password', async (t) => {
    const p = primary(t, options(plain));
    assert.deepEqual(
      await p.authenticate({ username: 'alice', password: 'bobpw' }),
      reject('bad-password'),
    );
    // The connection that saw the failed bind is reused for the next login.
    assert.deepEqual(
      await p.authenticate({ username: 'alice', password: 'alicepw' }),
      accept([VPN_USERS], 'alice'),
    );
  });

  it('rejects an unknown user as unknown-user', async (t) => {
    const p = primary(t, options(plain));
    assert.deepEqual(
      await p.authenticate({ username: 'mallory', password: 'x' }),
      reject('unknown-user'),
    );
  });

  it('rejects an empty password without sending a bind, though this slapd accepts unauthenticated binds', async (t) => {
    // The bypass is real here: a DN with an empty password binds successfully.
    const raw = new Client({ url: `ldap://127.0.0.1:${plain.port}`, timeout: 3000 });
    try {
      await raw.bind(ALICE_DN, '');
    } finally {
      await raw.unbind();
    }
    const p = primary(t, options(plain));
    const before = await bindsStarted(monitor);
    assert.deepEqual(
      await p.authenticate({ username: 'alice', password: '' }),
      reject('empty-password'),
    );
    assert.equal(await bindsStarted(monitor), before, 'no bind reached the directory');
  });

  it('treats an LDAP-injection username as a literal value that matches nobody', async (t) => {
    const p = primary(t, options(plain));
    for (const username of ['*)(uid=*', '*', 'ali*', 'alice)(|(uid=*', '\\2a']) {
      assert.deepEqual(
        await p.authenticate({ username, password: 'alicepw' }),
        reject('unknown-user'),
        username,
      );
    }
    for (const username of ['', 'alice\0', 'alice\r\n']) {
      assert.deepEqual(
        await p.authenticate({ username, password: 'alicepw' }),
        reject('invalid-username'),
      );
    }
  });

  it('rejects a username that matches two entries as ambiguous-user', async (t) => {
    const p = primary(t, options(plain, { usernameAttribute: 'sn' }));
    assert.deepEqual(
      await p.authenticate({ username: 'Example', password: 'alicepw' }),
      reject('ambiguous-user'),
    );
  });

  it('searches the at_attribute too when the username contains @', async (t) => {
    // cn ("Alice Example") is not the bare name "alice": only the at_attribute can find her.
    const p = primary(t, options(plain, { atAttribute: 'mail', usernameAttribute: 'cn' }));
    assert.deepEqual(
      await p.authenticate({ username: 'alice@example.org', password: 'alicepw' }),
      accept([VPN_USERS], 'Alice Example'),
    );
  });

  it('finds DOMAIN\\alice, alice@domain and Alice as alice, and names her as the directory does', async (t) => {
    const p = primary(t, options(plain));
    for (const username of ['EXAMPLE\\alice', 'alice@corp.example', 'Alice', 'ALICE ']) {
      assert.deepEqual(
        await p.authenticate({ username, password: 'alicepw' }),
        accept([VPN_USERS], 'alice'),
        username,
      );
    }
    assert.deepEqual(
      await p.authenticate({ username: 'EXAMPLE\\alice', password: 'bobpw' }),
      reject('bad-password'),
    );
  });

  it('ANDs ldap_filter with the username match', async (t) => {
    const p = primary(t, options(plain, { ldapFilter: 'uid=bob' }));
    assert.deepEqual(
      await p.authenticate({ username: 'alice', password: 'alicepw' }),
      reject('unknown-user'),
    );
    assert.deepEqual(
      await p.authenticate({ username: 'bob', password: 'bobpw' }),
      accept([VPN_USERS], 'bob'),
    );
  });

  it('accepts members of security_group_dn and rejects others after checking the password', async (t) => {
    const p = primary(
      t,
      options(plain, { securityGroupDn: 'CN=VPN-Users, ou=groups, dc=example, dc=org' }),
    );
    assert.deepEqual(
      await p.authenticate({ username: 'alice', password: 'alicepw' }),
      accept([VPN_USERS], 'alice'),
    );
    assert.deepEqual(
      await p.authenticate({ username: 'carol', password: 'carolpw' }),
      reject('not-in-security-group'),
    );
    assert.deepEqual(
      await p.authenticate({ username: 'carol', password: 'x' }),
      reject('bad-password'),
    );
  });

  it('reads memberOf when the directory has it, without a group search', async (t) => {
    const m = await monitorOf(withMemberOf);
    t.after(() => m.close());
    const p = primary(t, options(withMemberOf, { securityGroupDn: VPN_USERS }));
    assert.deepEqual(
      await p.authenticate({ username: 'alice', password: 'alicepw' }),
      accept([VPN_USERS], 'alice'),
    );
    const before = await searchesStarted(m);
    assert.deepEqual(
      await p.authenticate({ username: 'bob', password: 'bobpw' }),
      accept([VPN_USERS], 'bob'),
    );
    // One user search, plus the monitor read itself.
    assert.equal((await searchesStarted(m)) - before, 2);
    assert.deepEqual(
      await p.authenticate({ username: 'carol', password: 'carolpw' }),
      reject('not-in-security-group'),
    );
  });

  it('returns error ldap-search-failed when the search base does not exist', async (t) => {
    const p = primary(t, options(plain, { searchDn: `ou=nobody,${SUFFIX}` }));
    assert.deepEqual(
      await p.authenticate({ username: 'alice', password: 'alicepw' }),
      error('ldap-search-failed'),
    );
  });

  describe('TLS', () => {
    it('accepts over LDAPS with the generated CA', async (t) => {
      const p = primary(
        t,
        options(plain, {
          hosts: [`127.0.0.1:${plain.ldapsPort}`],
          transport: 'ldaps',
          caPem: plain.ca,
        }),
      );
      assert.deepEqual(
        await p.authenticate({ username: 'alice', password: 'alicepw' }),
        accept([VPN_USERS], 'alice'),
      );
    });

    it('accepts over StartTLS with the generated CA', async (t) => {
      const p = primary(t, options(plain, { transport: 'starttls', caPem: plain.ca }));
      assert.deepEqual(
        await p.authenticate({ username: 'alice', password: 'alicepw' }),
        accept([VPN_USERS], 'alice'),
      );
      assert.deepEqual(
        await p.authenticate({ username: 'bob', password: 'nope' }),
        reject('bad-password'),
      );
    });

    it('returns an error, never a login, when the certificate is signed by another CA', async (t) => {
      const wrongCa = withMemberOf.ca;
      const ldaps = primary(
        t,
        options(plain, {
          hosts: [`127.0.0.1:${plain.ldapsPort}`],
          transport: 'ldaps',
          caPem: wrongCa,
        }),
      );
      const starttls = primary(t, options(plain, { transport: 'starttls', caPem: wrongCa }));
      const systemCas = primary(
        t,
        options(plain, { hosts: [`127.0.0.1:${plain.ldapsPort}`], transport: 'ldaps' }),
      );
      for (const p of [ldaps, starttls, systemCas]) {
        assert.deepEqual(
          await p.authenticate({ username: 'alice', password: 'alicepw' }),
          error('ldap-unreachable'),
        );
      }
    });

    it('checks the certificate name unless verifyHostname is false', async (t) => {
      const base = {
        hosts: [`127.0.0.1:${withMemberOf.ldapsPort}`],
        transport: 'ldaps' as const,
        caPem: withMemberOf.ca,
      };
      const strict = primary(t, options(withMemberOf, base));
      assert.deepEqual(
        await strict.authenticate({ username: 'alice', password: 'alicepw' }),
        error('ldap-unreachable'),
      );
      const lax = primary(t, options(withMemberOf, { ...base, verifyHostname: false }));
      assert.deepEqual(
        await lax.authenticate({ username: 'alice', password: 'alicepw' }),
        accept([VPN_USERS], 'alice'),
      );
    });
  });

  describe('failover and errors', () => {
    it('uses the second host when the first refuses connections', async (t) => {
      const p = primary(
        t,
        options(plain, { hosts: [`127.0.0.1:${deadPort}`, `127.0.0.1:${plain.port}`] }),
      );
      assert.deepEqual(
        await p.authenticate({ username: 'alice', password: 'alicepw' }),
        accept([VPN_USERS], 'alice'),
      );
    });

    it('uses the second host when the first accepts TCP but never answers, within the timeout', async (t) => {
      const { port } = blackhole.address() as net.AddressInfo;
      const p = primary(
        t,
        options(plain, { hosts: [`127.0.0.1:${port}`, `127.0.0.1:${plain.port}`], timeoutMs: 300 }),
      );
      const started = process.hrtime.bigint();
      assert.deepEqual(
        await p.authenticate({ username: 'alice', password: 'alicepw' }),
        accept([VPN_USERS], 'alice'),
      );
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      assert.ok(elapsedMs < 2000, `took ${elapsedMs} ms`);
      // The bind connection skips the host that just failed instead of waiting for it again.
      assert.ok(
        elapsedMs < 900,
        `took ${elapsedMs} ms: the dead host was waited for more than once`,
      );
    });

    it('returns error ldap-unreachable when every host is down', async (t) => {
      const { port } = blackhole.address() as net.AddressInfo;
      const p = primary(
        t,
        options(plain, { hosts: [`127.0.0.1:${deadPort}`, `127.0.0.1:${port}`], timeoutMs: 300 }),
      );
      assert.deepEqual(
        await p.authenticate({ username: 'alice', password: 'alicepw' }),
        error('ldap-unreachable'),
      );
    });

    it('returns error service-account-bind-failed for a wrong service account password', async (t) => {
      const p = primary(t, options(plain, { serviceAccountPassword: 'wrong' }));
      assert.deepEqual(
        await p.authenticate({ username: 'alice', password: 'alicepw' }),
        error('service-account-bind-failed'),
      );
    });

    it('returns error ldap-closed after close', async () => {
      const p = createLdapPrimary(options(plain));
      assert.deepEqual(
        await p.authenticate({ username: 'alice', password: 'alicepw' }),
        accept([VPN_USERS], 'alice'),
      );
      await p.close();
      assert.deepEqual(
        await p.authenticate({ username: 'alice', password: 'alicepw' }),
        error('ldap-closed'),
      );
    });
  });

  it('answers 50 parallel logins correctly on few connections and leaves no connection open', async () => {
    const baseline = await openConnections(monitor);
    const since = await newestConnection(monitor);
    const p = createLdapPrimary(
      options(plain, { maxServiceConnections: 2, maxBindConnections: 4 }),
    );
    const users = [
      ['alice', [VPN_USERS]],
      ['bob', [VPN_USERS]],
      ['carol', [CONTRACTORS]],
      ['dave', []],
    ] as const;
    const cases = Array.from({ length: 50 }, (_, i) => {
      const [username, groups] = users[i % users.length] ?? users[0];
      const good = i % 3 !== 0;
      return {
        username,
        password: good ? `${username}pw` : 'wrong',
        want: good ? accept([...groups], username) : reject('bad-password'),
      };
    });
    try {
      const results = await Promise.all(cases.map((c) => p.authenticate(c)));
      results.forEach((result, i) => assert.deepEqual(result, cases[i]?.want, `login ${i}`));
      assert.ok(
        (await openConnections(monitor)) <= baseline + 6,
        'at most 2 service and 4 bind connections',
      );
      // The monitor lists this test's own connections (so the wait below has something to see).
      assert.ok((await monitor.connectionNumbers()).some((n) => n > since));
    } finally {
      await p.close();
    }
    await allClosedSince(monitor, since);
  });

  it('ends logins in progress when closed and leaves no connection open', async () => {
    const since = await newestConnection(monitor);
    const p = createLdapPrimary(options(plain, { transport: 'starttls', caPem: plain.ca }));
    const logins = Array.from({ length: 10 }, () =>
      p.authenticate({ username: 'alice', password: 'alicepw' }),
    );
    await p.close();
    for (const result of await Promise.all(logins)) assert.deepEqual(result, error('ldap-closed'));
    await allClosedSince(monitor, since);
  });

  it('reuses its connections, and replaces those idle longer than idleTimeoutMs', async (t) => {
    const clock = new FixedClock(1_000_000);
    const p = primary(t, options(plain, { clock, idleTimeoutMs: 60_000 }));
    const opened = (): Promise<number> =>
      monitor.counter('cn=Total,cn=Connections,cn=Monitor', 'monitorCounter');
    assert.deepEqual(
      await p.authenticate({ username: 'bob', password: 'bobpw' }),
      accept([VPN_USERS], 'bob'),
    );
    const first = await opened();
    assert.deepEqual(
      await p.authenticate({ username: 'bob', password: 'bobpw' }),
      accept([VPN_USERS], 'bob'),
    );
    assert.equal(await opened(), first, 'the second login opened no connection');
    clock.advance(60_000);
    assert.deepEqual(
      await p.authenticate({ username: 'bob', password: 'bobpw' }),
      accept([VPN_USERS], 'bob'),
    );
    // One service and one bind connection; monitor reads are on the monitor's own connection.
    assert.equal(await opened(), first + 2);
  });

  it('returns error ldap-timeout when the directory stops answering, and recovers', async (t) => {
    const p = primary(t, options(restartable, { timeoutMs: 300 }));
    assert.deepEqual(
      await p.authenticate({ username: 'bob', password: 'bobpw' }),
      accept([VPN_USERS], 'bob'),
    );
    process.kill(restartable.pid, 'SIGSTOP'); // connections stay open, nothing is answered
    try {
      assert.deepEqual(
        await p.authenticate({ username: 'bob', password: 'bobpw' }),
        error('ldap-timeout'),
      );
    } finally {
      process.kill(restartable.pid, 'SIGCONT');
    }
    assert.deepEqual(
      await p.authenticate({ username: 'bob', password: 'bobpw' }),
      accept([VPN_USERS], 'bob'),
    );
  });

  it('logs in again after the directory restarts', async (t) => {
    const p = primary(t, options(restartable));
    assert.deepEqual(
      await p.authenticate({ username: 'user0002', password: 'pw0002' }),
      accept([], 'user0002'),
    );
    assert.deepEqual(
      await p.authenticate({ username: 'alice', password: 'alicepw' }),
      accept([VPN_USERS], 'alice'),
    );
    process.kill(restartable.pid, 'SIGKILL'); // a crash: the kernel resets our pooled connections
    await until('slapd to exit', () => !isAlive(restartable.pid));
    assert.deepEqual(
      await p.authenticate({ username: 'alice', password: 'alicepw' }),
      error('ldap-unreachable'),
    );
    await run(
      'slapd',
      ['-f', join(restartable.dir, 'slapd.conf'), '-h', `ldap://127.0.0.1:${restartable.port}/`],
      {
        env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin` },
      },
    );
    restartable.pid = Number((await readFile(join(restartable.dir, 'slapd.pid'), 'utf8')).trim());
    // slapd detaches before it listens.
    await until('slapd to listen again', () => canConnect(restartable.port));
    // The failed host is tried last for a while, but it is the only one.
    assert.deepEqual(
      await p.authenticate({ username: 'alice', password: 'alicepw' }),
      accept([VPN_USERS], 'alice'),
    );
  });
});
