// The push waiter's auth_status polls: each is a long poll holding one of the Auth API client's
// sockets, so a burst of pushes that started before the result stream opened must stop polling
// once the stream carries their results (bench:push stalled on this: docs/benchmarks.md).
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { ResultStreamHandlers } from '../client/auth-api-client.ts';
import type { ApiOutcome, AuthStatusResponse } from '../client/auth-api-response.ts';
import { FixedClock } from '../runtime/clock.ts';
import { NO_STREAM_RETRY_MS, PushWaiter } from './push-waiter.ts';

const HOST = 'airlock.test:443';
const WAITING: ApiOutcome<AuthStatusResponse> = {
  kind: 'ok',
  response: { result: 'waiting', status: 'pushed', status_msg: 'Pushed a login request...' },
  latencyMs: 1,
};

/** A service whose stream opens when told, and whose auth_status answers "waiting" next tick. */
function fakeService() {
  const polls: string[] = [];
  let handlers: ResultStreamHandlers | undefined;
  const waiter = new PushWaiter({
    clock: new FixedClock(1_000_000),
    openStream: (_host, h) => {
      handlers = h;
      return { close: () => {} };
    },
    authStatus: async (txid) => {
      polls.push(txid);
      await tick();
      return WAITING;
    },
  });
  return {
    waiter,
    polls,
    stream: () => {
      assert.ok(handlers, 'the stream was opened');
      return handlers;
    },
  };
}

async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await tick();
}

void describe('PushWaiter', () => {
  void it('stops polling auth_status for pushes started before the stream opened, once it is open', async () => {
    const { waiter, polls, stream } = fakeService();
    const waits = ['T1', 'T2', 'T3'].map((txid) => waiter.wait(txid, HOST, 60_000));
    await ticks(5);
    assert.ok(polls.length >= 3, 'pushes started before the stream are polled');
    stream().onOpen();
    const atOpen = polls.length;
    await ticks(50);
    // At most one more poll each (begun with the stream open); then the stream's turn.
    assert.ok(
      polls.length <= atOpen + 3,
      `${polls.length - atOpen} polls after the stream opened (at most 3 expected)`,
    );
    for (const txid of ['T1', 'T2', 'T3']) {
      stream().onResult({ txid, result: 'allow', status: 'allow', status_msg: 'ok' }, `E.${txid}`);
    }
    const results = await Promise.all(waits);
    assert.deepEqual(
      results.map((r) => (r.kind === 'result' ? r.result.txid : r.kind)),
      ['T1', 'T2', 'T3'],
    );
    waiter.close();
  });

  void it('does not poll a push started while the stream is open', async () => {
    const { waiter, polls, stream } = fakeService();
    waiter.prepare(HOST);
    stream().onOpen();
    const wait = waiter.wait('T1', HOST, 60_000);
    await ticks(10);
    assert.deepEqual(polls, []);
    stream().onResult({ txid: 'T1', result: 'deny', status: 'deny', status_msg: 'no' }, 'E.1');
    assert.equal((await wait).kind, 'result');
    waiter.close();
  });

  void it('keeps polling while the service has no stream (Duo)', async () => {
    const { waiter, polls, stream } = fakeService();
    const wait = waiter.wait('T1', HOST, 60_000);
    stream().onEnd('HTTP 404');
    await ticks(50);
    assert.ok(polls.filter((t) => t === 'T1').length > 5, 'auth_status is the only way');
    waiter.close();
    assert.equal((await wait).kind, 'timeout');
  });

  void it('ends a wait at its timeout, and a timed-out wait never ends the next wait for that txid', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { waiter, stream } = fakeService();
    waiter.prepare(HOST);
    stream().onOpen();
    const first = waiter.wait('T1', HOST, 1_000);
    const second = waiter.wait('T2', HOST, 2_000);
    assert.equal(waiter.pending, 2);
    t.mock.timers.tick(1_000);
    assert.deepEqual(await first, { kind: 'timeout' });
    assert.equal(waiter.pending, 1, 'only the wait whose time was up ended');
    // The same txid waited for again (a challenge_push answer): the old timer is gone with it.
    const again = waiter.wait('T1', HOST, 5_000);
    t.mock.timers.tick(1_000);
    assert.deepEqual(await second, { kind: 'timeout' });
    stream().onResult({ txid: 'T1', result: 'allow', status: 'allow', status_msg: 'ok' }, 'E.1');
    const ended = await again;
    assert.equal(ended.kind === 'result' && ended.result.result, 'allow');
    assert.equal(waiter.pending, 0);
    waiter.close();
  });

  void it('settles every wait for one txid: the result ends both, a timeout only its own', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { waiter, stream } = fakeService();
    waiter.prepare(HOST);
    stream().onOpen();
    const settled: string[] = [];
    const track = (name: string, p: Promise<unknown>) => void p.then(() => settled.push(name));
    const first = waiter.wait('T1', HOST, 10_000);
    const second = waiter.wait('T1', HOST, 10_000);
    const short = waiter.wait('T1', HOST, 1_000);
    track('first', first);
    track('second', second);
    track('short', short);
    assert.equal(waiter.pending, 1, 'one txid waited for');
    t.mock.timers.tick(1_000);
    assert.deepEqual(await short, { kind: 'timeout' });
    stream().onResult({ txid: 'T1', result: 'deny', status: 'deny', status_msg: 'no' }, 'E.1');
    await ticks(3);
    assert.deepEqual(settled.sort(), ['first', 'second', 'short'], 'a wait never settled');
    for (const wait of [await first, await second])
      assert.equal(wait.kind === 'result' && wait.result.result, 'deny');
    assert.equal(waiter.pending, 0);
    waiter.close();
  });

  void it('asks a service without a stream (HTTP 404) again only after ten minutes, saying so once', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let opened = 0;
    let handlers: ResultStreamHandlers | undefined;
    const events: string[] = [];
    const waiter = new PushWaiter({
      clock: new FixedClock(1_000_000),
      openStream: (_host, h) => {
        opened++;
        handlers = h;
        return { close: () => {} };
      },
      authStatus: () => Promise.resolve(WAITING),
      onStreamEvent: (_host, what) => events.push(what),
    });
    waiter.prepare(HOST);
    assert.equal(opened, 1);
    handlers!.onEnd('HTTP 404');
    t.mock.timers.tick(NO_STREAM_RETRY_MS - 1);
    assert.equal(opened, 1, 'not asked again within ten minutes');
    t.mock.timers.tick(1);
    assert.equal(opened, 2);
    handlers!.onEnd('HTTP 404');
    t.mock.timers.tick(NO_STREAM_RETRY_MS);
    assert.equal(opened, 3);
    assert.deepEqual(events, ['no result stream (HTTP 404); polling auth_status']);
    // A stream that was open and dropped is an outage of the connection: back within a second.
    handlers!.onOpen();
    handlers!.onEnd('stream ended');
    t.mock.timers.tick(1_000);
    assert.equal(opened, 4);
    waiter.close();
  });
});
