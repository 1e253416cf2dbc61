// The hub's result streams against a store whose reads can fail: a stream either gets every
// event after its `after`, in order and once, or ends so that its client reconnects.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FixedClock } from '../../runtime/clock.ts';
import { compareResultEventKeys, type ResultEvent } from '../../store/result-event-store.ts';
import { LocalSignals } from '../../store/store-signals.ts';
import { OobHub, type HubStore } from './oob-hub.ts';

/** The result events of a store in memory; `failCatchUp` makes the next per-app read throw. */
function memoryStore() {
  const events: ResultEvent[] = [];
  const state = { failCatchUp: false };
  const store: HubStore = {
    signals: new LocalSignals(),
    getOobRequest: () => Promise.resolve(undefined),
    latestResultEventKey: () => Promise.resolve(events.at(-1)?.key ?? { xid: 0, id: 0 }),
    listResultEvents: ({ after, appId, limit }) => {
      if (appId !== undefined && state.failCatchUp) {
        state.failCatchUp = false;
        return Promise.reject(new Error('connection terminated'));
      }
      const found = events.filter(
        (e) =>
          (after === undefined || compareResultEventKeys(e.key, after) > 0) &&
          (appId === undefined || e.appId === appId),
      );
      return Promise.resolve({ events: found.slice(0, limit), held: false });
    },
  };
  const append = (txid: string) =>
    events.push({
      key: { xid: 0, id: events.length + 1 },
      appId: 'app',
      txid,
      result: 'allow',
      status: 'allow',
      statusMsg: 'Success',
      createdAtMs: 0,
    });
  return { store, state, append };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('oob hub: result stream catch-up', () => {
  it('ends a stream whose catch-up read fails, and a reconnect with the same after loses and doubles nothing', async () => {
    const { store, state, append } = memoryStore();
    for (const txid of ['t1', 't2', 't3']) append(txid);
    const errors: unknown[] = [];
    const hub = new OobHub({
      clock: new FixedClock(0),
      store,
      onError: (e) => errors.push(e),
    });
    await hub.start();
    try {
      const first: string[] = [];
      let ended = 0;
      state.failCatchUp = true;
      hub.subscribe(
        'app',
        (r) => first.push(r.txid),
        '0.1',
        () => (ended += 1),
      );
      await settle();
      append('t4');
      await hub.pollResults();
      assert.equal(errors.length, 1);
      assert.equal(ended, 1, 'the stream did not end after its catch-up failed');
      // Delivering t4 would move the client's last id past t2 and t3: lost for good.
      assert.deepEqual(first, []);

      const again: { txid: string; id: string }[] = [];
      hub.subscribe('app', (r, id) => again.push({ txid: r.txid, id }), '0.1');
      await settle();
      append('t5');
      await hub.pollResults();
      assert.deepEqual(again, [
        { txid: 't2', id: '0.2' },
        { txid: 't3', id: '0.3' },
        { txid: 't4', id: '0.4' },
        { txid: 't5', id: '0.5' },
      ]);
    } finally {
      hub.stop();
    }
  });
});

describe('oob hub: device watches', () => {
  it('a watch ends its wait at once for an offer made before the wait, and only for its device', async () => {
    const { store } = memoryStore();
    const hub = new OobHub({ clock: new FixedClock(0), store, onError: () => {} });
    await hub.start();
    try {
      const watch = hub.watchDevice('D1');
      const other = hub.watchDevice('D2');
      hub.offered('D1'); // e.g. while the long poll was reading the store
      const started = performance.now();
      await watch.wait(5_000);
      assert.ok(performance.now() - started < 1_000, 'the offer before the wait ended it');
      // D2 was not offered anything: its wait runs until its deadline or an abort.
      const aborted = new AbortController();
      let otherEnded = false;
      const otherWait = other.wait(5_000, aborted.signal).then(() => (otherEnded = true));
      await settle();
      assert.equal(otherEnded, false);
      aborted.abort();
      await otherWait;
      // A cancelled watch no longer hears offers.
      other.cancel();
      watch.cancel();
      const late = hub.watchDevice('D2');
      late.cancel();
      hub.offered('D2');
      const lateStarted = performance.now();
      await late.wait(50);
      assert.ok(performance.now() - lateStarted >= 40, 'a cancelled watch waits out its timeout');
    } finally {
      hub.stop();
    }
  });
});
