// The Store contract: transactions (run on both backends by store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { Store } from '../store.ts';
import {
  START_MS,
  rejectsWith,
  newApplication,
  totpToken,
  type ContractContext,
} from './harness.ts';

export function transactionsContract(c: ContractContext): void {
  const { contractTest } = c;
  let store: Store;
  before(() => {
    ({ store } = c.opened());
  });

  void describe('transactions', () => {
    void contractTest('transaction commits when fn resolves and returns its value', async () => {
      const result = await store.transaction(async (tx) => {
        await tx.createUser({ id: 'TR1', username: 'tr1' });
        assert.ok(await tx.getUser('TR1'), 'a transaction sees its own writes');
        return 42;
      });
      assert.equal(result, 42);
      assert.ok(await store.getUser('TR1'));
    });

    void contractTest(
      'transaction rolls back every write when fn throws, and rethrows',
      async () => {
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.createUser({ id: 'TR2', username: 'tr2', aliases: ['tr2-alias'] });
            await tx.createGroup({ id: 'GTR2', name: 'tr2 group' });
            await tx.appendAudit({
              tsMs: START_MS,
              actor: 'system',
              action: 'rollback.test',
              targetType: null,
              targetId: null,
              appId: null,
              username: null,
              result: null,
              ip: null,
              detail: {},
            });
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.equal(await store.getUser('TR2'), undefined);
        assert.equal(await store.findUser('tr2-alias'), undefined);
        assert.equal(await store.getGroup('GTR2'), undefined);
        assert.deepEqual(await store.listAudit({ action: 'rollback.test' }), []);
      },
    );

    void contractTest(
      'a nested transaction joins the outer one: a later throw rolls back both',
      async () => {
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.transaction(async (inner) => {
              await inner.createUser({ id: 'TR3', username: 'tr3' });
            });
            await tx.setApplicationGroups(
              (await tx.createApplication(newApplication('tr3'))).id,
              [],
            );
            throw new Error('after nested');
          }),
          /after nested/,
        );
        assert.equal(await store.getUser('TR3'), undefined);
        assert.equal(await store.getApplication('app tr3'), undefined);
      },
    );

    void contractTest(
      'runBatch commits every unit in one transaction and rolls back only the unit that throws',
      async () => {
        const results = await store.runBatch([
          async (tx) => (await tx.createUser({ id: 'RB1', username: 'rb1' })).id,
          async (tx) => {
            await tx.createUser({ id: 'RB2', username: 'rb2' });
            await tx.createUser({ id: 'RB2b', username: 'rb1' }); // conflicts with RB1
            return 'unreachable';
          },
          async (tx) => (await tx.createGroup({ id: 'GRB3', name: 'rb3' })).id,
        ]);
        assert.deepEqual(
          results.map((r) => r.status),
          ['fulfilled', 'rejected', 'fulfilled'],
        );
        assert.ok(await store.getUser('RB1'));
        assert.equal(await store.getUser('RB2'), undefined, 'the failed unit left nothing behind');
        assert.ok(await store.getGroup('GRB3'));
      },
    );

    void contractTest('runBatch with one unit that throws writes nothing', async () => {
      const [result] = await store.runBatch([
        async (tx) => {
          await tx.createUser({ id: 'RB9', username: 'rb9' });
          throw new Error('unit failed');
        },
      ]);
      assert.equal(result?.status, 'rejected');
      assert.equal(await store.getUser('RB9'), undefined);
    });

    void contractTest(
      'loadAuthSubject returns the user by username, alias or id with groups, tokens and codes',
      async () => {
        await store.createUser({ id: 'AS1', username: 'subject', aliases: ['subj-alias'] });
        await store.createGroup({ id: 'GAS1', name: 'subject group', status: 'bypass' });
        await store.addGroupMember('GAS1', 'AS1');
        await store.addOtpToken(totpToken('TAS1', 'AS1'));
        await store.replaceBypassCodes('AS1', [
          { id: 'BAS1', codeHash: 'h', remainingUses: 2, expiresAtMs: null },
        ]);
        for (const ref of [
          { username: 'subject' },
          { username: 'subj-alias' },
          { userId: 'AS1' },
        ]) {
          const subject = await store.loadAuthSubject(ref);
          assert.ok(subject, JSON.stringify(ref));
          assert.equal(subject.user.id, 'AS1');
          assert.deepEqual(subject.user.aliases, ['subj-alias']);
          assert.deepEqual(
            subject.groups.map((g) => [g.id, g.status]),
            [['GAS1', 'bypass']],
          );
          assert.deepEqual(
            subject.tokens.map((t) => t.id),
            ['TAS1'],
          );
          assert.equal(subject.tokens[0]!.secret, totpToken('TAS1', 'AS1').secret, 'secret opened');
          assert.deepEqual(
            subject.bypassCodes.map((c) => [c.id, c.remainingUses]),
            [['BAS1', 2]],
          );
        }
        assert.equal(await store.loadAuthSubject({ username: 'nobody' }), undefined);
        assert.equal(await store.loadAuthSubject({ userId: 'NOPE' }), undefined);
      },
    );

    void contractTest(
      'a failed constraint inside a transaction surfaces as StoreError and rolls back',
      async () => {
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.createGroup({ id: 'GTR4', name: 'tr4' });
            await tx.createGroup({ id: 'GTR4b', name: 'tr4' });
          }),
          rejectsWith('STORE_CONFLICT', /name "tr4"/),
        );
        assert.equal(await store.getGroup('GTR4'), undefined);
      },
    );
  });
}
