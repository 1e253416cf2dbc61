// Which second factors the portal offers a user, from the service's preauth: the first device able
// to push, to take a call and to receive SMS passcodes, and the factors the service reports
// degraded, so the page steers the user to the others (as the hosted prompt does).
import { AUTH_FACTORS, steerAwayMessage, type AuthFactor } from '../core/factor-health.ts';
import type { PendingDevice } from './session-store.ts';

/** The out-of-band factors the portal starts from a button. */
export const DEVICE_FACTORS = ['push', 'phone', 'sms'] as const;
export type DeviceFactor = (typeof DEVICE_FACTORS)[number];

export interface FactorChoices {
  /** The device each factor goes to; a factor no device offers is absent. */
  readonly devices: Readonly<Partial<Record<DeviceFactor, PendingDevice>>>;
  /** Offered factors in the order to show them: healthy first, degraded last. */
  readonly order: readonly DeviceFactor[];
  /** Offered factors the service reports degraded (push provider down, SMS carrier failing). */
  readonly degraded: readonly DeviceFactor[];
}

/**
 * The portal's choices for a user's devices and preauth `status_msg`.
 *
 * A client of the Auth API learns of degraded factors from preauth (docs/design/auth-api.md): the
 * service lists a device's degraded capabilities last and says which ones in `status_msg`
 * (`steerAwayMessage`). The degraded set is the one whose steering line is exactly that
 * `status_msg`; any other text (an account status, or a service that never steers, as Duo's)
 * means none, so nothing is hidden on a guess.
 *
 * @example
 * factorChoices(devices, 'Push is having problems — use a phone call, SMS or a passcode.');
 * // { order: ['phone', 'sms', 'push'], degraded: ['push'], devices: { … } }
 */
export function factorChoices(
  devices: readonly PendingDevice[],
  statusMsg: string | undefined,
): FactorChoices {
  const chosen: Partial<Record<DeviceFactor, PendingDevice>> = {};
  for (const factor of DEVICE_FACTORS) {
    const device = devices.find((d) => d.capabilities.includes(factor));
    if (device) chosen[factor] = device;
  }
  const offered = DEVICE_FACTORS.filter((f) => chosen[f] !== undefined);
  const degraded = degradedFromSteer(statusMsg, devices);
  return {
    devices: chosen,
    order: [
      ...offered.filter((f) => !degraded.includes(f)),
      ...offered.filter((f) => degraded.includes(f)),
    ],
    degraded: offered.filter((f) => degraded.includes(f)),
  };
}

/** The degraded factors `steerAwayMessage` names in `statusMsg`; none when it is not such a line. */
export function degradedFromSteer(
  statusMsg: string | undefined,
  devices: readonly PendingDevice[],
): AuthFactor[] {
  if (statusMsg === undefined || !statusMsg.includes('having problems')) return [];
  // The service computes the line over the factors of every device, plus passcode.
  const usable = new Set<AuthFactor>(['passcode']);
  for (const d of devices)
    for (const f of DEVICE_FACTORS) if (d.capabilities.includes(f)) usable.add(f);
  const available = AUTH_FACTORS.filter((f) => usable.has(f));
  // At most 2^4 subsets: try each against the service's own wording.
  for (let mask = 1; mask < 1 << available.length; mask++) {
    const subset = available.filter((_, i) => (mask & (1 << i)) !== 0);
    if (steerAwayMessage(subset, available) === statusMsg) return subset;
  }
  return [];
}
