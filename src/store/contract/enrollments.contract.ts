// The Store contract: enrollments and auth transactions (run on both backends by store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { FixedClock } from '../../runtime/clock.ts';
import type { Store } from '../store.ts';
import { START_MS, rejectsWith, newApplication, type ContractContext } from './harness.ts';

export function enrollmentsContract(c: ContractContext): void {
  const { contractTest, createUser } = c;
  let store: Store;
  let clock: FixedClock;
  before(() => {
    ({ store, clock } = c.opened());
  });

  void describe('enrollments and auth transactions', () => {
    void contractTest(
      'createEnrollment, getEnrollment and setEnrollmentState round-trip',
      async () => {
        const app = await store.createApplication(newApplication('e1'));
        await createUser('E1');
        const enrollment = await store.createEnrollment({
          activationCode: 'AC1',
          userId: 'E1',
          appId: app.id,
          state: 'waiting',
          expiresAtMs: START_MS + 86_400_000,
        });
        assert.deepEqual(enrollment, {
          activationCode: 'AC1',
          userId: 'E1',
          appId: app.id,
          state: 'waiting',
          expiresAtMs: START_MS + 86_400_000,
          createdAtMs: clock.nowMs(),
        });
        assert.deepEqual(await store.getEnrollment('AC1'), enrollment);
        await store.setEnrollmentState('AC1', 'success');
        assert.equal((await store.getEnrollment('AC1'))?.state, 'success');
        assert.equal(await store.getEnrollment('ACNOPE'), undefined);
        await assert.rejects(
          store.setEnrollmentState('ACNOPE', 'success'),
          rejectsWith('STORE_NOT_FOUND', /ACNOPE/),
        );
        await assert.rejects(
          store.createEnrollment({ ...enrollment, activationCode: 'AC2', userId: 'UNOPE' }),
          rejectsWith('STORE_NOT_FOUND', /UNOPE/),
        );
        await assert.rejects(
          store.createEnrollment(enrollment),
          rejectsWith('STORE_CONFLICT', /enrollment/),
        );
      },
    );

    void contractTest(
      'createAuthTransaction, getAuthTransaction and updateAuthTransaction round-trip',
      async () => {
        const app = await store.createApplication(newApplication('x1'));
        await createUser('X1');
        const created = await store.createAuthTransaction({
          txid: 'TX1',
          appId: app.id,
          userId: 'X1',
          factor: 'push',
          result: 'waiting',
          status: 'pushed',
          statusMsg: 'Pushed a login request to your device...',
        });
        assert.equal(created.createdAtMs, clock.nowMs());
        assert.deepEqual(await store.getAuthTransaction('TX1'), created);
        clock.advance(2000);
        await store.updateAuthTransaction('TX1', {
          result: 'allow',
          status: 'allow',
          statusMsg: 'Success.',
        });
        assert.deepEqual(await store.getAuthTransaction('TX1'), {
          ...created,
          result: 'allow',
          status: 'allow',
          statusMsg: 'Success.',
          updatedAtMs: created.updatedAtMs + 2000,
        });
        assert.equal(await store.getAuthTransaction('TXNOPE'), undefined);
        // An unknown user's transaction (the new-user policy's answer) refers to no user.
        const unknownUsers = await store.createAuthTransaction({
          ...created,
          txid: 'TX2',
          userId: null,
          result: 'allow',
          status: 'allow',
        });
        assert.deepEqual(await store.getAuthTransaction('TX2'), unknownUsers);
        await assert.rejects(
          store.updateAuthTransaction('TXNOPE', {
            result: 'deny',
            status: 'deny',
            statusMsg: '',
          }),
          rejectsWith('STORE_NOT_FOUND', /TXNOPE/),
        );
        await assert.rejects(
          store.createAuthTransaction(created),
          rejectsWith('STORE_CONFLICT', /txid "TX1"/),
        );
      },
    );
  });
}
