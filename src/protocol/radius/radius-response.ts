// Access-Accept/Reject/Challenge: encoding on the server side, verification on the client side.
import { ProtocolError } from '../protocol-error.ts';
import { attributeType } from './radius-attributes.ts';
import {
  MESSAGE_AUTHENTICATOR_TYPE,
  computeResponseAuthenticator,
  isValidResponseAuthenticator,
  secretBytes,
  signMessageAuthenticator,
  verifyMessageAuthenticator,
  type RadiusSecret,
} from './radius-crypto.ts';
import {
  RADIUS_AUTHENTICATOR_LENGTH,
  asBuffer,
  decodePacket,
  encodePacket,
  type RadiusAttribute,
} from './radius-packet.ts';

export const ACCESS_RESPONSE_CODES = [
  'Access-Accept',
  'Access-Reject',
  'Access-Challenge',
] as const;
export type AccessResponseCode = (typeof ACCESS_RESPONSE_CODES)[number];
export const isAccessResponseCode = (v: unknown): v is AccessResponseCode =>
  typeof v === 'string' && (ACCESS_RESPONSE_CODES as readonly string[]).includes(v);

/** What a response needs from the request it answers (an `AccessRequest` fits). */
export interface AnsweredRequest {
  readonly identifier: number;
  readonly authenticator: Uint8Array;
  readonly attributes: readonly RadiusAttribute[];
}

export interface EncodeResponseInput {
  readonly request: AnsweredRequest;
  readonly code: AccessResponseCode;
  /**
   * Attributes to send, in order. Message-Authenticator and Proxy-State belong to the encoder:
   * any given here are left out, and the request's Proxy-State attributes are copied instead.
   */
  readonly attributes: readonly RadiusAttribute[];
  readonly secret: RadiusSecret;
}

/**
 * Encodes a response. Message-Authenticator is always included and always FIRST (Blast-RADIUS,
 * CVE-2024-3596: an MD5 chosen-prefix collision needs attacker-controlled bytes ahead of the
 * HMAC-protected data), computed with the Request Authenticator in the header (RFC 3579 §3.2).
 * Proxy-State attributes of the request follow the others, in their order (RFC 2865 §5.33).
 * The Response Authenticator (RFC 2865 §3) is computed last, over these final bytes.
 */
export function encodeResponse(input: EncodeResponseInput): Buffer {
  secretBytes(input.secret);
  const requestAuthenticator = asBuffer(input.request.authenticator);
  const proxyState = attributeType('Proxy-State');
  const bytes = encodePacket({
    code: input.code,
    identifier: input.request.identifier,
    authenticator: requestAuthenticator,
    attributes: [
      { type: MESSAGE_AUTHENTICATOR_TYPE, value: Buffer.alloc(RADIUS_AUTHENTICATOR_LENGTH) },
      ...input.attributes.filter(
        (a) => a.type !== MESSAGE_AUTHENTICATOR_TYPE && a.type !== proxyState,
      ),
      ...input.request.attributes.filter((a) => a.type === proxyState),
    ],
  });
  signMessageAuthenticator(bytes, requestAuthenticator, input.secret);
  computeResponseAuthenticator(bytes, requestAuthenticator, input.secret).copy(bytes, 4);
  return bytes;
}

/** A verified response from an upstream RADIUS server. */
export interface AccessResponse {
  readonly code: AccessResponseCode;
  readonly identifier: number;
  readonly attributes: readonly RadiusAttribute[];
  readonly hasMessageAuthenticator: boolean;
}

export interface VerifyResponseInput {
  /** The request as sent (its bytes), or its Identifier and Request Authenticator. */
  readonly request:
    Uint8Array | { readonly identifier: number; readonly authenticator: Uint8Array };
  readonly response: Uint8Array;
  readonly secret: RadiusSecret;
  /**
   * Refuse responses without Message-Authenticator (BlastRADIUS, CVE-2024-3596). The proxy's
   * upstream client requires it unless configured otherwise; servers before the BlastRADIUS fixes
   * (Debian's FreeRADIUS 3.2.1) send one only when set up to.
   */
  readonly requireMessageAuthenticator: boolean;
}

/**
 * Decodes a response and checks that it answers `request` under `secret`: Identifier, Response
 * Authenticator, then Message-Authenticator when present (always verified) or required. Throws
 * `ProtocolError` otherwise; the Response Authenticator is checked before the missing-MA rule, so
 * only a holder of the secret can make the client see RADIUS_MISSING_MESSAGE_AUTHENTICATOR.
 */
export function verifyResponse(input: VerifyResponseInput): AccessResponse {
  const request = input.request instanceof Uint8Array ? decodePacket(input.request) : input.request;
  const packet = decodePacket(input.response);
  if (!isAccessResponseCode(packet.code)) {
    throw new ProtocolError(
      'RADIUS_UNEXPECTED_CODE',
      `expected Access-Accept, Access-Reject or Access-Challenge, got ${packet.code}`,
    );
  }
  if (packet.identifier !== request.identifier) {
    throw new ProtocolError(
      'RADIUS_IDENTIFIER_MISMATCH',
      `response Identifier ${packet.identifier} does not match request ${request.identifier}`,
    );
  }
  if (!isValidResponseAuthenticator(input.response, request.authenticator, input.secret)) {
    throw new ProtocolError(
      'RADIUS_BAD_RESPONSE_AUTHENTICATOR',
      'Response Authenticator does not verify (wrong secret, forged, or not for this request)',
    );
  }
  const hasMessageAuthenticator = verifyMessageAuthenticator(
    input.response,
    request.authenticator,
    input.secret,
  );
  if (!hasMessageAuthenticator) {
    if (input.requireMessageAuthenticator) {
      throw new ProtocolError(
        'RADIUS_MISSING_MESSAGE_AUTHENTICATOR',
        `${packet.code} without Message-Authenticator, which is required`,
      );
    }
    if (packet.attributes.some((a) => a.type === attributeType('EAP-Message'))) {
      throw new ProtocolError(
        'RADIUS_MISSING_MESSAGE_AUTHENTICATOR',
        `${packet.code} with EAP-Message but no Message-Authenticator (RFC 3579 §3.2)`,
      );
    }
  }
  return {
    code: packet.code,
    identifier: packet.identifier,
    attributes: packet.attributes,
    hasMessageAuthenticator,
  };
}
