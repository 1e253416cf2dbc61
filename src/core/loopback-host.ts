// Loopback: the one answer to "can only this machine reach that address?", for listen addresses,
// URLs and the remote address of a socket.
import { matchesIp, parseIpRange, type IpMatcher } from './ip-ranges.ts';

const LOOPBACK_RANGES: readonly IpMatcher[] = ['127.0.0.0/8', '::1'].map((text) => {
  const parsed = parseIpRange(text);
  if (!parsed.ok) throw new Error(`bad built-in range ${text}: ${parsed.error}`);
  return parsed.matcher;
});

/**
 * True for `localhost`, 127.0.0.0/8 and ::1 in any spelling a socket, a config file or a URL gives
 * them: IPv4-mapped (`::ffff:127.0.0.1`), bracketed IPv6 (`[::1]`, as `URL.hostname` has it), with a
 * `%zone`, any letter case. Anything else, including an empty or unparseable host, is not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost') return true;
  const bracketed = h.startsWith('[') && h.endsWith(']') && h.includes(':');
  const address = bracketed ? h.slice(1, -1) : h;
  return LOOPBACK_RANGES.some((range) => matchesIp(range, address));
}
