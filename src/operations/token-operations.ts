// OTP tokens an admin hands out: a new TOTP secret, an HOTP hardware token, deleting one.
import { Secret } from 'otpauth';
import { AirlockError } from '../core/error-registry.ts';
import type { OtpAlgorithm, OtpToken, User } from '../core/model.ts';
import { newTotpUri } from '../core/otp-verify.ts';
import { generateId } from '../runtime/random.ts';
import type { NewOtpToken } from '../store/store.ts';
import { auditEvent, type OperationContext } from './operation-context.ts';
import { requireUser } from './record-lookups.ts';

/** 160-bit secrets, the size RFC 4226 §4 recommends for HMAC-SHA1. */
const TOTP_SECRET_BYTES = 20;
const BASE32 = /^[A-Z2-7]+=*$/;

export interface TotpInput {
  name?: string | null;
  algorithm?: OtpAlgorithm;
  /** 6 (default) or 8. */
  digits?: number;
  periodSeconds?: number;
  /** Shown in the authenticator app (default Airlock). */
  issuer?: string;
}

export interface HotpInput {
  /** The token's seed, base32; spaces and case do not matter. */
  secret: string;
  counter?: number;
  name?: string | null;
  algorithm?: OtpAlgorithm;
  digits?: number;
}

export interface NewTotp {
  user: User;
  token: OtpToken;
  /** Base32; shown once. */
  secret: string;
  /** The otpauth:// URI an authenticator app scans. */
  uri: string;
}

/** Makes a TOTP secret for a user; audited as `token.add`. The secret is in this answer only. */
export async function addTotpToken(
  ctx: OperationContext,
  userRef: string,
  input: TotpInput,
): Promise<NewTotp> {
  const digits = checkDigits(input.digits ?? 6);
  const algorithm = input.algorithm ?? 'SHA1';
  const periodSeconds = input.periodSeconds ?? 30;
  const secret = new Secret({ buffer: toArrayBuffer(ctx.random.bytes(TOTP_SECRET_BYTES)) }).base32;
  const { user, token } = await addToken(ctx, userRef, {
    type: 'totp',
    secret,
    algorithm,
    digits,
    periodSeconds,
    counter: 0,
    name: input.name ?? null,
  });
  const uri = newTotpUri({
    issuer: input.issuer ?? 'Airlock',
    label: user.username,
    secret,
    algorithm,
    digits,
    periodSeconds,
  });
  return { user, token, secret, uri };
}

/** Registers an HOTP hardware token by its seed; audited as `token.add`. */
export async function addHotpToken(
  ctx: OperationContext,
  userRef: string,
  input: HotpInput,
): Promise<{ user: User; token: OtpToken }> {
  const secret = input.secret.replace(/\s+/g, '').toUpperCase();
  if (!BASE32.test(secret)) {
    throw new AirlockError('ADMIN_INVALID_PARAMETERS', 'secret: must be base32 (A-Z, 2-7)');
  }
  return addToken(ctx, userRef, {
    type: 'hotp',
    secret,
    algorithm: input.algorithm ?? 'SHA1',
    digits: checkDigits(input.digits ?? 6),
    periodSeconds: 30,
    counter: input.counter ?? 0,
    name: input.name ?? null,
  });
}

/** Deletes one of a user's tokens; audited as `token.delete`. ADMIN_NOT_FOUND if it has none such. */
export async function deleteOtpToken(
  ctx: OperationContext,
  userRef: string,
  tokenId: string,
): Promise<User> {
  return ctx.store.transaction(async (tx) => {
    const user = await requireUser(tx, userRef);
    if (!(await tx.deleteOtpToken(user.id, tokenId))) {
      throw new AirlockError(
        'ADMIN_NOT_FOUND',
        `user "${user.username}" has no token "${tokenId}"`,
      );
    }
    await tx.appendAudit(
      auditEvent(ctx, 'token.delete', { type: 'token', id: tokenId }, {}, user.username),
    );
    return user;
  });
}

/** The one place `token.add` is written, for TOTP and HOTP alike. */
async function addToken(
  ctx: OperationContext,
  userRef: string,
  fields: Omit<NewOtpToken, 'id' | 'userId'>,
): Promise<{ user: User; token: OtpToken }> {
  return ctx.store.transaction(async (tx) => {
    const user = await requireUser(tx, userRef);
    const token = await tx.addOtpToken({
      ...fields,
      id: generateId(ctx.random, 'DT'),
      userId: user.id,
    });
    await tx.appendAudit(
      auditEvent(
        ctx,
        'token.add',
        { type: 'token', id: token.id },
        { type: fields.type, algorithm: fields.algorithm },
        user.username,
      ),
    );
    return { user, token };
  });
}

function checkDigits(digits: number): number {
  if (digits !== 6 && digits !== 8) {
    throw new AirlockError('ADMIN_INVALID_PARAMETERS', 'digits: must be 6 or 8');
  }
  return digits;
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
