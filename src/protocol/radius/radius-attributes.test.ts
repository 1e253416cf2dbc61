// RADIUS attribute dictionary: FreeRADIUS names, typed values, get/set by name, bad values.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  RADIUS_ATTRIBUTES,
  attributeType,
  createAttribute,
  decodeAttributeValue,
  findAttributeByName,
  findAttributeByType,
  getAttribute,
  getAttributes,
  setAttribute,
} from './radius-attributes.ts';
import { decodePacket } from './radius-packet.ts';
import { RFC_7_1, assertProtocolError, hex } from './radius-vectors.test.ts';

describe('RADIUS attribute dictionary', () => {
  it('spells names and numbers as FreeRADIUS dictionaries do', () => {
    // Debian's freeradius-common ships the dictionaries; compare when they are there, else
    // against the few names configuration files use most.
    const known = new Map<string, number>();
    for (const file of ['rfc2865', 'rfc2866', 'rfc2868', 'rfc2869']) {
      let text: string;
      try {
        text = readFileSync(`/usr/share/freeradius/dictionary.${file}`, 'utf8');
      } catch {
        continue;
      }
      for (const m of text.matchAll(/^ATTRIBUTE\s+(\S+)\s+(\d+)\s/gm))
        known.set(m[1]!, Number(m[2]));
    }
    if (known.size === 0) {
      for (const [name, type] of [
        ['User-Name', 1],
        ['Filter-Id', 11],
        ['Reply-Message', 18],
        ['Class', 25],
        ['Calling-Station-Id', 31],
      ] as const)
        known.set(name, type);
    }
    for (const definition of RADIUS_ATTRIBUTES) {
      if (known.has(definition.name)) assert.equal(known.get(definition.name), definition.type);
    }
    for (const name of ['User-Name', 'Reply-Message', 'Calling-Station-Id', 'Filter-Id', 'Class']) {
      assert.ok(known.has(name), name);
      assert.equal(findAttributeByName(name)?.type, known.get(name));
    }
    assert.equal(new Set(RADIUS_ATTRIBUTES.map((d) => d.type)).size, RADIUS_ATTRIBUTES.length);
  });

  it('finds names case-insensitively and types by number', () => {
    assert.equal(findAttributeByName('reply-message')?.name, 'Reply-Message');
    assert.equal(findAttributeByName(' Class ')?.type, 25);
    assert.equal(findAttributeByName('No-Such-Attribute'), undefined);
    assert.equal(findAttributeByType(80)?.name, 'Message-Authenticator');
    assert.equal(findAttributeByType(79)?.name, 'EAP-Message');
    assert.equal(findAttributeByType(26)?.valueType, 'octets');
    assert.equal(findAttributeByType(17), undefined);
  });

  it('reads typed values of the RFC 2865 §7.1 request', () => {
    const { attributes } = decodePacket(RFC_7_1.request);
    assert.equal(getAttribute(attributes, 'User-Name'), 'nemo');
    assert.equal(getAttribute(attributes, 'NAS-IP-Address'), '192.168.1.16');
    assert.equal(getAttribute(attributes, 'NAS-Port'), 3);
    assert.deepEqual(getAttribute(attributes, 'User-Password'), RFC_7_1.hiddenPassword);
    assert.equal(getAttribute(attributes, 'State'), undefined);
    assert.deepEqual(getAttributes(attributes, 'Reply-Message'), []);
  });

  it('creates attributes from typed values and reads them back', () => {
    const attributes = [
      createAttribute('Reply-Message', 'héllo'),
      createAttribute('Framed-IP-Address', '10.0.0.255'),
      createAttribute('Session-Timeout', 0xffffffff),
      createAttribute('Class', Buffer.from([0, 1, 2])),
      createAttribute('Reply-Message', ' world'),
    ];
    assert.deepEqual(attributes[1], { type: 8, value: hex('0a0000ff') });
    assert.deepEqual(getAttributes(attributes, 'Reply-Message'), ['héllo', ' world']);
    assert.equal(getAttribute(attributes, 'Framed-IP-Address'), '10.0.0.255');
    assert.equal(getAttribute(attributes, 'Session-Timeout'), 0xffffffff);
    assert.deepEqual(getAttribute(attributes, 'Class'), Buffer.from([0, 1, 2]));
  });

  it('sets an attribute in place of the first one and drops the others', () => {
    const before = [
      createAttribute('Reply-Message', 'a'),
      createAttribute('Class', Buffer.from('c')),
      createAttribute('Reply-Message', 'b'),
    ];
    const after = setAttribute(before, 'Reply-Message', 'z');
    assert.deepEqual(after, [
      createAttribute('Reply-Message', 'z'),
      createAttribute('Class', Buffer.from('c')),
    ]);
    assert.equal(before.length, 3, 'the input is not modified');
    assert.deepEqual(setAttribute([], 'State', Buffer.from('s')), [
      { type: 24, value: Buffer.from('s') },
    ]);
    assert.equal(attributeType('Proxy-State'), 33);
  });

  describe('rejects values that do not fit their type', () => {
    const ipaddr = findAttributeByName('NAS-IP-Address')!;
    const integer = findAttributeByName('NAS-Port')!;
    const text = findAttributeByName('User-Name')!;
    it('an ipaddr of 3 octets', () =>
      assertProtocolError(
        () => decodeAttributeValue(ipaddr, hex('0a0000')),
        'RADIUS_BAD_ATTRIBUTE_VALUE',
      ));
    it('an integer of 5 octets', () =>
      assertProtocolError(
        () => decodeAttributeValue(integer, hex('0000000001')),
        'RADIUS_BAD_ATTRIBUTE_VALUE',
      ));
    it('text that is not UTF-8 (no silent U+FFFD)', () =>
      assertProtocolError(
        () => decodeAttributeValue(text, hex('61ff62')),
        'RADIUS_BAD_ATTRIBUTE_VALUE',
      ));
    it('an IPv6 or malformed address to encode', () => {
      assertProtocolError(
        () => createAttribute('NAS-IP-Address', '::1'),
        'RADIUS_BAD_ATTRIBUTE_VALUE',
      );
      assertProtocolError(
        () => createAttribute('NAS-IP-Address', '1.2.3.256'),
        'RADIUS_BAD_ATTRIBUTE_VALUE',
      );
    });
    it('an integer out of range to encode', () => {
      assertProtocolError(() => createAttribute('NAS-Port', -1), 'RADIUS_BAD_ATTRIBUTE_VALUE');
      assertProtocolError(() => createAttribute('NAS-Port', 2 ** 32), 'RADIUS_BAD_ATTRIBUTE_VALUE');
      assertProtocolError(() => createAttribute('NAS-Port', 1.5), 'RADIUS_BAD_ATTRIBUTE_VALUE');
    });
    it('text over 253 octets to encode', () =>
      assertProtocolError(
        () => createAttribute('Reply-Message', 'é'.repeat(127)),
        'RADIUS_VALUE_TOO_LONG',
      ));
  });
});
