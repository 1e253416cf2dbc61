// The gateway's resilient Auth API client from `[service]`: its own module so that `airlock drill
// --gateway-config` builds it without loading the OpenID Connect provider the gateway serves.
import {
  createResilientAuthApiClient,
  type ResilienceEvent,
  type ResilientAuthApiClient,
} from '../client/resilient-auth-api-client.ts';
import type { GatewayConfig } from '../config/gateway-config-model.ts';
import type { Clock } from '../runtime/clock.ts';

export const GATEWAY_NAME = 'Airlock Access Gateway';

/** The gateway's resilient Auth API client (breaker, failover, health), as the proxy builds its own. */
export function createGatewayApiClient(
  config: GatewayConfig,
  clock: Clock,
  onEvent: (event: ResilienceEvent) => void,
): ResilientAuthApiClient {
  const s = config.service;
  const r = s.resilience;
  return createResilientAuthApiClient({
    hosts: s.apiHosts,
    ikey: s.ikey,
    skey: s.skey,
    ...(s.apiCaPem ? { caPem: s.apiCaPem } : {}),
    timeoutMs: s.apiTimeoutMs,
    clock,
    userAgent: GATEWAY_NAME,
    breakerEnabled: r.breakerEnabled,
    breaker: {
      failureThreshold: r.breakerFailureThreshold,
      openMs: r.breakerOpenMs,
      maxOpenMs: r.breakerMaxOpenMs,
      degradedLatencyMs: r.degradedLatencyMs,
    },
    onEvent,
  });
}
