// Address ranges as authproxy.cfg writes them (radius_ip_N): one IP, CIDR, IPv4 netmask or `a-b`.
import { isIPv4, isIPv6 } from 'node:net';

/** An inclusive range of addresses of one family. Plain data, so a loaded config can be frozen. */
export interface IpMatcher {
  readonly family: 4 | 6;
  readonly first: bigint;
  readonly last: bigint;
  /** The text it was parsed from, for logs and error messages. */
  readonly text: string;
}

export type ParseIpRangeResult =
  | { readonly ok: true; readonly matcher: IpMatcher }
  | { readonly ok: false; readonly error: string };

const V4_BITS = 32;
const V6_BITS = 128;
// ::ffff:0:0/96, where IPv4-mapped IPv6 addresses live (RFC 4291 §2.5.5.2).
const V4_MAPPED_PREFIX = 0xffffn << 32n;
const V4_MAPPED_MASK = (1n << 32n) - 1n;

/**
 * Parses one of the forms Duo's proxy accepts for `radius_ip_N`, IPv4 or IPv6:
 * `10.0.0.1`, `10.0.0.0/8`, `10.0.0.0/255.0.0.0`, `10.0.0.1-10.0.0.9`, `2001:db8::/32`,
 * `2001:db8::1-2001:db8::ff`. Host bits under a prefix are ignored (`10.0.0.1/8` is `10.0.0.0/8`).
 * An IPv6 range inside `::ffff:0:0/96` is stored as the IPv4 range it maps.
 */
export function parseIpRange(text: string): ParseIpRangeResult {
  const t = text.trim();
  const fail = (error: string): ParseIpRangeResult => ({ ok: false, error });
  if (t === '') return fail('empty address');
  if (t.includes(',')) {
    return fail('one address, CIDR, netmask or range per key (use radius_ip_2 and so on for more)');
  }

  const dash = t.indexOf('-');
  if (dash >= 0) {
    const a = parseAddress(t.slice(0, dash).trim());
    const b = parseAddress(t.slice(dash + 1).trim());
    if (!a || !b) return fail(`"${t}" is not a range of two IP addresses (a-b)`);
    const [na, nb] = [normalize(a), normalize(b)];
    if (na.family !== nb.family) return fail(`"${t}" mixes IPv4 and IPv6`);
    if (na.value > nb.value) return fail(`"${t}" starts after it ends`);
    return ok(na.family, na.value, nb.value, t);
  }

  const slash = t.indexOf('/');
  if (slash >= 0) {
    const base = parseAddress(t.slice(0, slash));
    const suffix = t.slice(slash + 1);
    if (!base) return fail(`"${t}" is not an IP address with a prefix length or netmask`);
    const bits = base.family === 4 ? V4_BITS : V6_BITS;
    let prefix: number;
    if (/^\d{1,3}$/.test(suffix)) {
      prefix = Number(suffix);
      if (prefix > bits) return fail(`"${t}": prefix length must be 0-${bits}`);
    } else {
      const mask = base.family === 4 ? parseAddress(suffix) : undefined;
      if (mask?.family !== 4) {
        return fail(`"${t}": after "/" write a prefix length or (IPv4) a dotted netmask`);
      }
      const length = contiguousPrefix(mask.value);
      if (length === undefined) return fail(`"${t}": netmask ${suffix} is not contiguous`);
      prefix = length;
    }
    const hostBits = BigInt(bits - prefix);
    const first = (base.value >> hostBits) << hostBits;
    const last = first | ((1n << hostBits) - 1n);
    const n1 = normalize({ family: base.family, value: first });
    const n2 = normalize({ family: base.family, value: last });
    if (n1.family !== n2.family) return ok(base.family, first, last, t); // straddles ::ffff:0:0/96
    return ok(n1.family, n1.value, n2.value, t);
  }

  const single = parseAddress(t);
  if (!single) return fail(`"${t}" is not an IP address, CIDR, netmask or range`);
  const n = normalize(single);
  return ok(n.family, n.value, n.value, t);
}

/**
 * Whether `ip` (as a socket reports it: IPv4, IPv6, IPv4-mapped `::ffff:10.0.0.1`, or with a
 * `%zone`) lies in the range. An address that does not parse matches nothing.
 */
export function matchesIp(matcher: IpMatcher, ip: string): boolean {
  const zone = ip.indexOf('%');
  const parsed = parseAddress(zone >= 0 ? ip.slice(0, zone) : ip);
  if (!parsed) return false;
  const n = normalize(parsed);
  return n.family === matcher.family && n.value >= matcher.first && n.value <= matcher.last;
}

/** Whether `text` is one IPv4 or IPv6 address (no prefix, range or zone). */
export function isIpAddress(text: string): boolean {
  return parseAddress(text) !== undefined;
}

interface Address {
  family: 4 | 6;
  value: bigint;
}

function ok(family: 4 | 6, first: bigint, last: bigint, text: string): ParseIpRangeResult {
  return { ok: true, matcher: Object.freeze({ family, first, last, text }) };
}

/** An IPv4-mapped IPv6 address is the IPv4 address it maps: a dual-stack socket reports those. */
function normalize(a: Address): Address {
  if (a.family === 6 && a.value >> 32n === V4_MAPPED_PREFIX >> 32n) {
    return { family: 4, value: a.value & V4_MAPPED_MASK };
  }
  return a;
}

function parseAddress(text: string): Address | undefined {
  if (isIPv4(text)) return { family: 4, value: parseV4(text) };
  if (isIPv6(text) && !text.includes('%')) return { family: 6, value: parseV6(text) };
  return undefined;
}

function parseV4(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

/** Expects text that node:net already accepted as IPv6 (`::` shorthand, IPv4 tail allowed). */
function parseV6(text: string): bigint {
  let groups: string[];
  const v4Tail = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let head = text;
  let tail: bigint[] = [];
  if (v4Tail) {
    head = v4Tail[1] ?? '';
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
    const v4 = parseV4(v4Tail[2] ?? '');
    tail = [v4 >> 16n, v4 & 0xffffn];
  }
  const wanted = 8 - tail.length;
  const gap = head.indexOf('::');
  if (gap >= 0) {
    const left = head.slice(0, gap).split(':').filter(Boolean);
    const right = head
      .slice(gap + 2)
      .split(':')
      .filter(Boolean);
    groups = [...left, ...Array<string>(wanted - left.length - right.length).fill('0'), ...right];
  } else {
    groups = head.split(':');
  }
  return [...groups.map((g) => BigInt(parseInt(g, 16))), ...tail].reduce(
    (acc, g) => (acc << 16n) | g,
    0n,
  );
}

function contiguousPrefix(mask: bigint): number | undefined {
  for (let prefix = 0; prefix <= V4_BITS; prefix++) {
    const expected = ((1n << BigInt(prefix)) - 1n) << BigInt(V4_BITS - prefix);
    if (mask === expected) return prefix;
  }
  return undefined;
}
