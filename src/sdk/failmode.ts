// What a web application does when the 2FA step could not run: the failmode decision Duo's SDK
// leaves to the application, made explicit so that the application can log that it happened.
import { isOneOf } from '../core/closed-set.ts';
import { isWebSdkError, UNREACHABLE_KINDS } from './web-sdk-error.ts';

/** `safe`: let the user in without 2FA while the service is unreachable; `secure`: refuse. */
export const WEB_FAILMODES = ['safe', 'secure'] as const;
export type WebFailmode = (typeof WEB_FAILMODES)[number];
export const isWebFailmode = (v: unknown): v is WebFailmode => isOneOf(WEB_FAILMODES, v);

export interface FailmodeDecision {
  /** Whether the application may log the user in. */
  allowed: boolean;
  /** Always false here: the second factor was not checked (log it as a failmode event). */
  secondFactorChecked: false;
  /** Why, for the log: `failmode-safe-unreachable`, `failmode-secure-unreachable`, `error-<kind>`. */
  reason: string;
}

/**
 * The decision for an error of the 2FA step (health check, or the code exchange). Fails open
 * only under `safe` and only when the service could not be asked (DNS, TCP, TLS, timeout, 5xx);
 * a wrong client secret, a bad or replayed code, a bad state or token, or any unknown error
 * refuses under both failmodes. A deny is not an error: it never reaches this function.
 *
 * @example
 * try {
 *   await client.healthCheck();
 * } catch (error) {
 *   const decision = decideFailmode({ failmode: 'safe', error });
 *   log.warn({ event: 'failmode', ...decision }, 'second factor not checked');
 *   if (!decision.allowed) return reply.code(503).send('Two-factor login is unavailable');
 * }
 */
export function decideFailmode(input: { failmode: WebFailmode; error: unknown }): FailmodeDecision {
  const { failmode, error } = input;
  if (!isWebSdkError(error)) {
    return { allowed: false, secondFactorChecked: false, reason: 'error-unknown' };
  }
  const kind = error.kind;
  if (!UNREACHABLE_KINDS.includes(kind)) {
    return { allowed: false, secondFactorChecked: false, reason: `error-${kind}` };
  }
  return failmode === 'safe'
    ? { allowed: true, secondFactorChecked: false, reason: `failmode-safe-${kind}` }
    : { allowed: false, secondFactorChecked: false, reason: `failmode-secure-${kind}` };
}
