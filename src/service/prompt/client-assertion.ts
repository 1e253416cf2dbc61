// Verifies the JWTs a Web SDK application signs with its client secret: the client assertion of
// health_check and token (RFC 7523 §3) and the authorize `request` object. HS512 only.
import { createHash } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { CLIENT_JWT_MAX_LIFETIME_SECONDS, JWT_LEEWAY_SECONDS } from '../../core/web-sdk.ts';
import type { Application } from '../../core/model.ts';
import type { Store } from '../../store/store.ts';

export type JwtCheck = { ok: true; claims: JWTPayload } | { ok: false; why: string };

/**
 * A JWT signed with the application's client secret (its skey), for one of `audiences`, issued by
 * the client, alive for at most 300 s (Duo's clients' limit) and not expired.
 */
export async function verifyClientJwt(
  app: Application,
  token: string,
  options: { audiences: readonly string[]; nowMs: number; requireJti: boolean },
): Promise<JwtCheck> {
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(token, new TextEncoder().encode(app.skey), {
      algorithms: ['HS512'],
      issuer: app.ikey,
      audience: [...options.audiences],
      currentDate: new Date(options.nowMs),
      clockTolerance: JWT_LEEWAY_SECONDS,
      requiredClaims: options.requireJti ? ['exp', 'jti'] : ['exp'],
    }));
  } catch (err) {
    return { ok: false, why: jwtProblem(err) };
  }
  const nowSeconds = Math.floor(options.nowMs / 1000);
  const exp = claims.exp ?? 0;
  // A long-lived assertion is a standing credential: refuse one that claims more than 300 s.
  if (exp - nowSeconds > CLIENT_JWT_MAX_LIFETIME_SECONDS + JWT_LEEWAY_SECONDS) {
    return { ok: false, why: 'expires more than 300 seconds from now' };
  }
  if (claims.iat !== undefined && exp - claims.iat > CLIENT_JWT_MAX_LIFETIME_SECONDS) {
    return { ok: false, why: 'lives longer than 300 seconds' };
  }
  if (claims.sub !== undefined && claims.sub !== app.ikey) {
    return { ok: false, why: 'sub is not the client id' };
  }
  if (options.requireJti && (typeof claims.jti !== 'string' || claims.jti.length > 256)) {
    return { ok: false, why: 'jti missing or too long' };
  }
  return { ok: true, claims };
}

/**
 * Records the assertion's jti as used until the assertion could no longer be accepted: false
 * when it was seen before, on any node and across restarts (the store holds the marks).
 */
export async function claimAssertionJti(
  store: Store,
  app: Application,
  claims: JWTPayload,
  nowMs: number,
): Promise<boolean> {
  const expiresAtMs = ((claims.exp ?? 0) + JWT_LEEWAY_SECONDS) * 1000;
  return store.claimSingleUse(`jti:${app.ikey}:${sha256(String(claims.jti))}`, expiresAtMs, nowMs);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A short reason for logs and error descriptions; never the token or the secret. */
function jwtProblem(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim ${err.claim} is not valid`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed (HS512 only)';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) {
    return 'malformed JWT';
  }
  return 'not a valid JWT';
}
