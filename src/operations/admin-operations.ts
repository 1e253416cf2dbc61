// Console administrators: create (password + TOTP secret), disable, enable; each audited here.
import { Secret } from 'otpauth';
import type { Admin } from '../core/admin-model.ts';
import { AirlockError } from '../core/error-registry.ts';
import { newTotpUri } from '../core/otp-verify.ts';
import { hashPassword } from '../runtime/password-hash.ts';
import { generateId } from '../runtime/random.ts';
import { auditEvent, type OperationContext } from './operation-context.ts';

/** NIST SP 800-63B §3.1.1.2 asks for at least 8; an administrator gets more. */
export const MIN_ADMIN_PASSWORD_LENGTH = 12;
/** 160-bit secrets, the size RFC 4226 §4 recommends for HMAC-SHA1. */
const TOTP_SECRET_BYTES = 20;

export interface NewAdmin {
  admin: Admin;
  /** Base32 TOTP secret and its otpauth:// URI: shown once. */
  totpSecret: string;
  totpUri: string;
}

/** Creates an administrator with a new TOTP secret; audited as `admin.create`. */
export async function createAdmin(
  ctx: OperationContext,
  input: { username: string; password: string; issuer: string },
): Promise<NewAdmin> {
  if (input.password.length < MIN_ADMIN_PASSWORD_LENGTH) {
    throw new AirlockError('ADMIN_INVALID_PARAMETERS', undefined, {
      message: `the password must have at least ${MIN_ADMIN_PASSWORD_LENGTH} characters`,
    });
  }
  const secret = new Secret({ buffer: toArrayBuffer(ctx.random.bytes(TOTP_SECRET_BYTES)) }).base32;
  const passwordHash = await hashPassword(input.password);
  const admin = await ctx.store.transaction(async (tx) => {
    const created = await tx.createAdmin({
      id: generateId(ctx.random, 'DD'),
      username: input.username,
      passwordHash,
      totpSecret: secret,
    });
    await tx.appendAudit(
      auditEvent(
        ctx,
        'admin.create',
        { type: 'admin', id: created.id },
        { username: input.username },
      ),
    );
    return created;
  });
  const totpUri = newTotpUri({ issuer: input.issuer, label: input.username, secret });
  return { admin, totpSecret: secret, totpUri };
}

/**
 * Disables an administrator (its console sessions end at once) or enables it again; audited as
 * `admin.disable` or `admin.enable`. ADMIN_NOT_FOUND for an unknown username.
 */
export async function setAdminDisabled(
  ctx: OperationContext,
  username: string,
  disabled: boolean,
): Promise<Admin> {
  return ctx.store.transaction(async (tx) => {
    const admin = await tx.findAdmin(username);
    if (!admin) throw new AirlockError('ADMIN_NOT_FOUND', `no administrator "${username}"`);
    const next = await tx.setAdminDisabled(admin.id, disabled);
    await tx.appendAudit(
      auditEvent(
        ctx,
        disabled ? 'admin.disable' : 'admin.enable',
        { type: 'admin', id: admin.id },
        { username },
      ),
    );
    return next;
  });
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
