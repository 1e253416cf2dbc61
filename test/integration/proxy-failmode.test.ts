// The proxy's fault matrix with real peers: radclient as the NAS, slapd for primary
// authentication, the Airlock service (or a faulty stand-in) for the second factor.
// Each cell asserts the RADIUS answer, the authproxy.log line and the authevents.log record.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Application } from '../../src/core/model.ts';
import { radclient, startSlapd, waitForFileText, type ExternalServer } from './external-servers.ts';
import { adClientSection, RADIUS_SECRET, startTestProxy, type TestProxy } from './proxy-harness.ts';
import {
  failmodeFaults,
  lastEvent,
  serviceUpstream,
  type Upstream,
} from './proxy-fault-harness.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';

let service: Harness;
let slapd: ExternalServer;
let app: Application;
let alice: Awaited<ReturnType<Harness['createUser']>>;

before(async () => {
  [service, slapd] = await Promise.all([startService(), startSlapd()]);
  app = await service.createApp();
  alice = await service.createUser('alice', { totp: true });
  await service.createUser('dave', { totp: true, status: 'disabled' });
});
after(async () => {
  await service?.close();
  await slapd?.stop();
});

/** A fresh TOTP code: the service's clock moves to the next time step first (codes are one-time). */
function nextCode(): string {
  service.clock.advance(30_000);
  return totpAt(alice.totp!, service.clock);
}

/** Where the proxy's Auth API calls go in each fault scenario. */
const FAULTS = failmodeFaults(() => service);

async function proxyFor(upstream: Upstream, failmode: 'safe' | 'secure'): Promise<TestProxy> {
  return startTestProxy({
    clientSection: adClientSection(slapd.port),
    clientName: 'ad_client',
    ikey: app.ikey,
    skey: upstream.skey ?? app.skey,
    apiPort: upstream.apiPort,
    caPem: upstream.caPem,
    failmode,
    apiTimeoutSeconds: 1,
  });
}

const login = (proxy: TestProxy, username: string, password: string) =>
  radclient(
    proxy.port,
    RADIUS_SECRET,
    `User-Name = "${username}", User-Password = "${password}", Calling-Station-Id = "192.0.2.10", Message-Authenticator = 0x00`,
  );

for (const failmode of ['safe', 'secure'] as const) {
  describe(`failmode=${failmode}`, () => {
    for (const [scenario, makeUpstream] of Object.entries(FAULTS)) {
      const verb = failmode === 'safe' ? 'allows' : 'denies';
      it(`${verb} a user who passed primary authentication when the ${scenario}`, async () => {
        const upstream = await makeUpstream();
        const proxy = await proxyFor(upstream, failmode);
        try {
          const res = await login(proxy, 'alice', 'alicepw,123456');
          const line =
            failmode === 'safe'
              ? 'Failmode Safe - Allowed Duo login on preauth failure'
              : 'Failmode Secure - Denied Duo login on preauth failure';
          assert.equal(
            res.code,
            failmode === 'safe' ? 'Access-Accept' : 'Access-Reject',
            res.output,
          );
          const log = await waitForFileText(proxy.authproxyLog, line);
          assert.match(log, /\(\('127\.0\.0\.1', \d+\), alice, \d+\): Failmode/);
          await waitForFileText(
            proxy.authproxyLog,
            failmode === 'safe'
              ? /Returning response code 2: AccessAccept/
              : /Returning response code 3: AccessReject/,
          );
          // The log stream may flush the last line after radclient already has the answer.
          await waitForFileText(proxy.authproxyLog, 'Sending response');
          const event = await lastEvent(proxy, line);
          assert.deepEqual(
            {
              status: event.status,
              auth_stage: event.auth_stage,
              failmode: event.failmode,
              failmode_invoked: event.failmode_invoked,
              second_factor_checked: event.second_factor_checked,
              username: event.username,
              client_ip: event.client_ip,
              server_section: event.server_section,
              server_section_ikey: event.server_section_ikey,
            },
            {
              status: failmode === 'safe' ? 'Allow' : 'Reject',
              auth_stage: 'Secondary authentication',
              failmode,
              failmode_invoked: true,
              second_factor_checked: false,
              username: 'alice',
              client_ip: '192.0.2.10',
              server_section: 'radius_server_auto',
              server_section_ikey: app.ikey,
            },
          );
          assert.match(String(event.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
          assert.equal(typeof event.hostname, 'string');
        } finally {
          await proxy.close();
          await upstream.close();
        }
      });
    }

    it('denies, without invoking failmode, when the service rejects the credentials (wrong skey, 401)', async () => {
      const proxy = await proxyFor(
        serviceUpstream(() => service, 'x'.repeat(40)),
        failmode,
      );
      try {
        const res = await login(proxy, 'alice', 'alicepw,123456');
        assert.equal(res.code, 'Access-Reject', res.output);
        await waitForFileText(proxy.authproxyLog, 'Duo preauth rejected: 40103');
        const event = await lastEvent(proxy, 'Duo preauth rejected: 40103');
        assert.equal(event.failmode_invoked, false);
        assert.equal(event.status, 'Reject');
      } finally {
        await proxy.close();
      }
    });

    describe('with the service up', () => {
      let proxy: TestProxy;
      before(async () => {
        proxy = await proxyFor(
          serviceUpstream(() => service),
          failmode,
        );
      });
      after(async () => proxy?.close());

      it('accepts the right password with the right TOTP code appended', async () => {
        const res = await login(proxy, 'alice', `alicepw,${nextCode()}`);
        assert.equal(res.code, 'Access-Accept', res.output);
        assert.equal(res.replyMessage, 'Success. Logging you in...');
        await waitForFileText(proxy.authproxyLog, "Duo authentication returned 'allow'");
        const event = await lastEvent(proxy, 'Success. Logging you in...');
        assert.equal(event.second_factor_checked, true);
        assert.equal(event.factor, 'passcode');
      });

      it('rejects a wrong passcode', async () => {
        const res = await login(proxy, 'alice', 'alicepw,000000');
        assert.equal(res.code, 'Access-Reject', res.output);
        assert.equal(res.replyMessage, 'Incorrect passcode. Please try again.');
        const event = await lastEvent(proxy, 'Incorrect passcode');
        assert.equal(event.status, 'Reject');
        assert.equal(event.auth_stage, 'Secondary authentication');
      });

      it('rejects a wrong password at primary authentication', async () => {
        const res = await login(proxy, 'alice', `wrong,${nextCode()}`);
        assert.equal(res.code, 'Access-Reject', res.output);
        await waitForFileText(proxy.authproxyLog, 'Primary credentials rejected - bad-password');
        const event = await lastEvent(proxy, 'Primary credentials rejected');
        assert.equal(event.auth_stage, 'Primary authentication');
        assert.equal(event.second_factor_checked, false);
      });

      it('rejects a user the service denies (disabled)', async () => {
        const res = await login(proxy, 'dave', 'davepw,123456');
        assert.equal(res.code, 'Access-Reject', res.output);
        assert.equal(res.replyMessage, 'Your account is disabled.');
        const event = await lastEvent(proxy, 'Your account is disabled.');
        assert.equal(event.status, 'Reject');
        assert.equal(event.failmode_invoked, undefined);
      });

      it('rejects a directory user the service does not know, under the new-user policy "enroll"', async () => {
        const res = await login(proxy, 'bob', `bobpw,${nextCode()}`);
        assert.equal(res.code, 'Access-Reject', res.output);
        await waitForFileText(proxy.authproxyLog, 'User is not enrolled');
        const event = await lastEvent(proxy, 'User is not enrolled');
        assert.equal(event.reason, 'not-enrolled');
      });
    });
  });
}
