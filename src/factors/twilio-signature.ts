// Twilio's X-Twilio-Signature: computes and verifies the HMAC that authenticates a provider's callback.
//
// Twilio's published algorithm (twilio.com/docs/usage/security, "Validating requests"): take the
// full URL Twilio requested (scheme, host, port if any, path, query string); for a POST append
// every form parameter sorted by name, each as name immediately followed by value with no
// delimiters; HMAC-SHA1 that string keyed by the account's auth token; base64-encode the digest.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TWILIO_SIGNATURE_HEADER = 'x-twilio-signature';

/** Form parameters as received: an object, or pairs when a name may repeat. */
export type TwilioParams =
  Readonly<Record<string, string>> | Iterable<readonly [string, string]> | URLSearchParams;

/**
 * The signature Twilio would send for a POST of `params` to `url`.
 *
 * @example
 * computeTwilioSignature(authToken, 'https://airlock.example/factors/phone/callback?t=abc', { CallSid: 'CA…', Digits: '1' });
 */
export function computeTwilioSignature(
  authToken: string,
  url: string,
  params: TwilioParams,
): string {
  const hmac = createHmac('sha1', authToken);
  hmac.update(url, 'utf8');
  for (const [name, value] of sortedPairs(params)) {
    hmac.update(name, 'utf8');
    hmac.update(value, 'utf8');
  }
  return hmac.digest('base64');
}

/**
 * Whether `signature` (the header's value) is Twilio's for this request. Compares in constant
 * time: a timing difference would let a caller forge the signature byte by byte.
 */
export function verifyTwilioSignature(
  authToken: string,
  url: string,
  params: TwilioParams,
  signature: string | undefined,
): boolean {
  if (signature === undefined || signature.length === 0) return false;
  const expected = Buffer.from(computeTwilioSignature(authToken, url, params), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // timingSafeEqual needs equal lengths; the expected length is public (28 base64 chars).
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}

function sortedPairs(params: TwilioParams): Array<readonly [string, string]> {
  const pairs: Array<readonly [string, string]> = isIterable(params)
    ? [...params]
    : Object.entries(params);
  // By name; a repeated name's values in order too, so the result does not depend on arrival order.
  return pairs.sort(([a, av], [b, bv]) => compare(a, b) || compare(av, bv));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isIterable(p: TwilioParams): p is Iterable<readonly [string, string]> | URLSearchParams {
  return typeof (p as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}
