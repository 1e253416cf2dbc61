// The Store contract: audit log (run on both backends by store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { Store } from '../store.ts';
import { START_MS, type RawSql, count, type ContractContext } from './harness.ts';

export function auditContract(c: ContractContext): void {
  const { contractTest } = c;
  let store: Store;
  let raw: RawSql;
  before(() => {
    ({ store, raw } = c.opened());
  });

  void describe('audit log', () => {
    const event = (n: number, overrides: Record<string, unknown> = {}) => ({
      tsMs: START_MS + n,
      actor: 'cli:root',
      action: n % 2 === 0 ? 'user.create' : 'auth.passcode',
      targetType: 'user',
      targetId: `U${n}`,
      appId: null,
      username: n % 3 === 0 ? 'audited' : `someone${n}`,
      result: 'success',
      ip: '127.0.0.1',
      detail: { n, nested: { ok: true } },
      ...overrides,
    });

    void contractTest(
      'appendAudit returns increasing ids and listAudit returns events in id order, detail intact',
      async () => {
        const ids = [];
        for (let n = 1; n <= 6; n++) ids.push(await store.appendAudit(event(n)));
        assert.deepEqual(
          ids,
          [...ids].sort((a, b) => a - b),
        );
        assert.equal(new Set(ids).size, 6);
        const listed = await store.listAudit();
        assert.deepEqual(
          listed.slice(0, 6),
          ids.map((id, i) => ({ id, ...event(i + 1) })),
        );
      },
    );

    void contractTest(
      'listAudit filters by afterId, time range (since inclusive, until exclusive), action and username',
      async () => {
        const all = await store.listAudit();
        const third = all[2];
        assert.ok(third);
        assert.deepEqual(await store.listAudit({ afterId: third.id }), all.slice(3));
        assert.deepEqual(
          (await store.listAudit({ sinceMs: START_MS + 2, untilMs: START_MS + 5 })).map(
            (e) => e.tsMs,
          ),
          [START_MS + 2, START_MS + 3, START_MS + 4],
        );
        assert.deepEqual(
          (await store.listAudit({ action: 'user.create' })).map((e) => e.targetId),
          ['U2', 'U4', 'U6'],
        );
        assert.deepEqual(
          (await store.listAudit({ username: 'audited', action: 'user.create' })).map(
            (e) => e.targetId,
          ),
          ['U6'],
        );
        assert.deepEqual(await store.listAudit({ sinceMs: START_MS + 10 ** 9 }), []);
        assert.deepEqual(await store.listAudit({ limit: 2 }), all.slice(0, 2));
      },
    );

    void contractTest(
      'listAudit and countAudit filter by actions, actor prefixes, targets and applications; desc pages back',
      async () => {
        const base = 50_000;
        const ids: number[] = [];
        for (const [n, actor, action, appId] of [
          [1, 'app:DIX', 'auth.passcode', 'DIX'],
          [2, 'admin:root', 'user.create', null],
          [3, 'app:DIY', 'auth.push', 'DIY'],
          [4, 'cli:ops', 'group.create', null],
          [5, 'app:DIX', 'auth.preauth', 'DIX'],
          [6, 'adm%n:x', 'user.delete', null],
        ] as const) {
          ids.push(
            await store.appendAudit(event(base + n, { actor, action, appId, targetId: `T${n}` })),
          );
        }
        const window = { sinceMs: START_MS + base, untilMs: START_MS + base + 10 };
        const auth = { ...window, actions: ['auth.passcode', 'auth.push', 'auth.preauth'] };
        assert.deepEqual(
          (await store.listAudit(auth)).map((e) => e.targetId),
          ['T1', 'T3', 'T5'],
        );
        assert.equal(await store.countAudit(auth), 3);
        assert.deepEqual(
          (await store.listAudit({ ...auth, order: 'desc', limit: 2 })).map((e) => e.targetId),
          ['T5', 'T3'],
        );
        assert.deepEqual(
          (await store.listAudit({ ...auth, order: 'desc', beforeId: ids[2] })).map(
            (e) => e.targetId,
          ),
          ['T1'],
        );
        assert.deepEqual(
          (await store.listAudit({ ...auth, appIds: ['DIX'] })).map((e) => e.targetId),
          ['T1', 'T5'],
        );
        assert.equal(await store.countAudit({ ...auth, targetIds: ['T3', 'T9'] }), 1);
        const admins = { ...window, actorPrefixes: ['admin:', 'cli:'] };
        assert.deepEqual(
          (await store.listAudit(admins)).map((e) => e.targetId),
          ['T2', 'T4'],
        );
        // A prefix is literal: `adm%` is no wildcard.
        assert.equal(await store.countAudit({ ...window, actorPrefixes: ['adm%'] }), 1);
        assert.deepEqual(await store.listAudit({ ...window, actions: [] }), []);
        assert.equal(await store.countAudit({ ...window, actorPrefixes: [] }), 0);
      },
    );

    void contractTest('listAudit returns 100 events by default and at most 1000', async () => {
      await store.transaction(async (tx) => {
        for (let n = 0; n < 1005; n++) await tx.appendAudit(event(100 + n, { action: 'bulk' }));
      });
      assert.equal((await store.listAudit({ action: 'bulk' })).length, 100);
      assert.equal((await store.listAudit({ action: 'bulk', limit: 5000 })).length, 1000);
    });

    void contractTest('the database refuses UPDATE and DELETE of audit events', async () => {
      const before = await raw.query('SELECT COUNT(*) AS n FROM audit_events');
      await assert.rejects(raw.query(`UPDATE audit_events SET actor = 'forged'`), /append-only/);
      await assert.rejects(raw.query('DELETE FROM audit_events'), /append-only/);
      assert.deepEqual(await raw.query('SELECT COUNT(*) AS n FROM audit_events'), before);
      assert.equal(await count(raw, 'audit_events', `actor = 'forged'`), 0);
    });
  });
}
