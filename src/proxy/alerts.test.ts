import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { FixedClock } from '../runtime/clock.ts';
import type { HttpPost } from '../runtime/http-post.ts';
import { createAlertSender, type AlertSenderOptions } from './alerts.ts';

interface Call {
  url: string;
  body: Record<string, unknown>;
  rawBody: string;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
}

/** A post port that answers each call with the next planned status (or error); then 200. */
function fakePost(plan: Array<number | Error> = []): { post: HttpPost; calls: Call[] } {
  const calls: Call[] = [];
  const post: HttpPost = (url, body, headers, timeoutMs) => {
    calls.push({
      url,
      body: JSON.parse(body) as Record<string, unknown>,
      rawBody: body,
      headers,
      timeoutMs,
    });
    const next = plan.shift() ?? 200;
    return next instanceof Error ? Promise.reject(next) : Promise.resolve({ status: next });
  };
  return { post, calls };
}

function setup(options: Partial<AlertSenderOptions> & { plan?: Array<number | Error> } = {}) {
  const clock = new FixedClock(Date.parse('2026-11-30T12:00:00Z'));
  const { post, calls } = fakePost(options.plan);
  const sleeps: number[] = [];
  const counts = { delivered: 0, failed: 0, dropped: 0 };
  const problems: string[] = [];
  const sender = createAlertSender({
    urls: ['http://127.0.0.1:9/hook'],
    post,
    clock,
    // No real waiting: the wait is recorded and the clock moves on.
    sleep: (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
      return Promise.resolve();
    },
    hostname: 'proxy-1',
    counters: {
      sent: { inc: ({ result }) => void counts[result]++ },
      dropped: { inc: () => void counts.dropped++ },
    },
    onProblem: (m) => problems.push(m),
    ...options,
  });
  return { sender, clock, calls, sleeps, counts, problems };
}

const BREAKER = {
  type: 'breaker',
  section: 'radius_server_auto',
  host: 'api.example.com:443',
  from: 'closed',
  to: 'open',
  reason: '2 consecutive failures (last: timeout)',
} as const;

describe('webhook alerts', () => {
  it('posts the alert as JSON with timestamp and hostname, with a 5 s timeout', async () => {
    const { sender, calls, counts } = setup();
    sender.send(BREAKER);
    await sender.idle();
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]?.body, {
      ...BREAKER,
      timestamp: '2026-11-30T12:00:00.000Z',
      hostname: 'proxy-1',
    });
    assert.equal(calls[0]?.timeoutMs, 5_000);
    assert.equal(calls[0]?.headers['x-airlock-signature'], undefined);
    assert.equal(counts.delivered, 1);
  });

  it('signs the body with HMAC-SHA256 when a secret is set', async () => {
    const { sender, calls } = setup({ secret: 'webhook-secret' });
    sender.send(BREAKER);
    await sender.idle();
    const call = calls[0]!;
    const expected = createHmac('sha256', 'webhook-secret').update(call.rawBody).digest('hex');
    assert.equal(call.headers['x-airlock-signature'], `sha256=${expected}`);
  });

  it('retries a failing webhook with 1, 2, 4, 8 s backoff and gives up after 5 attempts', async () => {
    const down = new Error('connect ECONNREFUSED');
    const { sender, calls, sleeps, counts, problems } = setup({
      plan: [down, 503, down, down, down],
    });
    sender.send(BREAKER);
    await sender.idle();
    assert.equal(calls.length, 5);
    assert.deepEqual(sleeps, [1_000, 2_000, 4_000, 8_000]);
    assert.deepEqual(counts, { delivered: 0, failed: 1, dropped: 0 });
    assert.match(problems[0] ?? '', /not delivered: connect ECONNREFUSED/);
    // Only the origin is logged: a webhook path often carries a token.
    assert.doesNotMatch(problems[0] ?? '', /\/hook/);
  });

  it('stops retrying once an attempt is delivered', async () => {
    const { sender, calls, sleeps, counts } = setup({ plan: [500, 200] });
    sender.send(BREAKER);
    await sender.idle();
    assert.equal(calls.length, 2);
    assert.deepEqual(sleeps, [1_000]);
    assert.deepEqual(counts, { delivered: 1, failed: 0, dropped: 0 });
  });

  it('does not retry a 4xx answer other than 408 and 429', async () => {
    const { sender, calls, counts } = setup({ plan: [404] });
    sender.send(BREAKER);
    await sender.idle();
    assert.equal(calls.length, 1);
    assert.equal(counts.failed, 1);
  });

  it('never blocks the caller, even when the webhook never answers', async () => {
    const clock = new FixedClock(0);
    let posted = 0;
    const sender = createAlertSender({
      urls: ['http://127.0.0.1:9/hook'],
      post: () => {
        posted++;
        return new Promise(() => undefined); // never settles
      },
      clock,
      sleep: () => Promise.resolve(),
      hostname: 'h',
    });
    // send() returns synchronously; the delivery runs on its own.
    for (let i = 0; i < 100; i++) sender.send(BREAKER);
    await new Promise((r) => setImmediate(r));
    assert.equal(posted, 1, 'one delivery in flight, the rest queued');
    sender.close();
  });

  it('drops the oldest alert when the queue is full, and counts it', async () => {
    let release: () => void = () => undefined;
    const bodies: string[] = [];
    const clock = new FixedClock(0);
    let dropped = 0;
    const sender = createAlertSender({
      urls: ['http://127.0.0.1:9/hook'],
      post: (_url, body) => {
        bodies.push((JSON.parse(body) as { reason: string }).reason);
        // The first delivery hangs until released, so the rest queue up.
        return bodies.length === 1
          ? new Promise((r) => (release = () => r({ status: 200 })))
          : Promise.resolve({ status: 200 });
      },
      clock,
      sleep: () => Promise.resolve(),
      hostname: 'h',
      maxQueue: 2,
      counters: { sent: { inc: () => undefined }, dropped: { inc: () => void dropped++ } },
    });
    for (const reason of ['a', 'b', 'c', 'd']) sender.send({ ...BREAKER, reason });
    assert.equal(dropped, 1); // 'a' in flight; 'b' dropped for 'd'
    await new Promise((r) => setImmediate(r));
    release();
    await sender.idle();
    assert.deepEqual(bodies, ['a', 'c', 'd']);
  });

  it('sends at most one failmode alert per section per 60 s, with the count since the last', async () => {
    const { sender, calls, clock } = setup();
    const decision = {
      section: 'radius_server_auto',
      failmode: 'safe',
      action: 'allow',
      reason: 'failmode-safe',
    } as const;
    sender.failmodeDecision(decision);
    for (let i = 0; i < 49; i++) sender.failmodeDecision(decision);
    sender.failmodeDecision({ ...decision, section: 'radius_server_challenge' });
    await sender.idle();
    assert.equal(calls.length, 2);
    assert.equal(calls[0]?.body.type, 'failmode');
    assert.equal(calls[0]?.body.count, 1);
    assert.equal(calls[1]?.body.section, 'radius_server_challenge');

    clock.advance(59_999);
    sender.flushFailmode();
    await sender.idle();
    assert.equal(calls.length, 2, 'still inside the 60 s window');

    clock.advance(1);
    sender.flushFailmode();
    await sender.idle();
    assert.equal(calls.length, 3);
    assert.equal(calls[2]?.body.count, 49);
    assert.equal(calls[2]?.body.allowed, 49);
    assert.equal(calls[2]?.body.failmode, 'safe');

    sender.flushFailmode();
    await sender.idle();
    assert.equal(calls.length, 3, 'nothing new to report');
  });

  it('sends a held-back failmode alert on the next decision after the window', async () => {
    const { sender, calls, clock } = setup();
    const decision = {
      section: 's',
      failmode: 'secure',
      action: 'deny',
      reason: 'failmode-secure',
    } as const;
    sender.failmodeDecision(decision);
    sender.failmodeDecision(decision);
    clock.advance(60_000);
    sender.failmodeDecision(decision);
    await sender.idle();
    assert.deepEqual(
      calls.map((c) => [c.body.count, c.body.denied]),
      [
        [1, 1],
        [2, 2],
      ],
    );
  });

  it('sends each alert to every webhook', async () => {
    const { sender, calls } = setup({ urls: ['http://a.example/x', 'https://b.example/y'] });
    sender.send(BREAKER);
    await sender.idle();
    assert.deepEqual(calls.map((c) => c.url).sort(), ['http://a.example/x', 'https://b.example/y']);
  });

  it('does nothing without webhooks', async () => {
    const { sender, calls } = setup({ urls: [] });
    sender.send(BREAKER);
    sender.failmodeDecision({ section: 's', failmode: 'safe', action: 'allow', reason: 'x' });
    await sender.idle();
    assert.equal(calls.length, 0);
  });
});
