// Responses: Message-Authenticator first, Proxy-State echo, Response Authenticator; client-side verification.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { ProtocolError, type ProtocolErrorCode } from '../protocol-error.ts';
import { createAttribute, getAttribute, getAttributes } from './radius-attributes.ts';
import { computeMessageAuthenticator, isValidResponseAuthenticator } from './radius-crypto.ts';
import { decodePacket, encodePacket } from './radius-packet.ts';
import { decodeAccessRequest, encodeAccessRequest } from './radius-request.ts';
import { encodeResponse, verifyResponse } from './radius-response.ts';
import { RADCLIENT_CAPTURE, RFC_7_1, assertProtocolError, hex } from './radius-vectors.test.ts';

const SECRET = 'testing123';
const requestBytes = encodeAccessRequest({
  identifier: 200,
  authenticator: hex('0123456789abcdef0123456789abcdef'),
  secret: SECRET,
  attributes: [
    createAttribute('User-Name', 'alice'),
    createAttribute('Proxy-State', hex('bb')),
    createAttribute('Calling-Station-Id', '10.0.0.9'),
    createAttribute('Proxy-State', hex('aa')),
  ],
  password: 'pw',
});
const request = decodeAccessRequest(requestBytes, SECRET, { requireMessageAuthenticator: true });

const accept = (
  attributes = [createAttribute('Reply-Message', 'Welcome'), createAttribute('Class', hex('c1'))],
) => encodeResponse({ request, code: 'Access-Accept', attributes, secret: SECRET });

describe('encodeResponse', () => {
  it('puts Message-Authenticator first, then the attributes, then Proxy-State in request order', () => {
    const packet = decodePacket(accept());
    assert.equal(packet.code, 'Access-Accept');
    assert.equal(packet.identifier, 200);
    assert.deepEqual(
      packet.attributes.map((a) => a.type),
      [80, 18, 25, 33, 33],
    );
    assert.deepEqual(getAttributes(packet.attributes, 'Proxy-State'), [hex('bb'), hex('aa')]);
  });

  it('computes Message-Authenticator with the Request Authenticator, then the Response Authenticator over the final bytes', () => {
    const bytes = accept();
    assert.deepEqual(
      bytes.subarray(22, 38),
      computeMessageAuthenticator(bytes, request.authenticator, SECRET),
    );
    assert.equal(isValidResponseAuthenticator(bytes, request.authenticator, SECRET), true);
  });

  it('always includes Message-Authenticator, even for a request without one', () => {
    const legacy = decodeAccessRequest(RFC_7_1.request, RFC_7_1.secret, {
      requireMessageAuthenticator: false,
    });
    const bytes = encodeResponse({
      request: legacy,
      code: 'Access-Reject',
      attributes: [],
      secret: RFC_7_1.secret,
    });
    const verified = verifyResponse({
      request: RFC_7_1.request,
      response: bytes,
      secret: RFC_7_1.secret,
      requireMessageAuthenticator: true,
    });
    assert.equal(verified.code, 'Access-Reject');
    assert.equal(verified.hasMessageAuthenticator, true);
    assert.deepEqual(
      verified.attributes.map((a) => a.type),
      [80],
    );
  });

  it('owns Message-Authenticator and Proxy-State: caller copies are left out', () => {
    const packet = decodePacket(
      accept([
        { type: 80, value: Buffer.alloc(16, 9) },
        createAttribute('Proxy-State', hex('ff')),
        createAttribute('Reply-Message', 'x'),
      ]),
    );
    assert.deepEqual(
      packet.attributes.map((a) => a.type),
      [80, 18, 33, 33],
    );
    assert.deepEqual(getAttributes(packet.attributes, 'Proxy-State'), [hex('bb'), hex('aa')]);
  });

  it('echoes radclient’s Proxy-State attributes', () => {
    const captured = decodeAccessRequest(RADCLIENT_CAPTURE.request, RADCLIENT_CAPTURE.secret, {
      requireMessageAuthenticator: true,
    });
    const bytes = encodeResponse({
      request: captured,
      code: 'Access-Challenge',
      attributes: [
        createAttribute('State', Buffer.from('s1')),
        createAttribute('Reply-Message', 'Enter passcode:'),
      ],
      secret: RADCLIENT_CAPTURE.secret,
    });
    const verified = verifyResponse({
      request: RADCLIENT_CAPTURE.request,
      response: bytes,
      secret: RADCLIENT_CAPTURE.secret,
      requireMessageAuthenticator: true,
    });
    assert.equal(verified.code, 'Access-Challenge');
    assert.deepEqual(getAttributes(verified.attributes, 'Proxy-State'), [hex('0102'), hex('0304')]);
  });
});

describe('verifyResponse', () => {
  it('accepts the RFC 2865 §7.1 Access-Accept (no Message-Authenticator) unless one is required', () => {
    const input = { request: RFC_7_1.request, response: RFC_7_1.accept, secret: RFC_7_1.secret };
    const verified = verifyResponse({ ...input, requireMessageAuthenticator: false });
    assert.equal(verified.code, 'Access-Accept');
    assert.equal(verified.hasMessageAuthenticator, false);
    assert.equal(getAttribute(verified.attributes, 'Login-IP-Host'), '192.168.1.3');
    assertProtocolError(
      () => verifyResponse({ ...input, requireMessageAuthenticator: true }),
      'RADIUS_MISSING_MESSAGE_AUTHENTICATOR',
    );
  });

  it('takes the request as its Identifier and Authenticator instead of its bytes', () => {
    const verified = verifyResponse({
      request: { identifier: 200, authenticator: request.authenticator },
      response: accept(),
      secret: SECRET,
      requireMessageAuthenticator: true,
    });
    assert.equal(getAttribute(verified.attributes, 'Reply-Message'), 'Welcome');
  });

  describe('rejects forged, tampered and mismatched responses with a ProtocolError', () => {
    const good = accept();
    const flip = (offset: number): Buffer => {
      const copy = Buffer.from(good);
      copy[offset]! ^= 0x01;
      return copy;
    };
    /**
     * A response with a valid Response Authenticator around the given attributes: what a forger
     * who won the MD5 collision (or a server with the secret) sends. It isolates the
     * Message-Authenticator checks.
     */
    const resigned = (attributes: { type: number; value: Buffer }[]): Buffer => {
      const bytes = encodePacket({
        code: 'Access-Accept',
        identifier: 200,
        authenticator: request.authenticator,
        attributes,
      });
      responseAuthenticator(bytes).copy(bytes, 4);
      return bytes;
    };
    const cases: [string, Buffer, ProtocolErrorCode, boolean?][] = [
      ['a changed Response Authenticator', flip(10), 'RADIUS_BAD_RESPONSE_AUTHENTICATOR'],
      ['a changed Message-Authenticator', flip(25), 'RADIUS_BAD_RESPONSE_AUTHENTICATOR'],
      ['a changed attribute', flip(good.length - 3), 'RADIUS_BAD_RESPONSE_AUTHENTICATOR'],
      ['another Identifier', flip(1), 'RADIUS_IDENTIFIER_MISMATCH'],
      ['an Access-Request', Buffer.from(requestBytes), 'RADIUS_UNEXPECTED_CODE'],
      [
        'an Accounting-Response',
        Buffer.concat([hex('05c80014'), Buffer.alloc(16)]),
        'RADIUS_UNEXPECTED_CODE',
      ],
      ['a truncated response', good.subarray(0, good.length - 1), 'RADIUS_TRUNCATED'],
      [
        'a valid Response Authenticator over a wrong Message-Authenticator (Blast-RADIUS shape)',
        resigned([
          { type: 80, value: Buffer.alloc(16, 0x42) },
          createAttribute('Reply-Message', 'x'),
        ]),
        'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
      ],
      [
        'no Message-Authenticator when it is required',
        resigned([createAttribute('Reply-Message', 'x')]),
        'RADIUS_MISSING_MESSAGE_AUTHENTICATOR',
        true,
      ],
      [
        'EAP-Message without Message-Authenticator',
        resigned([{ type: 79, value: hex('03010004') }]),
        'RADIUS_MISSING_MESSAGE_AUTHENTICATOR',
      ],
    ];
    for (const [name, response, code, required = false] of cases) {
      it(`${name} -> ${code}`, () =>
        assertProtocolError(
          () =>
            verifyResponse({
              request: requestBytes,
              response,
              secret: SECRET,
              requireMessageAuthenticator: required,
            }),
          code,
        ));
    }
    it(`the wrong secret -> RADIUS_BAD_RESPONSE_AUTHENTICATOR`, () =>
      assertProtocolError(
        () =>
          verifyResponse({
            request: requestBytes,
            response: good,
            secret: 'testing124',
            requireMessageAuthenticator: false,
          }),
        'RADIUS_BAD_RESPONSE_AUTHENTICATOR',
      ));
  });

  it('throws only ProtocolError for any single-octet corruption', () => {
    const good = accept();
    for (let offset = 0; offset < good.length; offset++) {
      for (const value of [0x00, 0x01, 0x02, 0x50, 0xff]) {
        const bytes = Buffer.from(good);
        bytes[offset] = value;
        if (bytes.equals(good)) continue;
        assert.throws(
          () =>
            verifyResponse({
              request: requestBytes,
              response: bytes,
              secret: SECRET,
              requireMessageAuthenticator: false,
            }),
          (error: unknown) => error instanceof ProtocolError,
          `offset ${offset} value ${value}`,
        );
      }
    }
  });
});

function responseAuthenticator(bytes: Buffer): Buffer {
  // RFC 2865 §3, computed here independently of radius-crypto.ts.
  return createHash('md5')
    .update(bytes.subarray(0, 4))
    .update(request.authenticator)
    .update(bytes.subarray(20))
    .update(SECRET)
    .digest();
}
