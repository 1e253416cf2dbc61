// The portal's factor page for a pending login: the factors its devices offer (healthy first) and
// a notice steering the user away from degraded ones, in the page's language.
import type { FastifyRequest } from 'fastify';
import type { GatewayAppConfig } from '../config/gateway-config-model.ts';
import { factorChoices, type DeviceFactor, type FactorChoices } from './factor-choices.ts';
import { frame, type Gate } from './portal-gate.ts';
import { t, type MessageKey, type PortalLanguage } from './portal-messages.ts';
import { factorPage } from './portal-pages.ts';
import type { PendingDevice, PendingLogin } from './session-store.ts';

/** The login's factor choices, from its preauth devices and status line. */
export function choicesOf(login: PendingLogin): FactorChoices {
  return factorChoices(login.devices, login.preauthStatus);
}

/** The device a factor of this login goes to; undefined when none offers it. */
export function deviceFor(login: PendingLogin, factor: DeviceFactor): PendingDevice | undefined {
  return choicesOf(login).devices[factor];
}

export function factorPageFor(
  gate: Gate,
  request: FastifyRequest,
  login: PendingLogin,
  app: GatewayAppConfig,
  messages: { error?: MessageKey; notice?: MessageKey } = {},
): string {
  const f = frame(gate, request);
  const choices = choicesOf(login);
  return factorPage(f, {
    csrf: login.csrf,
    appName: app.name,
    username: login.user?.username ?? '',
    buttons: choices.order.map((factor) => ({
      factor,
      deviceName: choices.devices[factor]?.name ?? '',
    })),
    healthMessage: healthMessage(f.lang, choices),
    ...messages,
  });
}

/** "Push is having problems. Use Phone call or a passcode instead." — undefined when all is well. */
export function healthMessage(lang: PortalLanguage, choices: FactorChoices): string | undefined {
  if (choices.degraded.length === 0) return undefined;
  const good = [...choices.order.filter((f) => !choices.degraded.includes(f)), 'passcode'] as const;
  const join = (list: readonly (DeviceFactor | 'passcode')[]) =>
    list.map((f) => t(lang, FACTOR_NAMES[f])).join(` ${t(lang, 'or')} `);
  return t(lang, 'factorProblem', { factors: join(choices.degraded), alternatives: join(good) });
}

const FACTOR_NAMES: Readonly<Record<DeviceFactor | 'passcode', MessageKey>> = {
  push: 'factorPush',
  phone: 'factorPhone',
  sms: 'factorSms',
  passcode: 'factorPasscode',
};
