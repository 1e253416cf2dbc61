// LDAPMessage codec: known encodings byte for byte, round trips, and table-driven malformed input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError, type ProtocolErrorCode } from '../protocol-error.ts';
import {
  LDAP_OP,
  LDAP_RESULT,
  NOTICE_OF_DISCONNECTION_OID,
  STARTTLS_OID,
  decodeLdapMessage,
  encodeBindRequest,
  encodeBindResponse,
  encodeExtendedRequest,
  encodeExtendedResponse,
  encodeNoticeOfDisconnection,
  encodeSaslBindRequest,
  encodeUnbindRequest,
  ldapFrameLength,
  splitLdapFrames,
} from './ldap-message.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function assertProtocolError(fn: () => unknown, code: ProtocolErrorCode): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

/** `depth` SEQUENCEs each holding the next, around an empty one; long-form lengths throughout. */
function nested(depth: number): Buffer {
  const out = Buffer.alloc(depth * 5 + 2);
  for (let i = 0; i < depth; i++) {
    const len = (depth - i - 1) * 5 + 2;
    out.set([0x30, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff], i * 5);
  }
  out.set([0x30, 0x00], depth * 5);
  return out;
}

/** An LDAPMessage (id 2) whose protocolOp is an opaque [APPLICATION 16]-ish constructed op. */
function messageWith(op: Buffer): Buffer {
  const body = Buffer.concat([hex('02 01 02'), op]);
  const len = body.length;
  const lenBytes = len < 128 ? [len] : [0x83, len >> 16, (len >> 8) & 0xff, len & 0xff];
  return Buffer.concat([Buffer.from([0x30, ...lenBytes]), body]);
}

function opWith(tag: number, contents: Buffer): Buffer {
  const len = contents.length;
  const lenBytes = len < 128 ? [len] : [0x83, len >> 16, (len >> 8) & 0xff, len & 0xff];
  return Buffer.concat([Buffer.from([tag, ...lenBytes]), contents]);
}

describe('LDAPMessage codec', () => {
  it('encodes an anonymous simple bind as every LDAP client does', () => {
    // RFC 4511 §4.2: version 3, empty name, simple [0] empty.
    assert.deepEqual(
      encodeBindRequest({ messageId: 1, name: '', password: '' }),
      hex('30 0c 02 01 01 60 07 02 01 03 04 00 80 00'),
    );
  });

  it('decodes a simple BindRequest with its DN and password', () => {
    const raw = encodeBindRequest({
      messageId: 7,
      name: 'uid=alice,dc=example,dc=org',
      password: 'pw,123456',
    });
    const m = decodeLdapMessage(raw);
    assert.equal(m.messageId, 7);
    assert.equal(m.protocolOp, LDAP_OP.bindRequest);
    assert.deepEqual(m.operation, {
      type: 'bindRequest',
      version: 3,
      name: 'uid=alice,dc=example,dc=org',
      authentication: { kind: 'simple', password: Buffer.from('pw,123456') },
    });
    assert.equal(m.raw, raw);
  });

  it('decodes a SASL bind far enough to name its mechanism', () => {
    const m = decodeLdapMessage(
      encodeSaslBindRequest({ messageId: 3, name: '', mechanism: 'EXTERNAL' }),
    );
    assert.equal(m.operation.type, 'bindRequest');
    assert.deepEqual(m.operation.type === 'bindRequest' && m.operation.authentication, {
      kind: 'sasl',
      mechanism: 'EXTERNAL',
      credentials: undefined,
    });
  });

  it('round-trips bind responses, StartTLS, unbind and the notice of disconnection', () => {
    const bind = decodeLdapMessage(
      encodeBindResponse({
        messageId: 300,
        resultCode: 49,
        matchedDn: '',
        diagnosticMessage: 'nope',
      }),
    );
    assert.equal(bind.messageId, 300);
    assert.deepEqual(bind.operation, {
      type: 'bindResponse',
      result: { resultCode: 49, matchedDn: '', diagnosticMessage: 'nope' },
    });
    const startTls = decodeLdapMessage(
      encodeExtendedRequest({ messageId: 1, requestName: STARTTLS_OID }),
    );
    assert.deepEqual(startTls.operation, {
      type: 'extendedRequest',
      requestName: STARTTLS_OID,
      requestValue: undefined,
    });
    const answer = decodeLdapMessage(
      encodeExtendedResponse({
        messageId: 1,
        resultCode: 0,
        matchedDn: '',
        diagnosticMessage: '',
        responseName: STARTTLS_OID,
      }),
    );
    assert.equal(
      answer.operation.type === 'extendedResponse' && answer.operation.responseName,
      STARTTLS_OID,
    );
    assert.deepEqual(decodeLdapMessage(encodeUnbindRequest(9)).operation, {
      type: 'unbindRequest',
    });
    const notice = decodeLdapMessage(encodeNoticeOfDisconnection(LDAP_RESULT.protocolError, 'bye'));
    assert.equal(notice.messageId, 0);
    assert.equal(
      notice.operation.type === 'extendedResponse' && notice.operation.responseName,
      NOTICE_OF_DISCONNECTION_OID,
    );
  });

  it('encodes message IDs above 127 with a leading zero octet and long lengths in long form', () => {
    const raw = encodeBindRequest({ messageId: 128, name: 'x'.repeat(200), password: 'p' });
    assert.deepEqual(raw.subarray(0, 7), hex('30 81 d8 02 02 00 80'));
    assert.equal(decodeLdapMessage(raw).messageId, 128);
  });

  it('decodes an abandon, a search base and keeps other operations opaque', () => {
    assert.deepEqual(decodeLdapMessage(hex('30 06 02 01 05 50 01 04')).operation, {
      type: 'abandonRequest',
      idToAbandon: 4,
    });
    // SearchRequest: base "dc=x", scope 2, deref 0, size 0, time 0, typesOnly false, (objectClass=*), no attrs.
    const search = hex(
      '30 29 02 01 02 63 24 04 04 64 63 3d 78 0a 01 02 0a 01 00 02 01 00 02 01 00 01 01 00 87 0b 6f 62 6a 65 63 74 43 6c 61 73 73 30 00',
    );
    assert.deepEqual(decodeLdapMessage(search).operation, {
      type: 'searchRequest',
      baseObject: 'dc=x',
      scope: 2,
    });
    // A DelRequest (primitive [APPLICATION 10]) with controls.
    const del = decodeLdapMessage(hex('30 0f 02 01 06 4a 04 64 63 3d 78 a0 04 30 02 04 00'));
    assert.deepEqual(del.operation, { type: 'opaque' });
    assert.equal(del.protocolOp, LDAP_OP.delRequest);
  });

  it('frames a stream: whole messages out, the incomplete tail kept', () => {
    const a = encodeBindRequest({ messageId: 1, name: '', password: '' });
    const b = encodeUnbindRequest(2);
    const stream = Buffer.concat([a, b, b.subarray(0, 3)]);
    const { frames, rest } = splitLdapFrames(stream);
    assert.deepEqual(frames, [a, b]);
    assert.deepEqual(rest, b.subarray(0, 3));
    assert.equal(ldapFrameLength(hex('30')), undefined);
    assert.equal(ldapFrameLength(hex('30 84 00 00')), undefined);
  });

  it('refuses a 2 GiB length from the header alone, before the body arrives', () => {
    assertProtocolError(() => ldapFrameLength(hex('30 84 80 00 00 00')), 'LDAP_MESSAGE_TOO_LARGE');
    assertProtocolError(
      () => ldapFrameLength(hex('30 84 00 10 00 01'), 1024 * 1024),
      'LDAP_MESSAGE_TOO_LARGE',
    );
    assert.equal(ldapFrameLength(hex('30 84 00 10 00 00'), 1024 * 1024 + 6), 1024 * 1024 + 6);
  });

  const malformed: Array<[string, Buffer, ProtocolErrorCode]> = [
    ['not a SEQUENCE', hex('31 03 02 01 01'), 'LDAP_MALFORMED'],
    ['an indefinite length', hex('30 80 02 01 01 42 00 00 00'), 'LDAP_INDEFINITE_LENGTH'],
    [
      'a length field of 5 octets',
      hex('30 85 00 00 00 00 05 02 01 01 42 00'),
      'LDAP_MESSAGE_TOO_LARGE',
    ],
    [
      'a 2 GiB length inside the message',
      hex('30 0a 02 01 01 60 84 7f ff ff ff 00'),
      'LDAP_TRUNCATED',
    ],
    ['a child running past its parent', hex('30 05 02 01 01 42 05'), 'LDAP_TRUNCATED'],
    ['a truncated message', hex('30 0c 02 01 01 60 07 02 01 03 04 00'), 'LDAP_TRUNCATED'],
    ['bytes after the message', hex('30 05 02 01 01 42 00 00'), 'LDAP_MALFORMED'],
    ['no protocolOp', hex('30 03 02 01 01'), 'LDAP_MALFORMED'],
    ['a messageID that is not an INTEGER', hex('30 05 04 01 01 42 00'), 'LDAP_MALFORMED'],
    ['a negative messageID', hex('30 05 02 01 ff 42 00'), 'LDAP_BAD_VALUE'],
    ['a messageID above 2^31-1', hex('30 09 02 05 00 80 00 00 00 42 00'), 'LDAP_BAD_VALUE'],
    ['an empty messageID', hex('30 04 02 00 42 00'), 'LDAP_BAD_VALUE'],
    ['a multi-octet tag', hex('30 06 02 01 01 7f 01 00'), 'LDAP_MALFORMED'],
    ['a universal-class protocolOp', hex('30 05 02 01 01 04 00'), 'LDAP_MALFORMED'],
    [
      'a non-UTF-8 bind DN',
      hex('30 0e 02 01 01 60 09 02 01 03 04 02 c3 28 80 00'),
      'LDAP_BAD_VALUE',
    ],
    ['a bind without authentication', hex('30 0a 02 01 01 60 05 02 01 03 04 00'), 'LDAP_MALFORMED'],
    [
      'a bind with an unknown authentication choice',
      hex('30 0c 02 01 01 60 07 02 01 03 04 00 81 00'),
      'LDAP_MALFORMED',
    ],
    ['an unbind with contents', hex('30 06 02 01 01 42 01 00'), 'LDAP_MALFORMED'],
    ['controls that are not [0]', hex('30 07 02 01 01 42 00 30 00'), 'LDAP_MALFORMED'],
    ['a BindResponse without LDAPResult', hex('30 07 02 01 01 61 02 0a 00'), 'LDAP_MALFORMED'],
    ['nesting 33 levels deep', messageWith(opWith(0x66, nested(33))), 'LDAP_TOO_DEEP'],
  ];
  for (const [what, bytes, code] of malformed) {
    it(`refuses ${what} with ${code}`, () => {
      assertProtocolError(() => decodeLdapMessage(bytes), code);
    });
  }

  it('accepts nesting up to the limit, and deep nesting costs no recursion', () => {
    assert.equal(decodeLdapMessage(messageWith(opWith(0x66, nested(28)))).operation.type, 'opaque');
    // 100 000 levels: refused by the iterative walk, no stack overflow.
    assertProtocolError(
      () => decodeLdapMessage(messageWith(opWith(0x66, nested(100_000)))),
      'LDAP_TOO_DEEP',
    );
  });
});
