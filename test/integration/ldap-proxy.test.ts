// [ldap_server_auto] end to end: ldapwhoami/ldapsearch (ldap-utils) and ldapts bind through the
// proxy to a real slapd, the Airlock service checks the second factor. Also StartTLS and LDAPS
// towards the client, SASL refused, the bind rules, and malformed messages (table-driven).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'ldapts';
import type { Application } from '../../src/core/model.ts';
import {
  decodeLdapMessage,
  encodeBindRequest,
  encodeSaslBindRequest,
  splitLdapFrames,
  type LdapMessage,
} from '../../src/protocol/ldap/ldap-message.ts';
import { startSlapd, waitForFileText, type ExternalServer } from './external-servers.ts';
import { testTlsMaterial, type TestTlsMaterial } from './fault-servers.ts';
import { adClientSection, startTestProxy, type TestProxy } from './proxy-harness.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';
import { freeTcpPort } from './external-servers.ts';

const SVC_DN = 'cn=airlock-svc,dc=example,dc=org';
const ALICE_DN = 'uid=alice,ou=people,dc=example,dc=org';
const BOB_DN = 'uid=bob,ou=people,dc=example,dc=org';

let service: Harness;
let slapd: ExternalServer;
let app: Application;
let alice: Awaited<ReturnType<Harness['createUser']>>;
let tls: TestTlsMaterial;
/** exempt_primary_bind (default): the bind–search–bind pattern of applications. */
let appProxy: TestProxy;
/** exempt_primary_bind=false: every bind but the service account's (exempt_ou) gets 2FA. */
let userProxy: TestProxy;
let userSslPort: number;
let caFile: string;

before(async () => {
  [service, slapd, tls] = await Promise.all([
    startService(),
    // 2000 more users, so that a search streams thousands of messages through the proxy.
    // slapd caps a paged search's total at its size limit (500) unless told otherwise.
    startSlapd({ LDAP_USERS: '2000', LDAP_EXTRA_CONF: 'limits * size.prtotal=unlimited' }),
    testTlsMaterial(),
  ]);
  app = await service.createApp();
  alice = await service.createUser('alice', { totp: true });
  const common = {
    clientSection: adClientSection(slapd.port),
    clientName: 'ad_client',
    serverKind: 'ldap_server_auto' as const,
    ikey: app.ikey,
    skey: app.skey,
    apiPort: service.port,
    caPem: service.caPem,
    failmode: 'secure' as const,
  };
  appProxy = await startTestProxy(common);
  userSslPort = await freeTcpPort();
  // The proxy's certificate for clients: the harness writes files relative to its directory.
  userProxy = await startTestProxy({
    ...common,
    extra: [
      'exempt_primary_bind=false',
      `exempt_ou_1=${SVC_DN}`,
      'network_timeout=2',
      `ssl_cert_path=${writeTemp('cert.pem', tls.certPem)}`,
      `ssl_key_path=${writeTemp('key.pem', tls.keyPem)}`,
      `ssl_port=${userSslPort}`,
    ],
  });
  caFile = writeTemp('ca.pem', tls.caPem);
});
after(async () => {
  await appProxy?.close();
  await userProxy?.close();
  await service?.close();
  await slapd?.stop();
});

function writeTemp(name: string, text: string): string {
  const path = join(slapd.dir, `proxy-${name}`);
  writeFileSync(path, text);
  return path;
}

/** A fresh TOTP code: the service's clock moves to the next time step first (codes are one-time). */
function nextCode(): string {
  service.clock.advance(30_000);
  return totpAt(alice.totp!, service.clock);
}

interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs an ldap-utils command; its exit status is the LDAP result code. */
function ldapTool(command: string, args: string[]): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        env: { ...process.env, LDAPTLS_CACERT: caFile, LDAPTLS_REQCERT: 'demand' },
        timeout: 30_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const whoami = (proxy: TestProxy, dn: string, password: string, more: string[] = []) =>
  ldapTool('ldapwhoami', [
    '-x',
    '-H',
    `ldap://127.0.0.1:${proxy.port}`,
    '-D',
    dn,
    '-w',
    password,
    ...more,
  ]);

async function eventWith(proxy: TestProxy, marker: string): Promise<Record<string, unknown>> {
  await waitForFileText(proxy.authEventsLog, marker);
  const events = proxy.events().filter((e) => String(e.msg).includes(marker));
  assert.ok(events.length > 0, `no authevents.log record with "${marker}"`);
  return events[events.length - 1]!;
}

describe('[ldap_server_auto] with slapd and the service', () => {
  it("passes the service account's first bind through without a second factor", async () => {
    const res = await whoami(appProxy, SVC_DN, 'svcpw');
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /dn:cn=airlock-svc,dc=example,dc=org/);
    const event = await eventWith(appProxy, 'First bind on the connection exempted from 2FA');
    assert.equal(event.second_factor_checked, false);
    assert.equal(event.reason, 'exempt-primary-bind');
    assert.equal(event.status, 'Allow');
    assert.equal(event.server_section, 'ldap_server_auto');
  });

  it('accepts a user bind with password,TOTP and the directory sees the user', async () => {
    const res = await whoami(userProxy, ALICE_DN, `alicepw,${nextCode()}`);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /dn:uid=alice,ou=people,dc=example,dc=org/);
    const event = await eventWith(userProxy, 'Success. Logging you in...');
    assert.equal(event.second_factor_checked, true);
    assert.equal(event.username, 'alice', 'the service is asked about the uid, not the DN');
    assert.equal(event.client_ip, '127.0.0.1');
    await waitForFileText(userProxy.authproxyLog, "Duo authentication returned 'allow'");
  });

  it('answers invalidCredentials (49) to a wrong code and to a replayed code', async () => {
    const wrong = await whoami(userProxy, ALICE_DN, 'alicepw,000000');
    assert.equal(wrong.code, 49, wrong.stderr);
    const code = nextCode();
    const first = await whoami(userProxy, ALICE_DN, `alicepw,${code}`);
    assert.equal(first.code, 0, first.stderr);
    const replayed = await whoami(userProxy, ALICE_DN, `alicepw,${code}`);
    assert.equal(replayed.code, 49, replayed.stderr);
    assert.match(replayed.stderr, /Invalid credentials \(49\)/);
    const event = await eventWith(userProxy, 'Incorrect passcode');
    assert.equal(event.status, 'Reject');
    assert.equal(event.second_factor_checked, true);
  });

  it("passes the directory's own answer to a wrong password (with or without a code)", async () => {
    const res = await whoami(userProxy, ALICE_DN, 'wrong,123456');
    assert.equal(res.code, 49, res.stderr);
    await eventWith(userProxy, 'Primary credentials rejected - invalid-credentials');
  });

  it("returns the directory's entries to a search after the 2FA bind", async () => {
    const res = await ldapTool('ldapsearch', [
      '-x',
      '-LLL',
      '-H',
      `ldap://127.0.0.1:${userProxy.port}`,
      '-D',
      ALICE_DN,
      '-w',
      `alicepw,${nextCode()}`,
      '-b',
      ALICE_DN,
      '-s',
      'base',
      '(objectClass=*)',
      'uid',
      'cn',
    ]);
    // slapd lets a user read their own entry (scripts/start-slapd.sh ACLs).
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^dn: uid=alice,ou=people,dc=example,dc=org$/m);
    assert.match(res.stdout, /^uid: alice$/m);
  });

  it('serves the bind–search–bind pattern of applications over one connection (ldapts)', async () => {
    const client = new Client({ url: `ldap://127.0.0.1:${appProxy.port}`, timeout: 20_000 });
    try {
      await client.bind(SVC_DN, 'svcpw');
      const { searchEntries } = await client.search('ou=people,dc=example,dc=org', {
        filter: '(uid=alice)',
        attributes: ['uid'],
      });
      assert.deepEqual(
        searchEntries.map((e) => e.dn),
        [ALICE_DN],
      );
      await client.bind(ALICE_DN, `alicepw,${nextCode()}`);
      // allow_unlimited_binds=false: a further bind after a 2FA bind is refused and disconnects.
      await assert.rejects(client.bind(BOB_DN, 'bobpw'));
    } finally {
      await client.unbind().catch(() => undefined);
    }
  });

  it('streams a large paged search through (2000 entries, paged-results controls passed both ways)', async () => {
    const client = new Client({ url: `ldap://127.0.0.1:${appProxy.port}`, timeout: 60_000 });
    try {
      await client.bind(SVC_DN, 'svcpw');
      const { searchEntries } = await client.search('ou=people,dc=example,dc=org', {
        filter: '(uid=user*)',
        attributes: ['uid', 'cn', 'description'],
        // slapd returns at most 500 entries per page: pages of 400 (RFC 2696 controls).
        paged: { pageSize: 400 },
      });
      assert.equal(searchEntries.length, 2000);
      const direct = await ldapTool('ldapsearch', [
        '-x',
        '-LLL',
        '-H',
        `ldap://127.0.0.1:${appProxy.port}`,
        '-D',
        SVC_DN,
        '-w',
        'svcpw',
        '-E',
        'pr=400/noprompt',
        '-b',
        'ou=people,dc=example,dc=org',
        '(uid=user*)',
        'uid',
      ]);
      assert.equal(direct.code, 0, direct.stderr);
      assert.equal(direct.stdout.match(/^dn: /gm)?.length, 2000);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  });

  it('makes the connection anonymous again after the directory accepted but 2FA denied', async () => {
    const client = new Client({ url: `ldap://127.0.0.1:${userProxy.port}`, timeout: 20_000 });
    try {
      await assert.rejects(client.bind(ALICE_DN, 'alicepw,000000'), /Incorrect passcode.*0x31/);
      // slapd's whoami on the same connection: anonymous, not alice.
      const who = await client.exop('1.3.6.1.4.1.4203.1.11.3');
      assert.ok(!who.value?.includes('alice'), `still bound as ${who.value}`);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  });

  it('refuses a SASL bind with unwillingToPerform (53)', async () => {
    const [answer] = await exchange(
      userProxy.port,
      encodeSaslBindRequest({ messageId: 1, name: '', mechanism: 'PLAIN' }),
    );
    assert.ok(answer?.operation.type === 'bindResponse');
    assert.equal(answer.operation.result.resultCode, 53);
  });

  it('refuses an unauthenticated bind (a DN, no password) with unwillingToPerform (53)', async () => {
    const [answer] = await exchange(
      userProxy.port,
      encodeBindRequest({ messageId: 1, name: ALICE_DN, password: '' }),
    );
    assert.ok(answer?.operation.type === 'bindResponse');
    assert.equal(answer.operation.result.resultCode, 53);
    await eventWith(userProxy, 'Unauthenticated bind (a DN with an empty password) refused');
  });

  it('speaks StartTLS and LDAPS with the configured certificate', async () => {
    const startTls = await whoami(userProxy, ALICE_DN, `alicepw,${nextCode()}`, ['-ZZ']);
    assert.equal(startTls.code, 0, startTls.stderr);
    assert.match(startTls.stdout, /dn:uid=alice/);
    const ldaps = await ldapTool('ldapwhoami', [
      '-x',
      '-H',
      `ldaps://127.0.0.1:${userSslPort}`,
      '-D',
      ALICE_DN,
      '-w',
      `alicepw,${nextCode()}`,
    ]);
    assert.equal(ldaps.code, 0, ldaps.stderr);
    assert.match(ldaps.stdout, /dn:uid=alice/);
    // Without the proxy's CA the client refuses the certificate.
    const untrusted = await ldapTool('ldapwhoami', [
      '-x',
      '-H',
      `ldaps://127.0.0.1:${userSslPort}`,
      '-D',
      SVC_DN,
      '-w',
      'svcpw',
      '-o',
      'TLS_CACERT=/dev/null',
    ]);
    assert.notEqual(untrusted.code, 0);
  });

  it('without a certificate answers StartTLS with protocolError (2)', async () => {
    const res = await whoami(appProxy, SVC_DN, 'svcpw', ['-ZZ']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /StartTLS is not configured|Protocol error/i);
  });
});

describe('[ldap_server_auto] directory failover', () => {
  it('reaches the second [ad_client] host when the first refuses connections', async () => {
    // Nothing listens on 127.0.0.2 (all of 127/8 is loopback): connections there are refused.
    const proxy = await startTestProxy({
      clientSection: adClientSection(slapd.port).replace(
        'host=127.0.0.1',
        'host=127.0.0.2\nhost_2=127.0.0.1',
      ),
      clientName: 'ad_client',
      serverKind: 'ldap_server_auto',
      ikey: app.ikey,
      skey: app.skey,
      apiPort: service.port,
      caPem: service.caPem,
      failmode: 'secure',
      extra: ['exempt_primary_bind=false'],
    });
    try {
      const res = await whoami(proxy, ALICE_DN, `alicepw,${nextCode()}`);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /dn:uid=alice/);
    } finally {
      await proxy.close();
    }
  });
});

describe('[ldap_server_auto] to a directory over StartTLS and LDAPS ([ad_client] transport)', () => {
  let tlsSlapd: ExternalServer;
  let ldapsPort: number;
  before(async () => {
    ldapsPort = await freeTcpPort();
    tlsSlapd = await startSlapd({ LDAP_TLS: '1', LDAPS_PORT: String(ldapsPort) });
  });
  after(async () => tlsSlapd?.stop());

  for (const transport of ['starttls', 'ldaps'] as const) {
    it(`binds with password,TOTP through the proxy to a ${transport} directory`, async () => {
      const port = transport === 'ldaps' ? ldapsPort : tlsSlapd.port;
      const proxy = await startTestProxy({
        clientSection: adClientSection(port, [
          `ssl_ca_certs_file=${join(tlsSlapd.dir, 'ca.pem')}`,
        ]).replace('transport=clear', `transport=${transport}`),
        clientName: 'ad_client',
        serverKind: 'ldap_server_auto',
        ikey: app.ikey,
        skey: app.skey,
        apiPort: service.port,
        caPem: service.caPem,
        failmode: 'secure',
        extra: ['exempt_primary_bind=false'],
      });
      try {
        const res = await whoami(proxy, ALICE_DN, `alicepw,${nextCode()}`);
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stdout, /dn:uid=alice/);
        await eventWith(proxy, 'Success. Logging you in...');
      } finally {
        await proxy.close();
      }
    });
  }
});

describe('[ldap_server_auto] malformed messages close that connection only', () => {
  const cases: Array<[string, Buffer]> = [
    ['a 2 GiB length field', Buffer.from('30847fffffff020101', 'hex')],
    ['a length above 1 MiB', Buffer.from('308400100001', 'hex')],
    ['an indefinite length', Buffer.from('3080020101420000', 'hex')],
    ['a child longer than its parent', Buffer.from('300702010160840000ffff', 'hex')],
    ['a 5-octet length field', Buffer.from('30850000000005', 'hex')],
    ['not a SEQUENCE', Buffer.from('0403616263', 'hex')],
    ['nesting 40 levels deep', deepMessage(40)],
    ['a message that never completes (network_timeout)', Buffer.from('30640201', 'hex')],
  ];
  for (const [what, bytes] of cases) {
    it(`closes on ${what} and keeps serving other clients`, async () => {
      const { closed, messages } = await sendAndWaitClose(userProxy.port, bytes);
      assert.ok(closed, 'the proxy did not close the connection');
      const notice = messages.find((m) => m.messageId === 0);
      assert.ok(notice?.operation.type === 'extendedResponse', 'no notice of disconnection');
      const other = await whoami(userProxy, SVC_DN, 'svcpw');
      assert.equal(other.code, 0, other.stderr);
    });
  }
});

/** An opaque [APPLICATION 6] operation wrapping `depth` nested SEQUENCEs. */
function deepMessage(depth: number): Buffer {
  let inner = Buffer.from('3000', 'hex');
  for (let i = 0; i < depth; i++) inner = Buffer.concat([Buffer.from([0x30, inner.length]), inner]);
  const op = Buffer.concat([Buffer.from([0x66, 0x81, inner.length]), inner]);
  const body = Buffer.concat([Buffer.from('020102', 'hex'), op]);
  return Buffer.concat([Buffer.from([0x30, 0x81, body.length]), body]);
}

/** Sends `bytes`, collects the messages the proxy sends back until it closes (10 s at most). */
function sendAndWaitClose(
  port: number,
  bytes: Buffer,
): Promise<{ closed: boolean; messages: LdapMessage[] }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, messages: decodeAll(received) });
    }, 10_000);
    socket.on('data', (c) => {
      received = Buffer.concat([received, c]);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, messages: decodeAll(received) });
    });
    socket.write(bytes);
  });
}

/** Sends one message and returns the first answer. */
function exchange(port: number, bytes: Buffer): Promise<LdapMessage[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    socket.on('data', (c) => {
      received = Buffer.concat([received, c]);
      const messages = decodeAll(received);
      if (messages.length > 0) {
        socket.destroy();
        resolve(messages);
      }
    });
    socket.on('error', reject);
    socket.write(bytes);
  });
}

function decodeAll(bytes: Buffer): LdapMessage[] {
  return splitLdapFrames(bytes).frames.map((f) => decodeLdapMessage(f));
}
