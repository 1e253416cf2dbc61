// Host names of a Host header or a configured API host: lower-case, port dropped (RFC 9110 §7.2).

/**
 * The host of `host[:port]`, lower-cased and without its port; an IPv6 literal keeps its brackets
 * (`[::1]:8443` → `[::1]`).
 */
export function hostWithoutPort(hostAndPort: string): string {
  const host = hostAndPort.trim().toLowerCase();
  // The common Host header, a name without a port: nothing to drop (every request checks one).
  if (!host.includes(':')) return host;
  const bracketed = /^(\[[^\]]*\])(?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1] ?? host;
  return /^([^:]*):\d+$/.exec(host)?.[1] ?? host;
}

/**
 * The host name of an API host an operator named (`--api-host`, `--allowed-host`), as
 * `hostWithoutPort` reads a Host header: a bare IPv6 literal (`::1`) gets the brackets a Host header carries.
 */
export function allowedHostName(configured: string): string {
  const host = configured.trim();
  return /^[^[\]]*:[^[\]]*:/.test(host) ? `[${host.toLowerCase()}]` : hostWithoutPort(host);
}

/**
 * Strict host mode: whether the Host header names one of `allowedHosts` (`host[:port]` as
 * configured). Case- and port-insensitive: Duo's Node client and Duo Unix sign and send the bare
 * host, Python's client the host with the port it was given, and a TLS terminator may listen on
 * another port than the service.
 */
export function isAllowedHost(hostHeader: string, allowedHosts: readonly string[]): boolean {
  const received = hostWithoutPort(hostHeader);
  return received !== '' && allowedHosts.some((allowed) => allowedHostName(allowed) === received);
}
