// Access-Request decoding (server side) and encoding (client side).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError, type ProtocolErrorCode } from '../protocol-error.ts';
import { createAttribute, getAttribute } from './radius-attributes.ts';
import { hidePassword, signMessageAuthenticator } from './radius-crypto.ts';
import { decodePacket, encodePacket, type RadiusAttribute } from './radius-packet.ts';
import { decodeAccessRequest, decodePasswordText, encodeAccessRequest } from './radius-request.ts';
import { RADCLIENT_CAPTURE, RFC_7_1, assertProtocolError, hex } from './radius-vectors.test.ts';

const SECRET = 'testing123';
const AUTHENTICATOR = hex('5f0d3a8b9c2e4f6071829304a5b6c7d8');
const lax = { requireMessageAuthenticator: false } as const;
const strict = { requireMessageAuthenticator: true } as const;

const request = (attributes: RadiusAttribute[], password?: string): Buffer =>
  encodeAccessRequest({
    identifier: 42,
    authenticator: AUTHENTICATOR,
    secret: SECRET,
    attributes,
    password,
  });

/** An Access-Request built by hand, without Message-Authenticator. */
const plainRequest = (attributes: RadiusAttribute[]): Buffer =>
  encodePacket({ code: 'Access-Request', identifier: 3, authenticator: AUTHENTICATOR, attributes });

describe('decodeAccessRequest', () => {
  it('reports a User-Password over 128 octets (RFC 2865 §5.2) instead of refusing the packet, so it can be answered', () => {
    // A NAS that does not truncate: 125 characters plus ",123456", hidden in 9 blocks.
    const packet = encodePacket({
      code: 'Access-Request',
      identifier: 9,
      authenticator: AUTHENTICATOR,
      attributes: [
        { type: 80, value: Buffer.alloc(16) },
        createAttribute('User-Name', 'alice'),
        { type: 2, value: Buffer.alloc(144, 0xa5) },
      ],
    });
    signMessageAuthenticator(packet, AUTHENTICATOR, SECRET);
    const decoded = decodeAccessRequest(packet, SECRET, strict);
    assert.equal(decoded.userName, 'alice');
    assert.equal(decoded.password, undefined);
    assert.equal(decoded.oversizedPasswordOctets, 144);
    // Still authenticated first: a wrong Message-Authenticator is refused, long password or not.
    assertProtocolError(
      () => decodeAccessRequest(packet, 'not-the-secret', strict),
      'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
    );
    // 128 octets is the most RADIUS carries, and is decoded as usual.
    const edge = decodeAccessRequest(request([], 'x'.repeat(128)), SECRET, strict);
    assert.equal(edge.password?.toString(), 'x'.repeat(128));
    assert.equal(edge.oversizedPasswordOctets, undefined);
  });

  it('decodes the RFC 2865 §7.1 request when Message-Authenticator is not required', () => {
    const decoded = decodeAccessRequest(RFC_7_1.request, RFC_7_1.secret, lax);
    assert.equal(decoded.identifier, 0);
    assert.deepEqual(decoded.authenticator, RFC_7_1.requestAuthenticator);
    assert.equal(decoded.userName, 'nemo');
    assert.equal(decoded.password?.toString(), 'arctangent');
    assert.equal(decoded.state, undefined);
    assert.equal(decoded.hasMessageAuthenticator, false);
    assert.equal(getAttribute(decoded.attributes, 'NAS-Port'), 3);
  });

  it('drops the RFC 2865 §7.1 request when Message-Authenticator is required', () => {
    assertProtocolError(
      () => decodeAccessRequest(RFC_7_1.request, RFC_7_1.secret, strict),
      'RADIUS_MISSING_MESSAGE_AUTHENTICATOR',
    );
  });

  it('verifies the Message-Authenticator of the radclient capture', () => {
    const decoded = decodeAccessRequest(
      RADCLIENT_CAPTURE.request,
      RADCLIENT_CAPTURE.secret,
      strict,
    );
    assert.equal(decoded.hasMessageAuthenticator, true);
    assert.equal(decoded.userName, 'alice');
    assert.equal(decodePasswordText(decoded.password!), 'pass word');
    assert.deepEqual(getAttribute(decoded.attributes, 'Proxy-State'), hex('0102'));
  });

  it('drops the radclient capture under the wrong secret, required or not', () => {
    for (const options of [lax, strict]) {
      assertProtocolError(
        () => decodeAccessRequest(RADCLIENT_CAPTURE.request, 'testing124', options),
        'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
      );
    }
  });

  it('returns garbage for a password hidden with another secret and no Message-Authenticator', () => {
    const bytes = plainRequest([
      createAttribute('User-Name', 'bob'),
      { type: 2, value: hidePassword('hunter2', 'other-secret', AUTHENTICATOR) },
    ]);
    const decoded = decodeAccessRequest(bytes, SECRET, lax);
    assert.notEqual(decoded.password?.toString('latin1'), 'hunter2');
  });

  it('reads State for a challenge answer', () => {
    const decoded = decodeAccessRequest(
      request(
        [createAttribute('User-Name', 'bob'), createAttribute('State', Buffer.from('otp-pending'))],
        '123456',
      ),
      SECRET,
      strict,
    );
    assert.deepEqual(decoded.state, Buffer.from('otp-pending'));
    assert.equal(decodePasswordText(decoded.password!), '123456');
  });

  describe('rejects malformed, forged and ambiguous requests with a ProtocolError', () => {
    const valid = request([createAttribute('User-Name', 'alice')], 'pw');
    const flip = (bytes: Buffer, offset: number): Buffer => {
      const copy = Buffer.from(bytes);
      copy[offset]! ^= 0x01;
      return copy;
    };
    const cases: [string, () => unknown, ProtocolErrorCode][] = [
      [
        'a truncated datagram',
        () => decodeAccessRequest(valid.subarray(0, 30), SECRET, lax),
        'RADIUS_TRUNCATED',
      ],
      [
        'an Access-Accept',
        () => decodeAccessRequest(RFC_7_1.accept, RFC_7_1.secret, lax),
        'RADIUS_UNEXPECTED_CODE',
      ],
      [
        'an Accounting-Request',
        () => decodeAccessRequest(Buffer.concat([hex('04000014'), Buffer.alloc(16)]), SECRET, lax),
        'RADIUS_UNEXPECTED_CODE',
      ],
      [
        'a changed Request Authenticator',
        () => decodeAccessRequest(flip(valid, 10), SECRET, lax),
        'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
      ],
      [
        'a changed User-Name',
        () => decodeAccessRequest(flip(valid, valid.length - 20), SECRET, lax),
        'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
      ],
      [
        'a changed Message-Authenticator',
        () => decodeAccessRequest(flip(valid, 25), SECRET, lax),
        'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
      ],
      [
        'two Message-Authenticators',
        () =>
          decodeAccessRequest(
            plainRequest([
              { type: 80, value: Buffer.alloc(16) },
              { type: 80, value: Buffer.alloc(16) },
            ]),
            SECRET,
            lax,
          ),
        'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
      ],
      [
        'a Message-Authenticator of 4 octets',
        () =>
          decodeAccessRequest(plainRequest([{ type: 80, value: Buffer.alloc(4) }]), SECRET, lax),
        'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
      ],
      [
        'EAP-Message without Message-Authenticator',
        () =>
          decodeAccessRequest(plainRequest([{ type: 79, value: hex('0201000501') }]), SECRET, lax),
        'RADIUS_MISSING_MESSAGE_AUTHENTICATOR',
      ],
      [
        'two User-Names',
        () =>
          decodeAccessRequest(
            plainRequest([createAttribute('User-Name', 'a'), createAttribute('User-Name', 'b')]),
            SECRET,
            lax,
          ),
        'RADIUS_DUPLICATE_ATTRIBUTE',
      ],
      [
        'two User-Passwords',
        () =>
          decodeAccessRequest(
            plainRequest([
              { type: 2, value: Buffer.alloc(16) },
              { type: 2, value: Buffer.alloc(16) },
            ]),
            SECRET,
            lax,
          ),
        'RADIUS_DUPLICATE_ATTRIBUTE',
      ],
      [
        'two States',
        () =>
          decodeAccessRequest(
            plainRequest([
              createAttribute('State', Buffer.from('a')),
              createAttribute('State', Buffer.from('b')),
            ]),
            SECRET,
            lax,
          ),
        'RADIUS_DUPLICATE_ATTRIBUTE',
      ],
      [
        'a User-Password of 17 octets',
        () =>
          decodeAccessRequest(plainRequest([{ type: 2, value: Buffer.alloc(17) }]), SECRET, lax),
        'RADIUS_BAD_PASSWORD',
      ],
      [
        'an empty User-Password',
        () => decodeAccessRequest(plainRequest([{ type: 2, value: Buffer.alloc(0) }]), SECRET, lax),
        'RADIUS_BAD_PASSWORD',
      ],
      [
        'a User-Name that is not UTF-8',
        () => decodeAccessRequest(plainRequest([{ type: 1, value: hex('c0af') }]), SECRET, lax),
        'RADIUS_BAD_ATTRIBUTE_VALUE',
      ],
      ['a password that is not UTF-8', () => decodePasswordText(hex('ff')), 'RADIUS_BAD_PASSWORD'],
    ];
    for (const [name, fn, code] of cases) {
      it(`${name} -> ${code}`, () => assertProtocolError(fn, code));
    }
  });

  it('throws only ProtocolError for any single-octet corruption', () => {
    const valid = request(
      [createAttribute('User-Name', 'alice'), createAttribute('Proxy-State', hex('00'))],
      'pw',
    );
    for (let offset = 0; offset < valid.length; offset++) {
      for (const value of [0x00, 0x01, 0x02, 0x12, 0x50, 0xff]) {
        const bytes = Buffer.from(valid);
        bytes[offset] = value;
        for (const options of [lax, strict]) {
          try {
            decodeAccessRequest(bytes, SECRET, options);
          } catch (error) {
            assert.ok(
              error instanceof ProtocolError,
              `offset ${offset} value ${value}: ${String(error)}`,
            );
          }
        }
      }
    }
  });
});

describe('encodeAccessRequest', () => {
  it('puts Message-Authenticator first and User-Password right after User-Name', () => {
    const bytes = request(
      [createAttribute('User-Name', 'alice'), createAttribute('NAS-IP-Address', '10.1.2.3')],
      'correct horse',
    );
    const packet = decodePacket(bytes);
    assert.equal(packet.code, 'Access-Request');
    assert.equal(packet.identifier, 42);
    assert.deepEqual(packet.authenticator, AUTHENTICATOR);
    assert.deepEqual(
      packet.attributes.map((a) => a.type),
      [80, 1, 2, 4],
    );
    const decoded = decodeAccessRequest(bytes, SECRET, strict);
    assert.equal(decoded.hasMessageAuthenticator, true);
    assert.equal(decodePasswordText(decoded.password!), 'correct horse');
  });

  it('replaces a caller-supplied Message-Authenticator and refuses a raw User-Password', () => {
    const bytes = request([
      { type: 80, value: Buffer.alloc(16, 7) },
      createAttribute('User-Name', 'a'),
    ]);
    assert.deepEqual(
      decodePacket(bytes).attributes.map((a) => a.type),
      [80, 1],
    );
    assert.equal(decodeAccessRequest(bytes, SECRET, strict).password, undefined);
    assert.throws(() => request([{ type: 2, value: Buffer.alloc(16) }]), TypeError);
  });

  it('refuses a password over 128 octets and a bad authenticator', () => {
    assertProtocolError(
      () => request([createAttribute('User-Name', 'a')], 'x'.repeat(129)),
      'RADIUS_BAD_PASSWORD',
    );
    assert.throws(
      () =>
        encodeAccessRequest({
          identifier: 1,
          authenticator: Buffer.alloc(15),
          secret: SECRET,
          attributes: [],
        }),
      RangeError,
    );
  });
});
