// The proxy beyond the fault matrix: primary-only mode, retransmits, hostile packets, the
// challenge section, an upstream FreeRADIUS as primary, exempt users.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Application } from '../../src/core/model.ts';
import { createHash } from 'node:crypto';
import { encodePacket } from '../../src/protocol/radius/radius-packet.ts';
import { createAttribute, getAttribute } from '../../src/protocol/radius/radius-attributes.ts';
import {
  computeResponseAuthenticator,
  hidePassword,
  signMessageAuthenticator,
} from '../../src/protocol/radius/radius-crypto.ts';
import {
  decodeAccessRequest,
  encodeAccessRequest,
} from '../../src/protocol/radius/radius-request.ts';
import { verifyResponse, type AccessResponse } from '../../src/protocol/radius/radius-response.ts';
import {
  disablePrimaryOnly,
  enablePrimaryOnly,
} from '../../src/runtime/primary-only-state-file.ts';
import { FixedClock } from '../../src/runtime/clock.ts';
import { airlockFails } from './airlock-process.ts';
import {
  radclient,
  startFreeradius,
  startSlapd,
  waitForFileText,
  type ExternalServer,
} from './external-servers.ts';
import { startFaultServer, testTlsMaterial } from './fault-servers.ts';
import { adClientSection, RADIUS_SECRET, startTestProxy, type TestProxy } from './proxy-harness.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';

let service: Harness;
let slapd: ExternalServer;
let app: Application;
let alice: Awaited<ReturnType<Harness['createUser']>>;

before(async () => {
  [service, slapd] = await Promise.all([startService(), startSlapd()]);
  app = await service.createApp();
  alice = await service.createUser('alice', { totp: true });
  await service.createUser('carol', { totp: true });
});
after(async () => {
  await service?.close();
  await slapd?.stop();
});

function nextCode(): string {
  service.clock.advance(30_000);
  return totpAt(alice.totp!, service.clock);
}

const ldapProxy = (
  failmode: 'safe' | 'secure',
  extra: { clock?: FixedClock; extra?: string[] } = {},
) =>
  startTestProxy({
    clientSection: adClientSection(slapd.port),
    clientName: 'ad_client',
    ikey: app.ikey,
    skey: app.skey,
    apiPort: service.port,
    caPem: service.caPem,
    failmode,
    ...extra,
  });

const login = (proxy: TestProxy, username: string, password: string, more = '') =>
  radclient(
    proxy.port,
    RADIUS_SECRET,
    `User-Name = "${username}", User-Password = "${password}", Message-Authenticator = 0x00${more}`,
  );

describe('primary-only mode', () => {
  it('skips the second factor in a safe section and denies in a secure one, picked up while running', async () => {
    const clock = new FixedClock(Date.now());
    const [safe, secure] = await Promise.all([
      ldapProxy('safe', { clock }),
      ldapProxy('secure', { clock }),
    ]);
    try {
      for (const proxy of [safe, secure]) {
        enablePrimaryOnly(proxy.config.main.stateDir, {
          nowMs: clock.nowMs(),
          minutes: 30,
          actor: 'cli:tester',
          reason: 'drill INC-1',
        });
        proxy.proxy.primaryOnly.poll(); // what the 250 ms timer does
        await waitForFileText(proxy.authproxyLog, 'Primary only mode enabled by cli:tester');
      }
      // A wrong passcode proves the service was not asked: safe still lets the user in.
      const allowed = await login(safe, 'alice', 'alicepw,000000');
      assert.equal(allowed.code, 'Access-Accept', allowed.output);
      await waitForFileText(
        safe.authproxyLog,
        'Primary Only Mode - Secondary authentication bypassed',
      );
      const event = safe
        .events()
        .find((e) => e.msg === 'Primary Only Mode - Secondary authentication bypassed');
      assert.equal(event?.second_factor_checked, false);
      assert.equal(event?.failmode_invoked, true);

      const denied = await login(secure, 'alice', `alicepw,${nextCode()}`);
      assert.equal(denied.code, 'Access-Reject', denied.output);
      await waitForFileText(
        secure.authproxyLog,
        'Failmode Secure - Denied Duo login on preauth failure',
      );

      // Primary authentication is still required in primary-only mode.
      assert.equal((await login(safe, 'alice', 'nope')).code, 'Access-Reject');

      // It ends by itself at expiry.
      clock.advance(30 * 60_000);
      safe.proxy.primaryOnly.poll();
      await waitForFileText(safe.authproxyLog, 'Primary only mode ended');
      assert.equal((await login(safe, 'alice', 'alicepw,000000')).code, 'Access-Reject');
    } finally {
      await safe.close();
      await secure.close();
    }
  });

  it('survives a proxy restart and can be disabled early', async () => {
    const first = await ldapProxy('safe');
    const stateDir = first.config.main.stateDir;
    enablePrimaryOnly(stateDir, {
      nowMs: Date.now(),
      minutes: 60,
      actor: 'cli:tester',
      reason: 'outage',
    });
    await first.proxy.close();
    // A new proxy on the same state directory starts in primary-only mode.
    const { startProxy } = await import('../../src/proxy/start-proxy.ts');
    const { CryptoRandom } = await import('../../src/runtime/random.ts');
    const { SystemClock } = await import('../../src/runtime/clock.ts');
    const second = await startProxy(first.config, {
      clock: new SystemClock(),
      random: new CryptoRandom(),
      version: 'test',
    });
    try {
      await waitForFileText(
        first.authproxyLog,
        /Running in PRIMARY ONLY mode\. Stopping in (59|60) minutes/,
      );
      const res = await radclient(
        first.port,
        RADIUS_SECRET,
        'User-Name = "alice", User-Password = "alicepw,000000", Message-Authenticator = 0x00',
      );
      assert.equal(res.code, 'Access-Accept', res.output);
      assert.equal(
        disablePrimaryOnly(stateDir, { nowMs: Date.now(), actor: 'cli:tester', reason: 'over' }),
        true,
      );
      second.primaryOnly.poll();
      const after = await radclient(
        first.port,
        RADIUS_SECRET,
        'User-Name = "alice", User-Password = "alicepw,000000", Message-Authenticator = 0x00',
      );
      assert.equal(after.code, 'Access-Reject', after.output);
    } finally {
      await second.close();
    }
  });

  it('refuses more than 240 minutes from the CLI', async () => {
    const proxy = await ldapProxy('safe');
    try {
      const res = await airlockFails([
        'proxy',
        'primary-only',
        'enable',
        '--config',
        `${proxy.dir}/authproxy.cfg`,
        '--minutes',
        '300',
        '--reason',
        'x',
      ]);
      assert.equal(res.code, 2);
      assert.match(res.stderr, /no more than 4 hours/);
    } finally {
      await proxy.close();
    }
  });
});

describe('logs', () => {
  it('rotates authproxy.log and authevents.log by size and keeps log_max_files of them', async () => {
    const proxy = await startTestProxy({
      ikey: app.ikey,
      skey: app.skey,
      apiPort: service.port,
      caPem: service.caPem,
      failmode: 'secure',
      mainExtra: ['log_max_size=2048', 'log_max_files=2'],
    });
    try {
      // A user the service does not know: rejected as not enrolled, so nobody gets locked out.
      for (let i = 0; i < 30; i++) await login(proxy, 'rotation-user', '000000');
      const deadline = Date.now() + 3000;
      let files: string[] = [];
      while (Date.now() < deadline) {
        files = readdirSync(dirname(proxy.authproxyLog)).sort();
        if (files.includes('authproxy.log.2') && files.includes('authevents.log.1')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(
        files.includes('authproxy.log.1') && files.includes('authproxy.log.2'),
        files.join(' '),
      );
      assert.ok(files.includes('authevents.log.1'), files.join(' '));
      assert.ok(
        !files.includes('authproxy.log.3'),
        `at most log_max_files rotated files: ${files.join(' ')}`,
      );
    } finally {
      await proxy.close();
    }
  });
});

describe('outage engine in the proxy', () => {
  it('opens the circuit breaker during an outage: later logins get the failmode answer without a network wait', async () => {
    const tls = await testTlsMaterial();
    const blackhole = await startFaultServer('blackhole', {
      certPem: tls.certPem,
      keyPem: tls.keyPem,
    });
    const proxy = await startTestProxy({
      clientSection: adClientSection(slapd.port),
      clientName: 'ad_client',
      ikey: app.ikey,
      skey: app.skey,
      apiPort: blackhole.port,
      caPem: tls.caPem,
      failmode: 'safe',
      apiTimeoutSeconds: 1,
      extra: ['breaker_failure_threshold=2', 'health_check_interval=0'],
    });
    try {
      for (let i = 0; i < 2; i++) {
        assert.equal((await login(proxy, 'alice', 'alicepw,123456')).code, 'Access-Accept');
      }
      await waitForFileText(
        proxy.authproxyLog,
        /circuit breaker for localhost:\d+: closed -> open/,
      );
      const connectionsWhenOpen = blackhole.connections;
      for (let i = 0; i < 5; i++) {
        assert.equal((await login(proxy, 'alice', 'alicepw,123456')).code, 'Access-Accept');
      }
      assert.equal(
        blackhole.connections,
        connectionsWhenOpen,
        'no login waited on the dead host while the breaker was open',
      );
      const events = proxy
        .events()
        .filter((e) => e.msg === 'Failmode Safe - Allowed Duo login on preauth failure');
      assert.equal(events.length, 7, 'every one of them is still logged as a failmode decision');
    } finally {
      await proxy.close();
      await blackhole.close();
    }
  });

  it('closes the breaker again after the outage ends: the health monitor probes, logins reach the service', async () => {
    const { createDrillTlsMaterial, startFaultInjector } =
      await import('../../src/proxy/fault-injector.ts');
    const { SystemClock } = await import('../../src/runtime/clock.ts');
    const tls = await createDrillTlsMaterial(Date.now());
    const injector = await startFaultInjector({ tls, mode: 'healthy', clock: new SystemClock() });
    const proxy = await startTestProxy({
      clientSection: adClientSection(slapd.port),
      clientName: 'ad_client',
      ikey: app.ikey,
      skey: app.skey,
      apiPort: injector.port,
      caPem: tls.caPem,
      failmode: 'secure',
      apiTimeoutSeconds: 1,
      extra: ['breaker_failure_threshold=2', 'breaker_open_seconds=1', 'health_check_interval=1'],
    });
    try {
      // Healthy: the stand-in service answers preauth "allow".
      assert.equal((await login(proxy, 'alice', 'alicepw')).code, 'Access-Accept');
      // Outage begins: failmode (secure) denies, and the breaker opens.
      injector.setMode('blackhole');
      for (let i = 0; i < 3; i++)
        assert.equal((await login(proxy, 'alice', 'alicepw')).code, 'Access-Reject');
      await waitForFileText(
        proxy.authproxyLog,
        /circuit breaker for localhost:\d+: closed -> open/,
      );
      // Outage ends: the monitor's half-open probe (ping, then check) closes the breaker.
      injector.setMode('healthy');
      await waitForFileText(
        proxy.authproxyLog,
        /circuit breaker for localhost:\d+: half-open -> closed/,
        10_000,
      );
      assert.equal((await login(proxy, 'alice', 'alicepw')).code, 'Access-Accept');
    } finally {
      await proxy.close();
      await injector.close();
    }
  });

  it('fails over to api_host_2 when the first API host is down', async () => {
    const { closedPort } = await import('./fault-servers.ts');
    const proxy = await startTestProxy({
      clientSection: adClientSection(slapd.port),
      clientName: 'ad_client',
      ikey: app.ikey,
      skey: app.skey,
      apiPort: await closedPort(),
      caPem: service.caPem,
      failmode: 'secure',
      extra: [`api_host_2=localhost:${service.port}`, 'health_check_interval=0'],
    });
    try {
      const res = await login(proxy, 'alice', `alicepw,${nextCode()}`);
      assert.equal(res.code, 'Access-Accept', res.output);
    } finally {
      await proxy.close();
    }
  });
});

describe('retransmits', () => {
  it('answers every copy of a retransmitted request with one authentication', async () => {
    const tls = await testTlsMaterial();
    const slow = await startFaultServer('slow', {
      certPem: tls.certPem,
      keyPem: tls.keyPem,
      delayMs: 900,
    });
    const proxy = await startTestProxy({
      clientSection: adClientSection(slapd.port),
      clientName: 'ad_client',
      ikey: app.ikey,
      skey: app.skey,
      apiPort: slow.port,
      caPem: tls.caPem,
      failmode: 'secure',
      apiTimeoutSeconds: 5,
      // No health checks: the stand-in should see only the login's own calls.
      extra: ['health_check_interval=0'],
    });
    try {
      // radclient resends after 1 s, twice, while preauth and auth take ~1.8 s together.
      const res = await radclient(
        proxy.port,
        RADIUS_SECRET,
        'User-Name = "alice", User-Password = "alicepw,123456", Message-Authenticator = 0x00',
        {
          timeoutSeconds: 1,
          retries: 4,
        },
      );
      assert.equal(res.code, 'Access-Reject', res.output); // the stand-in denies every auth
      // The result stream (opened at startup) aside: one preauth and one auth.
      assert.deepEqual(
        slow.paths.filter((p) => p !== '/auth/v2/auth_results'),
        ['/auth/v2/preauth', '/auth/v2/auth'],
        'one preauth and one auth, however many copies arrived',
      );
      const retransmits = await proxy.proxy.metrics.getSingleMetricAsString(
        'airlock_proxy_retransmits_total',
      );
      assert.match(retransmits, /answered="no"\} [1-9]/);
    } finally {
      await proxy.close();
      await slow.close();
    }
  });
});

describe('hostile packets', () => {
  let proxy: TestProxy;
  before(async () => {
    proxy = await ldapProxy('secure');
  });
  after(async () => proxy?.close());

  const request = (secret: string, withMessageAuthenticator: boolean) => {
    const authenticator = randomBytes(16);
    if (withMessageAuthenticator) {
      return encodeAccessRequest({
        identifier: 7,
        authenticator,
        secret,
        attributes: [createAttribute('User-Name', 'alice')],
        password: 'alicepw,123456',
      });
    }
    return encodePacket({
      code: 'Access-Request',
      identifier: 8,
      authenticator,
      attributes: [
        createAttribute('User-Name', 'alice'),
        { type: 2, value: hidePassword('alicepw,123456', secret, authenticator) },
      ],
    });
  };

  const cases: [string, () => Buffer, string, string?][] = [
    ['a datagram shorter than a header', () => randomBytes(10), 'RADIUS_TRUNCATED'],
    [
      'an attribute that runs past the end of the packet',
      () => {
        const p = request(RADIUS_SECRET, true);
        p[21] = 250; // the first attribute's Length octet
        return p;
      },
      'RADIUS_BAD_ATTRIBUTE_LENGTH',
    ],
    [
      'a Message-Authenticator made with the wrong secret',
      () => request('not-the-secret', true),
      'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
    ],
    [
      'no Message-Authenticator (required by default)',
      () => request(RADIUS_SECRET, false),
      'RADIUS_MISSING_MESSAGE_AUTHENTICATOR',
    ],
    [
      'an Accounting-Request on the auth port',
      () => {
        const p = request(RADIUS_SECRET, true);
        p[0] = 4;
        return p;
      },
      'RADIUS_UNEXPECTED_CODE',
    ],
    [
      'a packet from an address that is not a configured client',
      () => request(RADIUS_SECRET, true),
      'unknown-client',
      '127.0.0.2',
    ],
  ];

  for (const [name, make, reason, from] of cases) {
    it(`drops and counts ${name}`, async () => {
      const metric = async () => {
        const text = await proxy.proxy.metrics.getSingleMetricAsString(
          'airlock_proxy_packets_dropped_total',
        );
        return Number(new RegExp(`reason="${reason}",?[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);
      };
      const before = await metric();
      await sendRaw(proxy.port, make(), from ?? '127.0.0.1');
      await waitForFileText(proxy.authproxyLog, reason);
      assert.equal(await metric(), before + 1);
    });
  }

  it('still answers a good request after all of that', async () => {
    const res = await login(proxy, 'alice', `alicepw,${nextCode()}`);
    assert.equal(res.code, 'Access-Accept', res.output);
  });
});

describe('server sections and clients', () => {
  it('asks for the passcode with an Access-Challenge in [radius_server_challenge]', async () => {
    const proxy = await startTestProxy({
      serverKind: 'radius_server_challenge',
      clientSection: adClientSection(slapd.port),
      clientName: 'ad_client',
      ikey: app.ikey,
      skey: app.skey,
      apiPort: service.port,
      caPem: service.caPem,
      failmode: 'secure',
    });
    try {
      const first = await login(proxy, 'alice', 'alicepw');
      assert.equal(first.code, 'Access-Challenge', first.output);
      assert.match(first.replyMessage ?? '', /passcode/i);
      assert.ok(first.state, 'the challenge carries a State');
      const second = await login(proxy, 'alice', nextCode(), `, State = ${first.state}`);
      assert.equal(second.code, 'Access-Accept', second.output);
      // A State is good for one answer only.
      const replay = await login(proxy, 'alice', nextCode(), `, State = ${first.state}`);
      assert.equal(replay.code, 'Access-Reject', replay.output);
    } finally {
      await proxy.close();
    }
  });

  it('uses an upstream FreeRADIUS for primary authentication and passes its Class through', async () => {
    const freeradius = await startFreeradius();
    const proxy = await startTestProxy({
      clientSection: [
        '[radius_client]',
        'host=127.0.0.1',
        `port=${freeradius.port}`,
        'secret=testing123',
        'retries=1',
        'retry_wait=1',
      ].join('\n'),
      clientName: 'radius_client',
      ikey: app.ikey,
      skey: app.skey,
      apiPort: service.port,
      caPem: service.caPem,
      failmode: 'secure',
      extra: ['pass_through_attr_names=Class'],
    });
    try {
      service.clock.advance(30_000);
      const carol = (await service.store.findUser('carol'))!;
      const tokens = await service.store.listOtpTokens(carol.id);
      const { TOTP } = await import('otpauth');
      const code = new TOTP({ secret: tokens[0]!.secret }).generate({
        timestamp: service.clock.nowMs(),
      });
      const res = await login(proxy, 'carol', `secret,${code}`);
      assert.equal(res.code, 'Access-Accept', res.output);
      assert.match(res.output, /Class = 0x[0-9a-f]+/, 'Class from FreeRADIUS is passed through');
      const wrong = await login(proxy, 'carol', `nope,${code}`);
      assert.equal(wrong.code, 'Access-Reject', wrong.output);
    } finally {
      await proxy.close();
      await freeradius.stop();
    }
  });

  it('rejects a login whose upstream Access-Accept has no Message-Authenticator, unless the [radius_client] turns the requirement off', async () => {
    const upstream = await startUnsignedUpstream('upstream-secret-0123456789');
    const proxyWith = (extra: string[]) =>
      startTestProxy({
        clientSection: [
          '[radius_client]',
          'host=127.0.0.1',
          `port=${upstream.port}`,
          'secret=upstream-secret-0123456789',
          'retries=0',
          'retry_wait=2',
          ...extra,
        ].join('\n'),
        clientName: 'radius_client',
        ikey: app.ikey,
        skey: app.skey,
        apiPort: service.port,
        caPem: service.caPem,
        failmode: 'secure',
      });
    const strict = await proxyWith([]);
    try {
      assert.ok(!strict.config.warnings.some((w) => w.includes('require_message_authenticator')));
      const res = await login(strict, 'alice', `anything,${nextCode()}`);
      assert.equal(res.code, 'Access-Reject', res.output);
      await waitForFileText(
        strict.authproxyLog,
        'Primary authentication failed - upstream-missing-message-authenticator',
      );
      await waitForFileText(
        strict.authproxyLog,
        '[radius_client] radius upstream reply has no Message-Authenticator, which is required',
      );
      assert.equal(
        await requestsCounted(strict, 'reject', 'upstream-missing-message-authenticator'),
        1,
      );
    } finally {
      await strict.close();
    }
    const lax = await proxyWith(['require_message_authenticator=false']);
    try {
      const warning =
        '[radius_client] require_message_authenticator: false, so upstream replies without a Message-Authenticator are accepted';
      assert.ok(
        lax.config.warnings.some((w) => w.startsWith(warning)),
        lax.config.warnings.join('\n'),
      );
      await waitForFileText(lax.authproxyLog, `WARNING: ${warning}`);
      const res = await login(lax, 'alice', `anything,${nextCode()}`);
      assert.equal(res.code, 'Access-Accept', res.output);
    } finally {
      await lax.close();
      await upstream.close();
    }
  });

  it('never lets a login in without a second factor when the section has no primary authentication', async () => {
    const { closedPort } = await import('./fault-servers.ts');
    const proxy = await startTestProxy({
      ikey: app.ikey,
      skey: app.skey,
      apiPort: await closedPort(), // the service is down
      caPem: service.caPem,
      failmode: 'safe',
      extra: ['exempt_username_1=bob', 'health_check_interval=0'],
    });
    try {
      for (const user of ['alice', 'bob']) {
        const res = await radclient(
          proxy.port,
          RADIUS_SECRET,
          `User-Name = "${user}", User-Password = "anything", Message-Authenticator = 0x00`,
        );
        assert.equal(res.code, 'Access-Reject', res.output);
      }
      await waitForFileText(
        proxy.authproxyLog,
        'this section has no primary authentication: denied',
      );
    } finally {
      await proxy.close();
    }
  });

  it('lets an exempt user in after primary authentication without asking the service', async () => {
    const proxy = await startTestProxy({
      clientSection: adClientSection(slapd.port),
      clientName: 'ad_client',
      ikey: app.ikey,
      skey: app.skey,
      apiPort: 9, // nothing listens: the service must not be asked
      caPem: service.caPem,
      failmode: 'secure',
      extra: ['exempt_username_1=bob'],
    });
    try {
      const res = await login(proxy, 'bob', 'bobpw');
      assert.equal(res.code, 'Access-Accept', res.output);
      await waitForFileText(proxy.authproxyLog, 'User exempted from 2FA');
      assert.equal((await login(proxy, 'bob', 'wrong')).code, 'Access-Reject');
    } finally {
      await proxy.close();
    }
  });

  it('reports every error of a broken config at once and exits non-zero', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/airlock-badcfg-`);
    writeFileSync(
      `${dir}/authproxy.cfg`,
      [
        '[radius_server_auto]',
        'ikey=DIXXXXXXXXXXXXXXXXXX',
        'skey=pa;ss#word-but-no-api-host',
        'faillmode=safe',
        'client=ad_client',
        'port=99999',
        '',
      ].join('\n'),
    );
    const res = await airlockFails(['proxy', 'check', '--config', `${dir}/authproxy.cfg`]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /\[radius_server_auto\] faillmode: .*did you mean "?failmode"?/i);
    assert.match(res.stderr, /api_host/);
    assert.match(res.stderr, /radius_ip_1|radius_ip/);
    assert.match(res.stderr, /port/);
    assert.doesNotMatch(res.stderr, /pa;ss#word/, 'no secret in error messages');
  });
});

describe('challenge State bound to the RADIUS client', () => {
  it('rejects a State answered from another RADIUS client than the one it was sent to', async () => {
    const proxy = await startTestProxy({
      serverKind: 'radius_server_challenge',
      clientSection: adClientSection(slapd.port),
      clientName: 'ad_client',
      ikey: app.ikey,
      skey: app.skey,
      apiPort: service.port,
      caPem: service.caPem,
      failmode: 'secure',
      // Two NAS, same shared secret: the State alone must not let one answer for the other.
      extra: ['radius_ip_2=127.0.0.2', `radius_secret_2=${RADIUS_SECRET}`],
    });
    try {
      const first = await exchange(proxy.port, accessRequest('alice', 'alicepw'), '127.0.0.1');
      assert.equal(first.code, 'Access-Challenge');
      const state = getAttribute(first.attributes, 'State');
      assert.ok(state, 'the challenge carries a State');
      const other = await exchange(
        proxy.port,
        accessRequest('alice', nextCode(), state),
        '127.0.0.2',
      );
      assert.equal(other.code, 'Access-Reject', 'answered from another NAS');
      await waitForFileText(
        proxy.authproxyLog,
        /answered from 127\.0\.0\.2, not from 127\.0\.0\.1/,
      );
      assert.equal(await requestsCounted(proxy, 'reject', 'state-other-client'), 1);

      // The same conversation from one NAS still succeeds.
      const again = await exchange(proxy.port, accessRequest('alice', 'alicepw'), '127.0.0.2');
      assert.equal(again.code, 'Access-Challenge');
      const ok = await exchange(
        proxy.port,
        accessRequest('alice', nextCode(), getAttribute(again.attributes, 'State')),
        '127.0.0.2',
      );
      assert.equal(ok.code, 'Access-Accept');
    } finally {
      await proxy.close();
    }
  });
});

describe('passwords longer than RADIUS carries', () => {
  it('answers a User-Password over 128 octets with an Access-Reject that says why, logged and counted', async () => {
    const proxy = await ldapProxy('secure');
    try {
      // A 125-character password with ",passcode" appended: 132 octets, too long for PAP.
      const password = `${'p'.repeat(125)},${nextCode()}`;
      const answer = await exchange(
        proxy.port,
        accessRequestWithLongPassword('alice', password),
        '127.0.0.1',
      );
      assert.equal(answer.code, 'Access-Reject');
      assert.match(getAttribute(answer.attributes, 'Reply-Message') ?? '', /too long/i);
      await waitForFileText(
        proxy.authproxyLog,
        /User-Password of 144 octets is longer than the 128 RADIUS allows/,
      );
      assert.equal(await requestsCounted(proxy, 'reject', 'password-too-long'), 1);
      // A password of exactly 128 octets is still decided normally (here: wrong, so rejected).
      const edge = await exchange(proxy.port, accessRequest('alice', 'q'.repeat(128)), '127.0.0.1');
      assert.equal(edge.code, 'Access-Reject');
      assert.equal(await requestsCounted(proxy, 'reject', 'password-too-long'), 1);
    } finally {
      await proxy.close();
    }
  });
});

async function sendRaw(port: number, packet: Buffer, from: string): Promise<void> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, from, resolve));
  await new Promise<void>((resolve, reject) =>
    socket.send(packet, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
  );
  socket.close();
}

/** Sends `packet` from a socket bound to `from` and returns the proxy's verified answer. */
async function exchange(
  port: number,
  packet: Buffer,
  from: string,
  timeoutMs = 5000,
): Promise<AccessResponse> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, from, resolve));
  try {
    const answer = new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.once('message', (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
    });
    socket.send(packet, port, '127.0.0.1');
    return verifyResponse({
      request: packet,
      response: await answer,
      secret: RADIUS_SECRET,
      requireMessageAuthenticator: true,
    });
  } finally {
    socket.close();
  }
}

/** A NAS's Access-Request for `password` (with Message-Authenticator), optionally with a State. */
function accessRequest(username: string, password: string, state?: Buffer): Buffer {
  return encodeAccessRequest({
    identifier: 42,
    authenticator: randomBytes(16),
    secret: RADIUS_SECRET,
    attributes: [
      createAttribute('User-Name', username),
      ...(state === undefined ? [] : [createAttribute('State', state)]),
    ],
    password,
  });
}

/**
 * An Access-Request whose User-Password is longer than RFC 2865 §5.2's 128 octets, hidden by the
 * RFC's own chain as a NAS that does not truncate would (our encoder and radclient both refuse or
 * truncate at 128).
 */
function accessRequestWithLongPassword(username: string, password: string): Buffer {
  const authenticator = randomBytes(16);
  const plain = Buffer.alloc(Math.ceil(Buffer.byteLength(password) / 16) * 16);
  plain.write(password);
  const hidden = Buffer.alloc(plain.length);
  let previous = authenticator;
  for (let i = 0; i < plain.length; i += 16) {
    const pad = createHash('md5').update(RADIUS_SECRET).update(previous).digest();
    for (let j = 0; j < 16; j++) hidden[i + j] = plain[i + j]! ^ pad[j]!;
    previous = hidden.subarray(i, i + 16);
  }
  const packet = encodePacket({
    code: 'Access-Request',
    identifier: 43,
    authenticator,
    attributes: [
      { type: 80, value: Buffer.alloc(16) },
      createAttribute('User-Name', username),
      { type: 2, value: hidden },
    ],
  });
  signMessageAuthenticator(packet, authenticator, RADIUS_SECRET);
  return packet;
}

/**
 * An upstream RADIUS server that accepts everyone with a reply whose Response Authenticator
 * verifies but that has no Message-Authenticator: a stock FreeRADIUS before 3.2.5, or a
 * Blast-RADIUS forgery on the path to it.
 */
async function startUnsignedUpstream(
  secret: string,
): Promise<{ port: number; close(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (datagram, rinfo) => {
    const request = decodeAccessRequest(datagram, secret, { requireMessageAuthenticator: true });
    const reply = encodePacket({
      code: 'Access-Accept',
      identifier: request.identifier,
      authenticator: request.authenticator,
      attributes: [createAttribute('Reply-Message', 'welcome')],
    });
    computeResponseAuthenticator(reply, request.authenticator, secret).copy(reply, 4);
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** The value of `airlock_proxy_requests_total` for one result and reason. */
async function requestsCounted(proxy: TestProxy, result: string, reason: string): Promise<number> {
  const text = await proxy.proxy.metrics.getSingleMetricAsString('airlock_proxy_requests_total');
  const line = text
    .split('\n')
    .find((l) => l.includes(`result="${result}"`) && l.includes(`reason="${reason}"`));
  return Number(line?.split(' ').pop() ?? 0);
}
