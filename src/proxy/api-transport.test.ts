// Which transport an API host gets: in-process only for this process's own service (a loopback
// host at its port), HTTPS for everything else; preauth_auth over HTTPS only when configured.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InProcessAuthApi } from '../client/in-process-auth-api-client.ts';
import { FixedClock } from '../runtime/clock.ts';
import { describeTransports, hostClientFactory, isCoLocatedHost } from './api-transport.ts';

const calls: string[] = [];
const api: InProcessAuthApi = {
  call: (request) => {
    calls.push(`${request.method} ${request.path}`);
    return Promise.resolve({ status: 200, body: { stat: 'OK', response: { time: 1 } } });
  },
  subscribe: () => Promise.resolve({ unsubscribe: () => undefined }),
};
const coLocated = { port: 8443, api };
const options = {
  ikey: 'DIABCDEFGHIJKLMNOPQR',
  skey: 's'.repeat(40),
  timeoutMs: 1000,
  clock: new FixedClock(1_000_000),
};

describe('API transport per host', () => {
  it('is in-process only for a loopback host at the co-located service port', () => {
    for (const apiHost of ['localhost', '127.0.0.1', '::1']) {
      assert.ok(isCoLocatedHost({ apiHost, apiPort: 8443 }, coLocated), apiHost);
    }
    assert.ok(!isCoLocatedHost({ apiHost: 'localhost', apiPort: 8444 }, coLocated));
    assert.ok(!isCoLocatedHost({ apiHost: 'api.example.org', apiPort: 8443 }, coLocated));
    assert.ok(!isCoLocatedHost({ apiHost: '10.0.0.5', apiPort: 8443 }, coLocated));
    assert.ok(!isCoLocatedHost({ apiHost: 'localhost', apiPort: 8443 }, undefined));
  });

  it('sends a co-located host’s calls in-process and with preauth_auth', async () => {
    calls.length = 0;
    const client = hostClientFactory(
      { apiPreauthAuth: false },
      coLocated,
    )({
      ...options,
      apiHost: 'localhost',
      apiPort: 8443,
    });
    const outcome = await client.check();
    assert.equal(outcome.kind, 'ok');
    assert.deepEqual(calls, ['GET /auth/v2/check']);
    assert.equal(typeof client.preauthAuth, 'function');
    client.close();
  });

  it('uses HTTPS elsewhere, with preauth_auth only where api_preauth_auth says so', () => {
    const make = (apiPreauthAuth: boolean) =>
      hostClientFactory(
        { apiPreauthAuth },
        coLocated,
      )({
        ...options,
        apiHost: 'api.example.org',
        apiPort: 443,
      });
    const duo = make(false);
    const airlock = make(true);
    assert.ok(!('preauthAuth' in duo) || duo.preauthAuth === undefined, 'never towards Duo');
    assert.ok('preauthAuth' in airlock && airlock.preauthAuth !== undefined);
    duo.close();
    airlock.close();
    assert.equal(
      describeTransports(
        {
          apiHosts: [
            { apiHost: 'localhost', apiPort: 8443 },
            { apiHost: 'api.example.org', apiPort: 443 },
          ],
        },
        coLocated,
      ),
      'localhost:8443 in-process, api.example.org:443 HTTPS',
    );
  });
});
