// What the Auth API endpoints need: the store, the ports, caches and options.
import type { Logger } from 'pino';
import type { SourceFailureLimits, SourceLimitOptions } from '../../core/source-limits.ts';
import type { TokenBuckets } from '../../core/token-bucket.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { Random } from '../../runtime/random.ts';
import type { Store } from '../../store/store.ts';
import type { WriteBatcher } from '../../store/write-batcher.ts';
import type { FactorHealthBoard } from '../../core/factor-health.ts';
import type { PhoneFlow } from '../push/phone-flow.ts';
import type { AccessDecision } from '../policy/access-decision.ts';
import type { PushFlow } from '../push/push-flow.ts';
import type { ApplicationCache } from './application-cache.ts';
import type { AuthApiMetrics } from './auth-api-metrics.ts';

export interface AuthApiOptions {
  /** The host (and port, when not 443) clients are told to use, e.g. in activation URLs. */
  apiHost: string;
  /**
   * Strict host mode (`serve --strict-host`): the `host[:port]`s a signed request may be for,
   * compared by host name only; undefined = any Host (Duo's clients sign the Host they send).
   */
  allowedHosts?: readonly string[] | undefined;
  /** Largest accepted difference between the request's Date and the server clock. */
  dateWindowSeconds: number;
  /** Consecutive failed second factors that lock a user out. */
  lockoutThreshold: number;
  /** How long a lockout lasts; 0 = until an administrator unlocks (core/lockout.ts). */
  lockoutDurationSeconds: number;
  /** Budgets of failed second factors per source, in memory per node (core/source-limits.ts). */
  sourceLimits: SourceLimitOptions;
  /** Default lifetime of an activation code from /enroll. */
  enrollValidSeconds: number;
  /** Burst size of each application's rate limit, as a multiple of its per-second rate. */
  rateLimitBurstFactor: number;
  /** PNG bytes served by /logo; undefined = "Logo not found". */
  logoPng: Buffer | undefined;
  /** Longest an auth_status call waits for a pending push to be answered (long poll). */
  authStatusWaitSeconds: number;
}

export interface AuthApiContext {
  store: Store;
  /** Group commit for the writes of concurrent logins (see write-batcher.ts). */
  writes: WriteBatcher;
  clock: Clock;
  random: Random;
  logger: Logger;
  applications: ApplicationCache;
  /** Policies and emergency overlays, cached briefly (src/service/policy/access-decision.ts). */
  access: AccessDecision;
  rateLimits: TokenBuckets;
  /** Failed second factors per (user, source) and per source, on this node. */
  sourceLimits: SourceFailureLimits;
  metrics: AuthApiMetrics;
  /** Key for hashing bypass codes (derived from the secret key, never stored in the database). */
  bypassPepper: Buffer;
  push: PushFlow;
  phone: PhoneFlow;
  factorHealth: FactorHealthBoard;
  options: AuthApiOptions;
}
