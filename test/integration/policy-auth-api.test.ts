// Policies through the Auth API with Duo's client: network rules, deny groups, allowed factors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { appPolicyScope } from '../../src/store/store.ts';
import { IT_BACKEND, startService, totpAt, type Harness } from './service-harness.ts';

let h: Harness;
before(async () => {
  h = await startService();
});
after(async () => {
  await h?.close();
});

interface Answer {
  result: string;
  status?: string;
  status_msg: string;
}

/** Policies are cached for a second (policyCacheTtlMs): move past it so a change applies. */
function pastPolicyCache(): void {
  h.clock.advance(1_001);
}

describe(`policies through the Auth API on ${IT_BACKEND}`, () => {
  it('denies by a network deny rule only for addresses it matches', async () => {
    const app = await h.createApp();
    await h.createUser('net-alice', { totp: true });
    await h.store.setPolicy(
      appPolicyScope(app.id),
      { networkRules: [{ ranges: ['198.51.100.0/24'], action: 'deny' }] },
      'test',
    );
    pastPolicyCache();
    const call = h.duo(app);
    const denied = await call('POST', '/auth/v2/preauth', {
      username: 'net-alice',
      ipaddr: '198.51.100.7',
    });
    assert.deepEqual(denied.response, {
      result: 'deny',
      status_msg: 'Access from your network is not allowed.',
    });
    const authDenied = await call('POST', '/auth/v2/auth', {
      username: 'net-alice',
      ipaddr: '198.51.100.7',
      factor: 'passcode',
      passcode: '123456',
    });
    assert.equal((authDenied.response as Answer).result, 'deny');
    assert.equal(
      (authDenied.response as Answer).status_msg,
      'Access from your network is not allowed.',
    );
    const elsewhere = await call('POST', '/auth/v2/preauth', {
      username: 'net-alice',
      ipaddr: '203.0.113.9',
    });
    assert.equal((elsewhere.response as Answer).result, 'auth');
    const noIp = await call('POST', '/auth/v2/preauth', { username: 'net-alice' });
    assert.equal((noIp.response as Answer).result, 'auth');
    const audit = await h.store.listAudit({ action: 'auth.preauth', username: 'net-alice' });
    assert.equal(audit.at(-1)?.detail.reason, 'network-deny');
  });

  it('lets a known user from a network allow range in without a second factor', async () => {
    const app = await h.createApp();
    await h.createUser('net-bob', { totp: true });
    await h.store.setPolicy(
      appPolicyScope(app.id),
      { networkRules: [{ ranges: ['192.0.2.0/24'], action: 'allow' }] },
      'test',
    );
    pastPolicyCache();
    const res = await h.duo(app)('POST', '/auth/v2/preauth', {
      username: 'net-bob',
      ipaddr: '192.0.2.10',
    });
    assert.deepEqual(res.response, {
      result: 'allow',
      status_msg: 'Allowing user from a trusted network.',
    });
  });

  it('denies members of a deny group, whatever else they are', async () => {
    const app = await h.createApp();
    const contractors = await h.createGroup('contractors-deny');
    await h.createUser('carol-deny', { totp: true, groups: ['contractors-deny'] });
    await h.createUser('dave-ok', { totp: true });
    await h.store.setPolicy(appPolicyScope(app.id), { denyGroupIds: [contractors] }, 'test');
    pastPolicyCache();
    const call = h.duo(app);
    const carol = await call('POST', '/auth/v2/preauth', { username: 'carol-deny' });
    assert.deepEqual(carol.response, {
      result: 'deny',
      status_msg: 'You are not allowed to use this application.',
    });
    const dave = await call('POST', '/auth/v2/preauth', { username: 'dave-ok' });
    assert.equal((dave.response as Answer).result, 'auth');
  });

  it('refuses a factor the policy does not allow, and accepts an allowed one', async () => {
    const app = await h.createApp();
    const user = await h.createUser('factor-erin', { totp: true });
    await h.store.setPolicy(appPolicyScope(app.id), { allowedFactors: ['passcode'] }, 'test');
    pastPolicyCache();
    const call = h.duo(app);
    const push = await call('POST', '/auth/v2/auth', {
      username: 'factor-erin',
      factor: 'push',
      device: 'auto',
    });
    assert.deepEqual(push.response, {
      result: 'deny',
      status: 'deny',
      status_msg: 'Authentication by push is not allowed for this application; use passcode.',
    });
    const audit = await h.store.listAudit({ action: 'auth.policy', username: 'factor-erin' });
    assert.equal(audit.at(-1)?.detail.reason, 'factor-not-allowed');
    const ok = await call('POST', '/auth/v2/auth', {
      username: 'factor-erin',
      factor: 'passcode',
      passcode: totpAt(user.totp!, h.clock),
    });
    assert.equal((ok.response as Answer).result, 'allow');

    // preauth offers only what the policy allows: an authenticator's push is not listed.
    const [token] = await h.store.listOtpTokens(user.id);
    await h.store.createDevice({
      id: 'DVFACTORERIN00000000',
      userId: user.id,
      name: 'phone',
      platform: 'cli',
      publicKeyJwk: '{"kty":"EC"}',
      otpTokenId: token!.id,
    });
    const capabilitiesIn = async (target: typeof app) => {
      const pre = await h.duo(target)('POST', '/auth/v2/preauth', { username: 'factor-erin' });
      return (pre.response as { devices: { capabilities: string[] }[] }).devices[0]?.capabilities;
    };
    assert.deepEqual(await capabilitiesIn(app), ['mobile_otp']);
    assert.deepEqual(await capabilitiesIn(await h.createApp()), ['auto', 'push', 'mobile_otp']);
  });

  it('applies a global policy to every application and stops when it is deleted', async () => {
    const app = await h.createApp();
    await h.createUser('global-frank', { totp: true });
    await h.store.setPolicy(
      'global',
      { networkRules: [{ ranges: ['100.64.0.0/10'], action: 'deny' }] },
      'test',
    );
    try {
      pastPolicyCache();
      const denied = await h.duo(app)('POST', '/auth/v2/preauth', {
        username: 'global-frank',
        ipaddr: '100.64.1.1',
      });
      assert.equal((denied.response as Answer).result, 'deny');
    } finally {
      await h.store.deletePolicy('global');
    }
    pastPolicyCache();
    const allowed = await h.duo(app)('POST', '/auth/v2/preauth', {
      username: 'global-frank',
      ipaddr: '100.64.1.1',
    });
    assert.equal((allowed.response as Answer).result, 'auth');
  });
});
