// The proxy's /status answer through its response schema: every field of a full status survives
// the serializer (fast-json-stringify drops what its schema does not name).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { startAdminServer, type ProxyStatus } from './admin-server.ts';

const STATUS: ProxyStatus = {
  proxy: {
    version: '0.1.0',
    startedAt: '2026-12-06T08:00:00.000Z',
    primaryOnly: {
      active: true,
      expires: '2026-12-06T09:00:00.000Z',
      actor: 'cli:ops',
      reason: 'service outage',
    },
  },
  sections: [
    {
      section: 'radius_server_auto',
      failmode: 'safe',
      listening: '127.0.0.1:18120',
      apiHosts: [
        {
          host: 'api-1.example.com:443',
          apiHost: 'api-1.example.com',
          apiPort: 443,
          status: 'unreachable',
          reason: 'ping failed: connect',
          reasons: ['ping failed: connect', 'breaker open'],
          p95Ms: 812.5,
          errorRate: 0.75,
          samples: 12,
          breaker: 'open',
          breakerRetryAtMs: 1_765_008_000_000,
          lastPing: { kind: 'unreachable', atMs: 1_765_007_990_000, reason: 'connect' },
          lastCheck: { kind: 'rejected', atMs: 1_765_007_980_000, code: 40103, message: 'bad' },
        },
        {
          host: 'api-2.example.com:8443',
          apiHost: 'api-2.example.com',
          apiPort: 8443,
          status: 'reachable',
          reason: '',
          reasons: [],
          p95Ms: undefined,
          errorRate: undefined,
          samples: 0,
          breaker: 'disabled',
          breakerRetryAtMs: undefined,
          lastPing: { kind: 'ok', atMs: 1_765_007_990_000, latencyMs: 3.5 },
          lastCheck: { kind: 'invalid', atMs: 1_765_007_980_000, httpStatus: 502 },
        },
      ],
    },
  ],
};

describe('proxy admin endpoint', () => {
  it('serves /status with every field of the status, through its response schema', async () => {
    const server = await startAdminServer({
      listen: { host: '127.0.0.1', port: 0 },
      status: () => STATUS,
      metrics: new Registry(),
    });
    try {
      const res = await fetch(`http://127.0.0.1:${server.address.port}/status`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.deepEqual(await res.json(), JSON.parse(JSON.stringify(STATUS)));
    } finally {
      await server.close();
    }
  });
});
