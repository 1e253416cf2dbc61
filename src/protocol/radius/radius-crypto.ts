// RADIUS shared-secret cryptography: User-Password hiding, Response Authenticator, Message-Authenticator.
//
// Every digest comparison goes through crypto.timingSafeEqual on raw bytes (never strings), so
// a forger learns nothing from response times. MD5 is what the RFCs mandate; nothing here
// chooses it.
import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from '../protocol-error.ts';
import {
  RADIUS_AUTHENTICATOR_LENGTH,
  RADIUS_HEADER_LENGTH,
  asBuffer,
  findAttributeValueOffsets,
  readPacketLength,
} from './radius-packet.ts';

/** A RADIUS shared secret, as text (UTF-8) or raw octets. */
export type RadiusSecret = string | Uint8Array;

/** RFC 2865 §5.2: "The Password can be up to 128 characters in length". */
export const RADIUS_MAX_PASSWORD_LENGTH = 128;
const BLOCK = 16;
/** RFC 2869 §5.14 Message-Authenticator (Type 80), 16 octets of HMAC-MD5. */
export const MESSAGE_AUTHENTICATOR_TYPE = 80;

/**
 * Hides a User-Password (RFC 2865 §5.2): NUL-padded to 16-octet blocks, each block XORed with
 * MD5(secret + previous cipher block), the first with MD5(secret + Request Authenticator).
 */
export function hidePassword(
  password: string | Uint8Array,
  secret: RadiusSecret,
  requestAuthenticator: Uint8Array,
): Buffer {
  const plain = typeof password === 'string' ? Buffer.from(password, 'utf8') : asBuffer(password);
  if (plain.length > RADIUS_MAX_PASSWORD_LENGTH) {
    throw new ProtocolError(
      'RADIUS_BAD_PASSWORD',
      `RADIUS User-Password of ${plain.length} octets is longer than 128`,
    );
  }
  // An empty password is still one block of padding: the attribute needs 16 octets or more.
  const padded = Buffer.alloc(Math.max(BLOCK, Math.ceil(plain.length / BLOCK) * BLOCK));
  plain.copy(padded);
  return xorChain(padded, secret, requestAuthenticator, 'hide');
}

/**
 * Reverses `hidePassword` and strips the NUL padding. With a wrong secret this returns garbage,
 * not an error: only the Message-Authenticator (when present) can tell. Throws `ProtocolError`
 * when the hidden value is not 16..128 octets in whole blocks.
 */
export function unhidePassword(
  hidden: Uint8Array,
  secret: RadiusSecret,
  requestAuthenticator: Uint8Array,
): Buffer {
  if (
    hidden.length < BLOCK ||
    hidden.length > RADIUS_MAX_PASSWORD_LENGTH ||
    hidden.length % BLOCK !== 0
  ) {
    throw new ProtocolError(
      'RADIUS_BAD_PASSWORD',
      `RADIUS User-Password of ${hidden.length} octets is not 16..128 in 16-octet blocks`,
    );
  }
  const plain = xorChain(asBuffer(hidden), secret, requestAuthenticator, 'unhide');
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  return plain.subarray(0, end);
}

/**
 * RFC 2865 §3 Response Authenticator of an encoded response: MD5(Code + Identifier + Length +
 * Request Authenticator + Attributes + secret). Whatever is in the response's own authenticator
 * field is ignored.
 */
export function computeResponseAuthenticator(
  response: Uint8Array,
  requestAuthenticator: Uint8Array,
  secret: RadiusSecret,
): Buffer {
  const bytes = asBuffer(response);
  const length = readPacketLength(bytes);
  // One-shot MD5 over the concatenation: cheaper per packet than a Hash object fed four parts.
  return md5(
    Buffer.concat([
      bytes.subarray(0, 4),
      requireAuthenticator(requestAuthenticator),
      bytes.subarray(RADIUS_HEADER_LENGTH, length),
      secretBytes(secret),
    ]),
  );
}

/** Whether the response's authenticator field is its Response Authenticator (constant time). */
export function isValidResponseAuthenticator(
  response: Uint8Array,
  requestAuthenticator: Uint8Array,
  secret: RadiusSecret,
): boolean {
  const expected = computeResponseAuthenticator(response, requestAuthenticator, secret);
  return timingSafeEqual(asBuffer(response).subarray(4, RADIUS_HEADER_LENGTH), expected);
}

/**
 * RFC 3579 §3.2 Message-Authenticator of an encoded packet that holds exactly one: HMAC-MD5 keyed
 * by the secret over the whole packet with the Message-Authenticator value zeroed and
 * `authenticator` in the header's authenticator field. For a request that is its own Request
 * Authenticator; for a response it is the *Request* Authenticator of the request it answers.
 */
export function computeMessageAuthenticator(
  packet: Uint8Array,
  authenticator: Uint8Array,
  secret: RadiusSecret,
): Buffer {
  const bytes = asBuffer(packet);
  const length = readPacketLength(bytes);
  const offset = soleMessageAuthenticatorOffset(bytes);
  const copy = Buffer.from(bytes.subarray(0, length));
  requireAuthenticator(authenticator).copy(copy, 4);
  copy.fill(0, offset, offset + RADIUS_AUTHENTICATOR_LENGTH);
  return createHmac('md5', secretBytes(secret)).update(copy).digest();
}

/**
 * Verifies the Message-Authenticator of a packet that passed `decodePacket`: returns false when
 * there is none, true when it verifies, and throws `ProtocolError` RADIUS_BAD_MESSAGE_AUTHENTICATOR
 * when it is there but wrong, not 16 octets, or repeated.
 */
export function verifyMessageAuthenticator(
  packet: Uint8Array,
  authenticator: Uint8Array,
  secret: RadiusSecret,
): boolean {
  const bytes = asBuffer(packet);
  const offsets = findAttributeValueOffsets(bytes, MESSAGE_AUTHENTICATOR_TYPE);
  if (offsets.length === 0) return false;
  const offset = soleMessageAuthenticatorOffset(bytes, offsets);
  const expected = computeMessageAuthenticator(bytes, authenticator, secret);
  const actual = bytes.subarray(offset, offset + RADIUS_AUTHENTICATOR_LENGTH);
  if (!timingSafeEqual(actual, expected)) {
    throw new ProtocolError(
      'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
      'RADIUS Message-Authenticator does not verify (wrong secret or tampered packet)',
    );
  }
  return true;
}

/**
 * Fills in the Message-Authenticator of `packet` in place (it must hold exactly one, zeroed or
 * not). The encoders use it before any Response Authenticator is computed.
 */
export function signMessageAuthenticator(
  packet: Buffer,
  authenticator: Uint8Array,
  secret: RadiusSecret,
): void {
  const offset = soleMessageAuthenticatorOffset(packet);
  computeMessageAuthenticator(packet, authenticator, secret).copy(packet, offset);
}

export function secretBytes(secret: RadiusSecret): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : asBuffer(secret);
  // An empty secret makes every authenticator forgeable; configuration must never allow it.
  if (bytes.length === 0) throw new TypeError('RADIUS shared secret must not be empty');
  return bytes;
}

function soleMessageAuthenticatorOffset(
  bytes: Buffer,
  offsets = findAttributeValueOffsets(bytes, MESSAGE_AUTHENTICATOR_TYPE),
): number {
  const [offset] = offsets;
  if (offset === undefined || offsets.length > 1) {
    throw new ProtocolError(
      'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
      `RADIUS packet has ${offsets.length} Message-Authenticator attributes, not 1`,
    );
  }
  if (bytes[offset - 1] !== 2 + RADIUS_AUTHENTICATOR_LENGTH) {
    throw new ProtocolError(
      'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
      `RADIUS Message-Authenticator is ${bytes[offset - 1]! - 2} octets, not 16`,
    );
  }
  return offset;
}

function xorChain(
  input: Buffer,
  secret: RadiusSecret,
  requestAuthenticator: Uint8Array,
  direction: 'hide' | 'unhide',
): Buffer {
  const key = secretBytes(secret);
  const output = Buffer.alloc(input.length);
  let previous: Buffer = requireAuthenticator(requestAuthenticator);
  // The MD5 input of each block: the secret, then the previous block (one buffer, reused).
  const keyed = Buffer.alloc(key.length + BLOCK);
  key.copy(keyed);
  for (let offset = 0; offset < input.length; offset += BLOCK) {
    previous.copy(keyed, key.length);
    const pad = md5(keyed);
    for (let i = 0; i < BLOCK; i++) output[offset + i] = input[offset + i]! ^ pad[i]!;
    // The chain always continues from the *cipher* block (RFC 2865 §5.2).
    previous = (direction === 'hide' ? output : input).subarray(offset, offset + BLOCK);
  }
  return output;
}

function md5(data: Buffer): Buffer {
  return hash('md5', data, 'buffer');
}

function requireAuthenticator(authenticator: Uint8Array): Buffer {
  if (authenticator.length !== RADIUS_AUTHENTICATOR_LENGTH) {
    throw new RangeError(`RADIUS authenticator must be 16 octets, got ${authenticator.length}`);
  }
  return asBuffer(authenticator);
}
