// SIEM output end to end: the proxy's auth events (a failmode decision among them) and the
// service's audit events reach a local collector as RFC 5424 syslog over UDP, TCP and TLS.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FixedClock } from '../../src/runtime/clock.ts';
import { createSyslogSender, SYSLOG_TRANSPORTS } from '../../src/runtime/syslog-sender.ts';
import { startSyslogListener } from '../support/syslog-listener.ts';
import { radclient, waitForFileText } from './external-servers.ts';
import { closedPort, testTlsMaterial } from './fault-servers.ts';
import { RADIUS_SECRET, startTestProxy } from './proxy-harness.ts';
import { startService } from './service-harness.ts';

describe('proxy SIEM output', () => {
  for (const transport of SYSLOG_TRANSPORTS) {
    it(`sends a failmode decision as RFC 5424 syslog over ${transport}`, async () => {
      const tls = await testTlsMaterial();
      const listener = await startSyslogListener(transport, tls);
      const host = transport === 'tls' ? 'localhost' : '127.0.0.1';
      const proxy = await startTestProxy({
        ikey: 'DIXXXXXXXXXXXXXXXXXX',
        skey: 'x'.repeat(40),
        apiPort: await closedPort(),
        caPem: tls.caPem,
        failmode: 'secure',
        clientSection: '[duo_only_client]',
        mainExtra: [
          `syslog_target=${transport}://${host}:${listener.port}`,
          'syslog_facility=local5',
          'syslog_app_name=vpn-proxy',
          ...(transport === 'tls' ? ['syslog_ca_file=syslog-ca.pem'] : []),
        ],
        beforeStart: (dir) => writeFileSync(join(dir, 'syslog-ca.pem'), tls.caPem),
      });
      try {
        const answer = await radclient(
          proxy.port,
          RADIUS_SECRET,
          'User-Name = "carol", User-Password = "pw", Calling-Station-Id = "192.0.2.10", Message-Authenticator = 0x00',
        );
        assert.equal(answer.code, 'Access-Reject');
        const m = await listener.waitFor((x) => x.msgId === 'failmode');
        assert.equal(m.facility, 'local5');
        assert.equal(m.severity, 'warning');
        assert.equal(m.appName, 'vpn-proxy');
        assert.deepEqual(
          {
            status: m.structuredData['airlock@32473']?.status,
            failmode: m.structuredData['airlock@32473']?.failmode,
            invoked: m.structuredData['airlock@32473']?.failmode_invoked,
            username: m.structuredData['airlock@32473']?.username,
          },
          { status: 'Reject', failmode: 'secure', invoked: 'true', username: 'carol' },
        );
        const record = JSON.parse(m.message) as Record<string, unknown>;
        assert.equal(record.msg, 'Failmode Secure - Denied Duo login on preauth failure');
        assert.equal(record.server_section, 'radius_server_auto');
        // The same record as authevents.log (written to the file asynchronously).
        await waitForFileText(proxy.authEventsLog, 'Failmode Secure');
        const fileRecord = proxy.events().find((e) => e.failmode_invoked === true);
        // The same fields; each writer stamps its own time, so the milliseconds may differ.
        assert.deepEqual({ ...record, timestamp: 0 }, { ...fileRecord, timestamp: 0 });
      } finally {
        await proxy.close();
        await listener.close();
      }
    });
  }
});

describe('service SIEM output', () => {
  it('sends each committed audit event (a bypass emergency control, the login it allows) as RFC 5424 over TCP', async () => {
    const listener = await startSyslogListener('tcp');
    const clock = new FixedClock(Date.now());
    const sender = createSyslogSender({
      target: { transport: 'tcp', host: '127.0.0.1', port: listener.port },
      facility: 'auth',
      appName: 'airlock',
      hostname: 'service1',
      clock,
    });
    const h = await startService({ siem: sender });
    try {
      const app = await h.createApp();
      await h.createUser('erin', { totp: true });
      const bypass = await h.createGroup('outage-bypass', 'bypass');
      const erin = (await h.store.findUser('erin'))!;
      const { control } = await h.service.emergencies.start({
        scope: { kind: 'users-to-bypass-group', groupId: bypass, userIds: [erin.id] },
        reason: 'INC-42',
        actor: 'cli:oncall',
        durationMs: 60_000,
      });
      // In the bypass group now: the preauth allows without a second factor, and is audited.
      const pre = await h.duo(app)('POST', '/auth/v2/preauth', { username: 'erin' });
      assert.equal((pre.response as { result: string }).result, 'allow');
      const preauth = await listener.waitFor((m) => m.msgId === 'auth.preauth');
      assert.equal(preauth.facility, 'auth');
      assert.equal(preauth.appName, 'airlock');
      assert.equal(preauth.structuredData['airlock@32473']?.username, 'erin');
      assert.equal(preauth.structuredData['airlock@32473']?.result, 'allow');
      assert.equal((JSON.parse(preauth.message) as { action: string }).action, 'auth.preauth');
      const start = await listener.waitFor((m) => m.msgId === 'emergency.start');
      assert.equal(start.severity, 'warning');
      assert.equal(start.structuredData['airlock@32473']?.actor, 'cli:oncall');
      assert.equal((JSON.parse(start.message) as { targetId: string }).targetId, control.id);
      // Each event once, in the audit log's order.
      const ids = listener.messages.map((m) => (JSON.parse(m.message) as { id: number }).id);
      assert.deepEqual(
        ids,
        [...new Set(ids)].sort((a, b) => a - b),
      );
    } finally {
      await h.close();
      await listener.close();
    }
  });
});
