// The BER subset LDAP uses (RFC 4511 §5.1): definite lengths, one-octet tags; reading elements
// with strict length checks and an iterative, depth-limited structure walk; writing TLVs.
import { ProtocolError } from '../protocol-error.ts';

/** Constructed bit of a tag octet (X.690 §8.1.2.5). */
export const BER_CONSTRUCTED = 0x20;
export const BER_TAG = {
  integer: 0x02,
  octetString: 0x04,
  null: 0x05,
  enumerated: 0x0a,
  sequence: 0x30,
  boolean: 0x01,
} as const;

/** Nesting limit of `checkBerStructure`: LDAP filters nest, but not this deep in practice. */
export const BER_MAX_DEPTH = 32;

/** One element: its tag octet and where its contents lie in the buffer it was read from. */
export interface BerElement {
  readonly tag: number;
  /** Offset of the first contents octet. */
  readonly start: number;
  /** Offset just past the last contents octet. */
  readonly end: number;
}

/**
 * The header of the element at `offset`: its tag, contents offset and length. Returns undefined
 * when `buf` ends inside the header; throws on an indefinite length (RFC 4511 §5.1), a high tag
 * number or a length field of more than 4 octets. The length is not checked against `buf`.
 */
export function readBerHeader(
  buf: Uint8Array,
  offset: number,
): { tag: number; contentStart: number; length: number } | undefined {
  if (offset + 2 > buf.length) return undefined;
  const tag = buf[offset]!;
  // X.690 §8.1.2.4: tag number 31 means more tag octets follow; LDAP uses none.
  if ((tag & 0x1f) === 0x1f) throw new ProtocolError('LDAP_MALFORMED', 'multi-octet BER tag');
  const first = buf[offset + 1]!;
  if (first < 0x80) return { tag, contentStart: offset + 2, length: first };
  if (first === 0x80) {
    throw new ProtocolError('LDAP_INDEFINITE_LENGTH', 'indefinite BER length (RFC 4511 §5.1)');
  }
  const octets = first & 0x7f;
  if (octets > 4) {
    throw new ProtocolError('LDAP_MESSAGE_TOO_LARGE', `BER length field of ${octets} octets`);
  }
  if (offset + 2 + octets > buf.length) return undefined;
  let length = 0;
  for (let i = 0; i < octets; i++) length = length * 256 + buf[offset + 2 + i]!;
  return { tag, contentStart: offset + 2 + octets, length };
}

/** The element at `offset`, which must lie wholly before `limit`. */
export function readBerElement(buf: Uint8Array, offset: number, limit: number): BerElement {
  const header = readBerHeader(buf.subarray(0, limit), offset);
  if (header === undefined || header.contentStart + header.length > limit) {
    throw new ProtocolError('LDAP_TRUNCATED', `BER element at ${offset} runs past its parent`);
  }
  return { tag: header.tag, start: header.contentStart, end: header.contentStart + header.length };
}

/** The children of a constructed element, in order. */
export function readBerChildren(buf: Uint8Array, parent: BerElement): BerElement[] {
  const children: BerElement[] = [];
  for (let at = parent.start; at < parent.end;) {
    const child = readBerElement(buf, at, parent.end);
    children.push(child);
    at = child.end;
  }
  return children;
}

/**
 * Walks every element of `buf[start, end)` without recursion: each length must fit its parent
 * exactly, nesting at most `maxDepth` levels. Throws the ProtocolError that describes the fault.
 */
export function checkBerStructure(
  buf: Uint8Array,
  start: number,
  end: number,
  maxDepth = BER_MAX_DEPTH,
): void {
  // The ends of the constructed elements we are inside, innermost last.
  const ends: number[] = [end];
  let at = start;
  while (ends.length > 0) {
    const limit = ends[ends.length - 1]!;
    if (at === limit) {
      ends.pop();
      continue;
    }
    const element = readBerElement(buf, at, limit);
    if ((element.tag & BER_CONSTRUCTED) !== 0) {
      if (ends.length > maxDepth) {
        throw new ProtocolError('LDAP_TOO_DEEP', `BER nesting deeper than ${maxDepth}`);
      }
      ends.push(element.end);
      at = element.start;
    } else {
      at = element.end;
    }
  }
}

/** A non-negative INTEGER or ENUMERATED of at most 4 contents octets (LDAP's MaxInt is 2^31-1). */
export function readBerUnsigned(buf: Uint8Array, element: BerElement, what: string): number {
  const length = element.end - element.start;
  if (length < 1 || length > 5) {
    throw new ProtocolError('LDAP_BAD_VALUE', `${what}: integer of ${length} octets`);
  }
  if ((buf[element.start]! & 0x80) !== 0) {
    throw new ProtocolError('LDAP_BAD_VALUE', `${what}: negative`);
  }
  let value = 0;
  for (let i = element.start; i < element.end; i++) value = value * 256 + buf[i]!;
  if (value > 0x7fffffff) throw new ProtocolError('LDAP_BAD_VALUE', `${what}: above 2^31-1`);
  return value;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** An LDAPString (RFC 4511 §4.1.2): UTF-8 octets. */
export function readBerUtf8(buf: Uint8Array, element: BerElement, what: string): string {
  try {
    return UTF8.decode(buf.subarray(element.start, element.end));
  } catch {
    throw new ProtocolError('LDAP_BAD_VALUE', `${what}: not UTF-8`);
  }
}

export function berBytes(buf: Uint8Array, element: BerElement): Buffer {
  return Buffer.from(buf.subarray(element.start, element.end));
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/** Definite length octets: short form below 128, else the shortest long form. */
function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const octets: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) octets.unshift(n & 0xff);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

export function berTlv(tag: number, contents: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(contents.length), contents]);
}

export function berConstructed(tag: number, children: readonly Uint8Array[]): Buffer {
  return berTlv(tag, Buffer.concat(children));
}

/** A non-negative integer in its shortest two's-complement form. */
export function berUnsigned(tag: number, value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw new ProtocolError('LDAP_BAD_VALUE', `integer ${value} out of range`);
  }
  const octets: number[] = [];
  for (let n = value; n > 0; n = Math.floor(n / 256)) octets.unshift(n & 0xff);
  if (octets.length === 0 || (octets[0]! & 0x80) !== 0) octets.unshift(0);
  return berTlv(tag, Buffer.from(octets));
}

export function berString(tag: number, value: string | Uint8Array): Buffer {
  return berTlv(tag, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
}
