import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FixedClock } from '../../runtime/clock.ts';
import { findAndBind, KnownDns, type DirectorySteps } from './early-bind.ts';

interface User {
  dn: string;
}
type Reason = 'unknown-user' | 'ambiguous-user' | 'bad-password';

const ALICE = 'uid=alice,ou=people,dc=example,dc=org';
const ALICE_MOVED = 'uid=alice,ou=former,dc=example,dc=org';

/** A promise settled from outside, to decide when each directory answer arrives. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/**
 * A directory whose every operation waits until the test answers it; `log` records each
 * operation when it starts and when it is answered, in order.
 */
function heldDirectory() {
  const log: string[] = [];
  const search = deferred<User | Reason>();
  const binds = new Map<string, ReturnType<typeof deferred<Reason | undefined>>>();
  const groups = deferred<string[]>();
  const steps: DirectorySteps<User, Reason> = {
    find: () => {
      log.push('search');
      return search.promise;
    },
    bind: (dn) => {
      log.push(`bind ${dn}`);
      const d = deferred<Reason | undefined>();
      binds.set(dn, d);
      return d.promise;
    },
    groups: () => {
      log.push('groups');
      return groups.promise;
    },
  };
  const turn = () => new Promise((r) => setImmediate(r));
  return {
    log,
    steps,
    async answerSearch(result: User | Reason | Error) {
      log.push('search answered');
      if (result instanceof Error) search.reject(result);
      else search.resolve(result);
      await turn();
    },
    async answerBind(dn: string, result: Reason | undefined | Error) {
      const d = binds.get(dn);
      assert.ok(d, `a bind as ${dn} was sent`);
      log.push(`bind ${dn} answered`);
      if (result instanceof Error) d.reject(result);
      else d.resolve(result);
      await turn();
    },
    async answerGroups(result: string[] | Error) {
      log.push('groups answered');
      if (result instanceof Error) groups.reject(result);
      else groups.resolve(result);
      await turn();
    },
    turn,
  };
}

/** The login's end, kept from the start, so that a rejection is never unhandled while the test answers. */
const ending = (login: Promise<unknown>): Promise<unknown> =>
  login.then(
    () => new Error('the login did not throw'),
    (error: unknown) => error,
  );

/** alice's login, with her DN remembered from an earlier one: the early bind goes out. */
function returningLogin() {
  const dir = heldDirectory();
  const dns = known();
  dns.remember('alice', ALICE);
  return { dir, dns, login: findAndBind(dns, 'alice', dir.steps) };
}

const known = (clock = new FixedClock(0), ttlMs = 60_000) => new KnownDns({ ttlMs, clock });

describe('findAndBind', () => {
  it('binds only after the search answered when no DN is known, and reads the groups with the bind', async () => {
    const dir = heldDirectory();
    const dns = known();
    const login = findAndBind(dns, 'alice', dir.steps);
    await dir.turn();
    assert.deepEqual(dir.log, ['search']);
    await dir.answerSearch({ dn: ALICE });
    assert.deepEqual(dir.log, ['search', 'search answered', 'groups', `bind ${ALICE}`]);
    await dir.answerGroups(['cn=vpn']);
    await dir.answerBind(ALICE, undefined);
    assert.deepEqual(await login, { kind: 'bound', user: { dn: ALICE }, groups: ['cn=vpn'] });
    assert.equal(dns.get('alice'), ALICE, 'the DN found is remembered');
  });

  it('sends the bind as a remembered DN with the search, and accepts once the search finds that DN', async () => {
    const { dir, login } = returningLogin();
    await dir.turn();
    assert.deepEqual(
      dir.log,
      [`bind ${ALICE}`, 'search'],
      'the bind went out before the search answered',
    );
    await dir.answerBind(ALICE, undefined);
    let settled = false;
    void login.then(() => (settled = true));
    await dir.turn();
    assert.equal(settled, false, 'a successful bind alone decides nothing');
    await dir.answerSearch({ dn: ALICE });
    await dir.answerGroups([]);
    assert.deepEqual(await login, { kind: 'bound', user: { dn: ALICE }, groups: [] });
    assert.equal(dir.log.filter((l) => l.startsWith('bind ') && !l.endsWith('answered')).length, 1);
  });

  it('refuses a user the search no longer finds or finds twice, though the early bind succeeded, and forgets the DN', async () => {
    for (const reason of ['unknown-user', 'ambiguous-user'] as const) {
      const { dir, dns, login } = returningLogin();
      await dir.answerBind(ALICE, undefined);
      await dir.answerSearch(reason);
      assert.deepEqual(await login, { kind: 'refused', reason });
      assert.equal(dns.get('alice'), undefined, reason);
      assert.ok(!dir.log.includes('groups'), `no group read for ${reason}`);
    }
  });

  it('drops an early bind as another DN, even a successful one, and binds again as the DN found', async () => {
    const { dir, dns, login } = returningLogin();
    await dir.answerBind(ALICE, undefined); // the old DN's password is right
    await dir.answerSearch({ dn: ALICE_MOVED });
    assert.ok(dir.log.includes(`bind ${ALICE_MOVED}`), 'a bind as the DN found');
    await dir.answerGroups([]);
    await dir.answerBind(ALICE_MOVED, 'bad-password'); // but not the found entry's
    assert.deepEqual(await login, { kind: 'refused', reason: 'bad-password' });
    assert.equal(dns.get('alice'), ALICE_MOVED, 'the DN found replaces the old one');
  });

  it('waits for the early bind to end before binding as the DN found', async () => {
    const { dir, login } = returningLogin();
    await dir.answerSearch({ dn: ALICE_MOVED });
    assert.ok(!dir.log.includes(`bind ${ALICE_MOVED}`), 'the early bind is still running');
    await dir.answerBind(ALICE, new Error('connection reset'));
    await dir.answerGroups([]);
    await dir.answerBind(ALICE_MOVED, undefined);
    assert.deepEqual(await login, { kind: 'bound', user: { dn: ALICE_MOVED }, groups: [] });
  });

  it('refuses a wrong password whatever the group read did', async () => {
    const { dir, login } = returningLogin();
    await dir.answerSearch({ dn: ALICE });
    await dir.answerGroups(new Error('group search failed'));
    await dir.answerBind(ALICE, 'bad-password');
    assert.deepEqual(await login, { kind: 'refused', reason: 'bad-password' });
  });

  it('throws a failed group read of a right password, and a failed bind', async () => {
    const groupsFail = heldDirectory();
    const first = ending(findAndBind(known(), 'alice', groupsFail.steps));
    await groupsFail.answerSearch({ dn: ALICE });
    await groupsFail.answerBind(ALICE, undefined);
    await groupsFail.answerGroups(new Error('group search failed'));
    assert.match(String(await first), /group search failed/);

    const bindFails = heldDirectory();
    const second = ending(findAndBind(known(), 'alice', bindFails.steps));
    await bindFails.answerSearch({ dn: ALICE });
    await bindFails.answerGroups([]);
    await bindFails.answerBind(ALICE, new Error('user bind failed'));
    assert.match(String(await second), /user bind failed/);
  });

  it('throws a failed search only after the early bind ended, which leaves no rejection unhandled', async () => {
    const dir = heldDirectory();
    const dns = known();
    dns.remember('alice', ALICE);
    let settled = false;
    const login = ending(findAndBind(dns, 'alice', dir.steps).finally(() => (settled = true)));
    await dir.answerSearch(new Error('search timed out'));
    assert.equal(settled, false, 'the early bind still holds its connection');
    await dir.answerBind(ALICE, new Error('bind timed out'));
    assert.match(String(await login), /search timed out/);
  });
});

describe('KnownDns', () => {
  it('forgets a DN after its time, and remembers nothing with a time of 0', () => {
    const clock = new FixedClock(1_000);
    const dns = known(clock, 600_000);
    dns.remember('alice', ALICE);
    clock.advance(599_999);
    assert.equal(dns.get('alice'), ALICE);
    clock.advance(1);
    assert.equal(dns.get('alice'), undefined);
    assert.equal(dns.size, 0, 'an expired entry is removed when read');
    const off = known(clock, 0);
    off.remember('alice', ALICE);
    assert.equal(off.get('alice'), undefined);
  });

  it('holds at most its maximum, dropping the least recently remembered', () => {
    const dns = new KnownDns({ ttlMs: 60_000, clock: new FixedClock(0), max: 2 });
    dns.remember('alice', 'a');
    dns.remember('bob', 'b');
    dns.remember('alice', 'a2'); // renewed: bob is now the oldest
    dns.remember('carol', 'c');
    assert.equal(dns.size, 2);
    assert.equal(dns.get('bob'), undefined);
    assert.equal(dns.get('alice'), 'a2');
    assert.equal(dns.get('carol'), 'c');
  });

  it('never takes an empty DN as a guess (it would bind anonymously)', () => {
    const dns = known();
    dns.remember('alice', '');
    assert.equal(dns.get('alice'), undefined);
  });

  it('keys by the username as typed', () => {
    const dns = known();
    dns.remember('alice', ALICE);
    assert.equal(dns.get('Alice'), undefined);
  });
});
