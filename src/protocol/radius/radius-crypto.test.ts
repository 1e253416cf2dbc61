// RADIUS cryptography: PAP hiding (RFC 2865 §5.2), Response Authenticator (§3), Message-Authenticator (RFC 3579).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  computeMessageAuthenticator,
  computeResponseAuthenticator,
  hidePassword,
  isValidResponseAuthenticator,
  unhidePassword,
  verifyMessageAuthenticator,
} from './radius-crypto.ts';
import { encodePacket } from './radius-packet.ts';
import { RADCLIENT_CAPTURE, RFC_7_1, assertProtocolError, hex } from './radius-vectors.test.ts';

const authenticator = hex('00112233445566778899aabbccddeeff');

describe('User-Password hiding (RFC 2865 §5.2)', () => {
  it('hides "arctangent" as in RFC 2865 §7.1', () => {
    assert.deepEqual(
      hidePassword('arctangent', RFC_7_1.secret, RFC_7_1.requestAuthenticator),
      RFC_7_1.hiddenPassword,
    );
    assert.equal(
      unhidePassword(
        RFC_7_1.hiddenPassword,
        RFC_7_1.secret,
        RFC_7_1.requestAuthenticator,
      ).toString(),
      'arctangent',
    );
  });

  it('chains blocks through the previous cipher block', () => {
    // Independent computation of the second block: c2 = p2 XOR MD5(S + c1).
    const password = Buffer.from('0123456789abcdefXYZ');
    const hidden = hidePassword(password, 's3cret', authenticator);
    assert.equal(hidden.length, 32);
    const pad2 = createHash('md5').update('s3cret').update(hidden.subarray(0, 16)).digest();
    const p2 = Buffer.alloc(16);
    Buffer.from('XYZ').copy(p2);
    assert.deepEqual(hidden.subarray(16), Buffer.from(p2.map((b, i) => b ^ pad2[i]!)));
  });

  it('round-trips passwords of 0 to 128 octets, including non-ASCII', () => {
    for (const length of [0, 1, 15, 16, 17, 31, 32, 33, 100, 127, 128]) {
      const password = Buffer.from(Array.from({ length }, (_, i) => 1 + ((i * 37) % 255)));
      const hidden = hidePassword(password, 'xyzzy5461', authenticator);
      assert.equal(hidden.length, Math.max(16, Math.ceil(length / 16) * 16), `length ${length}`);
      assert.deepEqual(unhidePassword(hidden, 'xyzzy5461', authenticator), password);
    }
    const text = 'pässwörd ✓';
    assert.equal(
      unhidePassword(hidePassword(text, 'k', authenticator), 'k', authenticator).toString(),
      text,
    );
  });

  it('gives garbage, not the password, with the wrong secret', () => {
    const hidden = hidePassword('arctangent', 'right', authenticator);
    assert.notEqual(unhidePassword(hidden, 'wrong', authenticator).toString(), 'arctangent');
  });

  it('refuses a password over 128 octets and hidden values of bad length', () => {
    assertProtocolError(
      () => hidePassword('x'.repeat(129), 'k', authenticator),
      'RADIUS_BAD_PASSWORD',
    );
    for (const length of [0, 1, 15, 17, 31, 144]) {
      assertProtocolError(
        () => unhidePassword(Buffer.alloc(length), 'k', authenticator),
        'RADIUS_BAD_PASSWORD',
      );
    }
  });

  it('refuses an empty secret', () => {
    assert.throws(() => hidePassword('x', '', authenticator), TypeError);
  });
});

describe('Response Authenticator (RFC 2865 §3)', () => {
  it('computes the RFC 2865 §7.1 Access-Accept authenticator', () => {
    assert.deepEqual(
      computeResponseAuthenticator(RFC_7_1.accept, RFC_7_1.requestAuthenticator, RFC_7_1.secret),
      RFC_7_1.accept.subarray(4, 20),
    );
    assert.equal(
      isValidResponseAuthenticator(RFC_7_1.accept, RFC_7_1.requestAuthenticator, RFC_7_1.secret),
      true,
    );
  });

  it('fails for the wrong secret, request, or any changed octet', () => {
    const { accept, requestAuthenticator, secret } = RFC_7_1;
    assert.equal(isValidResponseAuthenticator(accept, requestAuthenticator, 'xyzzy5462'), false);
    assert.equal(isValidResponseAuthenticator(accept, authenticator, secret), false);
    for (let offset = 0; offset < accept.length; offset++) {
      if (offset === 2 || offset === 3) continue; // the Length field: framing rejects those
      const tampered = Buffer.from(accept);
      tampered[offset]! ^= 0x01;
      assert.equal(
        isValidResponseAuthenticator(tampered, requestAuthenticator, secret),
        false,
        `offset ${offset}`,
      );
    }
  });
});

describe('Message-Authenticator (RFC 3579 §3.2)', () => {
  it('verifies the one radclient computed, with the right secret only', () => {
    const { request, secret, messageAuthenticator } = RADCLIENT_CAPTURE;
    const requestAuthenticator = request.subarray(4, 20);
    assert.deepEqual(
      computeMessageAuthenticator(request, requestAuthenticator, secret),
      messageAuthenticator,
    );
    assert.equal(verifyMessageAuthenticator(request, requestAuthenticator, secret), true);
    assertProtocolError(
      () => verifyMessageAuthenticator(request, requestAuthenticator, 'testing124'),
      'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
    );
  });

  it('detects any changed octet of the authenticator field or of an attribute value', () => {
    const { request, secret } = RADCLIENT_CAPTURE;
    const valueOffsets: number[] = [];
    for (let offset = 20; offset < request.length; offset += request[offset + 1]!) {
      for (let i = offset + 2; i < offset + request[offset + 1]!; i++) valueOffsets.push(i);
    }
    for (const offset of [...Array.from({ length: 16 }, (_, i) => 4 + i), ...valueOffsets]) {
      const tampered = Buffer.from(request);
      tampered[offset]! ^= 0x80;
      assertProtocolError(
        () => verifyMessageAuthenticator(tampered, tampered.subarray(4, 20), secret),
        'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
      );
    }
  });

  it('reports absence as false, and a repeated or short one as bad', () => {
    assert.equal(
      verifyMessageAuthenticator(RFC_7_1.request, RFC_7_1.requestAuthenticator, 'k'),
      false,
    );
    const base = { code: 'Access-Request', identifier: 1, authenticator } as const;
    const twice = encodePacket({
      ...base,
      attributes: [
        { type: 80, value: Buffer.alloc(16) },
        { type: 80, value: Buffer.alloc(16) },
      ],
    });
    assertProtocolError(
      () => verifyMessageAuthenticator(twice, authenticator, 'k'),
      'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
    );
    const short = encodePacket({ ...base, attributes: [{ type: 80, value: Buffer.alloc(15) }] });
    assertProtocolError(
      () => verifyMessageAuthenticator(short, authenticator, 'k'),
      'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
    );
  });
});
