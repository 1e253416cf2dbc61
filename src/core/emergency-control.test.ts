import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EMERGENCY_DEFAULT_LIMITS,
  activeOverlays,
  dueForRevert,
  planEmergency,
  planExpiry,
  planRevert,
  type EmergencyControl,
  type EmergencyOperation,
  type EmergencyRequest,
  type EmergencyWorld,
} from './emergency-control.ts';
import { evaluatePolicy } from './policy.ts';

const T0 = 1_800_000_000_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function request(overrides: Partial<EmergencyRequest> = {}): EmergencyRequest {
  return {
    id: 'E1',
    scope: { kind: 'app-bypass-groups', appId: 'A1', groupIds: ['G1'] },
    reason: 'SMS delivery failing',
    actor: 'cli:alice',
    ...overrides,
  };
}

function planned(req: EmergencyRequest, nowMs: number, world?: EmergencyWorld) {
  const r = planEmergency(req, nowMs, EMERGENCY_DEFAULT_LIMITS, world);
  assert.ok(r.ok, r.ok ? '' : r.errors.join('; '));
  return r;
}

/**
 * Group memberships as the store keeps them: the members, and of those the ones an emergency
 * control made (`group_members.added_by_control`, migration 0009).
 */
interface Memberships {
  members: Record<string, string[]>;
  byControl: Record<string, string[]>;
}

function memberships(members: Record<string, string[]>): Memberships {
  return {
    members: structuredClone(members),
    byControl: Object.fromEntries(Object.keys(members).map((g) => [g, []])),
  };
}

function worldOf(m: Memberships, controls: EmergencyControl[]): EmergencyWorld {
  return { groupMembers: m.members, controlMembers: m.byControl, controls };
}

const without = (list: string[] | undefined, userId: string) =>
  (list ?? []).filter((u) => u !== userId);

/** Applies a control's operations, as the runner does: its additions are the control's. */
function apply(m: Memberships, ops: EmergencyOperation[]) {
  for (const op of ops) {
    if (op.op === 'add-group-member') {
      (m.members[op.groupId] ??= []).push(op.userId);
      (m.byControl[op.groupId] ??= []).push(op.userId);
    }
    if (op.op === 'remove-group-member') {
      // The store removes only a membership a control made (onlyAddedByControl).
      if (!(m.byControl[op.groupId] ?? []).includes(op.userId)) continue;
      m.members[op.groupId] = without(m.members[op.groupId], op.userId);
      m.byControl[op.groupId] = without(m.byControl[op.groupId], op.userId);
    }
  }
}

/** An administrator adds a user by hand (the group operation): a control's membership is claimed. */
function addByHand(m: Memberships, groupId: string, userId: string) {
  if (!(m.members[groupId] ?? []).includes(userId)) (m.members[groupId] ??= []).push(userId);
  m.byControl[groupId] = without(m.byControl[groupId], userId);
}

function removeByHand(m: Memberships, groupId: string, userId: string) {
  m.members[groupId] = without(m.members[groupId], userId);
  m.byControl[groupId] = without(m.byControl[groupId], userId);
}

describe('planEmergency', () => {
  it('expires after one hour when no expiry is given', () => {
    const r = planned(request(), T0);
    assert.equal(r.control.expiresAtMs, T0 + HOUR);
    assert.equal(r.control.state, 'active');
    assert.equal(r.control.createdAtMs, T0);
    assert.deepEqual(r.operations, [{ op: 'start-app-bypass', appId: 'A1', groupIds: ['G1'] }]);
  });

  it('takes a duration or an absolute expiry', () => {
    assert.equal(
      planned(request({ durationMs: 30 * MINUTE }), T0).control.expiresAtMs,
      T0 + 30 * MINUTE,
    );
    assert.equal(
      planned(request({ expiresAtMs: T0 + 2 * HOUR }), T0).control.expiresAtMs,
      T0 + 2 * HOUR,
    );
  });

  it('refuses an expiry beyond the configured maximum', () => {
    const r = planEmergency(request({ durationMs: 25 * HOUR }), T0);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.errors.join(), /at most 24 hours/);
    const custom = planEmergency(request({ durationMs: 3 * HOUR }), T0, {
      defaultDurationMs: HOUR,
      maxDurationMs: 2 * HOUR,
    });
    assert.equal(custom.ok, false);
    assert.equal(planEmergency(request({ durationMs: 24 * HOUR }), T0).ok, true);
  });

  it('caps primary-only mode at 4 hours whatever the configured maximum', () => {
    const scope = { kind: 'primary-only', proxy: 'proxy-1' } as const;
    assert.equal(planEmergency(request({ scope, durationMs: 4 * HOUR }), T0).ok, true);
    const r = planEmergency(request({ scope, durationMs: 4 * HOUR + 1 }), T0);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.errors.join(), /at most 4 hours/);
  });

  it('reports every problem at once', () => {
    const r = planEmergency(
      request({
        reason: ' ',
        actor: '',
        durationMs: 5,
        expiresAtMs: T0 + 5,
        scope: { kind: 'app-bypass-groups', appId: '', groupIds: [] },
      }),
      T0,
    );
    assert.equal(r.ok, false);
    assert.deepEqual(r.ok ? [] : r.errors.map((e) => e.split(':')[0]), [
      'reason',
      'actor',
      'expiry',
      'scope',
      'scope',
    ]);
  });

  it('refuses a past expiry and a zero or fractional duration', () => {
    assert.equal(planEmergency(request({ expiresAtMs: T0 }), T0).ok, false);
    assert.equal(planEmergency(request({ durationMs: 0 }), T0).ok, false);
    assert.equal(planEmergency(request({ durationMs: 1.5 }), T0).ok, false);
  });

  it('records only the users it actually adds to the bypass group', () => {
    const r = planned(
      request({
        scope: { kind: 'users-to-bypass-group', groupId: 'BYP', userIds: ['u1', 'u2', 'u2', 'u3'] },
      }),
      T0,
      worldOf(memberships({ BYP: ['u2', 'u9'] }), []),
    );
    assert.deepEqual(r.control.scope, {
      kind: 'users-to-bypass-group',
      groupId: 'BYP',
      requestedUserIds: ['u1', 'u2', 'u3'],
      addedUserIds: ['u1', 'u3'],
      alreadyMemberUserIds: ['u2'],
    });
    assert.deepEqual(r.operations, [
      { op: 'add-group-member', groupId: 'BYP', userId: 'u1' },
      { op: 'add-group-member', groupId: 'BYP', userId: 'u3' },
    ]);
  });

  it('refuses to move users without knowing the group’s current members', () => {
    const r = planEmergency(
      request({ scope: { kind: 'users-to-bypass-group', groupId: 'BYP', userIds: ['u1'] } }),
      T0,
    );
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.errors.join(), /current members of group BYP/);
  });
});

describe('planExpiry: the one check of the configured maximum', () => {
  const limits = { defaultDurationMs: HOUR, maxDurationMs: 2 * HOUR };
  const app = { kind: 'app-bypass-groups' } as const;
  const proxy = { kind: 'primary-only' } as const;
  const cases: [string, Parameters<typeof planExpiry>[0], typeof limits, number | RegExp][] = [
    ['default duration', { scope: app }, limits, T0 + HOUR],
    [
      'default capped by a shorter maximum',
      { scope: app },
      { ...limits, maxDurationMs: 30 * MINUTE, defaultDurationMs: 30 * MINUTE },
      T0 + 30 * MINUTE,
    ],
    ['exactly the maximum', { scope: app, durationMs: 2 * HOUR }, limits, T0 + 2 * HOUR],
    [
      'one millisecond over the maximum',
      { scope: app, durationMs: 2 * HOUR + 1 },
      limits,
      /at most 2 hours/,
    ],
    [
      'an absolute expiry over the maximum',
      { scope: app, expiresAtMs: T0 + 3 * HOUR },
      limits,
      /at most 2 hours/,
    ],
    [
      'a maximum above 24 hours',
      { scope: app, durationMs: 48 * HOUR },
      { ...limits, maxDurationMs: 48 * HOUR },
      T0 + 48 * HOUR,
    ],
    [
      'primary-only within 4 hours under a larger maximum',
      { scope: proxy, durationMs: 4 * HOUR },
      { ...limits, maxDurationMs: 48 * HOUR },
      T0 + 4 * HOUR,
    ],
    [
      'primary-only over 4 hours under a larger maximum',
      { scope: proxy, durationMs: 5 * HOUR },
      { ...limits, maxDurationMs: 48 * HOUR },
      /at most 4 hours/,
    ],
    [
      'primary-only over a smaller maximum',
      { scope: proxy, durationMs: 3 * HOUR },
      limits,
      /at most 2 hours/,
    ],
    [
      'a duration and an expiry',
      { scope: app, durationMs: HOUR, expiresAtMs: T0 + HOUR },
      limits,
      /not both/,
    ],
    ['a zero duration', { scope: app, durationMs: 0 }, limits, /positive whole number/],
    ['a past expiry', { scope: app, expiresAtMs: T0 }, limits, /in the future/],
  ];
  for (const [name, req, l, expected] of cases) {
    it(`${name}: ${expected instanceof RegExp ? `refused (${expected.source})` : 'accepted'}`, () => {
      const r = planExpiry(req, T0, l);
      if (expected instanceof RegExp) assert.match(r.errors.join('; '), expected);
      else assert.deepEqual(r, { expiresAtMs: expected, errors: [] });
    });
  }
});

describe('expiry with an injected clock', () => {
  it('is due exactly at its expiry, not a millisecond before', () => {
    const { control } = planned(request({ durationMs: 10 * MINUTE }), T0);
    assert.deepEqual(dueForRevert([control], T0 + 10 * MINUTE - 1), []);
    assert.deepEqual(dueForRevert([control], T0 + 10 * MINUTE), [control]);
  });

  it('stops bypassing on time, even before the revert has run', () => {
    const { control } = planned(request({ durationMs: 10 * MINUTE }), T0);
    const login = (nowMs: number) =>
      evaluatePolicy({
        user: { status: 'active' },
        enrolled: true,
        groups: [{ id: 'G1', status: 'active' }],
        application: {
          id: 'A1',
          name: 'VPN',
          newUserPolicy: 'enroll',
          allowedGroupIds: [],
          restrictionLevel: 'restrictive',
        },
        emergencyOverlays: activeOverlays([control], nowMs),
      }).result;
    assert.equal(login(T0), 'allow');
    assert.equal(login(T0 + 10 * MINUTE - 1), 'allow');
    assert.equal(login(T0 + 10 * MINUTE), 'auth');
  });

  it('re-derives due controls from persisted records after a restart', () => {
    const a = planned(request({ id: 'E1', durationMs: 10 * MINUTE }), T0).control;
    const b = planned(request({ id: 'E2', durationMs: 2 * HOUR }), T0).control;
    const c = planned(request({ id: 'E3', durationMs: 5 * MINUTE }), T0).control;
    const reverted = planRevert(
      c,
      { groupMembers: {}, controls: [a, b, c] },
      {
        nowMs: T0 + MINUTE,
        by: 'cli:bob',
        why: 'SMS recovered',
        state: 'reverted',
      },
    );
    assert.ok(reverted.ok);
    // The process stops; only the records remain. It starts again an hour later.
    const persisted = JSON.parse(JSON.stringify([a, b, reverted.control])) as EmergencyControl[];
    assert.deepEqual(
      dueForRevert(persisted, T0 + HOUR).map((x) => x.id),
      ['E1'],
    );
    assert.deepEqual(
      activeOverlays(persisted, T0 + HOUR).map((o) => o.controlId),
      ['E2'],
    );
  });
});

describe('planRevert', () => {
  const ending = (nowMs: number, state: 'expired' | 'reverted' = 'expired') => ({
    nowMs,
    by: state === 'expired' ? 'system' : 'cli:bob',
    why: state === 'expired' ? 'expired' : 'SMS recovered',
    state,
  });

  it('moves back exactly the users it added, and keeps users who were members before', () => {
    const m = memberships({ BYP: ['u2', 'u9'] });
    const { control, operations } = planned(
      request({ scope: { kind: 'users-to-bypass-group', groupId: 'BYP', userIds: ['u1', 'u2'] } }),
      T0,
      worldOf(m, []),
    );
    apply(m, operations);
    assert.deepEqual(m.members.BYP, ['u2', 'u9', 'u1']);

    const r = planRevert(control, worldOf(m, [control]), ending(T0 + HOUR));
    assert.ok(r.ok);
    assert.deepEqual(r.operations, [{ op: 'remove-group-member', groupId: 'BYP', userId: 'u1' }]);
    apply(m, r.operations);
    assert.deepEqual(m.members.BYP, ['u2', 'u9']);
    assert.deepEqual(r.control, {
      ...control,
      state: 'expired',
      endedAtMs: T0 + HOUR,
      endedBy: 'system',
      endReason: 'expired',
    });
    assert.deepEqual(r.kept, [{ what: 'user u2', because: 'was a member before this control' }]);
  });

  it('does not remove a user another active control also added, whichever reverts first', () => {
    for (const firstToRevert of ['E1', 'E2']) {
      const m = memberships({ BYP: [] });
      const a = planned(
        request({
          id: 'E1',
          scope: { kind: 'users-to-bypass-group', groupId: 'BYP', userIds: ['u1'] },
        }),
        T0,
        worldOf(m, []),
      );
      apply(m, a.operations);
      const b = planned(
        request({
          id: 'E2',
          scope: { kind: 'users-to-bypass-group', groupId: 'BYP', userIds: ['u1', 'u2'] },
        }),
        T0 + MINUTE,
        worldOf(m, [a.control]),
      );
      // u1 is a member only because of E1, so E2 holds it too; it adds only u2.
      assert.deepEqual(b.operations, [{ op: 'add-group-member', groupId: 'BYP', userId: 'u2' }]);
      apply(m, b.operations);

      let controls = [a.control, b.control];
      const byId = (id: string) => controls.find((c) => c.id === id) as EmergencyControl;
      const first = planRevert(byId(firstToRevert), worldOf(m, controls), ending(T0 + 2 * HOUR));
      assert.ok(first.ok);
      assert.ok(!first.operations.some((o) => o.op === 'remove-group-member' && o.userId === 'u1'));
      apply(m, first.operations);
      assert.ok(
        m.members.BYP?.includes('u1'),
        `u1 stays while the other control is active (${firstToRevert})`,
      );
      controls = controls.map((c) => (c.id === firstToRevert ? first.control : c));

      const secondId = firstToRevert === 'E1' ? 'E2' : 'E1';
      const second = planRevert(byId(secondId), worldOf(m, controls), ending(T0 + 2 * HOUR));
      assert.ok(second.ok);
      apply(m, second.operations);
      assert.deepEqual(m.members.BYP, [], `both reverted (${firstToRevert} first)`);
    }
  });

  it('leaves alone a user an admin removed in the meantime', () => {
    const m = memberships({ BYP: [] });
    const { control, operations } = planned(
      request({ scope: { kind: 'users-to-bypass-group', groupId: 'BYP', userIds: ['u1', 'u2'] } }),
      T0,
      worldOf(m, []),
    );
    apply(m, operations);
    removeByHand(m, 'BYP', 'u1');
    const r = planRevert(control, worldOf(m, [control]), ending(T0 + HOUR));
    assert.ok(r.ok);
    assert.deepEqual(r.operations, [{ op: 'remove-group-member', groupId: 'BYP', userId: 'u2' }]);
    assert.deepEqual(r.kept, [{ what: 'user u1', because: 'is no longer a member' }]);
  });

  it('keeps, and lists as kept, a user an admin added by hand while the control was active', () => {
    // Each way an admin can make a control's member their own: add them by hand (already a
    // member through the control), or remove them and add them again.
    const hand = [
      ['adds the member by hand', (m: Memberships) => addByHand(m, 'BYP', 'u1')],
      [
        'removes and adds the member again',
        (m: Memberships) => {
          removeByHand(m, 'BYP', 'u1');
          addByHand(m, 'BYP', 'u1');
        },
      ],
    ] as const;
    for (const [how, act] of hand) {
      const m = memberships({ BYP: [] });
      const { control, operations } = planned(
        request({
          scope: { kind: 'users-to-bypass-group', groupId: 'BYP', userIds: ['u1', 'u2'] },
        }),
        T0,
        worldOf(m, []),
      );
      apply(m, operations);
      act(m);
      addByHand(m, 'BYP', 'u3'); // never named by the control
      const r = planRevert(control, worldOf(m, [control]), ending(T0 + HOUR));
      assert.ok(r.ok, how);
      assert.deepEqual(
        r.operations,
        [{ op: 'remove-group-member', groupId: 'BYP', userId: 'u2' }],
        how,
      );
      assert.deepEqual(
        r.kept,
        [{ what: 'user u1', because: 'was added by hand while this control was active' }],
        how,
      );
      apply(m, r.operations);
      assert.deepEqual(m.members.BYP?.sort(), ['u1', 'u3'], how);
    }
  });

  it('keeps a claimed user whichever of two controls holding them reverts first', () => {
    for (const firstToRevert of ['E1', 'E2']) {
      const m = memberships({ BYP: [] });
      const scope = { kind: 'users-to-bypass-group', groupId: 'BYP', userIds: ['u1'] } as const;
      const a = planned(request({ id: 'E1', scope }), T0, worldOf(m, []));
      apply(m, a.operations);
      const b = planned(request({ id: 'E2', scope }), T0, worldOf(m, [a.control]));
      apply(m, b.operations);
      addByHand(m, 'BYP', 'u1');
      let controls = [a.control, b.control];
      for (const id of [firstToRevert, firstToRevert === 'E1' ? 'E2' : 'E1']) {
        const control = controls.find((c) => c.id === id) as EmergencyControl;
        const r = planRevert(control, worldOf(m, controls), ending(T0 + 2 * HOUR));
        assert.ok(r.ok);
        assert.deepEqual(r.operations, [], `${id} (${firstToRevert} first)`);
        controls = controls.map((c) => (c.id === id ? r.control : c));
      }
      assert.deepEqual(m.members.BYP, ['u1']);
    }
  });

  it('records as already a member a user an admin claimed from another active control', () => {
    const m = memberships({ BYP: [] });
    const scope = { kind: 'users-to-bypass-group', groupId: 'BYP', userIds: ['u1'] } as const;
    const a = planned(request({ id: 'E1', scope }), T0, worldOf(m, []));
    apply(m, a.operations);
    addByHand(m, 'BYP', 'u1');
    const b = planned(request({ id: 'E2', scope }), T0, worldOf(m, [a.control]));
    assert.deepEqual(b.operations, []);
    assert.deepEqual(
      b.control.scope.kind === 'users-to-bypass-group' && [
        b.control.scope.addedUserIds,
        b.control.scope.alreadyMemberUserIds,
      ],
      [[], ['u1']],
    );
  });

  it('refuses to plan or revert users without knowing which memberships a control made', () => {
    const scope = { kind: 'users-to-bypass-group', groupId: 'BYP', userIds: ['u1'] } as const;
    const noOrigins = { groupMembers: { BYP: [] }, controls: [] };
    const plan = planEmergency(request({ scope }), T0, EMERGENCY_DEFAULT_LIMITS, noOrigins);
    assert.equal(plan.ok, false);
    assert.match(plan.ok ? '' : plan.errors.join(), /current members of group BYP/);
    const { control } = planned(request({ scope }), T0, worldOf(memberships({ BYP: [] }), []));
    const r = planRevert(control, { ...noOrigins, controls: [control] }, ending(T0 + HOUR));
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.errors.join(), /current members of group BYP/);
  });

  it('reverts on demand before expiry, recording who and why', () => {
    const { control } = planned(request(), T0);
    const r = planRevert(
      control,
      { groupMembers: {}, controls: [control] },
      ending(T0 + MINUTE, 'reverted'),
    );
    assert.ok(r.ok);
    assert.deepEqual(r.operations, [{ op: 'end-app-bypass', appId: 'A1', groupIds: ['G1'] }]);
    assert.equal(r.control.state, 'reverted');
    assert.equal(r.control.endedBy, 'cli:bob');
    assert.equal(r.control.endReason, 'SMS recovered');
    assert.deepEqual(activeOverlays([r.control], T0 + MINUTE), []);
  });

  it('refuses to mark a control expired before its expiry, or to revert it twice', () => {
    const { control } = planned(request(), T0);
    const world = { groupMembers: {}, controls: [control] };
    assert.equal(planRevert(control, world, ending(T0 + HOUR - 1)).ok, false);
    const done = planRevert(control, world, ending(T0 + HOUR));
    assert.ok(done.ok);
    const again = planRevert(done.control, world, ending(T0 + HOUR));
    assert.equal(again.ok, false);
    assert.match(again.ok ? '' : again.errors.join(), /already expired/);
  });

  it('keeps primary-only mode on while another control holds the same proxy section', () => {
    const scope = {
      kind: 'primary-only',
      proxy: 'proxy-1',
      section: 'radius_server_auto',
    } as const;
    const a = planned(request({ id: 'E1', scope }), T0);
    assert.deepEqual(a.operations, [
      {
        op: 'start-primary-only',
        proxy: 'proxy-1',
        section: 'radius_server_auto',
        expiresAtMs: T0 + HOUR,
      },
    ]);
    const b = planned(request({ id: 'E2', scope, durationMs: 2 * HOUR }), T0);
    const other = planned(request({ id: 'E3', scope: { ...scope, section: 'other' } }), T0);
    const world = { groupMembers: {}, controls: [a.control, b.control, other.control] };
    const r = planRevert(a.control, world, ending(T0 + HOUR));
    assert.ok(r.ok);
    assert.deepEqual(r.operations, []);
    assert.match(r.kept[0]?.because ?? '', /E2/);

    const alone = planRevert(
      b.control,
      { groupMembers: {}, controls: [r.control, b.control] },
      ending(T0 + 2 * HOUR),
    );
    assert.ok(alone.ok);
    assert.deepEqual(alone.operations, [
      { op: 'end-primary-only', proxy: 'proxy-1', section: 'radius_server_auto' },
    ]);
  });
});
