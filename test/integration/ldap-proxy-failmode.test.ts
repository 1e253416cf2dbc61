// The fault matrix of the RADIUS sections, for [ldap_server_auto]: ldapwhoami binds through the
// proxy to slapd while the service is stopped, blackholed, slow, answers 500 or garbage, has a
// certificate from another CA, or refuses the skey; then primary-only mode. Each cell asserts the
// LDAP result code, the authproxy.log line and the authevents.log record.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Application } from '../../src/core/model.ts';
import { enablePrimaryOnly } from '../../src/runtime/primary-only-state-file.ts';
import { startSlapd, waitForFileText, type ExternalServer } from './external-servers.ts';
import { adClientSection, startTestProxy, type TestProxy } from './proxy-harness.ts';
import {
  failmodeFaults,
  lastEvent,
  serviceUpstream,
  stoppedUpstream,
  type Upstream,
} from './proxy-fault-harness.ts';
import { startService, type Harness } from './service-harness.ts';

const ALICE_DN = 'uid=alice,ou=people,dc=example,dc=org';
const SAFE_LINE = 'Failmode Safe - Allowed Duo login on preauth failure';
const SECURE_LINE = 'Failmode Secure - Denied Duo login on preauth failure';

let service: Harness;
let slapd: ExternalServer;
let app: Application;

before(async () => {
  [service, slapd] = await Promise.all([startService(), startSlapd()]);
  app = await service.createApp();
  await service.createUser('alice', { totp: true });
});
after(async () => {
  await service?.close();
  await slapd?.stop();
});

/** Where the proxy's Auth API calls go in each fault scenario. */
const FAULTS = failmodeFaults(() => service);

function proxyFor(
  upstream: Upstream,
  failmode: 'safe' | 'secure',
  extra: string[] = [],
): Promise<TestProxy> {
  return startTestProxy({
    clientSection: adClientSection(slapd.port),
    clientName: 'ad_client',
    serverKind: 'ldap_server_auto',
    ikey: app.ikey,
    skey: upstream.skey ?? app.skey,
    apiPort: upstream.apiPort,
    caPem: upstream.caPem,
    failmode,
    apiTimeoutSeconds: 1,
    // Every bind gets the second factor (no exempt first bind) so one ldapwhoami is one login.
    extra: ['exempt_primary_bind=false', ...extra],
  });
}

/** ldapwhoami's exit status is the LDAP result code; stderr carries the diagnosticMessage. */
function whoami(
  proxy: TestProxy,
  password: string,
  dn = ALICE_DN,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'ldapwhoami',
      ['-x', '-H', `ldap://127.0.0.1:${proxy.port}`, '-D', dn, '-w', password],
      { timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

/** The LDAP answer, the log line naming section, client and DN, and the event record. */
async function assertFailmodeCell(
  proxy: TestProxy,
  failmode: 'safe' | 'secure',
  res: { code: number; stdout: string; stderr: string },
  line: string,
  reasonInvoked: { failmode_invoked: boolean },
): Promise<void> {
  if (failmode === 'safe') {
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /dn:uid=alice,ou=people,dc=example,dc=org/);
  } else {
    assert.equal(res.code, 49, `expected invalidCredentials (49): ${res.stderr}`);
    assert.match(res.stderr, new RegExp(line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  }
  const log = await waitForFileText(proxy.authproxyLog, line);
  assert.match(
    log,
    /\[ldap_server_auto\] \(\('127\.0\.0\.1', \d+\), uid=alice,ou=people,dc=example,dc=org, \d+\): /,
  );
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
      ...reasonInvoked,
      second_factor_checked: false,
      username: 'alice',
      client_ip: '127.0.0.1',
      server_section: 'ldap_server_auto',
      server_section_ikey: app.ikey,
    },
  );
}

for (const failmode of ['safe', 'secure'] as const) {
  describe(`[ldap_server_auto] failmode=${failmode}`, () => {
    for (const [scenario, makeUpstream] of Object.entries(FAULTS)) {
      const verb = failmode === 'safe' ? 'allows' : 'denies (49)';
      it(`${verb} a bind the directory accepted when the ${scenario}`, async () => {
        const upstream = await makeUpstream();
        const proxy = await proxyFor(upstream, failmode);
        try {
          const res = await whoami(proxy, 'alicepw,123456');
          const line = failmode === 'safe' ? SAFE_LINE : SECURE_LINE;
          await assertFailmodeCell(proxy, failmode, res, line, { failmode_invoked: true });
          const metrics = await proxy.proxy.metrics.metrics();
          assert.match(
            metrics,
            new RegExp(
              `airlock_proxy_failmode_decisions_total\\{section="ldap_server_auto",failmode="${failmode}",action="${failmode === 'safe' ? 'allow' : 'deny'}"\\} 1`,
            ),
          );
        } finally {
          await proxy.close();
          await upstream.close();
        }
      });
    }

    it('denies (49) without invoking failmode when the service refuses the skey (401)', async () => {
      const proxy = await proxyFor(
        serviceUpstream(() => service, 'x'.repeat(40)),
        failmode,
      );
      try {
        const res = await whoami(proxy, 'alicepw,123456');
        assert.equal(res.code, 49, res.stderr);
        const event = await lastEvent(proxy, 'Duo preauth rejected: 40103');
        assert.equal(event.failmode_invoked, false);
        assert.equal(event.status, 'Reject');
      } finally {
        await proxy.close();
      }
    });

    it(`${failmode === 'safe' ? 'allows' : 'denies'} in primary-only mode without calling the service`, async () => {
      const proxy = await proxyFor(await stoppedUpstream(() => service), failmode);
      try {
        enablePrimaryOnly(proxy.config.main.stateDir, {
          nowMs: Date.now(),
          minutes: 10,
          actor: 'test',
          reason: 'LDAP drill',
        });
        await waitForFileText(proxy.authproxyLog, 'Primary only mode enabled by test');
        const res = await whoami(proxy, 'alicepw');
        const line =
          failmode === 'safe'
            ? 'Primary Only Mode - Secondary authentication bypassed'
            : SECURE_LINE;
        await assertFailmodeCell(proxy, failmode, res, line, { failmode_invoked: true });
        // A wrong password is still refused by the directory.
        const wrong = await whoami(proxy, 'wrong');
        assert.equal(wrong.code, 49, wrong.stderr);
      } finally {
        await proxy.close();
      }
    });
  });
}

describe('[ldap_server_auto] per-group failmode', () => {
  it('fails secure for members of failmode_secure_groups in a safe section, safe for the others', async () => {
    const proxy = await proxyFor(await stoppedUpstream(() => service), 'safe', [
      'failmode_secure_groups=cn=vpn-users,ou=groups,dc=example,dc=org',
    ]);
    try {
      // alice is in cn=vpn-users (scripts/start-slapd.sh); carol is not.
      const alice = await whoami(proxy, 'alicepw');
      assert.equal(alice.code, 49, alice.stderr);
      const denied = await lastEvent(proxy, SECURE_LINE);
      assert.equal(denied.effective_failmode, 'secure');
      assert.equal(denied.failmode_group, 'cn=vpn-users,ou=groups,dc=example,dc=org');
      const carol = await whoami(proxy, 'carolpw', 'uid=carol,ou=people,dc=example,dc=org');
      assert.equal(carol.code, 0, carol.stderr);
      const allowed = await lastEvent(proxy, SAFE_LINE);
      assert.equal(allowed.username, 'carol');
    } finally {
      await proxy.close();
    }
  });
});
