import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { steerAwayMessage } from '../core/factor-health.ts';
import { degradedFromSteer, factorChoices } from './factor-choices.ts';

const phone = { device: 'DP1', name: 'mobile (XXX-XXX-0177)', capabilities: ['phone', 'sms'] };
const app = { device: 'DP2', name: 'authenticator', capabilities: ['auto', 'push'] };

describe('portal factor choices', () => {
  it('offers the first device of each factor, push, call and SMS, in that order when all is well', () => {
    const c = factorChoices([phone, app], 'Account is active');
    assert.deepEqual(c.order, ['push', 'phone', 'sms']);
    assert.deepEqual(c.degraded, []);
    assert.equal(c.devices.push?.device, 'DP2');
    assert.equal(c.devices.sms?.device, 'DP1');
  });

  it('reads every degraded set back from the service’s own steering line, and puts those last', () => {
    for (const degraded of [
      ['push'],
      ['sms'],
      ['phone', 'sms'],
      ['push', 'phone', 'sms'],
    ] as const) {
      const line = steerAwayMessage(degraded, ['push', 'phone', 'sms', 'passcode']);
      const c = factorChoices([phone, app], line);
      assert.deepEqual([...c.degraded].sort(), [...degraded].sort(), line);
      assert.deepEqual(c.order.slice(-degraded.length).sort(), [...degraded].sort(), line);
    }
  });

  it('steers nowhere on any other text (a service that never steers, a look-alike line)', () => {
    assert.deepEqual(degradedFromSteer('Push is having problems — trust me.', [app]), []);
    assert.deepEqual(degradedFromSteer(undefined, [app]), []);
    assert.deepEqual(factorChoices([], 'x').order, []);
  });
});
