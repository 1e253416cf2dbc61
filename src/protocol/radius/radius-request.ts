// Access-Request: decoding on the server side (verify, unhide), encoding on the client side.
import { ProtocolError } from '../protocol-error.ts';
import { attributeType, getAttribute } from './radius-attributes.ts';
import {
  MESSAGE_AUTHENTICATOR_TYPE,
  RADIUS_MAX_PASSWORD_LENGTH,
  hidePassword,
  secretBytes,
  signMessageAuthenticator,
  unhidePassword,
  verifyMessageAuthenticator,
  type RadiusSecret,
} from './radius-crypto.ts';
import {
  RADIUS_AUTHENTICATOR_LENGTH,
  decodePacket,
  encodePacket,
  type RadiusAttribute,
} from './radius-packet.ts';

/** A decoded, verified Access-Request. */
export interface AccessRequest {
  readonly identifier: number;
  /** The Request Authenticator, needed to answer. */
  readonly authenticator: Buffer;
  /** Every attribute in packet order, User-Password still hidden. */
  readonly attributes: readonly RadiusAttribute[];
  readonly userName: string | undefined;
  /**
   * The unhidden User-Password octets, NUL padding removed; undefined when absent (e.g. CHAP) or
   * too long (see `oversizedPasswordOctets`). A wrong secret yields garbage here:
   * `decodePasswordText` then usually fails.
   */
  readonly password: Buffer | undefined;
  /**
   * The length of a User-Password longer than RFC 2865 §5.2's 128 octets (a password with a
   * passcode appended, from a NAS that does not truncate), which is then not unhidden. The packet
   * is otherwise valid, so it deserves an answer saying why, not a silent drop.
   */
  readonly oversizedPasswordOctets: number | undefined;
  readonly state: Buffer | undefined;
  readonly hasMessageAuthenticator: boolean;
}

export interface DecodeAccessRequestOptions {
  /**
   * Drop requests without Message-Authenticator (Blast-RADIUS, CVE-2024-3596). Requests that
   * carry one are always verified, required or not.
   */
  readonly requireMessageAuthenticator: boolean;
}

/** RFC 2865 §5.44: attributes an Access-Request holds at most once. */
const AT_MOST_ONCE = ['User-Name', 'User-Password', 'CHAP-Password', 'State'] as const;

/**
 * Decodes an Access-Request and checks it against the shared secret. Throws `ProtocolError` for
 * anything malformed, a wrong Message-Authenticator, or a missing one when it is required or the
 * packet carries EAP-Message (RFC 3579 §3.2).
 */
export function decodeAccessRequest(
  datagram: Uint8Array,
  secret: RadiusSecret,
  options: DecodeAccessRequestOptions,
): AccessRequest {
  const packet = decodePacket(datagram);
  if (packet.code !== 'Access-Request') {
    throw new ProtocolError(
      'RADIUS_UNEXPECTED_CODE',
      `expected an Access-Request, got ${packet.code}`,
    );
  }
  for (const name of AT_MOST_ONCE) {
    const type = attributeType(name);
    if (packet.attributes.filter((a) => a.type === type).length > 1) {
      throw new ProtocolError('RADIUS_DUPLICATE_ATTRIBUTE', `Access-Request has several ${name}`);
    }
  }
  const hasMessageAuthenticator = verifyMessageAuthenticator(
    datagram,
    packet.authenticator,
    secret,
  );
  if (!hasMessageAuthenticator) requireAbsenceAllowed(packet.attributes, options);
  const hidden = getAttribute(packet.attributes, 'User-Password');
  const oversized = hidden !== undefined && hidden.length > RADIUS_MAX_PASSWORD_LENGTH;
  return {
    identifier: packet.identifier,
    authenticator: packet.authenticator,
    attributes: packet.attributes,
    userName: getAttribute(packet.attributes, 'User-Name'),
    password:
      hidden === undefined || oversized
        ? undefined
        : unhidePassword(hidden, secret, packet.authenticator),
    oversizedPasswordOctets: oversized ? hidden.length : undefined,
    state: getAttribute(packet.attributes, 'State'),
    hasMessageAuthenticator,
  };
}

/**
 * The unhidden password as text. Throws `ProtocolError` RADIUS_BAD_PASSWORD when it is not
 * UTF-8, which is what a shared-secret mismatch usually looks like ("Cannot decode password").
 */
export function decodePasswordText(password: Buffer): string {
  try {
    return UTF8.decode(password);
  } catch {
    throw new ProtocolError(
      'RADIUS_BAD_PASSWORD',
      'RADIUS User-Password is not UTF-8 (shared secret mismatch?)',
    );
  }
}

export interface EncodeAccessRequestInput {
  readonly identifier: number;
  /** 16 random octets from the caller's Random: the codec has no randomness of its own. */
  readonly authenticator: Uint8Array;
  readonly secret: RadiusSecret;
  /** Attributes besides User-Password and Message-Authenticator, in the order to send. */
  readonly attributes: readonly RadiusAttribute[];
  /** Sent hidden as User-Password (PAP), right after User-Name; omit for none. */
  readonly password?: string | Uint8Array | undefined;
}

/**
 * Encodes an Access-Request with Message-Authenticator as the first attribute (Blast-RADIUS
 * hardening: the HMAC covers the packet before any attacker-chosen attribute can be placed
 * ahead of it), then User-Password hidden with the secret.
 */
export function encodeAccessRequest(input: EncodeAccessRequestInput): Buffer {
  secretBytes(input.secret);
  if (input.authenticator.length !== RADIUS_AUTHENTICATOR_LENGTH) {
    throw new RangeError(
      `Request Authenticator must be 16 octets, got ${input.authenticator.length}`,
    );
  }
  const authenticator = Buffer.from(input.authenticator);
  const passwordType = attributeType('User-Password');
  const attributes: RadiusAttribute[] = [];
  for (const attribute of input.attributes) {
    if (attribute.type === passwordType) {
      throw new TypeError('pass the password as `password`, so it is hidden, not as an attribute');
    }
    // Ours is computed below; a caller's would be stale.
    if (attribute.type !== MESSAGE_AUTHENTICATOR_TYPE) attributes.push(attribute);
  }
  if (input.password !== undefined) {
    const userPassword = {
      type: passwordType,
      value: hidePassword(input.password, input.secret, authenticator),
    };
    const userName = attributes.findIndex((a) => a.type === attributeType('User-Name'));
    attributes.splice(userName + 1, 0, userPassword);
  }
  const bytes = encodePacket({
    code: 'Access-Request',
    identifier: input.identifier,
    authenticator,
    attributes: [
      { type: MESSAGE_AUTHENTICATOR_TYPE, value: Buffer.alloc(RADIUS_AUTHENTICATOR_LENGTH) },
      ...attributes,
    ],
  });
  signMessageAuthenticator(bytes, authenticator, input.secret);
  return bytes;
}

function requireAbsenceAllowed(
  attributes: readonly RadiusAttribute[],
  options: DecodeAccessRequestOptions,
): void {
  if (options.requireMessageAuthenticator) {
    throw new ProtocolError(
      'RADIUS_MISSING_MESSAGE_AUTHENTICATOR',
      'Access-Request without Message-Authenticator, which this client must send',
    );
  }
  if (attributes.some((a) => a.type === attributeType('EAP-Message'))) {
    throw new ProtocolError(
      'RADIUS_MISSING_MESSAGE_AUTHENTICATOR',
      'Access-Request with EAP-Message but no Message-Authenticator (RFC 3579 §3.2)',
    );
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
