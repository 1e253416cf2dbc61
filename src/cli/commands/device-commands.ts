// `airlock device …`: an administrator's view of users' authenticators and phone numbers.
import type { Command } from 'commander';
import QRCode from 'qrcode';
import { AirlockError } from '../../core/error-registry.ts';
import type { Device } from '../../core/model.ts';
import { readApiHost } from '../../config/api-host-file.ts';
import { generateId } from '../../runtime/random.ts';
import { renderActivationCode } from '../../service/auth-api/activation-code.ts';
import { deviceCapabilities, maskPhoneNumber } from '../../service/push/device-capabilities.ts';
import { withContext } from '../open-context.ts';
import { emit, isoTime, table } from '../output.ts';
import { adminAudit, commonOptions, positiveInt, type CommonFlags } from './common.ts';
import { requireUser } from './user-commands.ts';

interface EnrollFlags extends CommonFlags {
  validSeconds: number;
}

interface PhoneFlags extends CommonFlags {
  name?: string;
}

/** E.164: `+`, country code and number, 8 to 15 digits. */
const E164 = /^\+[1-9][0-9]{7,14}$/;

export function registerDeviceCommands(program: Command): void {
  const device = program
    .command('device')
    .description("manage users' authenticator devices and phone numbers");

  commonOptions(
    device
      .command('enroll <user>')
      .description(
        'make an activation code for an existing user; the authenticator (CLI or web) activates with it',
      )
      .option('--valid-seconds <n>', 'how long the code works', positiveInt, 86_400),
  ).action(async (userRef: string, flags: EnrollFlags) =>
    withContext(flags, async (ctx) => {
      const code = generateId(ctx.random, '', 20);
      const expiresAtMs = ctx.clock.nowMs() + flags.validSeconds * 1000;
      const user = await ctx.store.transaction(async (tx) => {
        const user = await requireUser(tx, userRef);
        await tx.createDeviceActivation({ activationCode: code, userId: user.id, expiresAtMs });
        await tx.appendAudit(
          adminAudit(ctx, 'device.enroll', 'user', user.id, { expiresAtMs }, user.username),
        );
        return user;
      });
      const apiHost = readApiHost(ctx.location.dataDir, process.env);
      const activationCode = renderActivationCode(code, apiHost);
      const result = {
        username: user.username,
        activation_code: activationCode,
        activation_url: `https://${apiHost}/authenticator/?code=${code}`,
        activation_barcode: `https://${apiHost}/frame/qr?value=${encodeURIComponent(activationCode)}`,
        expiration: Math.floor(expiresAtMs / 1000),
      };
      const qr = flags.json
        ? ''
        : await QRCode.toString(activationCode, { type: 'terminal', small: true });
      emit(flags, result, () =>
        [
          `Activation code for "${user.username}" (valid until ${isoTime(expiresAtMs)}):`,
          qr,
          `  ${activationCode}`,
          `Web authenticator: ${result.activation_url}`,
          `CLI authenticator: airlock authenticator activate '${activationCode}'`,
        ].join('\n'),
      );
    }),
  );

  commonOptions(device.command('list <user>').description("list a user's devices")).action(
    async (userRef: string, flags: CommonFlags) =>
      withContext(flags, async (ctx) => {
        const user = await requireUser(ctx.store, userRef);
        const rows = (await ctx.store.listDevices(user.id)).map(describeDevice);
        emit(flags, rows, () =>
          table(rows, ['device_id', 'name', 'platform', 'number', 'capabilities', 'last_seen']),
        );
      }),
  );

  commonOptions(
    device
      .command('add-phone <user> <number>')
      .description('register a phone number (E.164, e.g. +15551230100) for SMS passcodes and calls')
      .option('--name <name>', 'label for the number', 'phone'),
  ).action(async (userRef: string, number: string, flags: PhoneFlags) =>
    withContext(flags, async (ctx) => {
      if (!E164.test(number)) {
        throw new AirlockError('CLI_USAGE', undefined, {
          message: `phone number must be E.164 (+ and 8-15 digits, e.g. +15551230100); got "${number}"`,
        });
      }
      const created = await ctx.store.transaction(async (tx) => {
        const user = await requireUser(tx, userRef);
        const d = await tx.createDevice({
          id: generateId(ctx.random, 'DP'),
          userId: user.id,
          name: flags.name ?? 'phone',
          platform: 'phone',
          phoneNumber: number,
        });
        await tx.appendAudit(
          adminAudit(ctx, 'device.add-phone', 'device', d.id, {}, user.username),
        );
        return d;
      });
      emit(
        flags,
        describeDevice(created),
        () => `Phone ${maskPhoneNumber(number)} added (${created.id}).`,
      );
    }),
  );

  commonOptions(
    device
      .command('remove <device-id>')
      .description('remove a device (its passcodes stop working)'),
  ).action(async (deviceId: string, flags: CommonFlags) =>
    withContext(flags, async (ctx) => {
      const removed = await ctx.store.transaction(async (tx) => {
        const d = await tx.getDevice(deviceId);
        if (!d || !(await tx.deleteDevice(deviceId))) {
          throw new AirlockError('STORE_NOT_FOUND', `no device "${deviceId}"`);
        }
        const user = await tx.getUser(d.userId);
        await tx.appendAudit(
          adminAudit(ctx, 'device.remove', 'device', deviceId, {}, user?.username ?? null),
        );
        return d;
      });
      emit(flags, { device_id: removed.id, removed: true }, () => `Device ${removed.id} removed.`);
    }),
  );
}

function describeDevice(d: Device) {
  return {
    device_id: d.id,
    name: d.name,
    platform: d.platform,
    number: maskPhoneNumber(d.phoneNumber),
    // What the device could do with SMS and voice providers configured.
    capabilities: deviceCapabilities(d, { sms: true, phone: true }),
    created: isoTime(d.createdAtMs),
    last_seen: isoTime(d.lastSeenAtMs),
  };
}
