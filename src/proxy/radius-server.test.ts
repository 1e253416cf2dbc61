// The RADIUS socket loop's retransmit handling: one login per request, however long it runs.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
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

function section() {
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
      assert.equal(logins, 1);
      // A push the user answers after 45 s; the NAS resends every 5 s meanwhile.
      for (let s = 5; s <= 45; s += 5) {
        clock.advance(5_000);
        await send();
      }
      assert.equal(logins, 1, 'a retransmit after 30 s started a second login (a second push)');
      assert.equal(replies.length, 0);

      finish({ code: 'Access-Accept', replyMessage: 'Success', attributes: [] });
      await new Promise((r) => setTimeout(r, 100));
      await send(); // answered from the cache now
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
