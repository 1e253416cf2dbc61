// Users' devices: an activation code for an authenticator, a phone number, removing a device.
import { renderActivationCode } from '../core/activation-code.ts';
import { AirlockError } from '../core/error-registry.ts';
import type { Device, User } from '../core/model.ts';
import { generateId } from '../runtime/random.ts';
import { auditEvent, type OperationContext } from './operation-context.ts';
import { requireUser } from './record-lookups.ts';

/** E.164: `+`, country code and number, 8 to 15 digits. */
const E164 = /^\+[1-9][0-9]{7,14}$/;

export interface Activation {
  user: User;
  /** `duo://CODE-HOST`, what Duo's apps and ours scan. */
  activationCode: string;
  activationUrl: string;
  activationBarcode: string;
  expiresAtMs: number;
}

/** Makes an activation code for a user's authenticator; audited as `device.enroll`. */
export async function enrollDevice(
  ctx: OperationContext,
  userRef: string,
  input: { validSeconds?: number; apiHost: string },
): Promise<Activation> {
  const code = generateId(ctx.random, '', 20);
  const expiresAtMs = ctx.clock.nowMs() + (input.validSeconds ?? 86_400) * 1000;
  const user = await ctx.store.transaction(async (tx) => {
    const user = await requireUser(tx, userRef);
    await tx.createDeviceActivation({ activationCode: code, userId: user.id, expiresAtMs });
    await tx.appendAudit(
      auditEvent(
        ctx,
        'device.enroll',
        { type: 'user', id: user.id },
        { expiresAtMs },
        user.username,
      ),
    );
    return user;
  });
  const activationCode = renderActivationCode(code, input.apiHost);
  return {
    user,
    activationCode,
    activationUrl: `https://${input.apiHost}/authenticator/?code=${code}`,
    activationBarcode: `https://${input.apiHost}/frame/qr?value=${encodeURIComponent(activationCode)}`,
    expiresAtMs,
  };
}

/** Registers a phone number (E.164) for SMS passcodes and calls; audited as `device.add-phone`. */
export async function addPhone(
  ctx: OperationContext,
  userRef: string,
  input: { number: string; name?: string },
): Promise<Device> {
  if (!E164.test(input.number)) {
    throw new AirlockError(
      'ADMIN_INVALID_PARAMETERS',
      `number: must be E.164 (+ and 8-15 digits, e.g. +15551230100); got "${input.number}"`,
    );
  }
  return ctx.store.transaction(async (tx) => {
    const user = await requireUser(tx, userRef);
    const device = await tx.createDevice({
      id: generateId(ctx.random, 'DP'),
      userId: user.id,
      name: input.name ?? 'phone',
      platform: 'phone',
      phoneNumber: input.number,
    });
    await tx.appendAudit(
      auditEvent(ctx, 'device.add-phone', { type: 'device', id: device.id }, {}, user.username),
    );
    return device;
  });
}

/**
 * Removes a device (its passcodes stop working); audited as `device.remove`. With `userRef`, the
 * device must be that user's. ADMIN_NOT_FOUND for an unknown device.
 */
export async function removeDevice(
  ctx: OperationContext,
  deviceId: string,
  options: { userRef?: string } = {},
): Promise<Device> {
  return ctx.store.transaction(async (tx) => {
    const owner =
      options.userRef === undefined ? undefined : await requireUser(tx, options.userRef);
    const device = await tx.getDevice(deviceId);
    const belongs = device !== undefined && (owner === undefined || device.userId === owner.id);
    if (!belongs || !(await tx.deleteDevice(deviceId))) {
      throw new AirlockError('ADMIN_NOT_FOUND', `no device "${deviceId}"`);
    }
    const user = owner ?? (await tx.getUser(device.userId));
    await tx.appendAudit(
      auditEvent(
        ctx,
        'device.remove',
        { type: 'device', id: deviceId },
        {},
        user?.username ?? null,
      ),
    );
    return device;
  });
}
