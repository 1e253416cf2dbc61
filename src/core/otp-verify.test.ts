// TOTP/HOTP verification: RFC 4226 App. D and RFC 6238 App. B vectors, windows, replay, malformed codes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOTP, Secret, URI } from 'otpauth';
import type { OtpAlgorithm } from './model.ts';
import { newTotpUri, verifyHotp, verifyTotp } from './otp-verify.ts';

const base32 = (latin1: string): string => Secret.fromLatin1(latin1).base32;

// RFC 4226 Appendix D / RFC 6238 Appendix B seeds (ASCII "1234567890" repeated to the hash size).
const SEED_SHA1 = base32('12345678901234567890');
const SEED_SHA256 = base32('12345678901234567890123456789012');
const SEED_SHA512 = base32('1234567890123456789012345678901234567890123456789012345678901234');

const RFC4226_CODES = [
  '755224',
  '287082',
  '359152',
  '969429',
  '338314',
  '254676',
  '287922',
  '162583',
  '399871',
  '520489',
];

// RFC 6238 Appendix B: time (s) -> [SHA1, SHA256, SHA512] 8-digit codes, 30 s period.
const RFC6238_TABLE: Array<[number, string, string, string]> = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

describe('verifyHotp', () => {
  RFC4226_CODES.forEach((code, count) => {
    it(`accepts the RFC 4226 App. D code for count ${count} exactly at its counter`, () => {
      const result = verifyHotp({
        secret: SEED_SHA1,
        algorithm: 'SHA1',
        digits: 6,
        counter: count,
        code,
        lookAhead: 0,
      });
      assert.deepEqual(result, { ok: true, nextCounter: count + 1 });
    });

    it(`accepts the RFC 4226 App. D code for count ${count} within the look-ahead from 0`, () => {
      const result = verifyHotp({
        secret: SEED_SHA1,
        algorithm: 'SHA1',
        digits: 6,
        counter: 0,
        code,
      });
      assert.deepEqual(result, { ok: true, nextCounter: count + 1 });
    });
  });

  const hotp = (counter: number): string =>
    HOTP.generate({ secret: Secret.fromBase32(SEED_SHA1), digits: 6, counter });

  it('accepts a code exactly lookAhead counters ahead', () => {
    const result = verifyHotp({
      secret: SEED_SHA1,
      algorithm: 'SHA1',
      digits: 6,
      counter: 5,
      code: hotp(15),
    });
    assert.deepEqual(result, { ok: true, nextCounter: 16 });
  });

  it('rejects a code one counter beyond the look-ahead', () => {
    const result = verifyHotp({
      secret: SEED_SHA1,
      algorithm: 'SHA1',
      digits: 6,
      counter: 5,
      code: hotp(16),
    });
    assert.deepEqual(result, { ok: false, reason: 'mismatch' });
  });

  it('rejects a code for a counter already passed (replay of a used code)', () => {
    const result = verifyHotp({
      secret: SEED_SHA1,
      algorithm: 'SHA1',
      digits: 6,
      counter: 5,
      code: hotp(4),
    });
    assert.deepEqual(result, { ok: false, reason: 'mismatch' });
  });

  for (const code of ['', '75522', '7552241', 'abcdef', '75522a', ' 755224', '７５５２２４']) {
    it(`reports ${JSON.stringify(code)} as malformed`, () => {
      const result = verifyHotp({
        secret: SEED_SHA1,
        algorithm: 'SHA1',
        digits: 6,
        counter: 0,
        code,
      });
      assert.deepEqual(result, { ok: false, reason: 'malformed' });
    });
  }

  it('throws on a negative counter or look-ahead (a caller bug, not user input)', () => {
    const base = { secret: SEED_SHA1, algorithm: 'SHA1', digits: 6, code: '755224' } as const;
    assert.throws(() => verifyHotp({ ...base, counter: -1 }), RangeError);
    assert.throws(() => verifyHotp({ ...base, counter: 0, lookAhead: -1 }), RangeError);
    assert.throws(() => verifyHotp({ ...base, counter: 0, digits: 5 }), RangeError);
  });
});

describe('verifyTotp', () => {
  const seeds: Array<[OtpAlgorithm, string, 1 | 2 | 3]> = [
    ['SHA1', SEED_SHA1, 1],
    ['SHA256', SEED_SHA256, 2],
    ['SHA512', SEED_SHA512, 3],
  ];
  for (const row of RFC6238_TABLE) {
    const [timeSeconds] = row;
    for (const [algorithm, secret, column] of seeds) {
      const code = row[column];
      it(`accepts the RFC 6238 App. B ${algorithm} code ${code} at T=${timeSeconds}`, () => {
        const result = verifyTotp({
          secret,
          algorithm,
          digits: 8,
          periodSeconds: 30,
          code,
          nowMs: timeSeconds * 1000,
          lastStep: null,
          window: 0,
        });
        assert.deepEqual(result, { ok: true, step: Math.floor(timeSeconds / 30) });
      });
    }
  }

  // Step 1000 starts at 30 000 s.
  const step = 1000;
  const stepStartMs = step * 30 * 1000;
  const totp = (s: number): string =>
    HOTP.generate({ secret: Secret.fromBase32(SEED_SHA1), digits: 6, counter: s });
  const verify = (
    code: string,
    extra: { nowMs?: number; window?: number; lastStep?: number | null } = {},
  ) =>
    verifyTotp({
      secret: SEED_SHA1,
      algorithm: 'SHA1',
      digits: 6,
      periodSeconds: 30,
      code,
      nowMs: extra.nowMs ?? stepStartMs + 10_000,
      lastStep: extra.lastStep ?? null,
      ...(extra.window === undefined ? {} : { window: extra.window }),
    });

  const windowCases: Array<[string, number, number | undefined, boolean]> = [
    ['the current step', step, undefined, true],
    ['one step back with the default window', step - 1, undefined, true],
    ['one step ahead with the default window', step + 1, undefined, true],
    ['two steps back with the default window', step - 2, undefined, false],
    ['two steps ahead with the default window', step + 2, undefined, false],
    ['one step back with window 0', step - 1, 0, false],
    ['two steps back with window 2', step - 2, 2, true],
    ['three steps ahead with window 2', step + 3, 2, false],
  ];
  for (const [name, codeStep, window, ok] of windowCases) {
    it(`${ok ? 'accepts' : 'rejects'} a code for ${name}`, () => {
      assert.deepEqual(
        verify(totp(codeStep), { window }),
        ok ? { ok: true, step: codeStep } : { ok: false, reason: 'mismatch' },
      );
    });
  }

  it('moves to the next step exactly at the period boundary', () => {
    assert.deepEqual(verify(totp(step), { nowMs: stepStartMs, window: 0 }), { ok: true, step });
    assert.deepEqual(verify(totp(step), { nowMs: stepStartMs - 1, window: 0 }), {
      ok: false,
      reason: 'mismatch',
    });
  });

  it('reports a code whose step equals lastStep as replayed', () => {
    assert.deepEqual(verify(totp(step), { lastStep: step }), { ok: false, reason: 'replayed' });
  });

  it('reports a code for a step before lastStep as replayed', () => {
    assert.deepEqual(verify(totp(step - 1), { lastStep: step }), { ok: false, reason: 'replayed' });
  });

  it('accepts the next step after lastStep', () => {
    assert.deepEqual(verify(totp(step + 1), { lastStep: step }), { ok: true, step: step + 1 });
  });

  it('accepts the current step when lastStep is the one before', () => {
    assert.deepEqual(verify(totp(step), { lastStep: step - 1 }), { ok: true, step });
  });

  it('reports a wrong code as mismatch even when lastStep is set', () => {
    const wrong = totp(step) === '000000' ? '111111' : '000000';
    assert.deepEqual(verify(wrong, { lastStep: step }), { ok: false, reason: 'mismatch' });
  });

  for (const code of [
    '',
    '12345',
    '1234567',
    'abcdef',
    '12 345',
    '12-345',
    '１２３４５６',
    '+12345',
    '1e5000',
  ]) {
    it(`reports ${JSON.stringify(code)} as malformed`, () => {
      assert.deepEqual(verify(code), { ok: false, reason: 'malformed' });
    });
  }

  it('skips negative steps near the epoch and still accepts step 0', () => {
    const result = verify(totp(0), { nowMs: 0, window: 1 });
    assert.deepEqual(result, { ok: true, step: 0 });
  });

  it('throws on a bad period, window or digits (a caller bug, not user input)', () => {
    const base = {
      secret: SEED_SHA1,
      algorithm: 'SHA1',
      digits: 6,
      periodSeconds: 30,
      code: '123456',
      nowMs: stepStartMs,
      lastStep: null,
    } as const;
    assert.throws(() => verifyTotp({ ...base, periodSeconds: 0 }), RangeError);
    assert.throws(() => verifyTotp({ ...base, window: -1 }), RangeError);
    assert.throws(() => verifyTotp({ ...base, digits: 11 }), RangeError);
  });

  it('throws on a secret that is not base32', () => {
    const input = {
      secret: 'not base32!',
      algorithm: 'SHA1',
      digits: 6,
      periodSeconds: 30,
      code: '123456',
      nowMs: stepStartMs,
      lastStep: null,
    } as const;
    assert.throws(() => verifyTotp(input), TypeError);
  });
});

describe('newTotpUri', () => {
  it('builds an otpauth:// key URI with issuer, label and parameters', () => {
    const uri = newTotpUri({
      issuer: 'Airlock',
      label: 'alice@example.com',
      secret: 'JBSWY3DPEHPK3PXP',
    });
    assert.equal(
      uri,
      'otpauth://totp/Airlock:alice%40example.com?issuer=Airlock&secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30',
    );
  });

  it('round-trips algorithm, digits and period through a URI parser', () => {
    const uri = newTotpUri({
      issuer: 'Air lock',
      label: 'bob',
      secret: SEED_SHA256,
      algorithm: 'SHA256',
      digits: 8,
      periodSeconds: 60,
    });
    const parsed = URI.parse(uri);
    assert.ok(parsed instanceof Object && 'period' in parsed);
    assert.equal(parsed.issuer, 'Air lock');
    assert.equal(parsed.label, 'bob');
    assert.equal(parsed.algorithm, 'SHA256');
    assert.equal(parsed.digits, 8);
    assert.equal(parsed.period, 60);
    assert.equal(parsed.secret.base32, SEED_SHA256);
  });
});
