// Per-source failure budgets: per (user, source), per source across users, refunds, eviction.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SOURCE_LIMITS, SourceFailureLimits, sourceLimitMessage } from './source-limits.ts';

const options = {
  perUserBurst: 3,
  perUserRefillSeconds: 60,
  perSourceBurst: 5,
  perSourceRefillSeconds: 10,
  maxTrackedKeys: 1000,
};
const attacker = { appId: 'DIA', ip: '203.0.113.9' };
const t0 = 1_000_000;

describe('SourceFailureLimits', () => {
  it('keeps the per-user budget below the default lockout threshold of 10', () => {
    assert.ok(DEFAULT_SOURCE_LIMITS.perUserBurst < 10);
  });

  it('refuses a source past its budget against one user, and refills it with time', () => {
    const limits = new SourceFailureLimits(options);
    for (let i = 0; i < 3; i++) assert.equal(limits.admit('U1', attacker, t0).ok, true);
    assert.deepEqual(limits.admit('U1', attacker, t0), {
      ok: false,
      scope: 'user-source',
      retryAfterSeconds: 60,
    });
    assert.equal(limits.admit('U1', attacker, t0 + 59_000).ok, false);
    assert.equal(limits.admit('U1', attacker, t0 + 60_000).ok, true);
  });

  it('keeps other sources and other users of the same source apart', () => {
    const limits = new SourceFailureLimits(options);
    for (let i = 0; i < 3; i++) limits.admit('U1', attacker, t0);
    assert.equal(limits.admit('U1', attacker, t0).ok, false);
    assert.equal(limits.admit('U1', { appId: 'DIA', ip: '198.51.100.7' }, t0).ok, true);
    assert.equal(limits.admit('U1', { appId: 'DIB', ip: attacker.ip }, t0).ok, true);
    assert.equal(limits.admit('U2', attacker, t0).ok, true);
  });

  it('refuses a source spraying many users once its budget across users is spent', () => {
    const limits = new SourceFailureLimits(options);
    for (let i = 0; i < 2; i++) assert.equal(limits.admit('U9', attacker, t0).ok, true);
    for (let i = 0; i < 3; i++) assert.equal(limits.admit(`U${i}`, attacker, t0).ok, true);
    const refused = limits.admit('U9', attacker, t0);
    assert.deepEqual(refused, { ok: false, scope: 'source', retryAfterSeconds: 10 });
    assert.equal(limits.admit('U9', attacker, t0).ok, false);
    // The refusals did not spend U9's own budget: one attempt is left once the source refills.
    assert.equal(limits.admit('U9', attacker, t0 + 10_000).ok, true);
  });

  it('has no budget across users for a source without ipaddr (the whole application)', () => {
    const limits = new SourceFailureLimits(options);
    for (let i = 0; i < 20; i++) {
      assert.equal(limits.admit(`U${i}`, { appId: 'DIA', ip: null }, t0).ok, true);
    }
    for (let i = 0; i < 2; i++) limits.admit('U0', { appId: 'DIA', ip: null }, t0);
    assert.equal(limits.admit('U0', { appId: 'DIA', ip: null }, t0).ok, false);
  });

  it('gives back a refunded attempt once, so successes never spend the budget', () => {
    const limits = new SourceFailureLimits(options);
    for (let i = 0; i < 10; i++) {
      const admitted = limits.admit('U1', attacker, t0);
      assert.equal(admitted.ok, true);
      if (admitted.ok) {
        admitted.refund();
        admitted.refund();
      }
    }
    for (let i = 0; i < 3; i++) assert.equal(limits.admit('U1', attacker, t0).ok, true);
    assert.equal(limits.admit('U1', attacker, t0).ok, false);
  });

  it('admits at most the budget from a burst of concurrent attempts', () => {
    const limits = new SourceFailureLimits(options);
    const admitted = Array.from({ length: 30 }, () => limits.admit('U1', attacker, t0));
    assert.equal(admitted.filter((a) => a.ok).length, 3);
  });

  it('keeps a spent budget when other sources fill the table', () => {
    const limits = new SourceFailureLimits({ ...options, maxTrackedKeys: 4 });
    for (let i = 0; i < 3; i++) limits.admit('U1', attacker, t0);
    assert.equal(limits.admit('U1', attacker, t0).ok, false);
    // One other (user, source) pair: two more keys; the table stays within 4.
    limits.admit('U2', { appId: 'DIA', ip: '198.51.100.1' }, t0);
    assert.equal(limits.admit('U1', attacker, t0).ok, false);
  });

  it('rejects budgets that are not positive', () => {
    assert.throws(() => new SourceFailureLimits({ ...options, perUserBurst: 0 }), RangeError);
    assert.throws(
      () => new SourceFailureLimits({ ...options, perSourceRefillSeconds: 0 }),
      RangeError,
    );
  });
});

describe('sourceLimitMessage', () => {
  it('names the address or the application and the wait in minutes or seconds', () => {
    assert.equal(
      sourceLimitMessage(attacker, 180),
      'Too many failed attempts from your address. Try again in 3 minutes.',
    );
    assert.equal(
      sourceLimitMessage({ appId: 'DIA', ip: null }, 61),
      'Too many failed attempts from this application. Try again in 2 minutes.',
    );
    assert.equal(
      sourceLimitMessage(attacker, 1),
      'Too many failed attempts from your address. Try again in 1 second.',
    );
  });
});

describe('SourceFailureLimits.admitWhenSettled', () => {
  const options = { ...DEFAULT_SOURCE_LIMITS, perUserBurst: 2 };
  const source = { appId: 'DIA', ip: '192.0.2.9' };

  it('admits concurrent right codes one after another as each attempt refunds', async () => {
    const limits = new SourceFailureLimits(options);
    const first = await limits.admitWhenSettled('U1', source, 0);
    const second = await limits.admitWhenSettled('U1', source, 0);
    assert.ok(first.ok && second.ok);
    let thirdDone = false;
    const third = Promise.resolve(limits.admitWhenSettled('U1', source, 0)).then((a) => {
      thirdDone = true;
      return a;
    });
    await Promise.resolve();
    assert.equal(thirdDone, false, 'waits while both units are reserved');
    first.refund();
    const admitted = await third;
    assert.equal(admitted.ok, true);
  });

  it('refuses once the attempts in flight settle as failures', async () => {
    const limits = new SourceFailureLimits(options);
    const first = await limits.admitWhenSettled('U1', source, 0);
    const second = await limits.admitWhenSettled('U1', source, 0);
    assert.ok(first.ok && second.ok);
    const third = limits.admitWhenSettled('U1', source, 0);
    first.spend();
    second.spend();
    const refused = await third;
    assert.equal(refused.ok, false);
    assert.equal(refused.ok === false && refused.scope, 'user-source');
  });

  it('refuses at once when nothing is in flight', async () => {
    const limits = new SourceFailureLimits(options);
    for (let i = 0; i < 2; i++) {
      const a = await limits.admitWhenSettled('U1', source, 0);
      assert.ok(a.ok);
      a.spend();
    }
    assert.equal((await limits.admitWhenSettled('U1', source, 0)).ok, false);
  });
});
