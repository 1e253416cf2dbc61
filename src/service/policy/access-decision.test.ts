import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EmergencyControl } from '../../core/emergency-control.ts';
import type { Application, Group, User } from '../../core/model.ts';
import { FixedClock } from '../../runtime/clock.ts';
import type { AuthSubject, Store, StoredPolicy } from '../../store/store.ts';
import {
  AccessDecision,
  buildPolicyInput,
  loadPolicySnapshot,
  requestedFactor,
} from './access-decision.ts';

const NOW = 1_700_000_000_000;

const app: Application = {
  id: 'DIAPP',
  name: 'vpn',
  ikey: 'DIAPP',
  skey: 's',
  type: 'auth-api',
  newUserPolicy: 'enroll',
  restrictionLevel: 'restrictive',
  rateLimitPerSecond: 0,
  verifiedPush: false,
  usernameNormalization: 'simple',
  allowV1Signature: false,
  allowedGroupIds: [],
  redirectUris: [],
  rememberDeviceHours: 0,
  createdAtMs: 0,
  updatedAtMs: 0,
};

function subject(groups: Group[] = []): AuthSubject {
  const user: User = {
    id: 'DU1',
    username: 'alice',
    aliases: [],
    realName: null,
    email: null,
    status: 'active',
    failedAttempts: 0,
    lockedUntilMs: null,
    createdAtMs: 0,
    updatedAtMs: 0,
  };
  return {
    user,
    groups,
    tokens: [
      {
        id: 'T1',
        userId: 'DU1',
        type: 'totp',
        secret: 'JBSWY3DPEHPK3PXP',
        algorithm: 'SHA1',
        digits: 6,
        periodSeconds: 30,
        counter: 0,
        lastStep: null,
        name: null,
        createdAtMs: 0,
      },
    ],
    bypassCodes: [],
    devices: [],
    smsPasscodes: [],
  };
}

const oncall: Group = {
  id: 'DGONCALL',
  name: 'oncall',
  description: null,
  status: 'active',
  createdAtMs: 0,
  updatedAtMs: 0,
};

function bypassControl(expiresAtMs: number): EmergencyControl {
  return {
    id: 'EC1',
    scope: { kind: 'app-bypass-groups', appId: app.id, groupIds: [oncall.id] },
    reason: 'INC-1',
    actor: 'cli:alice',
    createdAtMs: NOW,
    expiresAtMs,
    state: 'active',
  };
}

/** A store with only what the snapshot reads; counts the reads. */
function fakeStore(state: { policies: StoredPolicy[]; controls: EmergencyControl[] }) {
  const reads = { count: 0 };
  const store = {
    listPolicies: () => {
      reads.count++;
      return Promise.resolve(state.policies);
    },
    listEmergencyControls: (q: { state?: string } = {}) =>
      Promise.resolve(state.controls.filter((c) => q.state === undefined || c.state === q.state)),
  } as unknown as Store;
  return { store, reads };
}

describe('access decision', () => {
  it('decides as decidePreauth does when there is no policy', async () => {
    const { store } = fakeStore({ policies: [], controls: [] });
    const access = new AccessDecision(store, new FixedClock(NOW), 1_000);
    const d = await access.decide(app, subject(), { nowMs: NOW });
    assert.deepEqual([d.result, d.reason, d.statusMsg], ['auth', 'enrolled', 'Account is active']);
    const unknown = await access.decide(app, undefined, { nowMs: NOW });
    assert.equal(unknown.reason, 'new-user-enroll');
  });

  it('reads the policies at most once per TTL and sees a change after it', async () => {
    const state = { policies: [] as StoredPolicy[], controls: [] as EmergencyControl[] };
    const { store, reads } = fakeStore(state);
    const clock = new FixedClock(NOW);
    const access = new AccessDecision(store, clock, 1_000);
    await Promise.all([
      access.decide(app, subject(), { nowMs: NOW }),
      access.decide(app, subject(), { nowMs: NOW }),
    ]);
    assert.equal(reads.count, 1, 'concurrent logins share one load');
    state.policies = [
      {
        scope: `app:${app.id}`,
        policy: { networkRules: [{ ranges: ['10.0.0.0/8'], action: 'deny' }] },
        updatedAtMs: NOW,
        updatedBy: 'test',
      },
    ];
    clock.advance(999);
    const cached = await access.decide(app, subject(), {
      nowMs: clock.nowMs(),
      clientIp: '10.1.2.3',
    });
    assert.equal(cached.result, 'auth', 'still the cached snapshot');
    clock.advance(1);
    const fresh = await access.decide(app, subject(), {
      nowMs: clock.nowMs(),
      clientIp: '10.1.2.3',
    });
    assert.equal(fresh.reason, 'network-deny');
    assert.equal(reads.count, 2);
    access.invalidate();
    await access.decide(app, subject(), { nowMs: clock.nowMs() });
    assert.equal(reads.count, 3, 'invalidate forces a reload');
  });

  it('applies an emergency bypass until its expiry, even before its revert has run', async () => {
    const { store } = fakeStore({ policies: [], controls: [bypassControl(NOW + 60_000)] });
    const snapshot = await loadPolicySnapshot(store);
    const during = buildPolicyInput(app, subject([oncall]), snapshot, { nowMs: NOW + 59_999 });
    assert.deepEqual(during.emergencyOverlays, [
      { controlId: 'EC1', appId: app.id, groupIds: [oncall.id] },
    ]);
    const clock = new FixedClock(NOW + 59_999);
    const access = new AccessDecision(store, clock, 1_000);
    const allowed = await access.decide(app, subject([oncall]), { nowMs: clock.nowMs() });
    assert.equal(allowed.reason, 'emergency-bypass-group');
    // Same cached snapshot (control still "active"), one millisecond later: the expiry decides.
    const after = await access.decide(app, subject([oncall]), { nowMs: NOW + 60_000 });
    assert.equal(after.reason, 'enrolled');
  });

  it('splits the global policy from application policies', async () => {
    const { store } = fakeStore({
      policies: [
        { scope: 'global', policy: { denyGroupIds: ['G1'] }, updatedAtMs: 0, updatedBy: 't' },
        {
          scope: 'app:DIAPP',
          policy: { allowedFactors: ['push'] },
          updatedAtMs: 0,
          updatedBy: 't',
        },
      ],
      controls: [],
    });
    const snapshot = await loadPolicySnapshot(store);
    assert.deepEqual(snapshot.globalPolicy, { denyGroupIds: ['G1'] });
    assert.deepEqual(snapshot.appPolicies.get('DIAPP'), { allowedFactors: ['push'] });
    const input = buildPolicyInput(app, undefined, snapshot, { nowMs: NOW, clientIp: '10.0.0.1' });
    assert.equal(input.user, undefined);
    assert.equal(input.clientIp, '10.0.0.1');
  });

  it('maps the factor an /auth call asks for', () => {
    assert.equal(requestedFactor('passcode', undefined), 'passcode');
    assert.equal(requestedFactor('auto', undefined), 'push');
    assert.equal(requestedFactor('push', undefined), 'push');
    assert.equal(requestedFactor('sms', undefined), 'sms');
    assert.equal(requestedFactor('prompt', 'push1'), 'push');
    assert.equal(requestedFactor('prompt', 'verified_push2'), 'push');
    assert.equal(requestedFactor('prompt', 'phone1'), 'phone');
    assert.equal(requestedFactor('prompt', '123456'), 'passcode');
    assert.equal(requestedFactor('nonsense', undefined), undefined);
    assert.equal(requestedFactor(undefined, undefined), undefined);
  });
});
