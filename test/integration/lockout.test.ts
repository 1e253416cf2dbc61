// Security finding 3 (docs/security.md): a lockout ends by itself, one source cannot lock a user
// out, and the lockout's audit record names its sources. Duo's own client against the service.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IT_BACKEND, startService, totpAt, type Harness } from './service-harness.ts';

interface AuthAnswer {
  result: string;
  status: string;
  status_msg: string;
}

/** One passcode login of `username` from `ipaddr` (none when undefined); the answer. */
async function passcode(
  call: ReturnType<Harness['duo']>,
  username: string,
  code: string,
  ipaddr?: string,
): Promise<AuthAnswer> {
  const res = await call('POST', '/auth/v2/auth', {
    username,
    factor: 'passcode',
    passcode: code,
    ...(ipaddr === undefined ? {} : { ipaddr }),
  });
  assert.equal(res.stat, 'OK', JSON.stringify(res));
  return res.response as AuthAnswer;
}

/** Ten wrong passcodes from two addresses, five each: enough to lock out, within each budget. */
async function lockOut(call: ReturnType<Harness['duo']>, username: string) {
  const answers = [];
  for (let i = 0; i < 10; i++) {
    answers.push(await passcode(call, username, '000000', `198.51.100.${i % 2}`));
  }
  return answers;
}

describe(`lockout that ends by itself, default 15 minutes, on ${IT_BACKEND}`, () => {
  let h: Harness;
  before(async () => {
    // The service clock moves 15 minutes; Duo's client dates requests by the wall clock.
    h = await startService({ dateWindowSeconds: 3600 });
  });
  after(async () => {
    await h?.close();
  });

  it('locks out, refuses even the right code, then lets the user in after 15 minutes', async () => {
    const app = await h.createApp();
    const user = await h.createUser('expires', { totp: true });
    const call = h.duo(app);
    const lockedAtMs = h.clock.nowMs();
    const answers = await lockOut(call, 'expires');
    assert.deepEqual(answers.at(-1), {
      result: 'deny',
      status: 'locked_out',
      status_msg: 'Too many failed attempts. Your account is locked out.',
    });
    const stored = await h.store.findUser('expires');
    assert.equal(stored?.status, 'locked out');
    assert.equal(stored?.lockedUntilMs, lockedAtMs + 15 * 60_000);

    h.clock.advance(15 * 60_000 - 1000);
    assert.equal(
      (await passcode(call, 'expires', totpAt(user.totp!, h.clock))).status,
      'locked_out',
    );
    const pre = await call('POST', '/auth/v2/preauth', { username: 'expires' });
    assert.equal((pre.response as { result: string }).result, 'deny');

    h.clock.advance(1000);
    const pre2 = await call('POST', '/auth/v2/preauth', { username: 'expires' });
    assert.equal((pre2.response as { result: string }).result, 'auth');
    assert.deepEqual(await passcode(call, 'expires', totpAt(user.totp!, h.clock)), {
      result: 'allow',
      status: 'allow',
      status_msg: 'Success. Logging you in...',
    });
    const after = await h.store.findUser('expires');
    assert.equal(after?.status, 'active');
    assert.equal(after?.failedAttempts, 0);
  });

  it('starts the count afresh after a lockout has ended', async () => {
    const app = await h.createApp();
    await h.createUser('recount', { totp: true });
    const call = h.duo(app);
    await lockOut(call, 'recount');
    h.clock.advance(15 * 60_000);
    assert.equal((await passcode(call, 'recount', '000000', '198.51.100.7')).status, 'deny');
    const user = await h.store.findUser('recount');
    assert.equal(user?.status, 'active');
    assert.equal(user?.failedAttempts, 1);
  });

  it('names the sources of the failures in the audit record of the lockout', async () => {
    const app = await h.createApp();
    await h.createUser('sources', { totp: true });
    await lockOut(h.duo(app), 'sources');
    const events = await h.store.listAudit({ username: 'sources', action: 'user.lockout' });
    assert.equal(events.length, 1);
    assert.deepEqual(events[0]?.detail.sources, [
      { appId: app.id, ip: '198.51.100.0', failures: 5 },
      { appId: app.id, ip: '198.51.100.1', failures: 5 },
    ]);
    assert.equal(events[0]?.detail.lockedUntilMs, h.clock.nowMs() + 900_000);
  });

  it('refuses one ipaddr past its budget without locking the user out; another ipaddr logs in', async () => {
    const app = await h.createApp();
    const user = await h.createUser('onesource', { totp: true });
    const call = h.duo(app);
    const answers = [];
    for (let i = 0; i < 12; i++) {
      answers.push(await passcode(call, 'onesource', '000000', '203.0.113.66'));
    }
    assert.deepEqual(
      answers.map((a) => a.status),
      [...Array<string>(5).fill('deny'), ...Array<string>(7).fill('deny')],
    );
    assert.equal(answers[4]?.status_msg, 'Incorrect passcode. Please try again.');
    assert.equal(
      answers[5]?.status_msg,
      'Too many failed attempts from your address. Try again in 3 minutes.',
    );
    // Refused from that address even with the right code: the refusal is not a guess.
    assert.equal(
      (await passcode(call, 'onesource', totpAt(user.totp!, h.clock), '203.0.113.66')).result,
      'deny',
    );
    const stored = await h.store.findUser('onesource');
    assert.equal(stored?.status, 'active');
    assert.equal(stored?.failedAttempts, 5, 'refused attempts do not count towards the lockout');
    // The user, from another address, logs in with the right code.
    assert.deepEqual(await passcode(call, 'onesource', totpAt(user.totp!, h.clock), '192.0.2.10'), {
      result: 'allow',
      status: 'allow',
      status_msg: 'Success. Logging you in...',
    });
    const refused = await h.store.listAudit({ username: 'onesource', action: 'auth.passcode' });
    assert.equal(refused.filter((e) => e.detail.reason === 'source-limited').length, 8);
  });

  it('limits a source without ipaddr per application and user, not for every user of it', async () => {
    const app = await h.createApp();
    await h.createUser('noip1', { totp: true });
    const other = await h.createUser('noip2', { totp: true });
    const call = h.duo(app);
    for (let i = 0; i < 5; i++) await passcode(call, 'noip1', '000000');
    assert.equal(
      (await passcode(call, 'noip1', '000000')).status_msg,
      'Too many failed attempts from this application. Try again in 3 minutes.',
    );
    assert.equal((await h.store.findUser('noip1'))?.status, 'active');
    assert.equal((await passcode(call, 'noip2', totpAt(other.totp!, h.clock))).result, 'allow');
  });
});

describe(`lockout duration 0: until an administrator unlocks, on ${IT_BACKEND}`, () => {
  let h: Harness;
  before(async () => {
    h = await startService({ lockoutDurationSeconds: 0, dateWindowSeconds: 86_400 * 2 });
  });
  after(async () => {
    await h?.close();
  });

  it('keeps the user locked out a day later, and lets them in once unlocked', async () => {
    const app = await h.createApp();
    const user = await h.createUser('forever', { totp: true });
    const call = h.duo(app);
    await lockOut(call, 'forever');
    assert.equal((await h.store.findUser('forever'))?.lockedUntilMs, null);
    h.clock.advance(86_400_000);
    assert.equal(
      (await passcode(call, 'forever', totpAt(user.totp!, h.clock))).status,
      'locked_out',
    );
    const stored = await h.store.findUser('forever');
    await h.store.setUserStatus(stored!.id, 'active');
    h.clock.advance(30_000);
    assert.equal(
      (await passcode(call, 'forever', totpAt(user.totp!, h.clock), '192.0.2.1')).result,
      'allow',
    );
  });
});
