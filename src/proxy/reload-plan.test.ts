// What a reload may apply and what needs a restart: the whole table of restartOnlyChanges.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOk, server } from '../config/test-support/authproxy-fixtures.ts';
import { restartOnlyChanges } from './reload-plan.ts';

const config = (main = '', extra = '', more = '') =>
  parseOk(`[main]\n${main}\n[duo_only_client]\n${server(`port=1812\n${extra}`)}${more}`);

describe('restartOnlyChanges', () => {
  it('lets a reload change secrets, hosts, failmode, clients and exempt users', () => {
    const before = config();
    const after = parseOk(
      `[main]\n[duo_only_client]\n` +
        `[radius_server_auto]\nikey=DIZZZZZZZZZZZZZZZZZZ\nskey=${'n'.repeat(40)}\n` +
        'api_host=other.example.org\nclient=duo_only_client\nfailmode=safe\nport=1812\n' +
        'radius_ip_1=192.168.0.0/16\nradius_secret_1=another-secret-long-enough\nexempt_username_1=carol\n',
    );
    assert.deepEqual(restartOnlyChanges(before, after), []);
  });

  it('refuses a changed port or interface, naming the section and both values', () => {
    assert.deepEqual(restartOnlyChanges(config(), config()), []);
    const moved = parseOk(`[main]\n[duo_only_client]\n${server('port=1813\ninterface=127.0.0.1')}`);
    assert.deepEqual(restartOnlyChanges(config(), moved), [
      '[radius_server_auto] port: 1812 -> 1813 needs a restart',
      `[radius_server_auto] interface: ${config().servers[0]!.bindAddress} -> 127.0.0.1 needs a restart`,
    ]);
  });

  it('refuses a changed receive buffer: it is set when the socket is bound', () => {
    assert.deepEqual(restartOnlyChanges(config(), config('', 'recv_buffer_bytes=1048576')), [
      `[radius_server_auto] recv_buffer_bytes: ${config().servers[0]!.recvBufferBytes} -> 1048576 needs a restart (the socket's buffer is set when it is bound)`,
    ]);
  });

  it('refuses a section added or removed', () => {
    const two = config('', '', server('port=1645', 'radius_server_auto2'));
    assert.deepEqual(restartOnlyChanges(config(), two), [
      '[radius_server_auto2] is new: a new listener needs a restart',
    ]);
    assert.deepEqual(restartOnlyChanges(two, config()), [
      '[radius_server_auto2] was removed: stopping a listener needs a restart',
    ]);
  });

  it('refuses any [main] change, by its key in authproxy.cfg', () => {
    assert.deepEqual(restartOnlyChanges(config(), config('admin_listen=127.0.0.1:9555')), [
      '[main] admin_listen changed: [main] settings need a restart',
    ]);
    assert.deepEqual(restartOnlyChanges(config(), config('log_dir=/var/log/other')), [
      '[main] log_dir changed: [main] settings need a restart',
    ]);
  });
});
