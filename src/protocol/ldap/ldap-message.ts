// LDAPMessage codec (RFC 4511 §4): framing a byte stream into messages with strict length checks,
// decoding the operations the LDAP proxy acts on (bind, unbind, abandon, extended, results, the
// search base), every other operation kept as an opaque PDU; encoding the messages it sends.
//
// Airlock writes this subset rather than depend on ldapjs (frozen upstream): the proxy forwards
// most PDUs untouched, so it needs framing, validation and a handful of operations, nothing more.
// Pure: bytes in, values out, a ProtocolError on bad input. Nothing is allocated for a message
// before its length has been checked against the maximum.
import { ProtocolError } from '../protocol-error.ts';
import {
  BER_MAX_DEPTH,
  BER_TAG,
  berBytes,
  berConstructed,
  berString,
  berTlv,
  berUnsigned,
  checkBerStructure,
  readBerChildren,
  readBerElement,
  readBerHeader,
  readBerUnsigned,
  readBerUtf8,
  type BerElement,
} from './ber.ts';

/** protocolOp tags (RFC 4511 §4.2–4.14, [APPLICATION n]). */
export const LDAP_OP = {
  bindRequest: 0x60,
  bindResponse: 0x61,
  unbindRequest: 0x42,
  searchRequest: 0x63,
  searchResultEntry: 0x64,
  searchResultDone: 0x65,
  modifyRequest: 0x66,
  modifyResponse: 0x67,
  addRequest: 0x68,
  addResponse: 0x69,
  delRequest: 0x4a,
  delResponse: 0x6b,
  modDnRequest: 0x6c,
  modDnResponse: 0x6d,
  compareRequest: 0x6e,
  compareResponse: 0x6f,
  abandonRequest: 0x50,
  searchResultReference: 0x73,
  extendedRequest: 0x77,
  extendedResponse: 0x78,
  intermediateResponse: 0x79,
} as const;

/** Result codes the proxy sends or looks at (RFC 4511 Appendix A). */
export const LDAP_RESULT = {
  success: 0,
  operationsError: 1,
  protocolError: 2,
  invalidCredentials: 49,
  unavailable: 52,
  unwillingToPerform: 53,
  other: 80,
} as const;

/** RFC 4511 §4.14.1 (StartTLS) and §4.4.1 (Notice of Disconnection). */
export const STARTTLS_OID = '1.3.6.1.4.1.1466.20037';
export const NOTICE_OF_DISCONNECTION_OID = '1.3.6.1.4.1.1466.20036';

/** The default largest message: a bind or a search is far below it; larger is refused unread. */
export const LDAP_DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/** Result components shared by every response (LDAPResult, RFC 4511 §4.1.9). */
export interface LdapResult {
  readonly resultCode: number;
  readonly matchedDn: string;
  readonly diagnosticMessage: string;
}

export type LdapOperation =
  | {
      readonly type: 'bindRequest';
      readonly version: number;
      readonly name: string;
      readonly authentication:
        | { readonly kind: 'simple'; readonly password: Buffer }
        | {
            readonly kind: 'sasl';
            readonly mechanism: string;
            readonly credentials: Buffer | undefined;
          };
    }
  | { readonly type: 'bindResponse'; readonly result: LdapResult }
  | { readonly type: 'unbindRequest' }
  | { readonly type: 'abandonRequest'; readonly idToAbandon: number }
  | {
      readonly type: 'extendedRequest';
      readonly requestName: string;
      readonly requestValue: Buffer | undefined;
    }
  | {
      readonly type: 'extendedResponse';
      readonly result: LdapResult;
      readonly responseName: string | undefined;
    }
  | { readonly type: 'searchRequest'; readonly baseObject: string; readonly scope: number }
  /** searchResultDone, modifyResponse, addResponse, delResponse, modDNResponse, compareResponse. */
  | { readonly type: 'result'; readonly result: LdapResult }
  /** Anything else: forwarded as the raw bytes. */
  | { readonly type: 'opaque' };

export interface LdapMessage {
  readonly messageId: number;
  /** The protocolOp's tag octet (`LDAP_OP`). */
  readonly protocolOp: number;
  readonly operation: LdapOperation;
  /** The whole message as received, to forward unchanged. */
  readonly raw: Buffer;
}

export interface LdapDecodeOptions {
  readonly maxMessageBytes?: number;
  readonly maxDepth?: number;
}

/**
 * How long the message at the start of `buf` is, in octets, once its header is complete;
 * undefined while the header is incomplete. Throws when the stream cannot hold an LDAPMessage
 * here: not a SEQUENCE, an indefinite length, a length above `maxMessageBytes` (checked from the
 * header alone, so an attacker's 2 GiB length costs nothing).
 */
export function ldapFrameLength(
  buf: Uint8Array,
  maxMessageBytes = LDAP_DEFAULT_MAX_MESSAGE_BYTES,
): number | undefined {
  if (buf.length === 0) return undefined;
  if (buf[0] !== BER_TAG.sequence) {
    throw new ProtocolError('LDAP_MALFORMED', 'an LDAPMessage is a SEQUENCE (0x30)');
  }
  const header = readBerHeader(buf, 0);
  if (header === undefined) return undefined;
  const total = header.contentStart + header.length;
  if (total > maxMessageBytes) {
    throw new ProtocolError(
      'LDAP_MESSAGE_TOO_LARGE',
      `message of ${total} octets, the limit is ${maxMessageBytes}`,
    );
  }
  return total;
}

/**
 * Splits the complete messages off the front of `buf`: the frames and the bytes left over (an
 * incomplete message). Throws as `ldapFrameLength` does.
 */
export function splitLdapFrames(
  buf: Buffer,
  maxMessageBytes = LDAP_DEFAULT_MAX_MESSAGE_BYTES,
): { frames: Buffer[]; rest: Buffer } {
  const frames: Buffer[] = [];
  let at = 0;
  for (;;) {
    const length = ldapFrameLength(buf.subarray(at), maxMessageBytes);
    if (length === undefined || at + length > buf.length) break;
    frames.push(buf.subarray(at, at + length));
    at += length;
  }
  return { frames, rest: buf.subarray(at) };
}

/** Decodes one whole LDAPMessage (a frame from `splitLdapFrames`); its every length is checked. */
export function decodeLdapMessage(frame: Buffer, options: LdapDecodeOptions = {}): LdapMessage {
  const total = ldapFrameLength(frame, options.maxMessageBytes);
  if (total === undefined || total > frame.length) {
    throw new ProtocolError('LDAP_TRUNCATED', 'the message ends before its length');
  }
  if (total !== frame.length) {
    throw new ProtocolError('LDAP_MALFORMED', 'bytes after the end of the message');
  }
  const message = readBerElement(frame, 0, frame.length);
  checkBerStructure(frame, message.start, message.end, options.maxDepth ?? BER_MAX_DEPTH);
  const parts = readBerChildren(frame, message);
  const [idElement, op, controls, ...extra] = parts;
  if (idElement === undefined || op === undefined || extra.length > 0) {
    throw new ProtocolError('LDAP_MALFORMED', 'an LDAPMessage is messageID, protocolOp, controls');
  }
  if (idElement.tag !== BER_TAG.integer) {
    throw new ProtocolError('LDAP_MALFORMED', 'messageID is not an INTEGER');
  }
  // RFC 4511 §4.1.1.1: Controls are [0].
  if (controls !== undefined && controls.tag !== 0xa0) {
    throw new ProtocolError('LDAP_MALFORMED', 'the element after protocolOp is not controls [0]');
  }
  const messageId = readBerUnsigned(frame, idElement, 'messageID');
  return { messageId, protocolOp: op.tag, operation: decodeOperation(frame, op), raw: frame };
}

function decodeOperation(buf: Buffer, op: BerElement): LdapOperation {
  switch (op.tag) {
    case LDAP_OP.bindRequest:
      return decodeBindRequest(buf, op);
    case LDAP_OP.bindResponse:
      return { type: 'bindResponse', result: decodeResult(buf, readBerChildren(buf, op)) };
    case LDAP_OP.unbindRequest:
      if (op.end !== op.start) throw new ProtocolError('LDAP_MALFORMED', 'UnbindRequest not NULL');
      return { type: 'unbindRequest' };
    case LDAP_OP.abandonRequest:
      return { type: 'abandonRequest', idToAbandon: readBerUnsigned(buf, op, 'idToAbandon') };
    case LDAP_OP.extendedRequest:
      return decodeExtendedRequest(buf, op);
    case LDAP_OP.extendedResponse: {
      const children = readBerChildren(buf, op);
      const name = children.find((c) => c.tag === 0x8a);
      return {
        type: 'extendedResponse',
        result: decodeResult(buf, children),
        responseName: name ? readBerUtf8(buf, name, 'responseName') : undefined,
      };
    }
    case LDAP_OP.searchRequest: {
      const [base, scope] = readBerChildren(buf, op);
      if (base?.tag !== BER_TAG.octetString || scope?.tag !== BER_TAG.enumerated) {
        throw new ProtocolError('LDAP_MALFORMED', 'SearchRequest: baseObject, scope');
      }
      return {
        type: 'searchRequest',
        baseObject: readBerUtf8(buf, base, 'baseObject'),
        scope: readBerUnsigned(buf, scope, 'scope'),
      };
    }
    case LDAP_OP.searchResultDone:
    case LDAP_OP.modifyResponse:
    case LDAP_OP.addResponse:
    case LDAP_OP.delResponse:
    case LDAP_OP.modDnResponse:
    case LDAP_OP.compareResponse:
      return { type: 'result', result: decodeResult(buf, readBerChildren(buf, op)) };
    default:
      if ((op.tag & 0xc0) !== 0x40) {
        throw new ProtocolError('LDAP_MALFORMED', `protocolOp tag 0x${op.tag.toString(16)}`);
      }
      return { type: 'opaque' };
  }
}

function decodeBindRequest(buf: Buffer, op: BerElement): LdapOperation {
  const [version, name, auth, ...extra] = readBerChildren(buf, op);
  if (
    version?.tag !== BER_TAG.integer ||
    name?.tag !== BER_TAG.octetString ||
    auth === undefined ||
    extra.length > 0
  ) {
    throw new ProtocolError('LDAP_MALFORMED', 'BindRequest: version, name, authentication');
  }
  const common = {
    type: 'bindRequest' as const,
    version: readBerUnsigned(buf, version, 'version'),
    name: readBerUtf8(buf, name, 'name'),
  };
  if (auth.tag === 0x80) {
    return { ...common, authentication: { kind: 'simple', password: berBytes(buf, auth) } };
  }
  if (auth.tag === 0xa3) {
    const [mechanism, credentials, ...more] = readBerChildren(buf, auth);
    if (
      mechanism?.tag !== BER_TAG.octetString ||
      (credentials !== undefined && credentials.tag !== BER_TAG.octetString) ||
      more.length > 0
    ) {
      throw new ProtocolError('LDAP_MALFORMED', 'SaslCredentials: mechanism, credentials');
    }
    return {
      ...common,
      authentication: {
        kind: 'sasl',
        mechanism: readBerUtf8(buf, mechanism, 'mechanism'),
        credentials: credentials ? berBytes(buf, credentials) : undefined,
      },
    };
  }
  throw new ProtocolError(
    'LDAP_MALFORMED',
    `BindRequest: authentication tag 0x${auth.tag.toString(16)}`,
  );
}

function decodeExtendedRequest(buf: Buffer, op: BerElement): LdapOperation {
  const [name, value, ...extra] = readBerChildren(buf, op);
  if (name?.tag !== 0x80 || (value !== undefined && value.tag !== 0x81) || extra.length > 0) {
    throw new ProtocolError('LDAP_MALFORMED', 'ExtendedRequest: requestName [0], requestValue [1]');
  }
  return {
    type: 'extendedRequest',
    requestName: readBerUtf8(buf, name, 'requestName'),
    requestValue: value ? berBytes(buf, value) : undefined,
  };
}

function decodeResult(buf: Buffer, children: readonly BerElement[]): LdapResult {
  const [code, matched, diagnostic] = children;
  if (
    code?.tag !== BER_TAG.enumerated ||
    matched?.tag !== BER_TAG.octetString ||
    diagnostic?.tag !== BER_TAG.octetString
  ) {
    throw new ProtocolError(
      'LDAP_MALFORMED',
      'LDAPResult: resultCode, matchedDN, diagnosticMessage',
    );
  }
  return {
    resultCode: readBerUnsigned(buf, code, 'resultCode'),
    matchedDn: readBerUtf8(buf, matched, 'matchedDN'),
    diagnosticMessage: readBerUtf8(buf, diagnostic, 'diagnosticMessage'),
  };
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

function encodeMessage(messageId: number, op: Buffer): Buffer {
  return berConstructed(BER_TAG.sequence, [berUnsigned(BER_TAG.integer, messageId), op]);
}

function resultComponents(result: LdapResult): Buffer[] {
  return [
    berUnsigned(BER_TAG.enumerated, result.resultCode),
    berString(BER_TAG.octetString, result.matchedDn),
    berString(BER_TAG.octetString, result.diagnosticMessage),
  ];
}

/** A simple BindRequest (RFC 4511 §4.2). */
export function encodeBindRequest(input: {
  messageId: number;
  version?: number;
  name: string;
  password: string | Uint8Array;
}): Buffer {
  return encodeMessage(
    input.messageId,
    berConstructed(LDAP_OP.bindRequest, [
      berUnsigned(BER_TAG.integer, input.version ?? 3),
      berString(BER_TAG.octetString, input.name),
      berString(0x80, input.password),
    ]),
  );
}

/** A SASL BindRequest (tests: the proxy refuses these). */
export function encodeSaslBindRequest(input: {
  messageId: number;
  name: string;
  mechanism: string;
  credentials?: Uint8Array;
}): Buffer {
  return encodeMessage(
    input.messageId,
    berConstructed(LDAP_OP.bindRequest, [
      berUnsigned(BER_TAG.integer, 3),
      berString(BER_TAG.octetString, input.name),
      berConstructed(0xa3, [
        berString(BER_TAG.octetString, input.mechanism),
        ...(input.credentials ? [berString(BER_TAG.octetString, input.credentials)] : []),
      ]),
    ]),
  );
}

export function encodeBindResponse(input: { messageId: number } & LdapResult): Buffer {
  return encodeMessage(
    input.messageId,
    berConstructed(LDAP_OP.bindResponse, resultComponents(input)),
  );
}

export function encodeUnbindRequest(messageId: number): Buffer {
  return encodeMessage(messageId, berTlv(LDAP_OP.unbindRequest, Buffer.alloc(0)));
}

export function encodeExtendedRequest(input: {
  messageId: number;
  requestName: string;
  requestValue?: Uint8Array;
}): Buffer {
  return encodeMessage(
    input.messageId,
    berConstructed(LDAP_OP.extendedRequest, [
      berString(0x80, input.requestName),
      ...(input.requestValue ? [berString(0x81, input.requestValue)] : []),
    ]),
  );
}

export function encodeExtendedResponse(
  input: { messageId: number; responseName?: string } & LdapResult,
): Buffer {
  return encodeMessage(
    input.messageId,
    berConstructed(LDAP_OP.extendedResponse, [
      ...resultComponents(input),
      ...(input.responseName !== undefined ? [berString(0x8a, input.responseName)] : []),
    ]),
  );
}

/** RFC 4511 §4.4.1: an unsolicited notification, messageID 0, before the server closes. */
export function encodeNoticeOfDisconnection(resultCode: number, diagnosticMessage: string): Buffer {
  return encodeExtendedResponse({
    messageId: 0,
    resultCode,
    matchedDn: '',
    diagnosticMessage,
    responseName: NOTICE_OF_DISCONNECTION_OID,
  });
}

/** A result message of another operation, e.g. SearchResultDone, with the given tag. */
export function encodeResultMessage(
  input: { messageId: number; protocolOp: number } & LdapResult,
): Buffer {
  return encodeMessage(input.messageId, berConstructed(input.protocolOp, resultComponents(input)));
}
