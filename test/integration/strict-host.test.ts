// Strict host mode (`serve --strict-host`): a request signed for another host name is refused, by
// the Auth API (Duo's own Node client) and the Admin API; without it, any host is accepted.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signedCall, type KeyCredentials } from './admin-client.ts';
import { airlockJson, startServe, stopServe, type RunningService } from './airlock-process.ts';
import { duoClient, routeDuoClients } from './duo-client.ts';
import { API_HOST, IT_BACKEND, startService, type Harness } from './service-harness.ts';

const OTHER_HOST = 'other.example';
const ADMIN_KEY: KeyCredentials = {
  ikey: 'DAHOSTKEY00000000001',
  skey: 'admin-host-secret-key-'.padEnd(40, 'x'),
};

async function wrongHostRejections(h: Harness): Promise<number> {
  const text = await h.service.metrics.getSingleMetricAsString('airlock_authapi_rejections_total');
  const m = /reason="AUTH_WRONG_HOST"\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

describe(`without strict host mode (the default), on ${IT_BACKEND}`, () => {
  let h: Harness;
  before(async () => {
    h = await startService();
    await h.store.createAdminApiKey({ ...ADMIN_KEY, name: 'tests' });
  });
  after(async () => {
    await h?.close();
  });

  for (const sig of [2, 5] as const) {
    it(`accepts a request Duo's client (v${sig}) signed for another host name`, async () => {
      const app = await h.createApp();
      const res = await h.duo(app, sig, OTHER_HOST)('GET', '/auth/v2/check');
      assert.equal(res.stat, 'OK', JSON.stringify(res));
    });
  }

  it('accepts an Admin API request signed for another host name', async () => {
    const res = await signedCall(
      h.service,
      h.clock,
      ADMIN_KEY,
      'GET',
      '/admin/v1/users',
      {},
      {
        host: OTHER_HOST,
      },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });
});

describe(`strict host mode, on ${IT_BACKEND}`, () => {
  let h: Harness;
  before(async () => {
    h = await startService({ allowedHosts: [API_HOST, 'AIRLOCK-2.example:8443'] });
    await h.store.createAdminApiKey({ ...ADMIN_KEY, name: 'tests' });
  });
  after(async () => {
    await h?.close();
  });

  for (const sig of [2, 5] as const) {
    describe(`Duo's Node client, signature v${sig}`, () => {
      it('refuses a request signed for another host name with 401 40103, counted', async () => {
        const app = await h.createApp();
        const before = await wrongHostRejections(h);
        for (const path of ['/auth/v2/check', '/auth/v2/preauth']) {
          const method = path === '/auth/v2/check' ? 'GET' : 'POST';
          const res = await h.duo(app, sig, OTHER_HOST)(method, path, { username: 'alice' });
          assert.equal(res.stat, 'FAIL', JSON.stringify(res));
          assert.equal(res.code, 40103);
          assert.equal(res.message, 'Invalid signature in request credentials');
          assert.equal(res.message_detail, 'host');
        }
        assert.equal(await wrongHostRejections(h), before + 2);
      });

      it('refuses another host name with the port of an allowed one', async () => {
        const app = await h.createApp();
        const res = await h.duo(app, sig, `${OTHER_HOST}:${h.port}`)('GET', '/auth/v2/check');
        assert.equal(res.code, 40103);
      });

      it('refuses a host name that only starts or ends like an allowed one', async () => {
        const app = await h.createApp();
        for (const host of [`${API_HOST}.${OTHER_HOST}`, `x${API_HOST}`, `${API_HOST}.`]) {
          const res = await h.duo(app, sig, host)('GET', '/auth/v2/check');
          assert.equal(res.code, 40103, host);
        }
      });

      it('accepts the API host, without and with a port, in any case', async () => {
        const app = await h.createApp();
        for (const host of [API_HOST, `${API_HOST}:${h.port}`, `${API_HOST}:443`, 'LocalHost']) {
          const res = await h.duo(app, sig, host)('GET', '/auth/v2/check');
          assert.equal(res.stat, 'OK', `${host}: ${JSON.stringify(res)}`);
        }
      });

      it('accepts a further allowed host name, whatever its port', async () => {
        const app = await h.createApp();
        for (const host of ['airlock-2.example', 'airlock-2.example:8443', 'airlock-2.EXAMPLE:1']) {
          const res = await h.duo(app, sig, host)('GET', '/auth/v2/check');
          assert.equal(res.stat, 'OK', `${host}: ${JSON.stringify(res)}`);
        }
      });
    });
  }

  it('still answers a wrong signature with 40103 AUTH_BAD_SIGNATURE, not as a wrong host', async () => {
    const app = await h.createApp();
    const before = await wrongHostRejections(h);
    const res = await h.duo(
      { ...app, skey: 'x'.repeat(40) },
      2,
      OTHER_HOST,
    )('GET', '/auth/v2/check');
    assert.equal(res.code, 40103);
    assert.equal(res.message_detail, undefined);
    assert.equal(await wrongHostRejections(h), before);
  });

  it('answers ping (unsigned) on any host name', async () => {
    const app = await h.createApp();
    const res = await h.duo(app, 2, OTHER_HOST)('GET', '/auth/v2/ping');
    assert.equal(res.stat, 'OK');
  });

  it('refuses an Admin API request signed for another host name with 401 40103', async () => {
    for (const version of [2, 5] as const) {
      const res = await signedCall(
        h.service,
        h.clock,
        ADMIN_KEY,
        'GET',
        '/admin/v1/users',
        {},
        {
          host: OTHER_HOST,
          version,
        },
      );
      assert.equal(res.status, 401, JSON.stringify(res.body));
      assert.equal(res.body.code, 40103);
      assert.equal(res.body.message_detail, 'host');
    }
  });

  it('accepts an Admin API request signed for the API host, with and without a port', async () => {
    for (const host of [API_HOST, `${API_HOST}:${h.port}`]) {
      const res = await signedCall(
        h.service,
        h.clock,
        ADMIN_KEY,
        'GET',
        '/admin/v1/users',
        {},
        {
          host,
        },
      );
      assert.equal(res.status, 200, `${host}: ${JSON.stringify(res.body)}`);
    }
  });
});

describe('airlock serve --strict-host', () => {
  let dir: string;
  let service: RunningService;
  let routing: { close(): void };
  const data = () => ['--data-dir', dir];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-strict-'));
    service = await startServe([
      ...data(),
      '--listen',
      '127.0.0.1:0',
      '--strict-host',
      '--allowed-host',
      'airlock-2.example',
    ]);
    routing = routeDuoClients(service.port, readFileSync(join(dir, 'tls', 'ca.pem'), 'utf8'));
  });
  after(async () => {
    routing?.close();
    if (service) await stopServe(service);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses another host name, logs it without secrets, and accepts the API host and --allowed-host', async () => {
    const app = await airlockJson<{ ikey: string; skey: string; api_host: string }>([
      'app',
      'create',
      'vpn',
      ...data(),
    ]);
    assert.equal(app.api_host, `localhost:${service.port}`);
    const refused = await duoClient(app, 2, OTHER_HOST)('GET', '/auth/v2/check');
    assert.equal(refused.code, 40103, JSON.stringify(refused));
    for (const host of [app.api_host, 'localhost', 'airlock-2.example']) {
      const res = await duoClient(app, 5, host)('GET', '/auth/v2/check');
      assert.equal(res.stat, 'OK', `${host}: ${JSON.stringify(res)}`);
    }
    const logged = service
      .output()
      .split('\n')
      .filter((line) => line.includes('AUTH_WRONG_HOST'));
    assert.ok(logged.length >= 1, service.output());
    assert.ok(
      logged.some((line) => line.includes(OTHER_HOST)),
      logged.join('\n'),
    );
    for (const line of logged) assert.ok(!line.includes(app.skey), line);
  });

  it('refuses --allowed-host without --strict-host (usage error)', async () => {
    // startServe rejects when the process exits before listening; one that listens is stopped.
    const outcome = await startServe([
      ...data(),
      '--listen',
      '127.0.0.1:0',
      '--allowed-host',
      'airlock-2.example',
    ]).then(
      async (running) => {
        await stopServe(running);
        return 'it started';
      },
      (e: Error) => e.message,
    );
    assert.match(outcome, /exited with 2 /);
    assert.match(outcome, /--allowed-host needs --strict-host/);
  });
});
