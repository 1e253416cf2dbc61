// Values of the per-group failmode and honest fail-open keys of a server section
// (`failmode_secure_groups`, `failmode_safe_groups`, `fail_open_attributes`): pure parsers.
import { isDn, normalizeDn } from '../core/distinguished-name.ts';
import {
  encodeAttributeValue,
  findAttributeByName,
  type RadiusAttributeDefinition,
} from '../protocol/radius/radius-attributes.ts';

/** One attribute added to an Access-Accept given without a second factor. */
export interface FailOpenAttribute {
  /** As the dictionary spells it (`Filter-Id`). */
  readonly name: string;
  readonly type: number;
  /** The encoded value, in hex: the loaded config is frozen, and a Buffer cannot be. */
  readonly valueHex: string;
}

/**
 * Attributes the proxy writes itself, or that belong to requests or accounting: configuring one
 * would corrupt the reply (State, Message-Authenticator) or mean nothing to the NAS.
 */
const REFUSED_ATTRIBUTES = new Set(
  [
    'User-Name',
    'User-Password',
    'CHAP-Password',
    'CHAP-Challenge',
    'State',
    'Proxy-State',
    'Message-Authenticator',
    'EAP-Message',
    'Reply-Message',
  ].map((n) => n.toLowerCase()),
);

/**
 * Splits at unescaped `;`: DNs contain commas, so a list of DNs is `;`-separated, and a `;`
 * inside a DN value is written `\;` (RFC 4514 escapes it too). Items trimmed, empty items dropped.
 */
export function splitSemicolonList(text: string): string[] {
  const items: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      current += c + text[i + 1];
      i += 1;
    } else if (c === ';') {
      items.push(current);
      current = '';
    } else current += c;
  }
  items.push(current);
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

/** `dn1; dn2; …`: each a DN, none twice (compared as `normalizeDn`). */
export function parseDnList(text: string): { dns: string[]; errors: string[] } {
  const dns: string[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const item of splitSemicolonList(text)) {
    if (!isDn(item)) {
      errors.push(
        `${JSON.stringify(item)} is not a DN (cn=group,ou=groups,dc=example,dc=org); separate DNs with ";"`,
      );
      continue;
    }
    const normal = normalizeDn(item);
    if (seen.has(normal)) {
      errors.push(`lists ${JSON.stringify(item)} twice`);
      continue;
    }
    seen.add(normal);
    dns.push(item);
  }
  if (dns.length === 0 && errors.length === 0) errors.push('must list at least one group DN');
  return { dns, errors };
}

/**
 * `Name=value; Name=value; …` with names from the RADIUS dictionary. Values by type: text as
 * written; integer decimal; ipaddr dotted quad; octets `0x` + hex, else the text's UTF-8 bytes.
 * A name may repeat (two `Class` values).
 */
export function parseFailOpenAttributes(text: string): {
  attributes: FailOpenAttribute[];
  errors: string[];
} {
  const attributes: FailOpenAttribute[] = [];
  const errors: string[] = [];
  for (const item of splitSemicolonList(text)) {
    const eq = item.indexOf('=');
    const name = (eq < 0 ? item : item.slice(0, eq)).trim();
    const raw =
      eq < 0
        ? ''
        : item
            .slice(eq + 1)
            .trim()
            .replace(/\\;/g, ';');
    const definition = findAttributeByName(name);
    if (eq < 0 || name === '') {
      errors.push(`${JSON.stringify(item)} must be Name=value (Filter-Id=no-2fa)`);
    } else if (!definition) {
      errors.push(`${JSON.stringify(name)} is not a RADIUS attribute Airlock knows`);
    } else if (REFUSED_ATTRIBUTES.has(definition.name.toLowerCase())) {
      errors.push(`${definition.name} cannot be configured: the proxy or the NAS sets it`);
    } else if (raw === '') {
      errors.push(`${definition.name} needs a value`);
    } else {
      const value = encodeValue(definition, raw);
      if (typeof value === 'string') errors.push(`${definition.name}: ${value}`);
      else
        attributes.push({
          name: definition.name,
          type: definition.type,
          valueHex: value.toString('hex'),
        });
    }
  }
  if (attributes.length === 0 && errors.length === 0) {
    errors.push('must list at least one Name=value');
  }
  return { attributes, errors };
}

/** The wire value, or an error message. */
function encodeValue(definition: RadiusAttributeDefinition, raw: string): Buffer | string {
  let value: string | number | Buffer;
  switch (definition.valueType) {
    case 'text':
    case 'ipaddr':
      value = raw;
      break;
    case 'integer':
    case 'date':
      if (!/^\d+$/.test(raw)) return `must be a decimal integer, got ${JSON.stringify(raw)}`;
      value = Number(raw);
      break;
    case 'octets':
      if (/^0x/i.test(raw)) {
        if (!/^0x(?:[0-9a-f]{2})+$/i.test(raw)) {
          return `must be 0x followed by pairs of hex digits, got ${JSON.stringify(raw)}`;
        }
        value = Buffer.from(raw.slice(2), 'hex');
      } else value = Buffer.from(raw, 'utf8');
      break;
  }
  try {
    return encodeAttributeValue(definition, value);
  } catch (err) {
    return definition.valueType === 'ipaddr'
      ? `must be an IPv4 address, got ${JSON.stringify(raw)}`
      : err instanceof Error
        ? err.message
        : String(err);
  }
}
