// The Store contract: emergency controls (run on both backends by store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { FixedClock } from '../../runtime/clock.ts';
import type { EmergencyControl } from '../../core/emergency-control.ts';
import type { Store } from '../store.ts';
import { rejectsWith, type ContractContext } from './harness.ts';

export function emergencyControlsContract(c: ContractContext): void {
  const { contractTest } = c;
  let store: Store;
  let clock: FixedClock;
  before(() => {
    ({ store, clock } = c.opened());
  });

  void describe('emergency controls', () => {
    const control = (id: string, expiresAtMs: number): EmergencyControl => ({
      id,
      scope: {
        kind: 'users-to-bypass-group',
        groupId: 'GB',
        requestedUserIds: ['U1', 'U2'],
        addedUserIds: ['U2'],
        alreadyMemberUserIds: ['U1'],
      },
      reason: 'INC-42',
      actor: 'cli:alice',
      createdAtMs: clock.nowMs(),
      expiresAtMs,
      state: 'active',
    });

    void contractTest(
      'createEmergencyControl keeps the whole record; list filters by state, oldest first',
      async () => {
        const a = await store.createEmergencyControl(control('EC1', clock.nowMs() + 60_000));
        assert.deepEqual(await store.getEmergencyControl('EC1'), a);
        clock.advance(1);
        await store.createEmergencyControl({
          id: 'EC2',
          scope: { kind: 'primary-only', proxy: '/var/lib/proxy' },
          reason: 'outage',
          actor: 'cli:bob',
          createdAtMs: clock.nowMs(),
          expiresAtMs: clock.nowMs() + 1000,
          state: 'active',
        });
        assert.equal(await store.getEmergencyControl('NOPE'), undefined);
        const ids = (await store.listEmergencyControls()).map((c) => c.id);
        assert.ok(ids.indexOf('EC1') < ids.indexOf('EC2'), ids.join());
        await assert.rejects(
          store.createEmergencyControl(control('EC1', clock.nowMs() + 1)),
          rejectsWith('STORE_CONFLICT', /emergency control with id "EC1"/),
        );
      },
    );

    void contractTest(
      'updateEmergencyControl applies only from the expected state, so only one reverter wins',
      async () => {
        const c = await store.createEmergencyControl(control('EC3', clock.nowMs() + 60_000));
        const reverted: EmergencyControl = {
          ...c,
          state: 'reverted',
          endedAtMs: clock.nowMs(),
          endedBy: 'cli:alice',
          endReason: 'over',
        };
        const expired: EmergencyControl = { ...c, state: 'expired', endedBy: 'system' };
        const [first, second] = await Promise.all([
          store.updateEmergencyControl(reverted, 'active'),
          store.updateEmergencyControl(expired, 'active'),
        ]);
        assert.equal([first, second].filter(Boolean).length, 1, 'exactly one update wins');
        const winner = first ? reverted : expired;
        assert.deepEqual(await store.getEmergencyControl('EC3'), winner);
        assert.ok(
          (await store.listEmergencyControls({ state: winner.state })).some((x) => x.id === 'EC3'),
        );
        assert.equal(
          (await store.listEmergencyControls({ state: 'active' })).some((x) => x.id === 'EC3'),
          false,
        );
        assert.equal(await store.updateEmergencyControl(reverted, 'active'), false);
      },
    );
  });
}
