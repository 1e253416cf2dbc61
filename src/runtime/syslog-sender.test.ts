// The SIEM sender against a local collector over UDP, TCP (octet counting) and TLS, parsed as RFC 5424.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { testTlsMaterial } from '../../test/integration/fault-servers.ts';
import { startSyslogListener, type SyslogListener } from '../../test/support/syslog-listener.ts';
import { FixedClock } from './clock.ts';
import {
  createSyslogSender,
  parseSyslogTarget,
  SYSLOG_TRANSPORTS,
  type SyslogSender,
} from './syslog-sender.ts';

const AT = Date.UTC(2026, 11, 6, 9, 0, 0, 0);

describe('syslog targets', () => {
  it('parses udp, tcp and tls URLs with default ports and IPv6 literals', () => {
    assert.deepEqual(parseSyslogTarget('udp://siem.example.org'), {
      transport: 'udp',
      host: 'siem.example.org',
      port: 514,
    });
    assert.deepEqual(parseSyslogTarget('tcp://10.0.0.5:1601'), {
      transport: 'tcp',
      host: '10.0.0.5',
      port: 1601,
    });
    assert.deepEqual(parseSyslogTarget('tls://[::1]'), {
      transport: 'tls',
      host: '::1',
      port: 6514,
    });
  });

  for (const bad of [
    'siem:514',
    'http://siem',
    'tcp://',
    'udp://h:0',
    'udp://h:70000',
    'tls://a b',
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      assert.equal(typeof parseSyslogTarget(bad), 'string');
    });
  }
});

describe('syslog sender', () => {
  const open: { listener: SyslogListener; sender: SyslogSender }[] = [];
  after(async () => {
    for (const o of open) {
      await o.sender.close();
      await o.listener.close();
    }
  });

  for (const transport of SYSLOG_TRANSPORTS) {
    it(`delivers RFC 5424 records over ${transport}, a failmode event among them`, async () => {
      const tls = await testTlsMaterial();
      const listener = await startSyslogListener(transport, tls);
      const sender = createSyslogSender({
        target: {
          transport,
          host: transport === 'tls' ? 'localhost' : '127.0.0.1',
          port: listener.port,
        },
        facility: 'local3',
        appName: 'airlock-proxy',
        hostname: 'proxy1',
        clock: new FixedClock(AT),
        caPem: tls.caPem,
      });
      open.push({ listener, sender });
      sender.send({
        severity: 'info',
        msgId: 'authevent',
        params: { status: 'Allow', server_section: 'radius_server_auto' },
        json: { username: 'alice', status: 'Allow' },
      });
      sender.send({
        severity: 'warning',
        msgId: 'failmode',
        params: { status: 'Reject', failmode: 'secure', failmode_invoked: 'true' },
        json: {
          msg: 'Failmode Secure - Denied Duo login on preauth failure',
          username: 'bob',
          status: 'Reject',
        },
      });
      await sender.flush();
      const failmode = await listener.waitFor((m) => m.msgId === 'failmode');
      await listener.waitFor((m) => m.msgId === 'authevent');
      assert.equal(failmode.facility, 'local3');
      assert.equal(failmode.severity, 'warning');
      assert.equal(failmode.appName, 'airlock-proxy');
      assert.equal(failmode.hostname, 'proxy1');
      assert.equal(failmode.timestampMs, AT);
      assert.deepEqual(failmode.structuredData['airlock@32473'], {
        status: 'Reject',
        failmode: 'secure',
        failmode_invoked: 'true',
      });
      assert.deepEqual(JSON.parse(failmode.message), {
        msg: 'Failmode Secure - Denied Duo login on preauth failure',
        username: 'bob',
        status: 'Reject',
      });
      assert.deepEqual(sender.stats(), { sent: 2, dropped: 0 });
    });
  }

  it('refuses a TLS collector whose certificate is not from the trusted CA', async () => {
    const tls = await testTlsMaterial();
    const listener = await startSyslogListener('tls', tls);
    const problems: string[] = [];
    const sender = createSyslogSender({
      target: { transport: 'tls', host: 'localhost', port: listener.port },
      facility: 'auth',
      appName: 'airlock',
      hostname: 'h',
      clock: new FixedClock(AT),
      caPem: tls.otherCaPem,
      onProblem: (m) => problems.push(m),
    });
    open.push({ listener, sender });
    sender.send({ severity: 'info', msgId: 'x', params: {}, json: { secret: 'no' } });
    await assert.rejects(sender.flush(1_000), /not flushed/);
    assert.equal(listener.messages.length, 0);
    assert.match(problems.join('\n'), /syslog tls:\/\/localhost:\d+: .*certificate/i);
  });

  it('queues while the TCP collector is down and delivers once it is up', async () => {
    const probe = await startSyslogListener('tcp');
    const port = probe.port;
    await probe.close();
    const problems: string[] = [];
    const sender = createSyslogSender({
      target: { transport: 'tcp', host: '127.0.0.1', port },
      facility: 'auth',
      appName: 'airlock',
      hostname: 'h',
      clock: new FixedClock(AT),
      onProblem: (m) => problems.push(m),
    });
    sender.send({ severity: 'notice', msgId: 'queued', params: {}, json: { n: 1 } });
    assert.equal(sender.stats().sent, 0);
    // The same port again: the sender reconnects to it with backoff.
    const { createServer } = await import('node:net');
    const { splitOctetCounted, parseSyslogMessage } = await import('../protocol/syslog-message.ts');
    let receive: (messages: string[]) => void = () => undefined;
    const received = new Promise<string[]>((resolve) => (receive = resolve));
    const server = createServer((c) =>
      c.on('data', (d: Buffer) => receive(splitOctetCounted(d).messages)),
    );
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      await sender.flush(10_000);
      assert.equal(parseSyslogMessage((await received)[0] ?? '').msgId, 'queued');
      assert.match(problems[0] ?? '', /ECONNREFUSED/);
    } finally {
      await sender.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
