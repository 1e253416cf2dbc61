// Twilio callback signatures: the published example vector, an independent computation, tampering.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { computeTwilioSignature, verifyTwilioSignature } from './twilio-signature.ts';

// The example of Twilio's "Validating requests" documentation (auth token 12345).
const DOC_TOKEN = '12345';
const DOC_URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const DOC_PARAMS = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+12349013030',
  Digits: '1234',
  From: '+12349013030',
  To: '+18005551212',
};
const DOC_SIGNATURE = '0/KCTR6DLpKmkAf8muzZqo1nDgQ=';

/** The spec's steps spelled out with node:crypto, as the test's own reference. */
function referenceSignature(token: string, url: string, params: Record<string, string>): string {
  let data = url;
  for (const name of Object.keys(params).sort()) data += name + params[name];
  return createHmac('sha1', token).update(data, 'utf8').digest('base64');
}

describe('computeTwilioSignature', () => {
  it("reproduces the example of Twilio's documentation", () => {
    assert.equal(computeTwilioSignature(DOC_TOKEN, DOC_URL, DOC_PARAMS), DOC_SIGNATURE);
    assert.equal(referenceSignature(DOC_TOKEN, DOC_URL, DOC_PARAMS), DOC_SIGNATURE);
  });

  it('matches the reference for parameters given in any order and as pairs or URLSearchParams', () => {
    const params = { To: '+15555550123', Digits: '1', AccountSid: 'AC1', CallSid: 'CA9' };
    const url = 'http://127.0.0.1:8443/factors/phone/callback?t=abc&x=1';
    const expected = referenceSignature('tok', url, params);
    assert.equal(computeTwilioSignature('tok', url, params), expected);
    assert.equal(computeTwilioSignature('tok', url, Object.entries(params).reverse()), expected);
    assert.equal(computeTwilioSignature('tok', url, new URLSearchParams(params)), expected);
  });

  it('signs the URL alone when there are no parameters', () => {
    const expected = createHmac('sha1', 'tok').update('https://a.example/cb').digest('base64');
    assert.equal(computeTwilioSignature('tok', 'https://a.example/cb', {}), expected);
  });

  it('signs non-ASCII values as UTF-8', () => {
    const params = { Body: 'Grüße ✓' };
    assert.equal(
      computeTwilioSignature('tök', 'https://a.example/', params),
      referenceSignature('tök', 'https://a.example/', params),
    );
  });

  it('orders the values of a repeated name, independently of arrival order', () => {
    const a = computeTwilioSignature('t', 'https://a.example/', [
      ['A', '2'],
      ['A', '1'],
    ]);
    const b = computeTwilioSignature('t', 'https://a.example/', [
      ['A', '1'],
      ['A', '2'],
    ]);
    assert.equal(a, b);
    const expected = createHmac('sha1', 't').update('https://a.example/A1A2').digest('base64');
    assert.equal(a, expected);
  });
});

describe('verifyTwilioSignature', () => {
  it('accepts the documented signature', () => {
    assert.equal(verifyTwilioSignature(DOC_TOKEN, DOC_URL, DOC_PARAMS, DOC_SIGNATURE), true);
  });

  const tampered: Array<[string, () => boolean]> = [
    [
      'a changed parameter value',
      () =>
        verifyTwilioSignature(DOC_TOKEN, DOC_URL, { ...DOC_PARAMS, Digits: '1235' }, DOC_SIGNATURE),
    ],
    [
      'an added parameter',
      () => verifyTwilioSignature(DOC_TOKEN, DOC_URL, { ...DOC_PARAMS, Extra: '' }, DOC_SIGNATURE),
    ],
    [
      'a removed parameter',
      () => {
        const rest: Record<string, string> = { ...DOC_PARAMS };
        delete rest.Digits;
        return verifyTwilioSignature(DOC_TOKEN, DOC_URL, rest, DOC_SIGNATURE);
      },
    ],
    [
      'a changed query string',
      () => verifyTwilioSignature(DOC_TOKEN, `${DOC_URL}&baz=3`, DOC_PARAMS, DOC_SIGNATURE),
    ],
    [
      'http instead of https',
      () =>
        verifyTwilioSignature(
          DOC_TOKEN,
          DOC_URL.replace('https', 'http'),
          DOC_PARAMS,
          DOC_SIGNATURE,
        ),
    ],
    [
      'another auth token',
      () => verifyTwilioSignature('12346', DOC_URL, DOC_PARAMS, DOC_SIGNATURE),
    ],
    [
      'a flipped signature character',
      () => verifyTwilioSignature(DOC_TOKEN, DOC_URL, DOC_PARAMS, `1${DOC_SIGNATURE.slice(1)}`),
    ],
    [
      'a truncated signature',
      () => verifyTwilioSignature(DOC_TOKEN, DOC_URL, DOC_PARAMS, DOC_SIGNATURE.slice(0, -1)),
    ],
    ['a missing signature', () => verifyTwilioSignature(DOC_TOKEN, DOC_URL, DOC_PARAMS, undefined)],
    ['an empty signature', () => verifyTwilioSignature(DOC_TOKEN, DOC_URL, DOC_PARAMS, '')],
  ];
  for (const [what, check] of tampered) {
    it(`rejects ${what}`, () => assert.equal(check(), false));
  }
});
