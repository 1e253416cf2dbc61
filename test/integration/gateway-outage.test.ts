// The access gateway as an outage source (#16): its failmode decisions and forward-auth denials
// reach a local collector as RFC 5424 syslog, and its health reports make it a status-page
// component that turns major_outage once it falls silent. slapd is the directory; the real
// service takes the reports.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseGatewayConfig } from '../../src/config/gateway-config.ts';
import { CryptoRandom } from '../../src/runtime/random.ts';
import { SystemClock } from '../../src/runtime/clock.ts';
import { startGateway, type RunningGateway } from '../../src/gateway/start-gateway.ts';
import { startSyslogListener } from '../support/syslog-listener.ts';
import { startSlapd, type ExternalServer } from './external-servers.ts';
import { closedPort } from './fault-servers.ts';
import { adClientSection } from './proxy-harness.ts';
import { startService, type Harness } from './service-harness.ts';

const PORTAL = 'https://auth.example.org';

/** gateway.cfg for this test: `[main]` extras, and the `[service]` it asks. */
function gatewayConfig(options: {
  ldapPort: number;
  main: string[];
  ikey: string;
  skey: string;
  apiPort: number;
}): string {
  return [
    '[main]',
    'log_dir=log',
    'admin_listen=127.0.0.1:0',
    ...options.main,
    '',
    '[gateway]',
    'listen=127.0.0.1:0',
    `portal_url=${PORTAL}/`,
    'cookie_domain=example.org',
    `session_secret=${'s3cr3t-'.repeat(8)}`,
    '',
    adClientSection(options.ldapPort),
    '',
    '[service]',
    `ikey=${options.ikey}`,
    `skey=${options.skey}`,
    'api_host=localhost',
    `api_port=${options.apiPort}`,
    'api_ca_file=api-ca.pem',
    'api_timeout=2',
    '',
    '[app:hr]',
    'hosts=hr.example.org',
    'failmode=secure',
    '',
    '[app:closed]',
    'hosts=closed.example.org',
    'restriction=deny',
    '',
  ].join('\n');
}

/** One plain HTTP request to the gateway, as nginx or a browser behind it would send it. */
function request(
  gateway: RunningGateway,
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: gateway.address.port,
        method,
        path,
        headers: { host: 'auth.example.org', ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const cookiesOf = (headers: http.IncomingHttpHeaders) =>
  (headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');

describe('access gateway: SIEM output and status reports', () => {
  let slapd: ExternalServer;
  let h: Harness;
  const dirs: string[] = [];
  const start = async (config: Omit<Parameters<typeof gatewayConfig>[0], 'ldapPort'>) => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-gateway-outage-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'api-ca.pem'), h.caPem);
    const parsed = parseGatewayConfig(gatewayConfig({ ...config, ldapPort: slapd.port }), {
      configDir: dir,
      readFile: (p) => readFileSync(p, 'utf8'),
    });
    if (!parsed.ok) throw new Error(`gateway.cfg is invalid:\n${parsed.errors.join('\n')}`);
    return startGateway(parsed.config, {
      clock: new SystemClock(),
      random: new CryptoRandom(),
      version: 'test',
    });
  };

  before(async () => {
    [slapd, h] = await Promise.all([startSlapd(), startService({ statusSilenceSeconds: 60 })]);
  });
  after(async () => {
    await h?.close();
    await slapd?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('sends a failmode decision and a forward-auth denial as RFC 5424 syslog', async () => {
    const listener = await startSyslogListener('tcp');
    const gateway = await start({
      main: [
        `syslog_target=tcp://127.0.0.1:${listener.port}`,
        'syslog_facility=local6',
        'syslog_app_name=portal',
      ],
      ikey: 'DIXXXXXXXXXXXXXXXXXX',
      skey: 'x'.repeat(40),
      // The service is down: the secure application's failmode denies.
      apiPort: await closedPort(),
    });
    try {
      const target = encodeURIComponent('https://hr.example.org/');
      const page = await request(gateway, 'GET', `/login?rd=${target}`, {});
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
      assert.ok(csrf, page.body);
      const answer = await request(
        gateway,
        'POST',
        '/login',
        {
          cookie: cookiesOf(page.headers),
          origin: PORTAL,
          'content-type': 'application/x-www-form-urlencoded',
        },
        `csrf=${csrf}&username=alice&password=alicepw`,
      );
      assert.notEqual(answer.status, 303, 'failmode secure never lets the login through');
      const failmode = await listener.waitFor((m) => m.msgId === 'failmode');
      assert.equal(failmode.facility, 'local6');
      assert.equal(failmode.severity, 'warning');
      assert.equal(failmode.appName, 'portal');
      const sd = failmode.structuredData['airlock@32473'];
      assert.deepEqual(
        { app: sd?.app, failmode: sd?.failmode, action: sd?.action, username: sd?.username },
        { app: 'hr', failmode: 'secure', action: 'deny', username: 'alice' },
      );
      const record = JSON.parse(failmode.message) as Record<string, unknown>;
      assert.equal(record.event_type, 'failmode');
      assert.equal(record.msg, 'Failmode Secure - Denied Duo login on preauth failure');

      const denied = await request(gateway, 'GET', '/authz/auth-request', {
        'x-original-url': 'https://closed.example.org/',
      });
      assert.equal(denied.status, 403);
      const forward = await listener.waitFor((m) => m.msgId === 'forward-auth');
      assert.deepEqual(forward.structuredData['airlock@32473'], { app: 'closed', result: 'deny' });
    } finally {
      await gateway.close();
      await listener.close();
    }
  });

  it('reports its health on the signed endpoint: a status-page component, major_outage after the silence', async () => {
    const app = await h.createApp();
    const gateway = await start({
      main: ['status_report_interval=1', 'status_name=portal1'],
      ikey: app.ikey,
      skey: app.skey,
      apiPort: h.port,
    });
    const component = async () => {
      const res = await h.service.server.inject({
        url: '/api/v2/components.json',
        headers: { host: 'localhost' },
      });
      const doc = res.json<{ components: { id: string; status: string; name: string }[] }>();
      return doc.components.find((c) => c.id === 'gateway-portal1');
    };
    try {
      const deadline = Date.now() + 8_000;
      while ((await component()) === undefined) {
        assert.ok(Date.now() < deadline, 'timed out waiting for the gateway’s first report');
        await new Promise((r) => setTimeout(r, 50));
      }
      const shown = await component();
      assert.equal(shown?.name, 'Gateway portal1');
      assert.ok(['operational', 'degraded_performance'].includes(shown?.status ?? ''));
    } finally {
      await gateway.close();
    }
    h.clock.advance(61_000);
    assert.equal((await component())?.status, 'major_outage');
  });
});
