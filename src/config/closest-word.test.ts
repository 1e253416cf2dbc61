// "Did you mean": typos within a quarter of the word's length are matched, others are not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closestWord } from './closest-word.ts';

describe('closestWord', () => {
  const keys = ['authToken', 'accountSid', 'baseUrl', 'timeoutMs'];
  const cases: Array<[string, string | undefined]> = [
    ['authtoken', 'authToken'], // case only
    ['authTokne', 'authToken'], // adjacent transposition counts 1
    ['acountSid', 'accountSid'], // deletion
    ['timeoutMS', 'timeoutMs'],
    ['baseURLs', 'baseUrl'], // case + insertion
    ['token', undefined], // too far
    ['zz', undefined],
  ];
  for (const [word, expected] of cases) {
    it(`${word} -> ${expected ?? 'no suggestion'}`, () => {
      assert.equal(closestWord(word, keys), expected);
    });
  }

  it('has no suggestion without candidates', () => {
    assert.equal(closestWord('x', []), undefined);
  });
});
