// Bypass codes: normalization, keyed hashing, constant-time matching over all stored hashes.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { hashBypassCode, matchBypassCode, normalizePasscode } from './bypass-code.ts';

const PEPPER = Buffer.alloc(32, 7);
const OTHER_PEPPER = Buffer.alloc(32, 8);

describe('normalizePasscode', () => {
  const cases: Array<[string, string]> = [
    ['123456789', '123456789'],
    ['  123456789\n', '123456789'],
    ['123 456 789', '123456789'],
    ['123-456-789', '123456789'],
    ['123 - 456\t789', '123456789'],
    ['', ''],
    ['abc', 'abc'],
  ];
  for (const [input, expected] of cases) {
    it(`turns ${JSON.stringify(input)} into ${JSON.stringify(expected)}`, () => {
      assert.equal(normalizePasscode(input), expected);
    });
  }
});

describe('hashBypassCode', () => {
  it('is hex HMAC-SHA256 keyed with the pepper over the digits', () => {
    const expected = createHmac('sha256', PEPPER).update('123456789').digest('hex');
    assert.equal(hashBypassCode(PEPPER, '123456789'), expected);
    assert.match(expected, /^[0-9a-f]{64}$/);
  });

  it('hashes the normalized code, so formatting does not matter', () => {
    assert.equal(hashBypassCode(PEPPER, ' 123-456 789 '), hashBypassCode(PEPPER, '123456789'));
  });

  it('depends on the pepper', () => {
    assert.notEqual(hashBypassCode(PEPPER, '123456789'), hashBypassCode(OTHER_PEPPER, '123456789'));
  });

  for (const code of ['', 'abc', '12345678a', '１２３']) {
    it(`refuses to hash ${JSON.stringify(code)}, which is not a numeric code`, () => {
      assert.throws(() => hashBypassCode(PEPPER, code), RangeError);
    });
  }

  it('refuses a pepper shorter than 16 bytes', () => {
    assert.throws(() => hashBypassCode(Buffer.alloc(15), '123456789'), RangeError);
    assert.throws(() => matchBypassCode(Buffer.alloc(0), '123456789', []), RangeError);
  });
});

describe('matchBypassCode', () => {
  const codes = ['111111111', '222222222', '333333333'];
  const hashes = codes.map((c) => hashBypassCode(PEPPER, c));

  codes.forEach((code, index) => {
    it(`finds code ${index} at index ${index}`, () => {
      assert.equal(matchBypassCode(PEPPER, code, hashes), index);
    });
  });

  it('matches a code typed with spaces and dashes', () => {
    assert.equal(matchBypassCode(PEPPER, ' 222-222 222 ', hashes), 1);
  });

  it('returns -1 for an unknown code', () => {
    assert.equal(matchBypassCode(PEPPER, '444444444', hashes), -1);
  });

  it('returns -1 under another pepper', () => {
    assert.equal(matchBypassCode(OTHER_PEPPER, '111111111', hashes), -1);
  });

  it('returns -1 for an empty list', () => {
    assert.equal(matchBypassCode(PEPPER, '111111111', []), -1);
  });

  for (const code of ['', 'abc', '11111111x']) {
    it(`returns -1 for the non-numeric input ${JSON.stringify(code)} without throwing`, () => {
      assert.equal(matchBypassCode(PEPPER, code, hashes), -1);
    });
  }

  it('accepts stored hashes in upper-case hex', () => {
    assert.equal(
      matchBypassCode(
        PEPPER,
        '333333333',
        hashes.map((h) => h.toUpperCase()),
      ),
      2,
    );
  });

  it('skips malformed stored hashes and still finds a later match', () => {
    const first = hashes[0] ?? '';
    const stored = ['', 'zz', first.slice(0, 63), first + '00', hashes[2] ?? ''];
    assert.equal(matchBypassCode(PEPPER, '111111111', stored), -1);
    assert.equal(matchBypassCode(PEPPER, '333333333', stored), 4);
  });

  it('returns the first index when the same hash is stored twice', () => {
    const twice = [hashes[1] ?? '', hashes[0] ?? '', hashes[1] ?? ''];
    assert.equal(matchBypassCode(PEPPER, '222222222', twice), 0);
  });
});
