import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FixedClock } from '../runtime/clock.ts';
import { openGatewayStateDb } from '../runtime/gateway-state-db.ts';
import { CryptoRandom } from '../runtime/random.ts';
import { SessionStore } from './session-store.ts';

const user = { username: 'alice', groups: [], email: undefined };

function store() {
  const clock = new FixedClock(1_000_000);
  const sessions = new SessionStore(
    { clock, random: new CryptoRandom(), db: openGatewayStateDb(':memory:') },
    { idleMs: 60_000, lifetimeMs: 300_000, loginTimeoutMs: 30_000 },
  );
  return { clock, sessions };
}

describe('gateway session store', () => {
  it('ends a session idle for the idle timeout, and use keeps it alive', () => {
    const { clock, sessions } = store();
    const s = sessions.createSession({ user, secondFactor: 'otp', amr: ['pwd', 'otp', 'mfa'] });
    clock.advance(59_000);
    assert.ok(sessions.useSession(s.id));
    clock.advance(59_000);
    assert.ok(sessions.useSession(s.id));
    clock.advance(60_000);
    assert.equal(sessions.useSession(s.id), undefined);
  });

  it('ends a session at its absolute lifetime however much it is used', () => {
    const { clock, sessions } = store();
    const s = sessions.createSession({ user, secondFactor: 'otp', amr: ['pwd'] });
    for (let t = 0; t < 299; t += 50) {
      clock.set(1_000_000 + t * 1000);
      assert.ok(sessions.useSession(s.id), `at ${t} s`);
    }
    clock.set(1_000_000 + 300_000);
    assert.equal(sessions.useSession(s.id), undefined);
  });

  it('gives a failmode session the shorter lifetime, never a longer one', () => {
    const { sessions } = store();
    const short = sessions.createSession({
      user,
      secondFactor: 'skipped-failmode',
      amr: ['pwd'],
      lifetimeMs: 120_000,
    });
    const long = sessions.createSession({ user, secondFactor: 'otp', amr: [], lifetimeMs: 9e9 });
    assert.equal(short.expiresAtMs - short.createdAtMs, 120_000);
    assert.equal(long.expiresAtMs - long.createdAtMs, 300_000);
  });

  it('forgets a deleted session and an expired login', () => {
    const { clock, sessions } = store();
    const s = sessions.createSession({ user, secondFactor: 'otp', amr: [] });
    sessions.deleteSession(s.id);
    assert.equal(sessions.useSession(s.id), undefined);
    const login = sessions.createLogin({ returnTo: undefined, appName: undefined });
    assert.equal(sessions.getLogin(login.id), login);
    clock.advance(30_000);
    assert.equal(sessions.getLogin(login.id), undefined);
  });

  it('sweeps a session idle past the idle timeout, not only at its absolute lifetime', () => {
    const { clock, sessions } = store();
    const idle = sessions.createSession({ user, secondFactor: 'otp', amr: ['pwd'] });
    const used = sessions.createSession({ user, secondFactor: 'otp', amr: ['pwd'] });
    clock.advance(50_000);
    assert.ok(sessions.useSession(used.id));
    clock.advance(20_000); // idle 70 s, used 20 s ago; both far from the 300 s lifetime
    sessions.sweep();
    assert.equal(sessions.sessionCount, 1);
    assert.equal(sessions.useSession(idle.id), undefined);
    assert.ok(sessions.useSession(used.id));
  });

  it('a session seen expired stays gone, even if the clock steps back', () => {
    const { clock, sessions } = store();
    const s = sessions.createSession({ user, secondFactor: 'otp', amr: ['pwd'] });
    clock.advance(61_000);
    assert.equal(sessions.useSession(s.id), undefined);
    clock.advance(-61_000);
    assert.equal(sessions.useSession(s.id), undefined);
  });

  it('keeps sessions and logouts in its file: a new store on it (a restart) sees both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-gateway-state-'));
    try {
      const path = join(dir, 'state', 'gateway-state.sqlite');
      const clock = new FixedClock(1_000_000);
      const timeouts = { idleMs: 60_000, lifetimeMs: 300_000, loginTimeoutMs: 30_000 };
      const open = () => {
        const db = openGatewayStateDb(path);
        return {
          db,
          sessions: new SessionStore({ clock, random: new CryptoRandom(), db }, timeouts),
        };
      };
      const first = open();
      const kept = first.sessions.createSession({ user, secondFactor: 'otp', amr: ['pwd'] });
      const ended = first.sessions.createSession({ user, secondFactor: 'otp', amr: ['pwd'] });
      first.sessions.deleteSession(ended.id);
      first.db.close();
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'state')).mode & 0o777, 0o700);
      // The file holds a hash of each id, never the bearer secret the cookie seals.
      assert.ok(!readFileSync(path).includes(kept.id));

      const second = open();
      assert.equal(second.sessions.sessionCount, 1);
      clock.advance(30_000);
      assert.equal(second.sessions.useSession(kept.id)?.user.username, 'alice');
      assert.equal(second.sessions.useSession(ended.id), undefined);
      // The idle clock went on across the restart: 60 s after the last use it ends.
      clock.advance(60_000);
      assert.equal(second.sessions.useSession(kept.id), undefined);
      second.db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
