// Counters the kernel keeps per UDP socket, from /proc/net/udp and /proc/net/udp6 (proc(5)):
// the datagrams it dropped because the socket's receive buffer was full. Linux only; elsewhere
// (or when /proc is not mounted) the reader answers undefined and the metric stays absent.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

export interface UdpSocketRow {
  /** The local address as /proc writes it: hex, in the kernel's byte order. */
  localHex: string;
  localPort: number;
  /** The socket's inode: unique per socket while it is open. */
  inode: number;
  drops: number;
}

/** Parses the text of /proc/net/udp or /proc/net/udp6 (header line first). */
export function parseProcNetUdp(text: string): UdpSocketRow[] {
  const rows: UdpSocketRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    if (f.length < 13) continue;
    const [localHex, portHex] = f[1]!.split(':');
    const inode = Number(f[9]);
    const drops = Number(f[12]);
    if (!localHex || !portHex || !Number.isSafeInteger(inode) || !Number.isSafeInteger(drops))
      continue;
    rows.push({ localHex, localPort: parseInt(portHex, 16), inode, drops });
  }
  return rows;
}

/**
 * The kernel's drop count of the UDP socket bound to `address`:`port`, or undefined when it
 * cannot be read. Several sockets on one port (another address) are told apart by the address.
 */
export function udpReceiveDrops(address: string, port: number): number | undefined {
  const v6 = isIP(address) === 6;
  let text: string;
  try {
    text = readFileSync(v6 ? '/proc/net/udp6' : '/proc/net/udp', 'utf8');
  } catch {
    return undefined;
  }
  const want = v6 ? undefined : ipv4Hex(address);
  const rows = parseProcNetUdp(text).filter(
    (r) => r.localPort === port && (want === undefined || r.localHex === want),
  );
  if (rows.length === 0) return undefined;
  return rows.reduce((sum, r) => sum + r.drops, 0);
}

/** An IPv4 address as /proc/net/udp writes it: the 32-bit value in little-endian hex. */
export function ipv4Hex(address: string): string {
  return address
    .split('.')
    .map((octet) => Number(octet).toString(16).padStart(2, '0').toUpperCase())
    .reverse()
    .join('');
}
