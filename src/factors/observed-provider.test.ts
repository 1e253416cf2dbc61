// A failing provider turns its factor degraded: real providers against the stand-in, recorded on the health board.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startProviderStandin, type ProviderStandin } from '../../test/support/provider-standin.ts';
import { FactorHealthBoard, steerAwayMessage, type AuthFactor } from '../core/factor-health.ts';
import type { Clock } from '../runtime/clock.ts';
import { createProviders, parseFactorsConfig } from './factors-config.ts';
import { ProviderError, type MessageProvider } from './message-provider.ts';

const ACCOUNT_SID = 'AC00000000000000000000000000000009';
const AUTH_TOKEN = 'tok-observed-1234';
const T0 = 1_700_000_000_000;

/** Moves `stepMs` forward on every reading, so each delivery measures exactly `stepMs`. */
class SteppingClock implements Clock {
  #nowMs: number;
  stepMs: number;

  constructor(startMs: number, stepMs: number) {
    this.#nowMs = startMs;
    this.stepMs = stepMs;
  }

  nowMs(): number {
    const now = this.#nowMs;
    this.#nowMs += this.stepMs;
    return now;
  }

  advance(ms: number): void {
    this.#nowMs += ms;
  }
}

let standin: ProviderStandin;
before(async () => {
  standin = await startProviderStandin({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
});
after(() => standin.close());
beforeEach(() => standin.failAll(undefined));

function setup(stepMs = 200) {
  const clock = new SteppingClock(T0, stepMs);
  const twilio = { provider: 'twilio', accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN };
  const parsed = parseFactorsConfig({
    sms: { ...twilio, from: '+15555550100', baseUrl: standin.baseUrl, timeoutMs: 200 },
    phone: { ...twilio, from: '+15555550101', baseUrl: standin.baseUrl },
    health: {
      minSamples: 4,
      maxFailureRate: 0.25,
      maxP95LatencyMs: 3000,
      recoverySamples: 3,
      recoverySeconds: 60,
    },
  });
  assert.ok(parsed.ok);
  const health = new FactorHealthBoard(parsed.config.health);
  let n = 0;
  const providers = createProviders(parsed.config, { clock, health, newId: () => `ID${++n}` });
  assert.ok(providers.sms !== undefined && providers.phone !== undefined);
  return { clock, health, sms: providers.sms, phone: providers.phone };
}

async function trySms(sms: MessageProvider): Promise<'delivered' | ProviderError['kind']> {
  try {
    await sms.sendSms({ to: '+15555550123', body: 'Code 1234567' });
    return 'delivered';
  } catch (e) {
    assert.ok(e instanceof ProviderError, String(e));
    return e.kind;
  }
}

const USER_FACTORS: AuthFactor[] = ['push', 'phone', 'sms', 'passcode'];

describe('observed providers', () => {
  it('a provider answering 500 turns SMS degraded, and users are steered to other factors', async () => {
    const { clock, health, sms, phone } = setup();
    assert.equal(await trySms(sms), 'delivered');
    assert.equal(await trySms(sms), 'delivered');
    standin.failNext('http-500', 2);
    assert.equal(await trySms(sms), 'unreachable');
    assert.deepEqual(health.degradedFactors(clock.nowMs()), []); // 3 deliveries: too few to judge
    assert.equal(await trySms(sms), 'unreachable');
    await phone.startCall({ to: '+1', callbackUrl: 'https://a/cb', say: 'Press 1' });

    const now = clock.nowMs();
    assert.deepEqual(health.degradedFactors(now), ['sms']);
    const [smsEntry, phoneEntry] = health.report(now);
    assert.equal(smsEntry?.factor, 'sms');
    assert.equal(smsEntry.provider, 'twilio');
    assert.equal(smsEntry.state, 'degraded');
    assert.equal(smsEntry.reason, 'failure rate 50% > 25% over 4 deliveries');
    assert.equal(smsEntry.p95LatencyMs, 200);
    assert.equal(phoneEntry?.state, 'healthy');
    assert.equal(
      steerAwayMessage(health.degradedFactors(now), USER_FACTORS),
      'SMS is having problems — use push, a phone call or a passcode.',
    );
  });

  it('recovers once the provider delivers again in a row and the quiet time passed', async () => {
    const { clock, health, sms } = setup();
    standin.failNext('http-401', 4);
    for (let i = 0; i < 4; i++) assert.equal(await trySms(sms), 'rejected');
    assert.deepEqual(health.degradedFactors(clock.nowMs()), ['sms']);
    for (let i = 0; i < 3; i++) assert.equal(await trySms(sms), 'delivered');
    assert.deepEqual(health.degradedFactors(clock.nowMs()), ['sms']);
    clock.advance(60_000);
    assert.deepEqual(health.degradedFactors(clock.nowMs()), []);
  });

  it('counts timeouts and reset connections as failed deliveries', async () => {
    const { clock, health, sms } = setup();
    standin.failNext('hang', 2);
    standin.failNext('close', 2);
    const kinds = [];
    for (let i = 0; i < 4; i++) kinds.push(await trySms(sms));
    assert.deepEqual(kinds, ['timeout', 'timeout', 'unreachable', 'unreachable']);
    const [entry] = health.report(clock.nowMs());
    assert.equal(entry?.state, 'degraded');
    assert.equal(entry.failureRate, 1);
  });

  it('a slow provider turns the factor degraded by p95 latency', async () => {
    const { clock, health, sms } = setup(4000);
    for (let i = 0; i < 4; i++) assert.equal(await trySms(sms), 'delivered');
    const [entry] = health.report(clock.nowMs());
    assert.equal(entry?.state, 'degraded');
    assert.equal(entry.reason, 'p95 4000 ms > 3000 ms');
  });

  it("does not count the caller's abort against the provider", async () => {
    const { clock, health, sms } = setup();
    await assert.rejects(
      sms.sendSms({ to: '+1', body: 'x' }, AbortSignal.abort(new Error('gone'))),
      /gone/,
    );
    assert.deepEqual(health.report(clock.nowMs()), []);
  });
});
