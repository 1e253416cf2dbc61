// The fault scenarios of the proxy's failmode matrices (RADIUS and LDAP server sections): where a
// proxy's Auth API calls go while the service is stopped, blackholed, slow, answers 500 or
// garbage, or has a certificate from another CA; and the authevents.log record a cell asserts.
import assert from 'node:assert/strict';
import { waitForFileText } from './external-servers.ts';
import {
  closedPort,
  startFaultServer,
  testTlsMaterial,
  type FaultMode,
  type FaultServer,
} from './fault-servers.ts';
import type { TestProxy } from './proxy-harness.ts';

/** Where a proxy's Auth API calls go: the port, the CA the proxy trusts, and its skey. */
export interface Upstream {
  apiPort: number;
  caPem: string;
  /** Instead of the application's skey (a wrong one: the service answers 401). */
  skey?: string;
  close(): Promise<void>;
}

/** The real service (its port and CA), read when a scenario starts: it starts in `before`. */
export type ServiceAddress = () => { port: number; caPem: string };

/** The real service as the upstream, optionally signed with another skey. */
export function serviceUpstream(service: ServiceAddress, skey?: string): Upstream {
  const { port, caPem } = service();
  return { apiPort: port, caPem, ...(skey ? { skey } : {}), close: () => Promise.resolve() };
}

/** A port nothing listens on, with the service's CA: the service is stopped. */
export async function stoppedUpstream(service: ServiceAddress): Promise<Upstream> {
  return { apiPort: await closedPort(), caPem: service().caPem, close: () => Promise.resolve() };
}

/** Each scenario in which failmode decides, by the name the test titles use. */
export function failmodeFaults(service: ServiceAddress): Record<string, () => Promise<Upstream>> {
  return {
    'service stopped': () => stoppedUpstream(service),
    'service blackholed': () => faultUpstream('blackhole'),
    'service slower than api_timeout': () => faultUpstream('slow', 3_000),
    'service answers HTTP 500': () => faultUpstream('http500-json'),
    'service answers garbage with 200': () => faultUpstream('garbage200'),
    'service has a certificate from another CA': async () => {
      const tls = await testTlsMaterial();
      return { apiPort: service().port, caPem: tls.otherCaPem, close: () => Promise.resolve() };
    },
  };
}

async function faultUpstream(mode: FaultMode, delayMs?: number): Promise<Upstream> {
  const tls = await testTlsMaterial();
  const server: FaultServer = await startFaultServer(mode, {
    certPem: tls.certPem,
    keyPem: tls.keyPem,
    ...(delayMs ? { delayMs } : {}),
  });
  return { apiPort: server.port, caPem: tls.caPem, close: () => server.close() };
}

/** The last authevents.log record whose message contains `marker` (waits for it to be written). */
export async function lastEvent(
  proxy: TestProxy,
  marker: string,
): Promise<Record<string, unknown>> {
  await waitForFileText(proxy.authEventsLog, marker);
  const events = proxy.events().filter((e) => String(e.msg).includes(marker));
  assert.ok(events.length > 0, `no authevents.log record with "${marker}"`);
  return events[events.length - 1]!;
}
