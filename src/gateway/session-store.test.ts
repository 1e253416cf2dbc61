import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FixedClock } from '../runtime/clock.ts';
import { CryptoRandom } from '../runtime/random.ts';
import { SessionStore } from './session-store.ts';

const user = { username: 'alice', groups: [], email: undefined };

function store() {
  const clock = new FixedClock(1_000_000);
  const sessions = new SessionStore(
    { clock, random: new CryptoRandom() },
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
});
