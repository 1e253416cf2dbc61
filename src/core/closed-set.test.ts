// isOneOf: membership in a closed set, for any input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOneOf } from './closed-set.ts';

const COLOURS = ['red', 'green'] as const;

describe('isOneOf', () => {
  it('accepts exactly the members', () => {
    assert.equal(isOneOf(COLOURS, 'red'), true);
    assert.equal(isOneOf(COLOURS, 'green'), true);
  });

  it('refuses other strings, other cases and non-strings', () => {
    for (const value of ['blue', 'Red', '', 'red ', undefined, null, 1, ['red'], { red: 1 }]) {
      assert.equal(isOneOf(COLOURS, value), false, JSON.stringify(value));
    }
  });
});
