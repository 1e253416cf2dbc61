// Listen addresses as `--listen` and `admin_listen` take them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseListen } from './airlock-env.ts';
import { parseListenAddress } from './listen-address.ts';

describe('parseListenAddress', () => {
  it('splits host and port, IPv6 in brackets, port 0 included', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:8443'), { host: '127.0.0.1', port: 8443 });
    assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseListenAddress('localhost:65535'), { host: 'localhost', port: 65_535 });
  });

  it('refuses a missing or out-of-range port and a bare IPv6 address', () => {
    for (const text of [
      '127.0.0.1',
      '127.0.0.1:',
      ':8443',
      '127.0.0.1:65536',
      '::1:8443',
      'a:b:1',
    ]) {
      assert.equal(parseListenAddress(text), undefined, text);
    }
  });

  it('backs --listen, which trims and names the flag in its error', () => {
    assert.deepEqual(parseListen(' 0.0.0.0:443 '), { host: '0.0.0.0', port: 443 });
    assert.throws(() => parseListen('nowhere'), /--listen must be HOST:PORT/);
  });
});
