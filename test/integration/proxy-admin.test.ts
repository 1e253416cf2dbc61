// The proxy's admin endpoint and webhook alerts with real peers: radclient as the NAS, a
// blackholed Auth API host that opens the breaker, and a local HTTP receiver as the webhook.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { enablePrimaryOnly } from '../../src/runtime/primary-only-state-file.ts';
import { startFaultServer, testTlsMaterial, type FaultServer } from './fault-servers.ts';
import { radclient, waitForFileText } from './external-servers.ts';
import { RADIUS_SECRET, startTestProxy, type TestProxy } from './proxy-harness.ts';

const WEBHOOK_SECRET = 'webhook-signing-secret';

interface Received {
  body: Record<string, unknown>;
  raw: string;
  signature: string | undefined;
}

/** A webhook receiver on 127.0.0.1:0 that keeps every POST it gets. */
async function startReceiver(): Promise<{
  url: string;
  received: Received[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const signature = req.headers['x-airlock-signature'];
      received.push({
        body: JSON.parse(raw) as Record<string, unknown>,
        raw,
        signature: typeof signature === 'string' ? signature : undefined,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/airlock-alerts`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls `check` until it holds; bounded, so a missing alert fails with what did arrive. */
async function eventually<T>(what: string, check: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\["\\\\n])*"';
const SAMPLE = new RegExp(
  `^(${METRIC_NAME})(?:\\{(?:${LABEL}(?:,${LABEL})*,?)?\\})? (-?[0-9.eE+-]+|[+-]Inf|NaN)(?: -?\\d+)?$`,
);
const TYPE_LINE = new RegExp(`^# TYPE (${METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$`);
const HELP_LINE = new RegExp(`^# HELP (${METRIC_NAME}) .*$`);

/** Checks Prometheus text exposition format 0.0.4 line by line; returns the samples. */
function parsePrometheusText(text: string): Array<{ line: string; name: string; value: number }> {
  const types = new Map<string, string>();
  const samples: Array<{ line: string; name: string; value: number }> = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = TYPE_LINE.exec(line);
      if (type) {
        assert.ok(!types.has(type[1]!), `# TYPE given twice for ${type[1]}`);
        types.set(type[1]!, type[2]!);
        continue;
      }
      assert.match(line, HELP_LINE, `not a valid comment line: ${line}`);
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `not a valid sample line: ${line}`);
    const name = m[1]!;
    const family = name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(name) || types.has(family), `sample before its # TYPE: ${line}`);
    samples.push({ line, name, value: Number(m[2]) });
  }
  return samples;
}

describe('proxy admin endpoint and alerts, with the Auth API blackholed', () => {
  let blackhole: FaultServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let proxy: TestProxy;
  let base: string;
  const answers: Array<string | undefined> = [];

  before(async () => {
    const tls = await testTlsMaterial();
    blackhole = await startFaultServer('blackhole', { certPem: tls.certPem, keyPem: tls.keyPem });
    receiver = await startReceiver();
    proxy = await startTestProxy({
      ikey: 'DIADMINTEST000000000',
      skey: 'admin-test-skey-0123456789012345678901234',
      apiPort: blackhole.port,
      caPem: tls.caPem,
      // [duo_only_client]: without primary authentication failmode=safe would not allow anyway.
      failmode: 'secure',
      apiTimeoutSeconds: 1,
      extra: ['breaker_failure_threshold=2', 'health_check_interval=0'],
      mainExtra: [`alert_webhook_url_1=${receiver.url}`, `alert_webhook_secret=${WEBHOOK_SECRET}`],
    });
    base = `http://127.0.0.1:${proxy.proxy.adminAddress.port}`;
    // Two logins pay the deadline and open the breaker; the third is decided at once.
    for (let i = 0; i < 3; i++) {
      const res = await radclient(
        proxy.port,
        RADIUS_SECRET,
        'User-Name = "alice", User-Password = "123456", Message-Authenticator = 0x00',
      );
      answers.push(res.code);
    }
  });
  after(async () => {
    await proxy?.close();
    await receiver?.close();
    await blackhole?.close();
  });

  it('denies the users under failmode=secure while the service is blackholed', () => {
    assert.deepEqual(answers, ['Access-Reject', 'Access-Reject', 'Access-Reject']);
  });

  it('posts a signed breaker alert (closed -> open) to the webhook', async () => {
    const alert = await eventually('a breaker alert', () =>
      receiver.received.find((r) => r.body.type === 'breaker' && r.body.to === 'open'),
    );
    assert.equal(alert.body.from, 'closed');
    assert.equal(alert.body.section, 'radius_server_auto');
    assert.equal(alert.body.host, `localhost:${blackhole.port}`);
    assert.match(String(alert.body.reason), /consecutive failures/);
    assert.equal(typeof alert.body.timestamp, 'string');
    assert.equal(typeof alert.body.hostname, 'string');
    const expected = createHmac('sha256', WEBHOOK_SECRET).update(alert.raw).digest('hex');
    assert.equal(alert.signature, `sha256=${expected}`);
  });

  it('posts one failmode alert for the burst of decisions (rate-limited)', async () => {
    const alert = await eventually('a failmode alert', () =>
      receiver.received.find((r) => r.body.type === 'failmode'),
    );
    assert.equal(alert.body.section, 'radius_server_auto');
    assert.equal(alert.body.failmode, 'secure');
    assert.equal(alert.body.count, 1);
    assert.equal(alert.body.reason, 'failmode-secure');
    assert.equal(receiver.received.filter((r) => r.body.type === 'failmode').length, 1);
  });

  it('writes the breaker transition to authproxy.log and authevents.log', async () => {
    await waitForFileText(proxy.authproxyLog, /circuit breaker for localhost:\d+: closed -> open/);
    const record = await eventually('a breaker record', () =>
      proxy.events().find((e) => e.event_type === 'breaker' && e.to === 'open'),
    );
    assert.equal(record.server_section, 'radius_server_auto');
    assert.equal(record.from, 'closed');
    assert.equal(typeof record.hostname, 'string');
  });

  it('serves /metrics as valid Prometheus text that counts the failmode decisions', async () => {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const samples = parsePrometheusText(await res.text());
    const line = (prefix: string) => samples.find((s) => s.line.startsWith(prefix));
    assert.equal(
      line(
        'airlock_proxy_failmode_decisions_total{section="radius_server_auto",failmode="secure",action="deny"}',
      )?.value,
      3,
    );
    assert.equal(
      line(
        'airlock_proxy_requests_total{section="radius_server_auto",result="reject",reason="failmode-secure"}',
      )?.value,
      3,
    );
    assert.equal(
      line(
        `airlock_proxy_breaker_state{section="radius_server_auto",host="localhost:${blackhole.port}"}`,
      )?.value,
      2,
    );
    assert.equal(
      line(
        `airlock_proxy_breaker_transitions_total{section="radius_server_auto",host="localhost:${blackhole.port}",to="open"}`,
      )?.value,
      1,
    );
    assert.ok(
      line(
        'airlock_proxy_api_latency_seconds_count{section="radius_server_auto",endpoint="preauth"}',
      ),
    );
    assert.equal(line('airlock_proxy_primary_only')?.value, 0);
  });

  it('serves /status with the API host unreachable and its breaker open', async () => {
    const res = await fetch(`${base}/status`);
    assert.equal(res.status, 200);
    const status = (await res.json()) as {
      proxy: { version: string; startedAt: string; primaryOnly: { active: boolean } };
      sections: Array<{
        section: string;
        failmode: string;
        listening: string;
        apiHosts: Array<{ host: string; status: string; breaker: string; reason: string }>;
      }>;
    };
    assert.equal(status.proxy.version, 'test');
    assert.equal(status.proxy.primaryOnly.active, false);
    assert.ok(!Number.isNaN(Date.parse(status.proxy.startedAt)));
    const [section] = status.sections;
    assert.equal(section?.section, 'radius_server_auto');
    assert.equal(section?.failmode, 'secure');
    assert.equal(section?.listening, `127.0.0.1:${proxy.port}`);
    assert.equal(section?.apiHosts[0]?.host, `localhost:${blackhole.port}`);
    assert.equal(section?.apiHosts[0]?.status, 'unreachable');
    assert.equal(section?.apiHosts[0]?.breaker, 'open');
  });

  it('reports primary-only mode: alert, authevents.log record, /status and the gauge', async () => {
    enablePrimaryOnly(proxy.config.main.stateDir, {
      nowMs: Date.now(),
      minutes: 30,
      actor: 'cli:tester',
      reason: 'INC-42',
    });
    proxy.proxy.primaryOnly.poll();
    const alert = await eventually('a primary-only alert', () =>
      receiver.received.find((r) => r.body.type === 'primary-only'),
    );
    assert.deepEqual([alert.body.section, alert.body.from, alert.body.to], ['main', 'off', 'on']);
    assert.match(String(alert.body.reason), /cli:tester.*INC-42/);
    const record = await eventually('a primary-only record', () =>
      proxy.events().find((e) => e.event_type === 'primary-only'),
    );
    assert.equal(record.to, 'on');
    const status = (await (await fetch(`${base}/status`)).json()) as {
      proxy: { primaryOnly: { active: boolean; actor: string; reason: string; expires: string } };
    };
    assert.equal(status.proxy.primaryOnly.active, true);
    assert.equal(status.proxy.primaryOnly.actor, 'cli:tester');
    assert.equal(status.proxy.primaryOnly.reason, 'INC-42');
    const samples = parsePrometheusText(await (await fetch(`${base}/metrics`)).text());
    assert.equal(samples.find((x) => x.name === 'airlock_proxy_primary_only')?.value, 1);
  });
});

describe('proxy admin endpoint start-up', () => {
  it('refuses to start when admin_listen is already in use, naming the key', async () => {
    const tls = await testTlsMaterial();
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        startTestProxy({
          ikey: 'DIADMINTEST000000000',
          skey: 'admin-test-skey-0123456789012345678901234',
          apiPort: 9,
          caPem: tls.caPem,
          failmode: 'secure',
          mainExtra: [`admin_listen=127.0.0.1:${port}`],
        }),
        new RegExp(
          `\\[main\\] admin_listen 127\\.0\\.0\\.1:${port}: cannot listen: the address is already in use`,
        ),
      );
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
