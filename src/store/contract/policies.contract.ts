// The Store contract: policies (run on both backends by store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { FixedClock } from '../../runtime/clock.ts';
import { isAirlockError } from '../../core/error-registry.ts';
import type { Store } from '../store.ts';
import { type ContractContext } from './harness.ts';

export function policiesContract(c: ContractContext): void {
  const { contractTest } = c;
  let store: Store;
  let clock: FixedClock;
  before(() => {
    ({ store, clock } = c.opened());
  });

  void describe('policies', () => {
    void contractTest(
      'setPolicy creates then replaces; getPolicy, listPolicies (global first) and deletePolicy',
      async () => {
        assert.equal(await store.getPolicy('global'), undefined);
        const global = await store.setPolicy(
          'global',
          { denyGroupIds: ['GD1'], networkRules: [{ ranges: ['10.0.0.0/8'], action: 'deny' }] },
          'cli:alice',
        );
        assert.deepEqual(global, {
          scope: 'global',
          policy: {
            denyGroupIds: ['GD1'],
            networkRules: [{ ranges: ['10.0.0.0/8'], action: 'deny' }],
          },
          updatedAtMs: clock.nowMs(),
          updatedBy: 'cli:alice',
        });
        await store.setPolicy('app:DIA', { allowedFactors: ['passcode'] }, 'cli:alice');
        clock.advance(5);
        const replaced = await store.setPolicy(
          'app:DIA',
          { newUserPolicy: 'deny', bypassGroupIds: [] },
          'cli:bob',
        );
        assert.deepEqual(await store.getPolicy('app:DIA'), replaced);
        assert.deepEqual(replaced.policy, { newUserPolicy: 'deny', bypassGroupIds: [] });
        assert.equal(replaced.updatedBy, 'cli:bob');
        assert.equal(replaced.updatedAtMs, clock.nowMs());
        await store.setPolicy('app:ABC', {}, 'cli:bob');
        assert.deepEqual(
          (await store.listPolicies()).map((p) => p.scope),
          ['global', 'app:ABC', 'app:DIA'],
        );
        assert.equal(await store.deletePolicy('app:ABC'), true);
        assert.equal(await store.deletePolicy('app:ABC'), false);
        assert.equal(await store.getPolicy('app:ABC'), undefined);
      },
    );

    void contractTest('setPolicy refuses a policy with problems, listing each one', async () => {
      await assert.rejects(
        store.setPolicy(
          'global',
          {
            allowedFactors: [],
            networkRules: [{ ranges: ['10.0.0.0/33'], action: 'deny' }],
          },
          'cli:alice',
        ),
        (err: unknown) => {
          assert.ok(isAirlockError(err) && err.code === 'POLICY_INVALID', String(err));
          assert.match(err.message, /allowedFactors: must name at least one factor/);
          assert.match(err.message, /networkRules\[0\]\.ranges/);
          return true;
        },
      );
      await assert.rejects(store.setPolicy('nope', {}, 'cli:alice'), /policy scope/);
      assert.equal(
        (await store.listPolicies()).some((p) => p.scope === 'nope'),
        false,
      );
    });
  });
}
