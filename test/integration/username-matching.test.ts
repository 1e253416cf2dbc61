// Security finding 1: a name the directory accepts for alice must never be an unknown user to the
// service (under new-user policy allow that skipped the second factor). Duo's client, real service.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IT_BACKEND, startService, totpAt, type Harness } from './service-harness.ts';

let h: Harness;
before(async () => {
  h = await startService();
});
after(async () => {
  await h?.close();
});

type Answer = { stat: string; code?: number; response?: { result?: string; status?: string } };

describe(`username matching on ${IT_BACKEND}`, () => {
  it('every spelling the directory would accept means alice under simple normalization', async () => {
    const app = await h.createApp({ newUserPolicy: 'allow' });
    assert.equal(app.usernameNormalization, 'simple', 'simple is the default');
    await h.createUser('alice-s', { totp: true });
    const call = h.duo(app);
    for (const name of [
      'alice-s',
      'Alice-S',
      'ALICE-S',
      'alice-s ',
      ' alice-s',
      'EXAMPLE\\alice-s',
      'alice-s@example.org',
      'Example\\ALICE-S',
    ]) {
      const pre = (await call('POST', '/auth/v2/preauth', { username: name })) as Answer;
      assert.equal(pre.response?.result, 'auth', `preauth for ${JSON.stringify(name)}`);
      const auth = (await call('POST', '/auth/v2/auth', {
        username: name,
        factor: 'passcode',
        passcode: '000000',
      })) as Answer;
      assert.equal(auth.response?.result, 'deny', `a wrong passcode for ${JSON.stringify(name)}`);
    }
  });

  it('a right passcode under another spelling logs in as alice', async () => {
    const app = await h.createApp({ newUserPolicy: 'allow' });
    const user = await h.createUser('alice-p', { totp: true });
    const auth = (await h.duo(app)('POST', '/auth/v2/auth', {
      username: 'CORP\\Alice-P',
      factor: 'passcode',
      passcode: totpAt(user.totp!, h.clock),
    })) as Answer;
    assert.equal(auth.response?.result, 'allow');
    assert.equal(auth.response?.status, 'allow');
    const events = await h.store.listAudit({ action: 'auth.passcode', limit: 1000 });
    assert.ok(
      events.some((e) => e.targetId === user.id && e.result === 'allow'),
      'the audit names alice-p as the user who logged in',
    );
  });

  it('case and spaces still match under none; domain forms do not', async () => {
    const app = await h.createApp({ newUserPolicy: 'deny', usernameNormalization: 'none' });
    await h.createUser('alice-n', { totp: true });
    const call = h.duo(app);
    for (const name of ['Alice-N', 'alice-n ']) {
      const pre = (await call('POST', '/auth/v2/preauth', { username: name })) as Answer;
      assert.equal(pre.response?.result, 'auth', `preauth for ${JSON.stringify(name)}`);
    }
    const other = (await call('POST', '/auth/v2/preauth', {
      username: 'EXAMPLE\\alice-n',
    })) as Answer;
    assert.equal(other.response?.result, 'deny', 'an unknown user under new-user policy deny');
  });

  it('aliases take part in the same matching', async () => {
    const app = await h.createApp({ newUserPolicy: 'allow' });
    const user = await h.createUser('carol-a', { totp: true });
    await h.store.setUserAliases(user.id, ['c.smith']);
    const call = h.duo(app);
    for (const name of ['C.Smith', 'c.smith ', 'EXAMPLE\\c.smith', 'c.smith@example.org']) {
      const pre = (await call('POST', '/auth/v2/preauth', { username: name })) as Answer;
      assert.equal(pre.response?.result, 'auth', `preauth for ${JSON.stringify(name)}`);
    }
  });

  it('a bare name that means several users is refused, not an unknown user', async () => {
    const app = await h.createApp({ newUserPolicy: 'allow' });
    await h.createUser('dave@a.example', { totp: true });
    await h.createUser('dave@b.example', { totp: true });
    const call = h.duo(app);
    const pre = (await call('POST', '/auth/v2/preauth', { username: 'Dave' })) as Answer;
    assert.equal(pre.stat, 'FAIL');
    assert.equal(pre.code, 40002);
    const exact = (await call('POST', '/auth/v2/preauth', {
      username: 'DAVE@a.example',
    })) as Answer;
    assert.equal(exact.response?.result, 'auth', 'the full name still means one user');
  });

  it('enroll of another spelling of an existing name makes no shadow user', async () => {
    const app = await h.createApp({ newUserPolicy: 'enroll' });
    await h.createUser('erin-e', { totp: true });
    const call = h.duo(app);
    for (const name of ['ERIN-E', 'erin-e ', 'EXAMPLE\\Erin-E', 'erin-e@example.org']) {
      const res = (await call('POST', '/auth/v2/enroll', { username: name })) as Answer & {
        message_detail?: string;
      };
      assert.equal(res.stat, 'FAIL', `enroll ${JSON.stringify(name)}`);
      assert.equal(res.code, 40002);
      assert.equal(res.message_detail, 'username');
    }
    const users = await h.store.listUsers({ search: 'erin-e' });
    assert.deepEqual(
      users.map((u) => u.username),
      ['erin-e'],
    );
  });

  it('enroll stores the name as the application means it', async () => {
    const app = await h.createApp({ newUserPolicy: 'enroll' });
    const res = (await h.duo(app)('POST', '/auth/v2/enroll', {
      username: ' EXAMPLE\\Frank-E ',
    })) as { stat: string; response: { username: string } };
    assert.equal(res.stat, 'OK');
    assert.equal(res.response.username, 'Frank-E');
  });
});
