// One call per passcode login over HTTPS (`api_preauth_auth=true`): through radclient, the proxy
// sends /auth/v2/preauth_auth alone and its answers and auth events equal those of a proxy that
// sends preauth then /auth, for each kind of preauth answer and passcode.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Application } from '../../src/core/model.ts';
import { radclient } from './external-servers.ts';
import { RADIUS_SECRET, startTestProxy, type TestProxy } from './proxy-harness.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';

let service: Harness;
let app: Application;

before(async () => {
  service = await startService();
  app = await service.createApp({ newUserPolicy: 'deny' });
});
after(async () => {
  await service?.close();
});

const login = (proxy: TestProxy, username: string, password: string) =>
  radclient(
    proxy.port,
    RADIUS_SECRET,
    `User-Name = "${username}", User-Password = "${password}", Message-Authenticator = 0x00`,
  );

/** Auth API calls the proxy made, by endpoint (its latency histogram's counts). */
async function apiCalls(proxy: TestProxy): Promise<Record<string, number>> {
  const text = await proxy.proxy.metrics.getSingleMetricAsString(
    'airlock_proxy_api_latency_seconds',
  );
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/_count\{[^}]*endpoint="([a-z_]+)"[^}]*\} (\d+)/g)) {
    if (Number(m[2]) > 0) counts[m[1]!] = Number(m[2]);
  }
  return counts;
}

describe('one call per passcode login over HTTPS (api_preauth_auth)', () => {
  it('gives the answers and auth events of preauth then /auth, in one call each', async () => {
    const runs: {
      codes: string[];
      events: Record<string, unknown>[];
      calls: Record<string, number>;
    }[] = [];
    for (const way of ['two', 'one'] as const) {
      const right = await service.createUser(`${way}-right`, { totp: true });
      await service.createUser(`${way}-wrong`, { totp: true });
      await service.createUser(`${way}-off`, { totp: true, status: 'disabled' });
      await service.createUser(`${way}-bypass`, { status: 'bypass' });
      const proxy = await startTestProxy({
        ikey: app.ikey,
        skey: app.skey,
        apiPort: service.port,
        caPem: service.caPem,
        failmode: 'secure',
        extra: way === 'one' ? ['api_preauth_auth=true'] : [],
      });
      try {
        const codes: string[] = [];
        for (const [user, passcode] of [
          ['right', totpAt(right.totp!, service.clock)],
          ['wrong', '000000'],
          ['off', '000000'],
          ['bypass', '000000'],
          ['nobody', '000000'],
        ] as const) {
          const answer = await login(proxy, `${way}-${user}`, passcode);
          codes.push(`${user} ${answer.code}`);
        }
        const events = proxy.events().map((e) => {
          const kept: Record<string, unknown> = { ...e };
          delete kept.timestamp;
          delete kept.hostname;
          return { ...kept, username: String(e.username).replace(`${way}-`, '') };
        });
        runs.push({ codes, events, calls: await apiCalls(proxy) });
      } finally {
        await proxy.close();
      }
    }
    const [two, one] = runs as [(typeof runs)[0], (typeof runs)[0]];
    assert.deepEqual(two.codes, [
      'right Access-Accept',
      'wrong Access-Reject',
      'off Access-Reject',
      'bypass Access-Reject', // duo-only: an allow without primary authentication is refused
      'nobody Access-Reject',
    ]);
    assert.deepEqual(one.codes, two.codes);
    assert.equal(one.events.length, 5);
    assert.deepEqual(one.events, two.events);
    assert.deepEqual(two.calls, { preauth: 5, auth: 2 });
    assert.deepEqual(one.calls, { preauth_auth: 5 });
  });
});
