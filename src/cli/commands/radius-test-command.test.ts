// `airlock radius-test --server`: every accepted and refused form (the command itself runs in
// test/integration/first-run.test.ts against the real proxy).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAirlockError } from '../../core/error-registry.ts';
import { parseServer } from './radius-test-command.ts';

describe('radius-test --server', () => {
  const accepted: [string, { host: string; port: number }][] = [
    ['127.0.0.1:18120', { host: '127.0.0.1', port: 18120 }],
    ['radius.example.org:1812', { host: 'radius.example.org', port: 1812 }],
    ['10.0.0.5', { host: '10.0.0.5', port: 1812 }],
    ['[::1]:18120', { host: '::1', port: 18120 }],
    ['[2001:db8::5]', { host: '2001:db8::5', port: 1812 }],
    ['2001:db8::5', { host: '2001:db8::5', port: 1812 }],
  ];
  for (const [text, expected] of accepted) {
    it(`takes ${text}`, () => assert.deepEqual(parseServer(text), expected));
  }
  for (const text of ['', ':1812', 'host:', 'host:0', 'host:65536', 'host:12x', 'a:b:c', '[::1']) {
    it(`refuses "${text}" as a usage error`, () =>
      assert.throws(
        () => parseServer(text),
        (e) => isAirlockError(e) && e.code === 'CLI_USAGE',
      ));
  }
});
