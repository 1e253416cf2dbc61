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
