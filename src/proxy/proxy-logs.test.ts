// The proxy's logs: lines written in one event-loop task reach the file together, in order, after
// the task's own process.nextTick callbacks (the RADIUS answer's send).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { batchedWriter, openProxyLogs } from './proxy-logs.ts';

const ref = {
  section: 'radius_server_auto',
  ip: '192.0.2.1',
  port: 4000,
  username: 'alice',
  identifier: 7,
};

void describe('proxy logs', () => {
  void it('writes every line, in order, whether written in one task or across several', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-proxy-logs-'));
    try {
      const logs = openProxyLogs({
        logDir: dir,
        maxSizeBytes: 10 * 1024 * 1024,
        maxFiles: 2,
        authEvents: true,
        stdout: false,
        nowIso: () => '2026-12-06T12:00:00.000Z',
        hostname: 'test-host',
      });
      logs.request(ref, 'Primary authentication succeeded');
      logs.line('one');
      logs.event({
        msg: 'ok',
        username: 'alice',
        auth_stage: 'Secondary authentication',
        status: 'Allow',
        client_ip: null,
        server_section: 'radius_server_auto',
        server_section_ikey: 'DIXXXXXXXXXXXXXXXXXX',
        factor: 'push',
        failmode: 'safe',
        second_factor_checked: true,
      });
      await Promise.resolve();
      logs.line('two');
      await new Promise((r) => setImmediate(r));
      logs.line('three');
      await logs.close();
      assert.deepEqual(readFileSync(join(dir, 'authproxy.log'), 'utf8').split('\n'), [
        "2026-12-06T12:00:00.000Z [radius_server_auto] (('192.0.2.1', 4000), alice, 7): Primary authentication succeeded",
        '2026-12-06T12:00:00.000Z one',
        '2026-12-06T12:00:00.000Z two',
        '2026-12-06T12:00:00.000Z three',
        '',
      ]);
      const events = readFileSync(join(dir, 'authevents.log'), 'utf8').trim().split('\n');
      assert.equal(events.length, 1);
      assert.equal((JSON.parse(events[0]!) as { msg: string }).msg, 'ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it("hands a task's lines over after its process.nextTick callbacks: the answer goes out first", async () => {
    const order: string[] = [];
    const writer = batchedWriter({
      write(chunk, written) {
        order.push(`write ${chunk}`);
        setImmediate(written);
      },
    });
    writer.write('a|');
    // dgram sends a datagram to an IP address on a tick: the RADIUS answer of the login.
    process.nextTick(() => order.push('answer sent'));
    writer.write('b|');
    await new Promise((r) => setImmediate(r));
    writer.write('c|'); // while the first chunk is in flight: waits, then goes as the next chunk
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['answer sent', 'write a|b|', 'write c|']);
  });
});
