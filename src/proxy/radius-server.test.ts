// The RADIUS socket loop's retransmit handling: one login per request, however long it runs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { parseAuthProxyConfig } from '../config/authproxy-config.ts';
import { createAttribute } from '../protocol/radius/radius-attributes.ts';
import { encodeAccessRequest } from '../protocol/radius/radius-request.ts';
import { verifyResponse } from '../protocol/radius/radius-response.ts';
import { FixedClock } from '../runtime/clock.ts';
import type { LoginAnswer } from './login-flow.ts';
import type { ProxyLogs } from './proxy-logs.ts';
import { createProxyMetrics } from './proxy-metrics.ts';
import { startRadiusServer } from './radius-server.ts';

const SECRET = 'radius-server-test-secret';

const quietLogs: ProxyLogs = {
  request: () => {},
  line: () => {},
  event: () => {},
  systemEvent: () => {},
  close: async () => {},
};

function section(extra: string[] = []) {
  const parsed = parseAuthProxyConfig(
    [
      '[duo_only_client]',
      '',
      '[radius_server_auto]',
      'ikey=DIXXXXXXXXXXXXXXXXXX',
      'skey=XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
      'api_host=127.0.0.1',
      'client=duo_only_client',
      'interface=127.0.0.1',
      'port=0',
      'radius_ip_1=127.0.0.1',
      `radius_secret_1=${SECRET}`,
      ...extra,
      '',
    ].join('\n'),
    { configDir: '/nonexistent', readFile: () => '' },
  );
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  return parsed.config.servers[0]!;
}

describe('radius server: retransmits', () => {
  const sockets: dgram.Socket[] = [];
  after(() => sockets.forEach((s) => s.close()));

  it('never starts a second login for a retransmit while the first is still running, even after the 30 s answer cache', async () => {
    const clock = new FixedClock(1_700_000_000_000);
    let logins = 0;
    let finish: (a: LoginAnswer) => void = () => {};
    const server = await startRadiusServer({
      section: section(),
      logs: quietLogs,
      metrics: createProxyMetrics(new Registry()),
      clock,
      flow: () => {
        logins += 1;
        return new Promise<LoginAnswer>((resolve) => (finish = resolve));
      },
    });
    try {
      const nas = dgram.createSocket('udp4');
      sockets.push(nas);
      await new Promise<void>((resolve) => nas.bind(0, '127.0.0.1', resolve));
      const authenticator = Buffer.alloc(16, 7);
      const packet = encodeAccessRequest({
        identifier: 42,
        authenticator,
        secret: SECRET,
        password: 'push',
        attributes: [createAttribute('User-Name', 'alice')],
      });
      const replies: Buffer[] = [];
      nas.on('message', (m) => replies.push(m));
      const send = async () => {
        nas.send(packet, server.address.port, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 100));
      };

      await send();
      // On a loaded machine the first copy may take longer than 100 ms to reach the flow.
      for (let i = 0; i < 100 && logins === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(logins, 1);
      // A push the user answers after 45 s; the NAS resends every 5 s meanwhile.
      for (let s = 5; s <= 45; s += 5) {
        clock.advance(5_000);
        await send();
      }
      assert.equal(logins, 1, 'a retransmit after 30 s started a second login (a second push)');
      assert.equal(replies.length, 0);

      finish({ code: 'Access-Accept', replyMessage: 'Success', attributes: [] });
      for (let i = 0; i < 100 && replies.length === 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      await send(); // answered from the cache now
      for (let i = 0; i < 100 && replies.length < 2; i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.equal(logins, 1);
      assert.equal(replies.length, 2);
      for (const reply of replies) {
        const r = verifyResponse({
          request: { identifier: 42, authenticator },
          response: reply,
          secret: SECRET,
          requireMessageAuthenticator: true,
        });
        assert.equal(r.code, 'Access-Accept');
      }
    } finally {
      await server.close();
    }
  });
});

describe('radius server: bursts', () => {
  /**
   * Sends `count` datagrams from a child process while this process's event loop is blocked
   * (execFileSync), so that they queue in the kernel as a burst does; then lets the server
   * read them, and answers the drops the metrics report for its section.
   */
  async function burst(recvBufferBytes: number | undefined, count: number) {
    const registry = new Registry();
    const lines: string[] = [];
    const server = await startRadiusServer({
      section: section(
        recvBufferBytes === undefined ? [] : [`recv_buffer_bytes=${recvBufferBytes}`],
      ),
      logs: { ...quietLogs, line: (l: string) => lines.push(l) },
      metrics: createProxyMetrics(registry),
      clock: new FixedClock(1_700_000_000_000),
      flow: () =>
        Promise.resolve<LoginAnswer>({ code: 'Access-Reject', replyMessage: 'no', attributes: [] }),
    });
    try {
      const sender = [
        "const s=require('dgram').createSocket('udp4');",
        'const p=Buffer.alloc(120, 1); let n=0;',
        `for (let i=0;i<${count};i++) s.send(p, ${server.address.port}, '127.0.0.1', () => { if (++n===${count}) s.close(); });`,
      ].join('');
      execFileSync(process.execPath, ['-e', sender]);
      await new Promise((r) => setTimeout(r, 200));
      const metric = await registry.getSingleMetric('airlock_proxy_udp_receive_drops_total')!.get();
      const buffer = await registry
        .getSingleMetric('airlock_proxy_udp_receive_buffer_bytes')!
        .get();
      return {
        drops: metric.values.find((v) => v.labels.section === 'radius_server_auto')?.value,
        granted: buffer.values[0]?.value ?? 0,
        lines,
      };
    } finally {
      await server.close();
    }
  }

  it('reports the datagrams the kernel dropped when the receive buffer overflows', async () => {
    const small = await burst(4096, 2000);
    assert.ok(small.drops !== undefined && small.drops > 1000, `drops: ${small.drops}`);
    assert.ok(small.granted < 64 * 1024, `granted ${small.granted}`);
  });

  it('asks for a 4 MiB buffer by default and loses nothing of a burst that fits in it', async () => {
    // The kernel grants min(asked, net.core.rmem_max) and reports twice that (its bookkeeping).
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    const expected = 2 * Math.min(4 * 1024 * 1024, rmemMax);
    // About 1 KiB of buffer per queued datagram; 2 KiB leaves room (2,000 datagrams at 4 MiB).
    const fits = Math.min(2000, Math.floor(expected / 2 / 2048));
    const big = await burst(undefined, fits);
    assert.equal(big.granted, expected);
    assert.equal(big.drops, 0);
  });

  it('warns, naming the sysctl, when the kernel grants less than asked', async () => {
    // Beyond net.core.rmem_max (4 MiB on CI machines, 208 KiB on stock kernels).
    const huge = await burst(200 * 1024 * 1024, 1);
    assert.ok(
      huge.lines.some((l) =>
        /granted a \d+-byte receive buffer.*net\.core\.rmem_max=209715200/.test(l),
      ),
      huge.lines.join('\n'),
    );
  });
});

describe('radius server: a throw before the login starts', () => {
  const sockets: dgram.Socket[] = [];
  after(() => sockets.forEach((s) => s.close()));

  /** Sends `packet` `copies` times 100 ms apart from one NAS socket; answers the replies. */
  async function exchange(
    server: { address: { port: number } },
    packet: Buffer,
    copies: number,
  ): Promise<Buffer[]> {
    const nas = dgram.createSocket('udp4');
    sockets.push(nas);
    await new Promise<void>((resolve) => nas.bind(0, '127.0.0.1', resolve));
    const replies: Buffer[] = [];
    nas.on('message', (m) => replies.push(m));
    for (let i = 0; i < copies; i++) {
      nas.send(packet, server.address.port, '127.0.0.1');
      for (let w = 0; w < 40 && replies.length <= i; w++)
        await new Promise((r) => setTimeout(r, 50));
    }
    return replies;
  }

  const codeOf = (reply: Buffer, authenticator: Buffer) =>
    verifyResponse({
      request: { identifier: 7, authenticator },
      response: reply,
      secret: SECRET,
      requireMessageAuthenticator: true,
    }).code;

  it('answers a reject to the first copy and its retransmit when building the login input throws', async () => {
    const registry = new Registry();
    const lines: string[] = [];
    const started = section();
    // A bug in reading the section while building the login's input (not a ProtocolError).
    const broken = Object.defineProperty({ ...started }, 'clientIpAttr', {
      get: () => {
        throw new Error('bug while reading client_ip_attr');
      },
    });
    let logins = 0;
    const flow = () => {
      logins += 1;
      return Promise.resolve<LoginAnswer>({
        code: 'Access-Accept',
        replyMessage: 'Success',
        attributes: [],
      });
    };
    const server = await startRadiusServer({
      section: started,
      current: () => ({ section: broken, flow }),
      flow,
      logs: { ...quietLogs, request: (_ref, l: string) => lines.push(l) },
      metrics: createProxyMetrics(registry),
      clock: new FixedClock(1_700_000_000_000),
    });
    try {
      const authenticator = Buffer.alloc(16, 3);
      const packet = encodeAccessRequest({
        identifier: 7,
        authenticator,
        secret: SECRET,
        password: 'push',
        attributes: [createAttribute('User-Name', 'alice')],
      });
      const replies = await exchange(server, packet, 2);
      assert.equal(logins, 0);
      assert.equal(replies.length, 2, 'the login never answered (its retransmit was swallowed)');
      for (const reply of replies) assert.equal(codeOf(reply, authenticator), 'Access-Reject');
      assert.ok(
        lines.some((l) => l.includes('Internal error: bug while reading client_ip_attr')),
        lines.join('\n'),
      );
    } finally {
      await server.close();
    }
  });

  it('runs the login of a request whose Calling-Station-Id is not UTF-8, without a client IP', async () => {
    const inputs: unknown[] = [];
    const server = await startRadiusServer({
      section: section(),
      flow: (input) => {
        inputs.push(input.clientIp);
        return Promise.resolve<LoginAnswer>({
          code: 'Access-Accept',
          replyMessage: 'Success',
          attributes: [],
        });
      },
      logs: quietLogs,
      metrics: createProxyMetrics(new Registry()),
      clock: new FixedClock(1_700_000_000_000),
    });
    try {
      const authenticator = Buffer.alloc(16, 4);
      const packet = encodeAccessRequest({
        identifier: 7,
        authenticator,
        secret: SECRET,
        password: 'push',
        attributes: [
          createAttribute('User-Name', 'alice'),
          { type: 31, value: Buffer.from([0xff, 0xfe, 0x31]) },
        ],
      });
      const replies = await exchange(server, packet, 2);
      assert.deepEqual(inputs, [undefined]);
      assert.equal(replies.length, 2, 'the login never answered (its retransmit was swallowed)');
      for (const reply of replies) assert.equal(codeOf(reply, authenticator), 'Access-Accept');
    } finally {
      await server.close();
    }
  });
});
