import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowedHostName, hostWithoutPort, isAllowedHost } from './request-host.ts';

describe('hostWithoutPort', () => {
  const cases: [string, string][] = [
    ['api.example.com', 'api.example.com'],
    ['API.Example.COM:8443', 'api.example.com'],
    [' api.example.com:443 ', 'api.example.com'],
    ['127.0.0.1:8443', '127.0.0.1'],
    ['[::1]:8443', '[::1]'],
    ['[::1]', '[::1]'],
    ['api.example.com:', 'api.example.com:'],
    ['a:b:c', 'a:b:c'],
    ['', ''],
  ];
  for (const [input, expected] of cases) {
    it(`reads ${JSON.stringify(input)} as ${JSON.stringify(expected)}`, () => {
      assert.equal(hostWithoutPort(input), expected);
    });
  }
});

describe('allowedHostName', () => {
  it('drops the port and lower-cases', () => {
    assert.equal(allowedHostName('Airlock.Example:8443'), 'airlock.example');
  });
  it('brackets a bare IPv6 literal as a Host header carries it', () => {
    assert.equal(allowedHostName('2001:DB8::1'), '[2001:db8::1]');
    assert.equal(allowedHostName('[2001:db8::1]:8443'), '[2001:db8::1]');
  });
});

describe('isAllowedHost', () => {
  const allowed = ['airlock.example:8443', 'localhost', '::1'];
  const table: [string, boolean][] = [
    ['airlock.example', true],
    ['AIRLOCK.example:443', true],
    ['airlock.example:8443', true],
    ['localhost:1', true],
    ['[::1]:8443', true],
    ['[::1]', true],
    ['other.example', false],
    ['other.example:8443', false],
    ['airlock.example.other.example', false],
    ['xairlock.example', false],
    ['airlock.example.', false],
    ['airlock.example:', false],
    ['', false],
    ['::1', false],
  ];
  for (const [host, expected] of table) {
    it(`${expected ? 'accepts' : 'refuses'} Host ${JSON.stringify(host)}`, () => {
      assert.equal(isAllowedHost(host, allowed), expected);
    });
  }
  it('refuses every Host when nothing is allowed', () => {
    assert.equal(isAllowedHost('localhost', []), false);
  });
});
