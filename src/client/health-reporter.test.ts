import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuthApiClient, HealthReportParams } from './auth-api-client.ts';
import {
  apiHostsHealthStatus,
  currentClient,
  hostStatusName,
  startHealthReporter,
  startStatusReporter,
} from './health-reporter.ts';

/** A client that records what it was asked to report, answering `kind`. */
function fakeClient(name: string, sent: string[], kind: () => 'ok' | 'unreachable' = () => 'ok') {
  let closed = false;
  const client = {
    reportHealth: (r: HealthReportParams) => {
      sent.push(`${name}:${r.kind}:${r.name}:${r.status}`);
      return Promise.resolve(
        kind() === 'ok'
          ? { kind: 'ok', response: { time: 1 }, latencyMs: 1 }
          : { kind: 'unreachable', reason: 'connect', detail: 'refused', latencyMs: 1 },
      );
    },
    close: () => void (closed = true),
  } as unknown as AuthApiClient;
  return { client, isClosed: () => closed };
}

describe('health reporter', () => {
  it('asks for the client at every report: a reload’s new keys sign the next one', async () => {
    const sent: string[] = [];
    const made: ReturnType<typeof fakeClient>[] = [];
    let keys = { skey: 'old' };
    const clients = currentClient(
      () => keys,
      (k) => {
        const c = fakeClient(k.skey, sent);
        made.push(c);
        return c.client;
      },
    );
    const reporter = startHealthReporter({
      client: clients.client,
      kind: 'gateway',
      name: 'portal1',
      intervalMs: 0,
      health: () => apiHostsHealthStatus([{ section: 'service', hosts: [] }]),
      onProblem: () => undefined,
    });
    assert.equal(await reporter.reportOnce(), undefined);
    assert.equal(await reporter.reportOnce(), undefined);
    keys = { skey: 'new' };
    assert.equal(await reporter.reportOnce(), undefined);
    assert.deepEqual(sent, [
      'old:gateway:portal1:partial_outage',
      'old:gateway:portal1:partial_outage',
      'new:gateway:portal1:partial_outage',
    ]);
    assert.deepEqual(
      made.map((m) => m.isClosed()),
      [true, false],
    );
    clients.close();
    assert.equal(made[1]?.isClosed(), true);
  });

  it('says a failure once per streak, and nothing once stopped', async () => {
    const problems: string[] = [];
    let answer: 'ok' | 'unreachable' = 'unreachable';
    const { client } = fakeClient('c', [], () => answer);
    const reporter = startHealthReporter({
      client: () => client,
      kind: 'proxy',
      name: 'vpn1',
      intervalMs: 0,
      health: () => ({ status: 'operational', detail: '' }),
      onProblem: (m) => problems.push(m),
    });
    assert.equal(await reporter.reportOnce(), 'unreachable: refused');
    await reporter.reportOnce();
    answer = 'ok';
    await reporter.reportOnce();
    answer = 'unreachable';
    await reporter.reportOnce();
    reporter.stop();
    answer = 'ok';
    await reporter.reportOnce();
    answer = 'unreachable';
    await reporter.reportOnce();
    assert.deepEqual(problems, [
      'status report failed: unreachable: refused',
      'status report failed: unreachable: refused',
    ]);
  });

  it('turns a throwing client into a problem, never a rejection', async () => {
    const reporter = startHealthReporter({
      client: () => {
        throw new Error('no CA file');
      },
      kind: 'proxy',
      name: 'vpn1',
      intervalMs: 0,
      health: () => ({ status: 'operational', detail: '' }),
      onProblem: () => undefined,
    });
    assert.equal(await reporter.reportOnce(), 'no CA file');
  });

  it('names the component from the host name when status_name is unset, valid and at most 64 characters', () => {
    assert.equal(hostStatusName('vpn gw.example.com', 'proxy'), 'vpn-gw.example.com');
    assert.equal(hostStatusName('ä'.repeat(70), 'proxy'), '-'.repeat(64));
    assert.equal(hostStatusName('', 'gateway'), 'gateway');
  });

  it('starts no status reporter when the interval is 0 or no API host is configured', () => {
    const keys = { apiHosts: [], ikey: 'DI', skey: 's', apiCaPem: undefined, apiTimeoutMs: 1000 };
    const options = {
      kind: 'proxy' as const,
      statusName: undefined,
      health: () => ({ status: 'operational' as const, detail: '' }),
      clock: { nowMs: () => 0 },
      userAgent: 'test',
      onProblem: () => assert.fail('no report is sent'),
    };
    assert.equal(startStatusReporter({ ...options, intervalMs: 0, keys: () => keys }), undefined);
    assert.equal(
      startStatusReporter({ ...options, intervalMs: 30_000, keys: () => keys }),
      undefined,
    );
  });
});
