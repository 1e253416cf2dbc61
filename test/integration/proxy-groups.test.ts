// Per-group failmode and honest fail-open with real peers: slapd's groups (no memberOf, so the
// proxy searches them; and with the memberof overlay), radclient as the NAS, and an Auth API
// that is stopped or blackholed, or primary-only mode.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { enablePrimaryOnly } from '../../src/runtime/primary-only-state-file.ts';
import { radclient, startSlapd, waitForFileText, type ExternalServer } from './external-servers.ts';
import {
  closedPort,
  startFaultServer,
  testTlsMaterial,
  type FaultServer,
} from './fault-servers.ts';
import { adClientSection, RADIUS_SECRET, startTestProxy, type TestProxy } from './proxy-harness.ts';

const CONTRACTORS = 'cn=contractors,ou=groups,dc=example,dc=org'; // carol
const VPN_USERS = 'cn=vpn-users,ou=groups,dc=example,dc=org'; // alice, bob
const FAIL_OPEN = 'fail_open_attributes = Class=restricted; Filter-Id=no-2fa';
const CLASS_HEX = `0x${Buffer.from('restricted').toString('hex')}`;

let slapd: ExternalServer;
let memberOfSlapd: ExternalServer;
let caPem: string;

before(async () => {
  [slapd, memberOfSlapd] = await Promise.all([startSlapd(), startSlapd({ LDAP_MEMBEROF: '1' })]);
  caPem = (await testTlsMaterial()).caPem;
});
after(async () => {
  await slapd?.stop();
  await memberOfSlapd?.stop();
});

async function groupProxy(
  failmode: 'safe' | 'secure',
  extra: string[],
  options: { apiPort?: number; ldap?: ExternalServer } = {},
): Promise<TestProxy> {
  return startTestProxy({
    clientSection: adClientSection((options.ldap ?? slapd).port),
    clientName: 'ad_client',
    ikey: 'DIGROUPFAILMODETEST1',
    skey: 'groupfailmodeskey0123456789012345678901',
    apiPort: options.apiPort ?? (await closedPort()),
    caPem,
    failmode,
    apiTimeoutSeconds: 1,
    extra,
  });
}

const login = (proxy: TestProxy, username: string) =>
  radclient(
    proxy.port,
    RADIUS_SECRET,
    `User-Name = "${username}", User-Password = "${username}pw,123456", Calling-Station-Id = "192.0.2.10", Message-Authenticator = 0x00`,
  );

async function eventFor(proxy: TestProxy, username: string): Promise<Record<string, unknown>> {
  await waitForFileText(proxy.authEventsLog, `"username":"${username}"`);
  const events = proxy.events().filter((e) => e.username === username);
  return events[events.length - 1]!;
}

function assertFailOpenAttributes(output: string): void {
  assert.match(output, new RegExp(`Class = ${CLASS_HEX}`), output);
  assert.match(output, /Filter-Id = "no-2fa"/, output);
}

describe('failmode=safe with failmode_secure_groups', () => {
  let proxy: TestProxy;
  before(async () => {
    proxy = await groupProxy('safe', [`failmode_secure_groups = ${CONTRACTORS}`, FAIL_OPEN]);
  });
  after(async () => proxy?.close());

  it('allows a user in no secure group when the service is stopped, with the fail-open attributes', async () => {
    const res = await login(proxy, 'alice');
    assert.equal(res.code, 'Access-Accept', res.output);
    assertFailOpenAttributes(res.output);
    const event = await eventFor(proxy, 'alice');
    assert.equal(event.status, 'Allow');
    assert.equal(event.failmode, 'safe');
    assert.equal(event.failmode_invoked, true);
    assert.equal(event.second_factor_checked, false);
    assert.equal(event.reason, 'failmode-safe');
    assert.equal(event.effective_failmode, undefined);
    assert.deepEqual(event.fail_open_attributes, ['Class', 'Filter-Id']);
  });

  it('denies a member of the secure group (carol, contractors): she fails secure', async () => {
    const res = await login(proxy, 'carol');
    assert.equal(res.code, 'Access-Reject', res.output);
    assert.doesNotMatch(res.output, /Filter-Id/);
    const log = await waitForFileText(
      proxy.authproxyLog,
      `Failmode Secure - Denied Duo login on preauth failure (failmode secure for members of ${CONTRACTORS})`,
    );
    assert.match(log, /carol/);
    const event = await eventFor(proxy, 'carol');
    assert.deepEqual(
      {
        status: event.status,
        msg: event.msg,
        failmode: event.failmode,
        effective_failmode: event.effective_failmode,
        effective_failmode_reason: event.effective_failmode_reason,
        failmode_group: event.failmode_group,
        failmode_invoked: event.failmode_invoked,
        second_factor_checked: event.second_factor_checked,
        reason: event.reason,
      },
      {
        status: 'Reject',
        msg: 'Failmode Secure - Denied Duo login on preauth failure',
        failmode: 'safe',
        effective_failmode: 'secure',
        effective_failmode_reason: 'group-failmode-secure',
        failmode_group: CONTRACTORS,
        failmode_invoked: true,
        second_factor_checked: false,
        reason: 'failmode-secure',
      },
    );
  });

  it('still requires primary authentication from a user outside the group', async () => {
    const res = await radclient(
      proxy.port,
      RADIUS_SECRET,
      'User-Name = "bob", User-Password = "wrong,123456", Message-Authenticator = 0x00',
    );
    assert.equal(res.code, 'Access-Reject', res.output);
  });
});

describe('failmode=secure with failmode_safe_groups', () => {
  let proxy: TestProxy;
  before(async () => {
    proxy = await groupProxy('secure', [`failmode_safe_groups = ${VPN_USERS}`, FAIL_OPEN]);
  });
  after(async () => proxy?.close());

  it('allows a member of the safe group (alice, vpn-users) with the fail-open attributes', async () => {
    const res = await login(proxy, 'alice');
    assert.equal(res.code, 'Access-Accept', res.output);
    assertFailOpenAttributes(res.output);
    const event = await eventFor(proxy, 'alice');
    assert.equal(event.failmode, 'secure');
    assert.equal(event.effective_failmode, 'safe');
    assert.equal(event.effective_failmode_reason, 'group-failmode-safe');
    assert.equal(event.failmode_group, VPN_USERS);
    assert.equal(event.second_factor_checked, false);
    assert.equal(event.reason, 'failmode-safe');
  });

  it('denies a user outside it (carol)', async () => {
    const res = await login(proxy, 'carol');
    assert.equal(res.code, 'Access-Reject', res.output);
    const event = await eventFor(proxy, 'carol');
    assert.equal(event.status, 'Reject');
    assert.equal(event.effective_failmode, undefined);
    assert.equal(event.reason, 'failmode-secure');
  });
});

describe('primary-only mode with failmode groups', () => {
  for (const [failmode, key] of [
    ['safe', `failmode_secure_groups = ${CONTRACTORS}`],
    ['secure', `failmode_safe_groups = ${VPN_USERS}`],
  ] as const) {
    it(`in a failmode=${failmode} section allows alice with the fail-open attributes and denies carol`, async () => {
      const proxy = await groupProxy(failmode, [key, FAIL_OPEN]);
      try {
        enablePrimaryOnly(proxy.config.main.stateDir, {
          nowMs: Date.now(),
          minutes: 30,
          actor: 'cli:tester',
          reason: 'group drill',
        });
        proxy.proxy.primaryOnly.poll();
        await waitForFileText(proxy.authproxyLog, 'Primary only mode enabled by cli:tester');
        const alice = await login(proxy, 'alice');
        assert.equal(alice.code, 'Access-Accept', alice.output);
        assertFailOpenAttributes(alice.output);
        const aliceEvent = await eventFor(proxy, 'alice');
        assert.equal(aliceEvent.msg, 'Primary Only Mode - Secondary authentication bypassed');
        assert.equal(aliceEvent.reason, 'primary-only-safe');
        assert.equal(aliceEvent.second_factor_checked, false);
        assert.equal(aliceEvent.effective_failmode, failmode === 'secure' ? 'safe' : undefined);

        const carol = await login(proxy, 'carol');
        assert.equal(carol.code, 'Access-Reject', carol.output);
        const carolEvent = await eventFor(proxy, 'carol');
        assert.equal(carolEvent.reason, 'primary-only-secure');
        assert.equal(carolEvent.effective_failmode, failmode === 'safe' ? 'secure' : undefined);
      } finally {
        await proxy.close();
      }
    });
  }
});

describe('other outages and directories', () => {
  it('denies the secure group when the service is blackholed, and allows the others', async () => {
    const tls = await testTlsMaterial();
    const fault: FaultServer = await startFaultServer('blackhole', {
      certPem: tls.certPem,
      keyPem: tls.keyPem,
    });
    const proxy = await groupProxy('safe', [`failmode_secure_groups = ${CONTRACTORS}`, FAIL_OPEN], {
      apiPort: fault.port,
    });
    try {
      const [carol, bob] = [await login(proxy, 'carol'), await login(proxy, 'bob')];
      assert.equal(carol.code, 'Access-Reject', carol.output);
      assert.equal(bob.code, 'Access-Accept', bob.output);
      assertFailOpenAttributes(bob.output);
      assert.equal((await eventFor(proxy, 'carol')).effective_failmode, 'secure');
    } finally {
      await proxy.close();
      await fault.close();
    }
  });

  it('reads the groups from memberOf (memberof overlay), matching DNs whatever their case', async () => {
    const proxy = await groupProxy(
      'safe',
      ['failmode_secure_groups = CN=Contractors, OU=Groups, DC=example, DC=org'],
      { ldap: memberOfSlapd },
    );
    try {
      assert.equal((await login(proxy, 'carol')).code, 'Access-Reject');
      const alice = await login(proxy, 'alice');
      assert.equal(alice.code, 'Access-Accept', alice.output);
      // No fail_open_attributes configured: none added.
      assert.doesNotMatch(alice.output, /Filter-Id|Class/);
      const event = await eventFor(proxy, 'carol');
      assert.equal(event.failmode_group, 'CN=Contractors, OU=Groups, DC=example, DC=org');
    } finally {
      await proxy.close();
    }
  });
});
