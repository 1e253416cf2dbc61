import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CryptoRandom } from '../runtime/random.ts';
import { createSealer, tokensEqual } from './session-seal.ts';

const random = new CryptoRandom();
const SECRET = 'k'.repeat(64);

describe('sealed cookie values', () => {
  it('opens what it sealed, and a fresh IV makes each seal different', () => {
    const s = createSealer(SECRET, '__Host-a', random);
    const a = s.seal({ sid: 'x' });
    assert.notEqual(a, s.seal({ sid: 'x' }));
    assert.deepEqual(s.open(a), { sid: 'x' });
  });

  it('refuses a value with any byte changed', () => {
    const s = createSealer(SECRET, '__Host-a', random);
    const sealed = s.seal({ sid: 'abcdef', user: 'alice' });
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const copy = Buffer.from(raw);
      copy[i] = copy[i]! ^ 0x01;
      assert.equal(s.open(`v1.${copy.toString('base64url')}`), undefined, `byte ${i}`);
    }
  });

  it('refuses a value sealed for another purpose or with another secret', () => {
    const sealed = createSealer(SECRET, '__Host-login', random).seal({ sid: 'x' });
    assert.equal(createSealer(SECRET, '__Host-session', random).open(sealed), undefined);
    assert.equal(createSealer('j'.repeat(64), '__Host-login', random).open(sealed), undefined);
  });

  it('refuses garbage without throwing', () => {
    const s = createSealer(SECRET, 'p', random);
    for (const v of ['', 'v1.', 'v1.AAAA', 'v2.' + 'A'.repeat(60), 'x'.repeat(5000), '{"sid":1}']) {
      assert.equal(s.open(v), undefined, v);
    }
  });

  it('compares tokens by value', () => {
    assert.ok(tokensEqual('abc', 'abc'));
    assert.ok(!tokensEqual('abc', 'abd'));
    assert.ok(!tokensEqual('abc', 'abcd'));
  });
});
