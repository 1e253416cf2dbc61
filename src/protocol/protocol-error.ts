// Typed error thrown by the protocol decoders when their input is malformed.

/**
 * Stable codes of decoder failures. Codes are API: never rename or reuse one; add new codes at
 * the end, prefixed by their area (`SIG_` request signing, later `RADIUS_`, `LDAP_`).
 */
export const PROTOCOL_ERROR_CODES = [
  /** No Authorization header at all (Duo 40101 "Missing request credentials"). */
  'SIG_MISSING_AUTHORIZATION',
  /** Authorization present but not `Basic base64(ikey:signature)`. */
  'SIG_MALFORMED_AUTHORIZATION',
  /** An extra header offered for a v5 signature is not a valid `X-Duo-*` header. */
  'SIG_INVALID_DUO_HEADER',
  /** A RADIUS datagram is shorter than 20 octets or than its own Length field (RFC 2865 §3: drop). */
  'RADIUS_TRUNCATED',
  /** A RADIUS Length field is below 20 or above 4096, or an encoded packet would exceed 4096. */
  'RADIUS_BAD_LENGTH',
  /** A RADIUS attribute's Length is below 2 or runs past the end of the packet. */
  'RADIUS_BAD_ATTRIBUTE_LENGTH',
  /** A RADIUS Code this codec does not know. */
  'RADIUS_UNKNOWN_CODE',
  /** A known RADIUS Code where another was expected (e.g. an Accounting-Request given as Access-Request). */
  'RADIUS_UNEXPECTED_CODE',
  /** An attribute value that does not fit its type (an ipaddr of 3 octets, text that is not UTF-8). */
  'RADIUS_BAD_ATTRIBUTE_VALUE',
  /** An attribute value longer than 253 octets was given to the encoder. */
  'RADIUS_VALUE_TOO_LONG',
  /** An attribute that may appear at most once (User-Name, User-Password, State, …) appears twice. */
  'RADIUS_DUPLICATE_ATTRIBUTE',
  /** Message-Authenticator present but wrong: bad HMAC-MD5, wrong length or more than one. */
  'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
  /** Message-Authenticator absent where it is required (by configuration, or with EAP-Message). */
  'RADIUS_MISSING_MESSAGE_AUTHENTICATOR',
  /** A response whose Response Authenticator does not verify with the request and the secret. */
  'RADIUS_BAD_RESPONSE_AUTHENTICATOR',
  /** A response whose Identifier is not the one of the request it is checked against. */
  'RADIUS_IDENTIFIER_MISMATCH',
  /** A User-Password that cannot be hidden or unhidden (length, or not UTF-8 when text is asked for). */
  'RADIUS_BAD_PASSWORD',
  /** A RADIUS attribute of Type 0, which no RFC assigns and FreeRADIUS drops ("Invalid attribute 0"). */
  'RADIUS_BAD_ATTRIBUTE_TYPE',
  /** An LDAP message shorter than its own BER lengths say (only at the end of a stream: wait for more). */
  'LDAP_TRUNCATED',
  /** An indefinite BER length (0x80), which RFC 4511 §5.1 forbids. */
  'LDAP_INDEFINITE_LENGTH',
  /** A BER length field of more than 4 octets, or a message longer than the configured maximum. */
  'LDAP_MESSAGE_TOO_LARGE',
  /** Not an LDAPMessage: not a SEQUENCE, a bad messageID, elements that do not fill their parent. */
  'LDAP_MALFORMED',
  /** BER elements nested deeper than the decoder's limit. */
  'LDAP_TOO_DEEP',
  /** A value that does not fit its type: a DN that is not UTF-8, an integer out of range. */
  'LDAP_BAD_VALUE',
  /** A syslog message or frame that is not RFC 5424 / RFC 6587 (read by Airlock's tests and tools). */
  'SYSLOG_MALFORMED',
] as const;
export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];
export const isProtocolErrorCode = (v: unknown): v is ProtocolErrorCode =>
  typeof v === 'string' && (PROTOCOL_ERROR_CODES as readonly string[]).includes(v);

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
