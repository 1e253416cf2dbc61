// RADIUS framing: RFC 2865 §7 packets byte for byte, padding, and table-driven malformed input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError, type ProtocolErrorCode } from '../protocol-error.ts';
import { decodePacket, encodePacket, type RadiusPacket } from './radius-packet.ts';
import { RFC_7_1, RFC_7_2, assertProtocolError, hex } from './radius-vectors.test.ts';

const header = (code: number, length: number, rest = ''): Buffer =>
  Buffer.concat([
    Buffer.from([code, 7, length >> 8, length & 0xff]),
    Buffer.alloc(16, 0xaa),
    hex(rest),
  ]);

describe('RADIUS packet framing', () => {
  it('decodes the RFC 2865 §7.1 Access-Request and re-encodes it byte for byte', () => {
    const packet = decodePacket(RFC_7_1.request);
    assert.equal(packet.code, 'Access-Request');
    assert.equal(packet.identifier, 0);
    assert.deepEqual(packet.authenticator, RFC_7_1.requestAuthenticator);
    assert.deepEqual(
      packet.attributes.map((a) => [a.type, a.value.toString('hex')]),
      [
        [1, Buffer.from('nemo').toString('hex')],
        [2, RFC_7_1.hiddenPassword.toString('hex')],
        [4, 'c0a80110'],
        [5, '00000003'],
      ],
    );
    assert.deepEqual(encodePacket(packet), RFC_7_1.request);
  });

  it('decodes the RFC 2865 §7.1 Access-Accept and re-encodes it byte for byte', () => {
    const packet = decodePacket(RFC_7_1.accept);
    assert.equal(packet.code, 'Access-Accept');
    assert.deepEqual(
      packet.attributes.map((a) => [a.type, a.value.toString('hex')]),
      [
        [6, '00000001'],
        [15, '00000000'],
        [14, 'c0a80103'],
      ],
    );
    assert.deepEqual(encodePacket(packet), RFC_7_1.accept);
  });

  it('decodes the RFC 2865 §7.2 CHAP Access-Request and Access-Accept byte for byte', () => {
    const request = decodePacket(RFC_7_2.request);
    assert.equal(request.identifier, 1);
    assert.deepEqual(
      request.attributes.map((a) => a.type),
      [1, 3, 4, 5, 6, 7],
    );
    assert.equal(request.attributes[1]!.value.length, 17); // CHAP Ident + 16-octet response
    assert.deepEqual(encodePacket(request), RFC_7_2.request);
    const accept = decodePacket(RFC_7_2.accept);
    assert.deepEqual(
      accept.attributes.map((a) => [a.type, a.value.readUInt32BE(0)]),
      [
        [6, 2],
        [7, 1],
        [8, 0xfffffffe],
        [10, 0],
        [13, 1],
        [12, 1500],
      ],
    );
    assert.deepEqual(encodePacket(accept), RFC_7_2.accept);
  });

  it('ignores octets beyond the Length field as padding (RFC 2865 §3)', () => {
    const padded = Buffer.concat([RFC_7_1.request, hex('01 ff 00 00 de ad')]);
    assert.deepEqual(encodePacket(decodePacket(padded)), RFC_7_1.request);
  });

  it('keeps duplicate attributes in their order', () => {
    const packet: RadiusPacket = {
      code: 'Access-Accept',
      identifier: 9,
      authenticator: Buffer.alloc(16, 1),
      attributes: [
        { type: 33, value: hex('02') },
        { type: 18, value: Buffer.from('a') },
        { type: 33, value: hex('01') },
        { type: 33, value: Buffer.alloc(0) },
      ],
    };
    assert.deepEqual(decodePacket(encodePacket(packet)), packet);
  });

  it('returns copies, not views of the datagram', () => {
    const datagram = Buffer.from(RFC_7_1.request);
    const packet = decodePacket(datagram);
    datagram.fill(0);
    assert.equal(packet.attributes[0]!.value.toString(), 'nemo');
    assert.deepEqual(packet.authenticator, RFC_7_1.requestAuthenticator);
  });

  it('encodes every known code and a 4096-octet packet', () => {
    for (const [code, number] of [
      ['Access-Request', 1],
      ['Access-Accept', 2],
      ['Access-Reject', 3],
      ['Accounting-Request', 4],
      ['Accounting-Response', 5],
      ['Access-Challenge', 11],
      ['Status-Server', 12],
    ] as const) {
      const bytes = encodePacket({
        code,
        identifier: 0,
        authenticator: Buffer.alloc(16),
        attributes: [],
      });
      assert.equal(bytes[0], number);
      assert.equal(decodePacket(bytes).code, code);
    }
    // 20 + 15 * 255 + 2 + 249 = 4096
    const attributes = [
      ...Array.from({ length: 15 }, () => ({ type: 26, value: Buffer.alloc(253) })),
      { type: 26, value: Buffer.alloc(249) },
    ];
    const max = encodePacket({
      code: 'Access-Accept',
      identifier: 1,
      authenticator: Buffer.alloc(16),
      attributes,
    });
    assert.equal(max.length, 4096);
    assert.equal(decodePacket(max).attributes.length, 16);
  });

  describe('rejects malformed datagrams with a ProtocolError', () => {
    const cases: [string, Buffer, ProtocolErrorCode][] = [
      ['an empty datagram', Buffer.alloc(0), 'RADIUS_TRUNCATED'],
      ['a datagram of 19 octets', RFC_7_1.request.subarray(0, 19), 'RADIUS_TRUNCATED'],
      ['a datagram shorter than its Length', RFC_7_1.request.subarray(0, 55), 'RADIUS_TRUNCATED'],
      ['a Length below 20', header(1, 19), 'RADIUS_BAD_LENGTH'],
      ['a Length of 0', header(1, 0), 'RADIUS_BAD_LENGTH'],
      [
        'a Length above 4096',
        Buffer.concat([header(1, 4097), Buffer.alloc(4077)]),
        'RADIUS_BAD_LENGTH',
      ],
      ['Code 0', header(0, 20), 'RADIUS_UNKNOWN_CODE'],
      ['Code 13 (Status-Client)', header(13, 20), 'RADIUS_UNKNOWN_CODE'],
      ['Code 255', header(255, 20), 'RADIUS_UNKNOWN_CODE'],
      ['an attribute Length of 0', header(1, 22, '01 00'), 'RADIUS_BAD_ATTRIBUTE_LENGTH'],
      ['an attribute Length of 1', header(1, 22, '01 01'), 'RADIUS_BAD_ATTRIBUTE_LENGTH'],
      ['a lone attribute Type octet', header(1, 21, '01'), 'RADIUS_BAD_ATTRIBUTE_LENGTH'],
      [
        'an attribute past the packet end',
        header(1, 24, '01 05 61 62'),
        'RADIUS_BAD_ATTRIBUTE_LENGTH',
      ],
      [
        'an attribute past Length but inside the datagram',
        header(1, 24, '01 06 61 62 63 64'),
        'RADIUS_BAD_ATTRIBUTE_LENGTH',
      ],
      // Found by fuzzing: decoded, but encodePacket threw a RangeError re-encoding it.
      ['an attribute of Type 0', header(1, 23, '00 03 61'), 'RADIUS_BAD_ATTRIBUTE_TYPE'],
      [
        'a bad second attribute',
        header(1, 27, '01 03 61 05 09 00 00'),
        'RADIUS_BAD_ATTRIBUTE_LENGTH',
      ],
    ];
    for (const [name, bytes, code] of cases) {
      it(`${name} -> ${code}`, () => assertProtocolError(() => decodePacket(bytes), code));
    }
  });

  it('throws only ProtocolError for any truncation or single-octet corruption', () => {
    for (let length = 0; length < RFC_7_1.request.length; length++) {
      assertProtocolError(
        () => decodePacket(RFC_7_1.request.subarray(0, length)),
        'RADIUS_TRUNCATED',
      );
    }
    for (let offset = 0; offset < RFC_7_2.accept.length; offset++) {
      for (const value of [0x00, 0x01, 0x02, 0x7f, 0xff]) {
        const bytes = Buffer.from(RFC_7_2.accept);
        bytes[offset] = value;
        try {
          decodePacket(bytes);
        } catch (error) {
          assert.ok(error instanceof ProtocolError, `offset ${offset}: ${String(error)}`);
        }
      }
    }
  });

  it('refuses to encode a value over 253 octets or a packet over 4096', () => {
    const base = { code: 'Access-Accept', identifier: 1, authenticator: Buffer.alloc(16) } as const;
    assertProtocolError(
      () => encodePacket({ ...base, attributes: [{ type: 18, value: Buffer.alloc(254) }] }),
      'RADIUS_VALUE_TOO_LONG',
    );
    const attributes = Array.from({ length: 17 }, () => ({ type: 26, value: Buffer.alloc(253) }));
    assertProtocolError(() => encodePacket({ ...base, attributes }), 'RADIUS_BAD_LENGTH');
  });
});
