// The Store contract: the result stream's events (run on both backends by store-contract.test.ts).
import assert from 'node:assert/strict';
import { before, describe } from 'node:test';
import type { FixedClock } from '../../runtime/clock.ts';
import type { NewResultEvent, ResultEvent } from '../result-event-store.ts';
import type { Store } from '../store.ts';
import type { ContractContext } from './harness.ts';

export function resultEventsContract(c: ContractContext): void {
  const { contractTest, backend } = c;
  let store: Store;
  let clock: FixedClock;
  before(() => {
    ({ store, clock } = c.opened());
  });

  const event = (txid: string, appId = 'app-r1'): NewResultEvent => ({
    appId,
    txid,
    result: 'allow',
    status: 'allow',
    statusMsg: 'Success. Logging you in...',
    createdAtMs: clock.nowMs(),
  });
  const txids = (events: ResultEvent[]) => events.map((e) => e.txid);

  void describe('result events', () => {
    void contractTest(
      'listed in the order written, after a key, per application, and pruned by age',
      async () => {
        const head = await store.latestResultEventKey();
        await store.appendResultEvent(event('r-1'));
        await store.transaction(async (tx) => {
          await tx.appendResultEvent(event('r-2', 'app-r2'));
          await tx.appendResultEvent(event('r-3'));
        });
        const all = await store.listResultEvents({ after: head, limit: 10 });
        assert.deepEqual(txids(all.events), ['r-1', 'r-2', 'r-3']);
        assert.equal(all.held, false);
        assert.deepEqual(all.events[1], {
          ...event('r-2', 'app-r2'),
          key: all.events[1]!.key,
        });
        assert.deepEqual(await store.latestResultEventKey(), all.events[2]!.key);
        const afterFirst = await store.listResultEvents({ after: all.events[0]!.key, limit: 10 });
        assert.deepEqual(txids(afterFirst.events), ['r-2', 'r-3']);
        const app1 = await store.listResultEvents({ after: head, appId: 'app-r1', limit: 10 });
        assert.deepEqual(txids(app1.events), ['r-1', 'r-3']);
        assert.deepEqual(txids((await store.listResultEvents({ after: head, limit: 2 })).events), [
          'r-1',
          'r-2',
        ]);
        clock.advance(60_000);
        await store.appendResultEvent(event('r-4'));
        assert.equal(await store.pruneResultEvents(clock.nowMs()), 3);
        assert.deepEqual(txids((await store.listResultEvents({ after: head, limit: 10 })).events), [
          'r-4',
        ]);
      },
    );

    void contractTest(
      'a result committed late is never passed over: later results wait until it is readable',
      async () => {
        const head = await store.latestResultEventKey();
        let commitFirst!: () => void;
        const firstMayCommit = new Promise<void>((resolve) => (commitFirst = resolve));
        let firstWritten!: () => void;
        const written = new Promise<void>((resolve) => (firstWritten = resolve));
        // The first result's transaction stays open while a second one commits.
        const first = store.transaction(async (tx) => {
          await tx.appendResultEvent(event('late-1'));
          firstWritten();
          await firstMayCommit;
        });
        await written;
        if (backend.dialect === 'postgres') {
          await store.appendResultEvent(event('late-2'));
          const during = await store.listResultEvents({ after: head, limit: 10 });
          assert.deepEqual(txids(during.events), [], 'the later result must wait');
          assert.equal(during.held, true);
          assert.deepEqual(await store.latestResultEventKey(), head);
          commitFirst();
          await first;
        } else {
          // One writer: the second write (and any read) waits for the open transaction.
          const second = store.appendResultEvent(event('late-2'));
          commitFirst();
          await first;
          await second;
        }
        const after = await store.listResultEvents({ after: head, limit: 10 });
        assert.deepEqual(txids(after.events), ['late-1', 'late-2']);
        assert.equal(after.held, false);
      },
    );
  });
}
