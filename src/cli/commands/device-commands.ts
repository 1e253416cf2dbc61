// `airlock device …`: an administrator's view of users' authenticators and phone numbers.
import type { Command } from 'commander';
import QRCode from 'qrcode';
import { readApiHost } from '../../config/api-host-file.ts';
import type { Device } from '../../core/model.ts';
import { addPhone, enrollDevice, removeDevice } from '../../operations/device-operations.ts';
import { deviceCapabilities, maskPhoneNumber } from '../../core/device-capabilities.ts';
import { withContext } from '../open-context.ts';
import { emit, epochSeconds, isoTime, table } from '../output.ts';
import { commonOptions, positiveInt, type CommonFlags } from './common.ts';
import { requireUser } from '../../operations/record-lookups.ts';

interface EnrollFlags extends CommonFlags {
  validSeconds: number;
}

interface PhoneFlags extends CommonFlags {
  name?: string;
}

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
      const activation = await enrollDevice(ctx, userRef, {
        validSeconds: flags.validSeconds,
        apiHost: readApiHost(ctx.location.dataDir, process.env),
      });
      const { user, activationCode, expiresAtMs } = activation;
      const result = {
        username: user.username,
        activation_code: activationCode,
        activation_url: activation.activationUrl,
        activation_barcode: activation.activationBarcode,
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
      const created = await addPhone(ctx, userRef, { number, name: flags.name ?? 'phone' });
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
      const removed = await removeDevice(ctx, deviceId);
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
    created: epochSeconds(d.createdAtMs),
    last_seen: isoTime(d.lastSeenAtMs),
  };
}
