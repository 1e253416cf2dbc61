// The order of a login's directory operations (src/proxy/primary/early-bind.ts), seen on the wire
// between the LDAP primary and a real slapd: a relay in front of slapd notes each LDAP message as
// it passes and holds chosen answers for a while, so that what the primary sends before an answer
// arrived shows in the order of its notes.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Attribute, Change, Client } from 'ldapts';
import {
  createLdapPrimary,
  type LdapPrimaryOptions,
} from '../../src/proxy/primary/ldap-primary.ts';
import type { PrimaryAuthenticator } from '../../src/proxy/primary/primary-authenticator.ts';
import { startSlapd, type ExternalServer } from './external-servers.ts';

const SUFFIX = 'dc=example,dc=org';
const PEOPLE = `ou=people,${SUFFIX}`;
const HOLD_MS = 200;

/** RFC 4511 §4.2 protocolOp tags of the messages these tests look for. */
const OPS: Record<number, string> = {
  0x60: 'bind',
  0x61: 'bind answer',
  0x63: 'search',
  0x64: 'search entry',
  0x65: 'search done',
};

/** Splits a byte stream into LDAPMessages (SEQUENCE { messageID INTEGER, protocolOp … }). */
function ldapMessages(onMessage: (op: string, bytes: Buffer) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (pending.length < 2) return;
      let length = pending[1]!;
      let header = 2;
      if (length & 0x80) {
        const octets = length & 0x7f;
        if (pending.length < 2 + octets) return;
        length = pending.readUIntBE(2, octets);
        header = 2 + octets;
      }
      if (pending.length < header + length) return;
      const message = pending.subarray(0, header + length);
      pending = pending.subarray(header + length);
      const idLength = message[header + 1]!;
      const tag = message[header + 2 + idLength]!;
      onMessage(OPS[tag] ?? `op 0x${tag.toString(16)}`, message);
    }
  };
}

/**
 * A TCP relay to slapd: `notes` gets `→ op` when a request reaches it and `← op` when an answer is
 * passed on; answers named in `hold` are passed on HOLD_MS late (each connection's answers stay in order).
 */
async function startRelay(slapdPort: number) {
  const notes: string[] = [];
  const hold = new Set<string>();
  const relay = { holdMs: HOLD_MS };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(slapdPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let answers = Promise.resolve();
    client.on(
      'data',
      ldapMessages((op, bytes) => {
        notes.push(`→ ${op}`);
        upstream.write(bytes);
      }),
    );
    upstream.on(
      'data',
      ldapMessages((op, bytes) => {
        const held = hold.has(op);
        answers = answers.then(async () => {
          if (held) await sleep(relay.holdMs);
          notes.push(`← ${op}`);
          client.write(bytes);
        });
      }),
    );
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(relay, {
    port: (server.address() as net.AddressInfo).port,
    notes,
    hold,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** Where `note` first appears in `notes`; fails the test when it does not appear at all. */
function firstIndex(notes: string[], note: string): number {
  const index = notes.indexOf(note);
  assert.ok(index >= 0, `${note} passed the relay: ${notes.join(', ')}`);
  return index;
}

/** Where `note` last appears in `notes`; fails the test when it does not appear at all. */
function lastIndex(notes: string[], note: string): number {
  const index = notes.lastIndexOf(note);
  assert.ok(index >= 0, `${note} passed the relay: ${notes.join(', ')}`);
  return index;
}

describe('LDAP primary: the order of a login’s directory operations', { timeout: 60_000 }, () => {
  let slapd: ExternalServer;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let admin: Client;

  before(async () => {
    slapd = await startSlapd();
    relay = await startRelay(slapd.port);
    admin = new Client({ url: `ldap://127.0.0.1:${slapd.port}`, timeout: 5000 });
    await admin.bind(`cn=admin,${SUFFIX}`, 'admin');
  });

  after(async () => {
    await admin?.unbind();
    await relay?.close();
    await slapd?.stop();
  });

  function primary(
    t: TestContext,
    overrides: Partial<LdapPrimaryOptions> = {},
  ): PrimaryAuthenticator {
    const p = createLdapPrimary({
      hosts: [`127.0.0.1:${relay.port}`],
      port: 389,
      transport: 'clear',
      verifyHostname: true,
      serviceAccountDn: `cn=airlock-svc,${SUFFIX}`,
      serviceAccountPassword: 'svcpw',
      searchDn: PEOPLE,
      usernameAttribute: 'uid',
      timeoutMs: 5000,
      fetchGroups: false,
      ...overrides,
    });
    t.after(async () => {
      await p.close();
      relay.hold.clear();
      relay.holdMs = HOLD_MS;
    });
    return p;
  }

  /** The notes of one login, from an empty list. */
  async function notesOf<T>(login: () => Promise<T>): Promise<{ result: T; notes: string[] }> {
    relay.notes.length = 0;
    const result = await login();
    return { result, notes: [...relay.notes] };
  }

  it('sends a returning user’s bind with her search, and a first login’s bind after it', async (t) => {
    const p = primary(t);
    relay.hold.add('search done');
    const first = await notesOf(() => p.authenticate({ username: 'alice', password: 'alicepw' }));
    assert.equal(first.result.kind, 'accept');
    // The service connection's own bind comes first; alice's bind is the last one.
    assert.ok(
      lastIndex(first.notes, '→ bind') > firstIndex(first.notes, '← search done'),
      `first login, bind after the search's answer: ${first.notes.join(', ')}`,
    );
    const second = await notesOf(() => p.authenticate({ username: 'alice', password: 'alicepw' }));
    assert.equal(second.result.kind, 'accept');
    assert.deepEqual(
      second.notes.filter((n) => n.startsWith('→')).sort(),
      ['→ bind', '→ search'],
      'one bind and one search, on connections already open',
    );
    assert.ok(
      firstIndex(second.notes, '→ bind') < firstIndex(second.notes, '← search done'),
      `second login, bind before the search's answer: ${second.notes.join(', ')}`,
    );
  });

  it('reads the groups with the bind, not after its answer', async (t) => {
    const p = primary(t, { fetchGroups: true });
    assert.equal((await p.authenticate({ username: 'bob', password: 'bobpw' })).kind, 'accept');
    relay.hold.add('bind answer');
    relay.holdMs = 1000; // ample time for the group search to pass, even on a busy machine
    const login = await notesOf(() => p.authenticate({ username: 'bob', password: 'bobpw' }));
    assert.deepEqual(login.result, {
      kind: 'accept',
      username: 'bob',
      groups: [`cn=vpn-users,ou=groups,${SUFFIX}`],
      attributes: [],
    });
    const searchesBeforeBindAnswer = login.notes
      .slice(0, firstIndex(login.notes, '← bind answer'))
      .filter((n) => n === '→ search').length;
    assert.equal(
      searchesBeforeBindAnswer,
      2,
      `user and group search first: ${login.notes.join(', ')}`,
    );
  });

  it('refuses a user the search no longer finds, though her early bind succeeds', async (t) => {
    const p = primary(t, { ldapFilter: '(description=vpn-allowed)' });
    const carol = `uid=carol,${PEOPLE}`;
    const description = (operation: 'add' | 'delete') =>
      admin.modify(
        carol,
        new Change({
          operation,
          modification: new Attribute({ type: 'description', values: ['vpn-allowed'] }),
        }),
      );
    await description('add');
    t.after(() => description('delete').catch(() => undefined));
    assert.equal((await p.authenticate({ username: 'carol', password: 'carolpw' })).kind, 'accept');
    await description('delete'); // no longer matches ldap_filter
    const login = await notesOf(() => p.authenticate({ username: 'carol', password: 'carolpw' }));
    assert.deepEqual(login.result, { kind: 'reject', reason: 'unknown-user' });
    assert.ok(login.notes.includes('→ bind'), 'the early bind went out and was overruled');
    const third = await notesOf(() => p.authenticate({ username: 'carol', password: 'carolpw' }));
    assert.deepEqual(third.result, { kind: 'reject', reason: 'unknown-user' });
    assert.ok(
      !third.notes.includes('→ bind'),
      'the DN was forgotten: no bind for a user not found',
    );
  });

  it('binds again as the DN found when the entry moved, and decides by that bind', async (t) => {
    const p = primary(t);
    const subtree = `ou=moved,${PEOPLE}`;
    const [oldDn, newDn] = [`uid=dave,${PEOPLE}`, `uid=dave,${subtree}`];
    await admin.add(subtree, { objectClass: ['organizationalUnit'], ou: 'moved' });
    t.after(async () => {
      await admin.modifyDN(newDn, oldDn).catch(() => undefined);
      await admin.del(subtree).catch(() => undefined);
    });
    assert.equal((await p.authenticate({ username: 'dave', password: 'davepw' })).kind, 'accept');
    await admin.modifyDN(oldDn, newDn);
    const moved = await notesOf(() => p.authenticate({ username: 'dave', password: 'davepw' }));
    assert.equal(moved.result.kind, 'accept');
    assert.equal(moved.notes.filter((n) => n === '→ bind').length, 2, moved.notes.join(', '));
    const wrong = await p.authenticate({ username: 'dave', password: 'alicepw' });
    assert.deepEqual(wrong, { kind: 'reject', reason: 'bad-password' });
  });

  it('refuses a user taken out of security_group_dn, though her early bind succeeds', async (t) => {
    const vpnUsers = `cn=vpn-users,ou=groups,${SUFFIX}`;
    const p = primary(t, { securityGroupDn: vpnUsers });
    const membership = (operation: 'add' | 'delete') =>
      admin.modify(
        vpnUsers,
        new Change({
          operation,
          modification: new Attribute({ type: 'member', values: [`uid=bob,${PEOPLE}`] }),
        }),
      );
    assert.equal((await p.authenticate({ username: 'bob', password: 'bobpw' })).kind, 'accept');
    await membership('delete');
    t.after(() => membership('add').catch(() => undefined));
    relay.hold.add('search done');
    const login = await notesOf(() => p.authenticate({ username: 'bob', password: 'bobpw' }));
    assert.deepEqual(login.result, { kind: 'reject', reason: 'not-in-security-group' });
    assert.ok(
      firstIndex(login.notes, '→ bind') < firstIndex(login.notes, '← search done'),
      `the early bind went out: ${login.notes.join(', ')}`,
    );
  });

  it('binds after the search every time with dn_cache_seconds=0', async (t) => {
    const p = primary(t, { knownDnTtlMs: 0 });
    relay.hold.add('search done');
    assert.equal((await p.authenticate({ username: 'alice', password: 'alicepw' })).kind, 'accept');
    const second = await notesOf(() => p.authenticate({ username: 'alice', password: 'alicepw' }));
    assert.equal(second.result.kind, 'accept');
    assert.ok(
      firstIndex(second.notes, '→ bind') > firstIndex(second.notes, '← search done'),
      second.notes.join(', '),
    );
  });
});
