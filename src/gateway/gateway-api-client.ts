// The gateway's resilient Auth API client from `[service]`: its own module so that `airlock drill
// --gateway-config` builds it without loading the OpenID Connect provider the gateway serves.
import type {
  ResilienceEvent,
  ResilientAuthApiClient,
} from '../client/resilient-auth-api-client.ts';
import { createSectionApiClient } from '../client/section-api-client.ts';
import type { GatewayConfig } from '../config/gateway-config-model.ts';
import type { Clock } from '../runtime/clock.ts';

export const GATEWAY_NAME = 'Airlock Access Gateway';

/** The gateway's resilient Auth API client (breaker, failover, health), as the proxy builds its own. */
export function createGatewayApiClient(
  config: GatewayConfig,
  clock: Clock,
  onEvent: (event: ResilienceEvent) => void,
): ResilientAuthApiClient {
  return createSectionApiClient(config.service, { clock, userAgent: GATEWAY_NAME, onEvent });
}
