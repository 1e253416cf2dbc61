// The resilient Auth API client of one configured section (a proxy's server section, the
// gateway's `[service]`): its keys, API hosts, deadline and breaker settings, read the same way
// for both. Structural types: `client/` does not import `config/`.
import type { AuthApiClient, AuthApiClientOptions } from './auth-api-client.ts';
import type { Clock } from '../runtime/clock.ts';
import {
  createResilientAuthApiClient,
  type ApiHostAddress,
  type ResilienceEvent,
  type ResilientAuthApiClient,
} from './resilient-auth-api-client.ts';

/** What a section configures for its Auth API calls (`ikey`, `skey`, `api_host`…, `api_timeout`). */
export interface ApiSection {
  readonly apiHosts: readonly ApiHostAddress[];
  readonly ikey: string;
  readonly skey: string;
  readonly apiCaPem: string | undefined;
  readonly apiTimeoutMs: number;
  readonly resilience: {
    readonly breakerEnabled: boolean;
    readonly breakerFailureThreshold: number;
    readonly breakerOpenMs: number;
    readonly breakerMaxOpenMs: number;
    readonly degradedLatencyMs: number;
  };
}

/** The section's resilient Auth API client (breaker, failover, health). */
export function createSectionApiClient(
  section: ApiSection,
  options: {
    clock: Clock;
    userAgent: string;
    onEvent: (event: ResilienceEvent) => void;
    /** Makes the client of one host (the co-located proxy's in-process transport). */
    createClient?: (options: AuthApiClientOptions) => AuthApiClient;
  },
): ResilientAuthApiClient {
  const r = section.resilience;
  return createResilientAuthApiClient({
    ...(options.createClient ? { createClient: options.createClient } : {}),
    hosts: section.apiHosts,
    ikey: section.ikey,
    skey: section.skey,
    ...(section.apiCaPem ? { caPem: section.apiCaPem } : {}),
    timeoutMs: section.apiTimeoutMs,
    clock: options.clock,
    userAgent: options.userAgent,
    breakerEnabled: r.breakerEnabled,
    breaker: {
      failureThreshold: r.breakerFailureThreshold,
      openMs: r.breakerOpenMs,
      maxOpenMs: r.breakerMaxOpenMs,
      degradedLatencyMs: r.degradedLatencyMs,
    },
    onEvent: options.onEvent,
  });
}

/** The log line of a breaker or health change of the section's API hosts. */
export function describeResilienceEvent(section: string, event: ResilienceEvent): string {
  return event.type === 'breaker'
    ? `[${section}] circuit breaker for ${event.host}: ${event.from} -> ${event.to} (${event.reason})`
    : `[${section}] API host ${event.host} is ${event.to} (was ${event.from}): ${event.reason}`;
}
