// Admin API keys (ikey/skey, signed like the Auth API): create and revoke, each audited here.
import type { AdminApiKey } from '../core/admin-model.ts';
import { AirlockError } from '../core/error-registry.ts';
import { generateId, generateSecretKey } from '../runtime/random.ts';
import { auditEvent, type OperationContext } from './operation-context.ts';

/** Creates an Admin API key; audited as `admin-key.create`. The answer has the skey, once. */
export async function createAdminApiKey(ctx: OperationContext, name: string): Promise<AdminApiKey> {
  return ctx.store.transaction(async (tx) => {
    const key = await tx.createAdminApiKey({
      ikey: generateId(ctx.random, 'DA'),
      skey: generateSecretKey(ctx.random),
      name,
    });
    await tx.appendAudit(
      auditEvent(ctx, 'admin-key.create', { type: 'admin-key', id: key.ikey }, { name }),
    );
    return key;
  });
}

/** Revokes an Admin API key (it stops working at once); audited as `admin-key.revoke`. */
export async function revokeAdminApiKey(ctx: OperationContext, ikey: string): Promise<void> {
  await ctx.store.transaction(async (tx) => {
    if (!(await tx.deleteAdminApiKey(ikey))) {
      throw new AirlockError('ADMIN_NOT_FOUND', `no Admin API key "${ikey}"`);
    }
    await tx.appendAudit(auditEvent(ctx, 'admin-key.revoke', { type: 'admin-key', id: ikey }, {}));
  });
}
