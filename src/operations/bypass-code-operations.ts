// Bypass codes: a new set for a user, replacing every earlier one; the codes are shown once.
import { hashBypassCode } from '../core/bypass-code.ts';
import { AirlockError } from '../core/error-registry.ts';
import type { User } from '../core/model.ts';
import { generateDigits, generateId } from '../runtime/random.ts';
import { auditEvent, type OperationContext } from './operation-context.ts';
import { requireUser } from './record-lookups.ts';

export const MAX_BYPASS_CODES = 100;

export interface BypassCodesInput {
  /** How many codes (1 to 100, default 10). */
  count?: number;
  /** Uses per code; 0 = unlimited until expiry (default 1). */
  uses?: number;
  /** Lifetime; undefined = no expiry. */
  validForMs?: number;
}

export interface NewBypassCodes {
  user: User;
  /** Nine digits each; stored only as HMACs. */
  codes: string[];
  uses: number;
  expiresAtMs: number | null;
}

/** Replaces a user's bypass codes; audited as `bypass-codes.replace`. */
export async function replaceBypassCodes(
  ctx: OperationContext,
  userRef: string,
  input: BypassCodesInput,
): Promise<NewBypassCodes> {
  const count = input.count ?? 10;
  const uses = input.uses ?? 1;
  if (count < 1 || count > MAX_BYPASS_CODES) {
    throw new AirlockError('ADMIN_INVALID_PARAMETERS', `count: must be 1 to ${MAX_BYPASS_CODES}`);
  }
  const expiresAtMs = input.validForMs === undefined ? null : ctx.clock.nowMs() + input.validForMs;
  const codes = Array.from({ length: count }, () => generateDigits(ctx.random, 9));
  const user = await ctx.store.transaction(async (tx) => {
    const user = await requireUser(tx, userRef);
    await tx.replaceBypassCodes(
      user.id,
      codes.map((code) => ({
        id: generateId(ctx.random, 'BC'),
        codeHash: hashBypassCode(ctx.bypassPepper, code),
        remainingUses: uses === 0 ? null : uses,
        expiresAtMs,
      })),
    );
    await tx.appendAudit(
      auditEvent(
        ctx,
        'bypass-codes.replace',
        { type: 'user', id: user.id },
        { count, uses, expiresAtMs },
        user.username,
      ),
    );
    return user;
  });
  return { user, codes, uses, expiresAtMs };
}
