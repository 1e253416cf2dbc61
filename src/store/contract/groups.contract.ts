// The Store contract: groups (run on both backends by store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { FixedClock } from '../../runtime/clock.ts';
import type { Store } from '../store.ts';
import { rejectsWith, type ContractContext } from './harness.ts';

export function groupsContract(c: ContractContext): void {
  const { contractTest, createUser } = c;
  let store: Store;
  let clock: FixedClock;
  before(() => {
    ({ store, clock } = c.opened());
  });

  void describe('groups', () => {
    void contractTest(
      'createGroup, getGroup by id or name, listGroups by name, setGroupStatus',
      async () => {
        const group = await store.createGroup({
          id: 'G1',
          name: 'engineering',
          description: 'eng',
        });
        assert.deepEqual(group, {
          id: 'G1',
          name: 'engineering',
          description: 'eng',
          status: 'active',
          createdAtMs: clock.nowMs(),
          updatedAtMs: clock.nowMs(),
        });
        assert.deepEqual(await store.getGroup('G1'), group);
        assert.deepEqual(await store.getGroup('engineering'), group);
        assert.equal(await store.getGroup('nope'), undefined);
        const names = (await store.listGroups()).map((g) => g.name);
        assert.ok(names.includes('engineering'));
        assert.deepEqual(names, [...names].sort());
        clock.advance(1);
        const bypassed = await store.setGroupStatus('G1', 'bypass');
        assert.equal(bypassed.status, 'bypass');
        assert.equal(bypassed.updatedAtMs, clock.nowMs());
        await assert.rejects(
          store.setGroupStatus('GNOPE', 'active'),
          rejectsWith('STORE_NOT_FOUND', /GNOPE/),
        );
      },
    );

    void contractTest('a duplicate group name is refused with a conflict naming it', async () => {
      await store.createGroup({ id: 'G2', name: 'sales' });
      await assert.rejects(
        store.createGroup({ id: 'G2b', name: 'sales' }),
        rejectsWith('STORE_CONFLICT', /group with name "sales" already exists/),
      );
    });

    void contractTest(
      'addGroupMember and removeGroupMember report whether they changed anything',
      async () => {
        await store.createGroup({ id: 'G3', name: 'g3' });
        await store.createGroup({ id: 'G3b', name: 'g3b' });
        await createUser('M1', { aliases: ['m1-alias'] });
        await createUser('M2');
        assert.equal(await store.addGroupMember('G3', 'M1'), true);
        assert.equal(await store.addGroupMember('G3', 'M1'), false);
        assert.equal(await store.addGroupMember('G3', 'M2'), true);
        assert.equal(await store.addGroupMember('G3b', 'M1'), true);
        assert.deepEqual(
          (await store.listGroupMembers('G3')).map((u) => [u.id, u.aliases]),
          [
            ['M1', ['m1-alias']],
            ['M2', []],
          ],
        );
        assert.deepEqual(
          (await store.listUserGroups('M1')).map((g) => g.id),
          ['G3', 'G3b'],
        );
        assert.equal(await store.removeGroupMember('G3', 'M1'), true);
        assert.equal(await store.removeGroupMember('G3', 'M1'), false);
        assert.deepEqual(
          (await store.listUserGroups('M1')).map((g) => g.id),
          ['G3b'],
        );
        assert.deepEqual(await store.listGroupMembers('GNOPE'), []);
      },
    );

    void contractTest(
      'a membership records the emergency control that made it until an admin claims it',
      async () => {
        await store.createGroup({ id: 'G4', name: 'g4', status: 'bypass' });
        for (const id of ['MO1', 'MO2', 'MO3', 'MO4']) await createUser(id);
        assert.equal(await store.addGroupMember('G4', 'MO1', 'EC1'), true);
        assert.equal(await store.addGroupMember('G4', 'MO2', 'EC1'), true);
        assert.equal(await store.addGroupMember('G4', 'MO3'), true);
        // A control adding an existing member takes nothing over.
        assert.equal(await store.addGroupMember('G4', 'MO3', 'EC2'), false);
        const origins = async () =>
          (await store.listGroupMemberOrigins('G4'))
            .map((m) => [m.userId, m.addedByControl])
            .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
        assert.deepEqual(await origins(), [
          ['MO1', 'EC1'],
          ['MO2', 'EC1'],
          ['MO3', null],
        ]);
        // An admin adding a member a control made claims it: the control's revert keeps it.
        assert.equal(await store.claimGroupMember('G4', 'MO1'), 'EC1');
        assert.equal(await store.claimGroupMember('G4', 'MO1'), undefined);
        assert.equal(await store.claimGroupMember('G4', 'MO3'), undefined);
        assert.equal(await store.claimGroupMember('G4', 'MO4'), undefined, 'not a member');
        assert.deepEqual(await origins(), [
          ['MO1', null],
          ['MO2', 'EC1'],
          ['MO3', null],
        ]);
        // A revert removes only memberships a control made.
        assert.equal(
          await store.removeGroupMember('G4', 'MO1', { onlyAddedByControl: true }),
          false,
        );
        assert.equal(
          await store.removeGroupMember('G4', 'MO2', { onlyAddedByControl: true }),
          true,
        );
        assert.equal(await store.removeGroupMember('G4', 'MO3'), true);
        assert.deepEqual(await origins(), [['MO1', null]]);
        assert.deepEqual(await store.listGroupMemberOrigins('GNOPE'), []);
      },
    );

    void contractTest('addGroupMember with an unknown group or user is refused', async () => {
      await assert.rejects(
        store.addGroupMember('G3', 'UNOPE'),
        rejectsWith('STORE_NOT_FOUND', /UNOPE/),
      );
      await assert.rejects(
        store.addGroupMember('GNOPE', 'M2'),
        rejectsWith('STORE_NOT_FOUND', /GNOPE/),
      );
    });
  });
}
