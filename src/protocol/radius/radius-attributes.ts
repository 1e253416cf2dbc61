// RADIUS attribute dictionary: standard attribute names and value types, typed get/set by name.
//
// Names are spelled exactly as FreeRADIUS's dictionaries spell them (dictionary.rfc2865 and
// friends), because configuration files name attributes that way (`pass_through_attr_names`).
// FreeRADIUS's `string` type is `text` here (UTF-8); `vsa` and tagged tunnel attributes are
// kept as raw `octets`, which is all pass-through needs.
import { isIPv4 } from 'node:net';
import { ProtocolError } from '../protocol-error.ts';
import { RADIUS_MAX_ATTRIBUTE_VALUE_LENGTH, type RadiusAttribute } from './radius-packet.ts';

export const RADIUS_VALUE_TYPES = ['text', 'octets', 'ipaddr', 'integer', 'date'] as const;
export type RadiusValueType = (typeof RADIUS_VALUE_TYPES)[number];

/** The JavaScript value of each RADIUS value type. */
export interface RadiusValueOf {
  /** UTF-8 text (FreeRADIUS `string`). */
  text: string;
  octets: Buffer;
  /** Dotted-quad IPv4 address. */
  ipaddr: string;
  /** Unsigned 32-bit; enumerations (Service-Type, …) are integers too. */
  integer: number;
  /** Seconds since the Unix epoch, unsigned 32-bit. */
  date: number;
}

export interface RadiusAttributeDefinition {
  readonly type: number;
  readonly name: string;
  readonly valueType: RadiusValueType;
}

export const RADIUS_ATTRIBUTES = [
  // RFC 2865 §5
  { type: 1, name: 'User-Name', valueType: 'text' },
  // Hidden with the shared secret (RFC 2865 §5.2): see radius-crypto.ts.
  { type: 2, name: 'User-Password', valueType: 'octets' },
  { type: 3, name: 'CHAP-Password', valueType: 'octets' },
  { type: 4, name: 'NAS-IP-Address', valueType: 'ipaddr' },
  { type: 5, name: 'NAS-Port', valueType: 'integer' },
  { type: 6, name: 'Service-Type', valueType: 'integer' },
  { type: 7, name: 'Framed-Protocol', valueType: 'integer' },
  { type: 8, name: 'Framed-IP-Address', valueType: 'ipaddr' },
  { type: 9, name: 'Framed-IP-Netmask', valueType: 'ipaddr' },
  { type: 10, name: 'Framed-Routing', valueType: 'integer' },
  { type: 11, name: 'Filter-Id', valueType: 'text' },
  { type: 12, name: 'Framed-MTU', valueType: 'integer' },
  { type: 13, name: 'Framed-Compression', valueType: 'integer' },
  { type: 14, name: 'Login-IP-Host', valueType: 'ipaddr' },
  { type: 15, name: 'Login-Service', valueType: 'integer' },
  { type: 16, name: 'Login-TCP-Port', valueType: 'integer' },
  { type: 18, name: 'Reply-Message', valueType: 'text' },
  { type: 19, name: 'Callback-Number', valueType: 'text' },
  { type: 20, name: 'Callback-Id', valueType: 'text' },
  { type: 22, name: 'Framed-Route', valueType: 'text' },
  { type: 23, name: 'Framed-IPX-Network', valueType: 'ipaddr' },
  { type: 24, name: 'State', valueType: 'octets' },
  { type: 25, name: 'Class', valueType: 'octets' },
  { type: 26, name: 'Vendor-Specific', valueType: 'octets' },
  { type: 27, name: 'Session-Timeout', valueType: 'integer' },
  { type: 28, name: 'Idle-Timeout', valueType: 'integer' },
  { type: 29, name: 'Termination-Action', valueType: 'integer' },
  { type: 30, name: 'Called-Station-Id', valueType: 'text' },
  { type: 31, name: 'Calling-Station-Id', valueType: 'text' },
  { type: 32, name: 'NAS-Identifier', valueType: 'text' },
  { type: 33, name: 'Proxy-State', valueType: 'octets' },
  { type: 34, name: 'Login-LAT-Service', valueType: 'text' },
  { type: 35, name: 'Login-LAT-Node', valueType: 'text' },
  { type: 36, name: 'Login-LAT-Group', valueType: 'octets' },
  { type: 37, name: 'Framed-AppleTalk-Link', valueType: 'integer' },
  { type: 38, name: 'Framed-AppleTalk-Network', valueType: 'integer' },
  { type: 39, name: 'Framed-AppleTalk-Zone', valueType: 'text' },
  { type: 60, name: 'CHAP-Challenge', valueType: 'octets' },
  { type: 61, name: 'NAS-Port-Type', valueType: 'integer' },
  { type: 62, name: 'Port-Limit', valueType: 'integer' },
  { type: 63, name: 'Login-LAT-Port', valueType: 'text' },
  // RFC 2866 (accounting)
  { type: 40, name: 'Acct-Status-Type', valueType: 'integer' },
  { type: 41, name: 'Acct-Delay-Time', valueType: 'integer' },
  { type: 42, name: 'Acct-Input-Octets', valueType: 'integer' },
  { type: 43, name: 'Acct-Output-Octets', valueType: 'integer' },
  { type: 44, name: 'Acct-Session-Id', valueType: 'text' },
  { type: 45, name: 'Acct-Authentic', valueType: 'integer' },
  { type: 46, name: 'Acct-Session-Time', valueType: 'integer' },
  { type: 47, name: 'Acct-Input-Packets', valueType: 'integer' },
  { type: 48, name: 'Acct-Output-Packets', valueType: 'integer' },
  { type: 49, name: 'Acct-Terminate-Cause', valueType: 'integer' },
  { type: 50, name: 'Acct-Multi-Session-Id', valueType: 'text' },
  { type: 51, name: 'Acct-Link-Count', valueType: 'integer' },
  // RFC 2869 (extensions)
  { type: 52, name: 'Acct-Input-Gigawords', valueType: 'integer' },
  { type: 53, name: 'Acct-Output-Gigawords', valueType: 'integer' },
  { type: 55, name: 'Event-Timestamp', valueType: 'date' },
  { type: 75, name: 'Password-Retry', valueType: 'integer' },
  { type: 76, name: 'Prompt', valueType: 'integer' },
  { type: 77, name: 'Connect-Info', valueType: 'text' },
  { type: 78, name: 'Configuration-Token', valueType: 'text' },
  { type: 79, name: 'EAP-Message', valueType: 'octets' },
  { type: 80, name: 'Message-Authenticator', valueType: 'octets' },
  { type: 85, name: 'Acct-Interim-Interval', valueType: 'integer' },
  { type: 87, name: 'NAS-Port-Id', valueType: 'text' },
  { type: 88, name: 'Framed-Pool', valueType: 'text' },
  // RFC 2868 tunnel attributes (VLAN assignment is a common pass-through). Their first octet may
  // be a tag, so they stay raw octets.
  { type: 64, name: 'Tunnel-Type', valueType: 'octets' },
  { type: 65, name: 'Tunnel-Medium-Type', valueType: 'octets' },
  { type: 81, name: 'Tunnel-Private-Group-Id', valueType: 'octets' },
] as const satisfies readonly RadiusAttributeDefinition[];

type KnownDefinition = (typeof RADIUS_ATTRIBUTES)[number];
export type RadiusAttributeName = KnownDefinition['name'];
type ValueByName = { [D in KnownDefinition as D['name']]: RadiusValueOf[D['valueType']] };
/** The value type of a named attribute, e.g. `string` for `User-Name`, `Buffer` for `Class`. */
export type RadiusAttributeValue<N extends RadiusAttributeName> = ValueByName[N];

const BY_NAME = new Map<string, RadiusAttributeDefinition>(
  RADIUS_ATTRIBUTES.map((d) => [d.name.toLowerCase(), d]),
);
const BY_TYPE = new Map<number, RadiusAttributeDefinition>(
  RADIUS_ATTRIBUTES.map((d) => [d.type, d]),
);

/** The definition of a name as configuration spells it; case-insensitive like FreeRADIUS. */
export function findAttributeByName(name: string): RadiusAttributeDefinition | undefined {
  return BY_NAME.get(name.trim().toLowerCase());
}

export function findAttributeByType(type: number): RadiusAttributeDefinition | undefined {
  return BY_TYPE.get(type);
}

export const isRadiusAttributeName = (v: unknown): v is RadiusAttributeName =>
  typeof v === 'string' && RADIUS_ATTRIBUTES.some((d) => d.name === v);

/** The Type octet of a known attribute. */
export function attributeType(name: RadiusAttributeName): number {
  return BY_NAME.get(name.toLowerCase())!.type;
}

/** The value of the first attribute named `name`, or undefined. Throws `ProtocolError` on a bad value. */
export function getAttribute<N extends RadiusAttributeName>(
  attributes: readonly RadiusAttribute[],
  name: N,
): RadiusAttributeValue<N> | undefined {
  const type = attributeType(name);
  const found = attributes.find((a) => a.type === type);
  if (found === undefined) return undefined;
  return decodeNamed(name, found.value);
}

/** The values of every attribute named `name`, in packet order. */
export function getAttributes<N extends RadiusAttributeName>(
  attributes: readonly RadiusAttribute[],
  name: N,
): RadiusAttributeValue<N>[] {
  const type = attributeType(name);
  return attributes.filter((a) => a.type === type).map((a) => decodeNamed(name, a.value));
}

/** One wire attribute from a name and a typed value. */
export function createAttribute<N extends RadiusAttributeName>(
  name: N,
  value: RadiusAttributeValue<N>,
): RadiusAttribute {
  const definition = BY_NAME.get(name.toLowerCase())!;
  return { type: definition.type, value: encodeAttributeValue(definition, value) };
}

/**
 * A copy of `attributes` where `name` has exactly the one given value: it replaces the first
 * attribute of that type in place, and any later ones are removed; else it is appended.
 */
export function setAttribute<N extends RadiusAttributeName>(
  attributes: readonly RadiusAttribute[],
  name: N,
  value: RadiusAttributeValue<N>,
): RadiusAttribute[] {
  const attribute = createAttribute(name, value);
  const first = attributes.findIndex((a) => a.type === attribute.type);
  if (first === -1) return [...attributes, attribute];
  return attributes.flatMap((a, i) =>
    i === first ? [attribute] : a.type === attribute.type ? [] : [a],
  );
}

/** Decodes a raw value by its definition. Throws `ProtocolError` when it does not fit the type. */
export function decodeAttributeValue(
  definition: RadiusAttributeDefinition,
  value: Buffer,
): RadiusValueOf[RadiusValueType] {
  switch (definition.valueType) {
    case 'text':
      try {
        return UTF8.decode(value);
      } catch {
        throw new ProtocolError(
          'RADIUS_BAD_ATTRIBUTE_VALUE',
          `RADIUS ${definition.name} is not valid UTF-8`,
        );
      }
    case 'octets':
      return Buffer.from(value);
    case 'ipaddr':
      requireLength(definition, value, 4);
      return `${value[0]}.${value[1]}.${value[2]}.${value[3]}`;
    case 'integer':
    case 'date':
      requireLength(definition, value, 4);
      return value.readUInt32BE(0);
  }
}

/** Encodes a typed value. Throws `ProtocolError` for a value that does not fit the type. */
export function encodeAttributeValue(
  definition: RadiusAttributeDefinition,
  value: RadiusValueOf[RadiusValueType],
): Buffer {
  const bytes = encodeByType(definition, value);
  if (bytes.length > RADIUS_MAX_ATTRIBUTE_VALUE_LENGTH) {
    throw new ProtocolError(
      'RADIUS_VALUE_TOO_LONG',
      `RADIUS ${definition.name} of ${bytes.length} octets is longer than 253`,
    );
  }
  return bytes;
}

function encodeByType(
  definition: RadiusAttributeDefinition,
  value: RadiusValueOf[RadiusValueType],
): Buffer {
  switch (definition.valueType) {
    case 'text':
      if (typeof value === 'string') return Buffer.from(value, 'utf8');
      break;
    case 'octets':
      if (Buffer.isBuffer(value)) return Buffer.from(value);
      break;
    case 'ipaddr':
      if (typeof value === 'string' && isIPv4(value)) {
        return Buffer.from(value.split('.').map(Number));
      }
      break;
    case 'integer':
    case 'date':
      if (
        typeof value === 'number' &&
        Number.isInteger(value) &&
        value >= 0 &&
        value <= 0xffffffff
      ) {
        const bytes = Buffer.alloc(4);
        bytes.writeUInt32BE(value, 0);
        return bytes;
      }
      break;
  }
  throw new ProtocolError(
    'RADIUS_BAD_ATTRIBUTE_VALUE',
    `RADIUS ${definition.name} needs a ${definition.valueType} value`,
  );
}

function decodeNamed<N extends RadiusAttributeName>(
  name: N,
  value: Buffer,
): RadiusAttributeValue<N> {
  return decodeAttributeValue(BY_NAME.get(name.toLowerCase())!, value) as RadiusAttributeValue<N>;
}

function requireLength(definition: RadiusAttributeDefinition, value: Buffer, length: number): void {
  if (value.length !== length) {
    throw new ProtocolError(
      'RADIUS_BAD_ATTRIBUTE_VALUE',
      `RADIUS ${definition.name} must be ${length} octets, got ${value.length}`,
    );
  }
}

// fatal: a user name that is not UTF-8 must not be silently turned into U+FFFD, which would
// make two different byte strings the same user.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
