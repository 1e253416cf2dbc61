// Device-signed requests (docs/device-api.md): an authenticator proves each call with its ECDSA
// P-256 key. Both the service (verify) and our authenticators (sign) use this one canonical form.
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export const DEVICE_SIGNATURE_SCHEME = 'AirlockDevice-v1';
export const DEVICE_ID_HEADER = 'x-airlock-device';
export const DEVICE_DATE_HEADER = 'x-airlock-date';

/** A P-256 public key as a JSON Web Key (what WebCrypto's exportKey('jwk') gives). */
export interface DevicePublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

export interface DeviceRequestParts {
  method: string;
  /** Path with the query string exactly as sent, e.g. `/device/v1/requests?wait=25`. */
  pathAndQuery: string;
  /** Unix seconds, as sent in X-Airlock-Date. */
  date: string;
  deviceId: string;
  body: Uint8Array | string;
}

/**
 * The bytes signed: scheme, method, path+query, date, device id and the SHA-256 of the body, one
 * per line. Binding the path binds the transaction id; binding the body binds the answer.
 */
export function canonicalDeviceRequest(parts: DeviceRequestParts): string {
  const bodyHash = createHash('sha256').update(parts.body).digest('hex');
  return [
    DEVICE_SIGNATURE_SCHEME,
    parts.method.toUpperCase(),
    parts.pathAndQuery,
    parts.date,
    parts.deviceId,
    bodyHash,
  ].join('\n');
}

/** The Authorization header value: `AirlockDevice-v1 <base64url r||s>`. */
export function signDeviceRequest(parts: DeviceRequestParts, privateKey: KeyObject): string {
  const signature = sign('sha256', Buffer.from(canonicalDeviceRequest(parts)), {
    key: privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  return `${DEVICE_SIGNATURE_SCHEME} ${signature.toString('base64url')}`;
}

/**
 * True when `authorization` carries a valid signature of `parts` by `publicKey`. The signature is
 * IEEE P1363 (r||s, 64 bytes): WebCrypto's native ECDSA output, so browsers need no conversion.
 */
export function verifyDeviceRequest(
  parts: DeviceRequestParts,
  authorization: string | undefined,
  publicKey: KeyObject,
): boolean {
  const prefix = `${DEVICE_SIGNATURE_SCHEME} `;
  if (!authorization?.startsWith(prefix)) return false;
  const encoded = authorization.slice(prefix.length);
  if (!/^[A-Za-z0-9_-]{86}$/.test(encoded)) return false;
  const signature = Buffer.from(encoded, 'base64url');
  if (signature.length !== 64) return false;
  try {
    return verify(
      'sha256',
      Buffer.from(canonicalDeviceRequest(parts)),
      {
        key: publicKey,
        dsaEncoding: 'ieee-p1363',
      },
      signature,
    );
  } catch {
    return false;
  }
}

/** Parses and checks a device public key; throws a plain Error naming what is wrong. */
export function importDevicePublicKey(jwk: unknown): { key: KeyObject; jwk: DevicePublicJwk } {
  if (typeof jwk !== 'object' || jwk === null) throw new Error('public_key must be a JWK object');
  const { kty, crv, x, y } = jwk as Record<string, unknown>;
  if (kty !== 'EC' || crv !== 'P-256') throw new Error('public_key must be an EC P-256 JWK');
  if (typeof x !== 'string' || typeof y !== 'string' || !isB64Url32(x) || !isB64Url32(y)) {
    throw new Error('public_key x and y must be 32-byte base64url values');
  }
  const clean: DevicePublicJwk = { kty, crv, x, y };
  try {
    // createPublicKey checks that the point lies on the curve.
    return { key: createPublicKey({ key: { ...clean }, format: 'jwk' }), jwk: clean };
  } catch {
    throw new Error('public_key is not a valid P-256 point');
  }
}

function isB64Url32(value: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(value) && Buffer.from(value, 'base64url').length === 32;
}
