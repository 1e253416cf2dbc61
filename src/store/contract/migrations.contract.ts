// The Store contract: migrations (run on both backends by store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { Store } from '../store.ts';
import { type ContractContext } from './harness.ts';

export function migrationsContract(c: ContractContext): void {
  const { backend, contractTest } = c;
  let store: Store;
  before(() => {
    ({ store } = c.opened());
  });

  void describe('migrations', () => {
    void contractTest(
      'migrate applies every migration on an empty database, then returns [] when up to date',
      async () => {
        const fresh = await backend.open({ migrate: false });
        try {
          assert.deepEqual(await fresh.store.migrate(), [
            '0001-initial',
            '0002-devices',
            '0003-policies',
            '0004-admin',
            '0005-username-keys',
            '0006-sealed-aad',
            '0007-lockout-expiry',
            '0008-auth-transaction-without-user',
            '0009-membership-origin',
            '0010-allow-v1-signature',
            '0011-outage',
            '0012-web-sdk',
            '0013-shared-node-state',
            '0014-health-report-owner',
          ]);
          assert.deepEqual(await fresh.store.migrate(), []);
        } finally {
          await fresh.cleanup();
        }
      },
    );

    void contractTest('openStore has already migrated, so migrate returns []', async () => {
      assert.deepEqual(await store.migrate(), []);
    });

    void contractTest('the store reports its dialect', () => {
      assert.equal(store.dialect, backend.dialect);
    });
  });
}
