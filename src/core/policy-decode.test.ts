import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePolicy } from './policy-decode.ts';

describe('decodePolicy', () => {
  it('accepts every field', () => {
    const policy = {
      newUserPolicy: 'deny',
      allowedFactors: ['push', 'passcode'],
      bypassGroupIds: ['G1'],
      denyGroupIds: [],
      networkRules: [{ action: 'deny', ranges: ['10.0.0.0/8'] }],
    };
    assert.deepEqual(decodePolicy(policy), { policy, errors: [] });
    assert.deepEqual(decodePolicy({}), { policy: {}, errors: [] });
  });

  it('reports every problem, each naming its field', () => {
    const result = decodePolicy({
      newUserPolicy: 'maybe',
      allowedFactors: ['carrier-pigeon'],
      bypassGroupIds: 'G1',
      networkRules: [{ action: 'open', ranges: ['nope'] }, 7],
      colour: 'red',
    });
    const errors = result.errors;
    for (const field of [
      /^colour: unknown field/,
      /^newUserPolicy:/,
      /^allowedFactors: unknown factor "carrier-pigeon"/,
      /^bypassGroupIds: must be an array/,
      /^networkRules\[1\]:/,
      /^networkRules\[0\]\.action:/,
      /^networkRules\[0\]\.ranges:/,
    ]) {
      assert.ok(
        errors.some((e) => field.test(e)),
        `${field} in ${errors.join(' | ')}`,
      );
    }
    assert.deepEqual(decodePolicy([]), { policy: {}, errors: ['policy: must be a JSON object'] });
  });
});
