// What a device can do, in docs/design/auth-api.md §1.5 terms, and how preauth lists it.
import type { Device, DeviceCapability } from './model.ts';

/** Which phone factors have a configured provider (and are not switched off). */
export interface PhoneFactorsAvailable {
  sms: boolean;
  phone: boolean;
}

export function deviceCapabilities(
  device: Device,
  available: PhoneFactorsAvailable,
): DeviceCapability[] {
  const caps: DeviceCapability[] = [];
  const push = device.publicKeyJwk !== null;
  const phone = device.phoneNumber !== null && available.phone;
  const sms = device.phoneNumber !== null && available.sms;
  if (push || phone) caps.push('auto');
  if (push) caps.push('push');
  if (sms) caps.push('sms');
  if (phone) caps.push('phone');
  if (device.otpTokenId !== null) caps.push('mobile_otp');
  return caps;
}

/** `XXX-XXX-0100`: only the last four digits of a number are shown. */
export function maskPhoneNumber(number: string | null): string {
  if (number === null) return '';
  const digits = number.replace(/[^0-9]/g, '');
  return digits.length < 4 ? 'XXX-XXX-XXXX' : `XXX-XXX-${digits.slice(-4)}`;
}
