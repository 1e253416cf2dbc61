// Who the client is behind the reverse proxy: `X-Forwarded-For` is believed only from the peers
// `[gateway] trusted_proxies` names, hop by hop from the right, as Fastify's trustProxy does; from
// anyone else the peer's own address is the client's. `X-Real-IP` is never read.
import type { IncomingMessage } from 'node:http';
import { matchesIp, type IpMatcher } from '../core/ip-ranges.ts';

/** The `X-Forwarded-*` headers a proxy sets; an untrusted peer's are dropped before any use. */
const FORWARDED_HEADERS = [
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'forwarded',
] as const;

/** Whether `address` (as the socket reports it) is one of the trusted reverse proxies. */
export function isTrustedProxy(trusted: readonly IpMatcher[], address: string): boolean {
  return trusted.some((m) => matchesIp(m, address));
}

/**
 * Removes the forwarding headers of a request whose peer is not a trusted proxy, so that no code
 * behind (the OpenID Connect provider builds its URLs from them) can believe them.
 */
export function dropUntrustedForwarding(trusted: readonly IpMatcher[], req: IncomingMessage): void {
  const peer = req.socket.remoteAddress ?? '';
  if (isTrustedProxy(trusted, peer)) return;
  for (const name of FORWARDED_HEADERS) delete req.headers[name];
}
