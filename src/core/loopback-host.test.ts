// isLoopbackHost over every spelling the service, the proxy, and both config loaders meet.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackHost } from './loopback-host.ts';

describe('isLoopbackHost', () => {
  for (const host of [
    'localhost',
    'LOCALHOST',
    '127.0.0.1',
    '127.1.2.3',
    '127.255.255.255',
    '::1',
    '0:0:0:0:0:0:0:1',
    '[::1]',
    '::ffff:127.0.0.1',
    '::FFFF:127.0.0.2',
    '[::ffff:7f00:1]',
    '::1%lo0',
  ]) {
    it(`accepts ${host}`, () => assert.equal(isLoopbackHost(host), true));
  }

  for (const host of [
    '',
    '0.0.0.0',
    '::',
    '128.0.0.1',
    '126.255.255.255',
    '10.0.0.1',
    '::2',
    '::ffff:10.0.0.1',
    '127.0.0.256',
    '127.0.0.1.example.com',
    'localhost.example.com',
    'example.com',
    '[127.0.0.1]',
    '127.0.0.1:8443',
  ]) {
    it(`rejects ${JSON.stringify(host)}`, () => assert.equal(isLoopbackHost(host), false));
  }
});
