// Which transport each API host of a section uses: in-process for the service running in this
// very process (`airlock start`, docs/architecture.md, Co-located fast path), HTTPS for any other.
import {
  createAuthApiClient,
  type AuthApiClient,
  type AuthApiClientOptions,
} from '../client/auth-api-client.ts';
import {
  createInProcessAuthApiClient,
  type InProcessAuthApi,
} from '../client/in-process-auth-api-client.ts';
import type { ServerConfig } from '../config/authproxy-config.ts';
import { isLoopbackHost } from '../core/loopback-host.ts';

/** The service in this process: the loopback port it listens on, and its in-process Auth API. */
export interface CoLocatedService {
  port: number;
  api: InProcessAuthApi;
}

/** An API host that is this process's own service: a loopback address at the service's port. */
export function isCoLocatedHost(
  host: { apiHost: string; apiPort?: number },
  coLocated: CoLocatedService | undefined,
): boolean {
  return (
    coLocated !== undefined &&
    isLoopbackHost(host.apiHost) &&
    (host.apiPort ?? 443) === coLocated.port
  );
}

/**
 * The client of one API host: in-process for the co-located service (same keys, deadline and
 * answers; no TLS, HTTP or signature), else HTTPS, with `preauth_auth` where the section says the
 * service is Airlock's (`api_preauth_auth`).
 */
export function hostClientFactory(
  section: Pick<ServerConfig, 'apiPreauthAuth'>,
  coLocated: CoLocatedService | undefined,
): (options: AuthApiClientOptions) => AuthApiClient {
  return (options) =>
    coLocated !== undefined && isCoLocatedHost(options, coLocated)
      ? createInProcessAuthApiClient({
          api: coLocated.api,
          apiHost: options.apiHost,
          apiPort: coLocated.port,
          ikey: options.ikey,
          skey: options.skey,
          timeoutMs: options.timeoutMs,
          clock: options.clock,
        })
      : createAuthApiClient({ ...options, preauthAuth: section.apiPreauthAuth });
}

/** "in-process" or "HTTPS" per host, for the banner and the benchmarks' "what ran where". */
export function describeTransports(
  section: { apiHosts: readonly { apiHost: string; apiPort: number }[] },
  coLocated: CoLocatedService | undefined,
): string {
  return section.apiHosts
    .map(
      (h) => `${h.apiHost}:${h.apiPort} ${isCoLocatedHost(h, coLocated) ? 'in-process' : 'HTTPS'}`,
    )
    .join(', ');
}
