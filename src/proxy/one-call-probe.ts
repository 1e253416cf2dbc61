// The one call per passcode login (login-flow.ts, `preauthWithPasscode`) and preauth beside it: a
// failed one call does not say which of its two steps failed, so preauth alone names the row of
// the failmode table. Asked only once the one call is late, it runs beside it instead of after
// it, so that a hung service costs one and a half `api_timeout` before failmode answers, not two.
import type {
  ApiOutcome,
  PreauthAuthResponse,
  PreauthResponse,
} from '../client/auth-api-response.ts';

export interface ProbedOneCall {
  outcome: ApiOutcome<PreauthAuthResponse>;
  /** Preauth alone, when it was asked beside the late one call. */
  probe: Promise<ApiOutcome<PreauthResponse>> | undefined;
}

/**
 * Runs `call`; when it has not answered after `probeAfterMs` (half `api_timeout`), asks
 * `preauth` beside it. A one call that answers late anyway has cost a preauth call (and its
 * audit event) for nothing: only slow calls pay it.
 *
 * @example
 * const { outcome, probe } = await callWithPreauthProbe(() => api.preauthAuth(p),
 *   () => api.preauth(q), section.apiTimeoutMs / 2);
 */
export async function callWithPreauthProbe(
  call: () => Promise<ApiOutcome<PreauthAuthResponse>>,
  preauth: () => Promise<ApiOutcome<PreauthResponse>>,
  probeAfterMs: number,
): Promise<ProbedOneCall> {
  let probe: Promise<ApiOutcome<PreauthResponse>> | undefined;
  const timer = setTimeout(() => {
    probe = preauth();
    // Unused when the one call answers: its failure (the client answers outcomes, never throws
    // today) must not become an unhandled rejection.
    probe.catch(() => undefined);
  }, probeAfterMs);
  try {
    const outcome = await call();
    return { outcome, probe };
  } finally {
    clearTimeout(timer);
  }
}
