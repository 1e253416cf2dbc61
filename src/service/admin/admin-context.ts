// What the Admin API and the console need: the store, the ports, options and the extensions.
import type { DrPlanSection } from '../../operations/dr-plan.ts';
import type { Logger } from 'pino';
import type { TokenBuckets } from '../../core/token-bucket.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { Random } from '../../runtime/random.ts';
import type { Store } from '../../store/store.ts';
import type { AdminExtensions } from './admin-extensions.ts';
import type { AdminLoginOptions } from './admin-login.ts';

export interface AdminOptions extends AdminLoginOptions {
  /** Serve the browser console under /admin/ (the Admin API is always served). */
  consoleEnabled: boolean;
  /** Issuer shown in authenticator apps for administrators' TOTP secrets. */
  totpIssuer: string;
}

export const DEFAULT_ADMIN_OPTIONS: Readonly<AdminOptions> = Object.freeze({
  consoleEnabled: true,
  sessionIdleSeconds: 15 * 60,
  sessionMaxSeconds: 8 * 60 * 60,
  loginBurst: 5,
  loginPerMinute: 2,
  loginPerAddressBurst: 10,
  loginPerAddressPerMinute: 5,
  totpIssuer: 'Airlock admin',
});

export interface AdminContext {
  store: Store;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** Key for hashing bypass codes (as in the Auth API). */
  bypassPepper: Buffer;
  /** Login attempts per address and per username and address. */
  loginLimiter: TokenBuckets;
  extensions: AdminExtensions;
  options: AdminOptions;
  /** Largest difference between a signed request's date and the clock. */
  dateWindowSeconds: number;
  /** Strict host mode for signed requests (see AuthApiOptions.allowedHosts); undefined = any. */
  allowedHosts: readonly string[] | undefined;
  /** The host authenticators are told to use in activation codes. */
  apiHost: () => string;
  /** Proxy sections for the DR plan page (`airlock serve --proxy-config`); none = not shown. */
  proxySections?: readonly DrPlanSection[] | undefined;
}
