// RADIUS packet framing (RFC 2865 §3): datagram bytes <-> code, identifier, authenticator, attributes.
//
// Airlock has its own RADIUS codec rather than the npm `radius` package: that package has been
// dormant for years, does not apply the Blast-RADIUS (CVE-2024-3596) mitigations (it never
// requires Message-Authenticator and appends it *last* in responses) and compares digests as
// lossy UTF-8 strings, not in constant time. The codec is small: framing here, attribute types
// in radius-attributes.ts, hiding and authenticators in radius-crypto.ts, Access-Request and
// response rules in radius-request.ts and radius-response.ts. All of it is pure: no sockets, no
// clock, no randomness (authenticators are passed in).
import { ProtocolError } from '../protocol-error.ts';

/** Packet types this codec knows, by their RFC names (RFC 2865 §3, RFC 2866 §3, RFC 5997). */
export const RADIUS_CODES = [
  'Access-Request',
  'Access-Accept',
  'Access-Reject',
  'Accounting-Request',
  'Accounting-Response',
  'Access-Challenge',
  'Status-Server',
] as const;
export type RadiusCode = (typeof RADIUS_CODES)[number];
export const isRadiusCode = (v: unknown): v is RadiusCode =>
  typeof v === 'string' && (RADIUS_CODES as readonly string[]).includes(v);

const CODE_NUMBERS: Readonly<Record<RadiusCode, number>> = {
  'Access-Request': 1,
  'Access-Accept': 2,
  'Access-Reject': 3,
  'Accounting-Request': 4,
  'Accounting-Response': 5,
  'Access-Challenge': 11,
  'Status-Server': 12,
};
const CODES_BY_NUMBER = new Map(RADIUS_CODES.map((code) => [CODE_NUMBERS[code], code]));

/** The Code octet of a packet type. */
export function radiusCodeNumber(code: RadiusCode): number {
  return CODE_NUMBERS[code];
}

/** RFC 2865 §3: Code, Identifier, Length (2) and Authenticator (16). */
export const RADIUS_HEADER_LENGTH = 20;
/** RFC 2865 §3: "The maximum length is 4096." */
export const RADIUS_MAX_PACKET_LENGTH = 4096;
export const RADIUS_AUTHENTICATOR_LENGTH = 16;
/** RFC 2865 §5: an attribute's Length octet counts Type and Length, so 255 - 2. */
export const RADIUS_MAX_ATTRIBUTE_VALUE_LENGTH = 253;

/** One attribute as it is on the wire: the Type octet and the raw value. */
export interface RadiusAttribute {
  readonly type: number;
  readonly value: Buffer;
}

/**
 * A framed packet. Attributes keep their order and duplicates: Proxy-State must be echoed in
 * order (RFC 2865 §5.33) and several Reply-Message or Class attributes are legal.
 */
export interface RadiusPacket {
  readonly code: RadiusCode;
  readonly identifier: number;
  readonly authenticator: Buffer;
  readonly attributes: readonly RadiusAttribute[];
}

/**
 * Decodes a datagram. Octets beyond the Length field are padding and ignored; a datagram shorter
 * than its Length is dropped (RFC 2865 §3). Throws `ProtocolError` on any malformed input. The
 * returned buffers are copies, so the datagram buffer may be reused.
 */
export function decodePacket(datagram: Uint8Array): RadiusPacket {
  const bytes = asBuffer(datagram);
  if (bytes.length < RADIUS_HEADER_LENGTH) {
    throw new ProtocolError(
      'RADIUS_TRUNCATED',
      `RADIUS datagram of ${bytes.length} octets is shorter than the 20-octet header`,
    );
  }
  const length = readPacketLength(bytes);
  const code = CODES_BY_NUMBER.get(bytes[0]!);
  if (code === undefined) {
    throw new ProtocolError('RADIUS_UNKNOWN_CODE', `unknown RADIUS Code ${bytes[0]}`);
  }
  const attributes: RadiusAttribute[] = [];
  for (const { type, start, end } of walkAttributes(bytes, length)) {
    attributes.push({ type, value: Buffer.from(bytes.subarray(start, end)) });
  }
  return {
    code,
    identifier: bytes[1]!,
    authenticator: Buffer.from(bytes.subarray(4, RADIUS_HEADER_LENGTH)),
    attributes,
  };
}

/**
 * Encodes a packet as it is given: no attribute is added or reordered, no authenticator is
 * computed (see radius-request.ts and radius-response.ts for that). Throws `ProtocolError` when a
 * value is over 253 octets or the packet over 4096.
 */
export function encodePacket(packet: RadiusPacket): Buffer {
  if (!Number.isInteger(packet.identifier) || packet.identifier < 0 || packet.identifier > 255) {
    throw new RangeError(`RADIUS Identifier must be 0..255, got ${packet.identifier}`);
  }
  if (packet.authenticator.length !== RADIUS_AUTHENTICATOR_LENGTH) {
    throw new RangeError(
      `RADIUS Authenticator must be 16 octets, got ${packet.authenticator.length}`,
    );
  }
  let length = RADIUS_HEADER_LENGTH;
  for (const attribute of packet.attributes) {
    if (!Number.isInteger(attribute.type) || attribute.type < 1 || attribute.type > 255) {
      throw new RangeError(`RADIUS attribute Type must be 1..255, got ${attribute.type}`);
    }
    if (attribute.value.length > RADIUS_MAX_ATTRIBUTE_VALUE_LENGTH) {
      throw new ProtocolError(
        'RADIUS_VALUE_TOO_LONG',
        `RADIUS attribute ${attribute.type} has ${attribute.value.length} octets, at most 253 fit`,
      );
    }
    length += 2 + attribute.value.length;
  }
  if (length > RADIUS_MAX_PACKET_LENGTH) {
    throw new ProtocolError(
      'RADIUS_BAD_LENGTH',
      `RADIUS packet would be ${length} octets, at most 4096 are allowed`,
    );
  }
  const bytes = Buffer.alloc(length);
  bytes[0] = CODE_NUMBERS[packet.code];
  bytes[1] = packet.identifier;
  bytes.writeUInt16BE(length, 2);
  packet.authenticator.copy(bytes, 4);
  let offset = RADIUS_HEADER_LENGTH;
  for (const attribute of packet.attributes) {
    bytes[offset] = attribute.type;
    bytes[offset + 1] = 2 + attribute.value.length;
    attribute.value.copy(bytes, offset + 2);
    offset += 2 + attribute.value.length;
  }
  return bytes;
}

/**
 * Offsets in `datagram` of the values of every attribute of `type`, for the authenticators
 * that are computed over the raw bytes. The datagram must already have passed `decodePacket`.
 */
export function findAttributeValueOffsets(datagram: Uint8Array, type: number): number[] {
  const bytes = asBuffer(datagram);
  const offsets: number[] = [];
  for (const attribute of walkAttributes(bytes, readPacketLength(bytes))) {
    if (attribute.type === type) offsets.push(attribute.start);
  }
  return offsets;
}

/** The packet's own Length, checked against RFC 2865 §3's bounds and the datagram. */
export function readPacketLength(bytes: Buffer): number {
  const length = bytes.readUInt16BE(2);
  if (length < RADIUS_HEADER_LENGTH || length > RADIUS_MAX_PACKET_LENGTH) {
    throw new ProtocolError('RADIUS_BAD_LENGTH', `RADIUS Length ${length} is outside 20..4096`);
  }
  if (bytes.length < length) {
    throw new ProtocolError(
      'RADIUS_TRUNCATED',
      `RADIUS Length says ${length} octets but the datagram has ${bytes.length}`,
    );
  }
  return length;
}

function* walkAttributes(
  bytes: Buffer,
  length: number,
): Generator<{ type: number; start: number; end: number }> {
  let offset = RADIUS_HEADER_LENGTH;
  while (offset < length) {
    if (offset + 2 > length) {
      throw new ProtocolError(
        'RADIUS_BAD_ATTRIBUTE_LENGTH',
        `RADIUS attribute header at offset ${offset} runs past the packet end (${length})`,
      );
    }
    const type = bytes[offset]!;
    const attributeLength = bytes[offset + 1]!;
    if (attributeLength < 2 || offset + attributeLength > length) {
      throw new ProtocolError(
        'RADIUS_BAD_ATTRIBUTE_LENGTH',
        `RADIUS attribute ${type} at offset ${offset} has bad Length ${attributeLength}`,
      );
    }
    // Type 0 is unassigned, and the encoder refuses it: a packet we could not re-encode (or
    // forward) is dropped here, as FreeRADIUS drops it.
    if (type === 0) {
      throw new ProtocolError(
        'RADIUS_BAD_ATTRIBUTE_TYPE',
        `RADIUS attribute at offset ${offset} has Type 0`,
      );
    }
    yield { type, start: offset + 2, end: offset + attributeLength };
    offset += attributeLength;
  }
}

/** A Buffer view of `bytes` (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
