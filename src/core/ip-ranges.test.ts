// radius_ip_N forms: single address, CIDR, netmask, range; IPv4, IPv6 and IPv4-mapped addresses.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isIpAddress, matchesIp, parseIpRange, type IpMatcher } from './ip-ranges.ts';

function matcher(text: string): IpMatcher {
  const r = parseIpRange(text);
  if (!r.ok) assert.fail(`${text}: ${r.error}`);
  return r.matcher;
}

describe('parseIpRange and matchesIp', () => {
  const cases: Array<[range: string, inside: string[], outside: string[]]> = [
    ['10.0.0.1', ['10.0.0.1', '::ffff:10.0.0.1'], ['10.0.0.2', '10.0.0.0', '::1']],
    [
      '10.0.0.0/8',
      ['10.0.0.0', '10.255.255.255', '::ffff:10.1.2.3'],
      ['11.0.0.0', '9.255.255.255'],
    ],
    ['10.0.0.1/8', ['10.0.0.0', '10.200.0.1'], ['11.0.0.1']],
    ['10.0.0.0/255.0.0.0', ['10.9.9.9'], ['11.0.0.0']],
    ['192.168.1.0/255.255.255.128', ['192.168.1.127'], ['192.168.1.128']],
    ['10.0.0.1-10.0.0.9', ['10.0.0.1', '10.0.0.5', '10.0.0.9'], ['10.0.0.0', '10.0.0.10']],
    ['10.0.0.1 - 10.0.0.9', ['10.0.0.9'], ['10.0.0.10']],
    ['0.0.0.0/0', ['1.2.3.4', '255.255.255.255', '::ffff:1.2.3.4'], ['::1', '2001:db8::1']],
    ['127.0.0.1/32', ['127.0.0.1'], ['127.0.0.2']],
    ['::1', ['::1', '0:0:0:0:0:0:0:1'], ['::2', '127.0.0.1']],
    ['2001:db8::/32', ['2001:db8::1', '2001:db8:ffff:ffff::1'], ['2001:db9::1', '10.0.0.1']],
    ['2001:db8::1-2001:db8::ff', ['2001:db8::80', '2001:DB8::FF'], ['2001:db8::100']],
    ['fe80::/10', ['fe80::1%eth0', 'febf::1'], ['fec0::1']],
    ['::ffff:10.0.0.0/104', ['10.1.2.3', '::ffff:10.1.2.3'], ['11.0.0.0']],
    ['::ffff:192.0.2.1', ['192.0.2.1'], ['192.0.2.2']],
  ];
  for (const [range, inside, outside] of cases) {
    it(`${range} matches ${inside.join(', ')} and not ${outside.join(', ')}`, () => {
      const m = matcher(range);
      for (const ip of inside) assert.equal(matchesIp(m, ip), true, `${ip} should match`);
      for (const ip of outside) assert.equal(matchesIp(m, ip), false, `${ip} should not match`);
    });
  }

  it('keeps the original text and is frozen', () => {
    const m = matcher(' 10.0.0.0/8 ');
    assert.equal(m.text, '10.0.0.0/8');
    assert.equal(Object.isFrozen(m), true);
  });

  it('matches nothing for an address that does not parse', () => {
    assert.equal(matchesIp(matcher('0.0.0.0/0'), 'not-an-ip'), false);
    assert.equal(matchesIp(matcher('0.0.0.0/0'), ''), false);
  });

  const invalid: Array<[text: string, error: RegExp]> = [
    ['', /empty/],
    ['10.0.0', /not an IP address/],
    ['10.0.0.256', /not an IP address/],
    ['host.example.org', /not an IP address/],
    ['10.0.0.0/33', /prefix length must be 0-32/],
    ['2001:db8::/129', /prefix length must be 0-128/],
    ['10.0.0.0/255.0.255.0', /not contiguous/],
    ['10.0.0.0/abc', /prefix length or/],
    ['2001:db8::/ffff::', /prefix length or/],
    ['10.0.0.9-10.0.0.1', /starts after it ends/],
    ['10.0.0.1-::1', /mixes IPv4 and IPv6/],
    ['10.0.0.1-', /range of two IP addresses/],
    ['10.0.0.1, 10.0.0.2', /one address, CIDR, netmask or range per key/],
    ['fe80::1%eth0', /not an IP address/],
  ];
  for (const [text, error] of invalid) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      const r = parseIpRange(text);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, error);
    });
  }
});

describe('isIpAddress', () => {
  it('accepts single IPv4 and IPv6 addresses only', () => {
    assert.deepEqual(
      ['127.0.0.1', '::', '2001:db8::1', '10.0.0.0/8', 'localhost', '::1%lo'].map(isIpAddress),
      [true, true, true, false, false, false],
    );
  });
});
