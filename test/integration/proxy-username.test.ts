// Security finding 1 through the RADIUS proxy: radclient → proxy (slapd primary) → service. Every
// spelling slapd accepts for alice must reach the service as alice, so the second factor is
// asked for even where the application lets unknown users in (new-user policy allow).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Application } from '../../src/core/model.ts';
import { radclient, startSlapd, waitForFileText, type ExternalServer } from './external-servers.ts';
import { adClientSection, RADIUS_SECRET, startTestProxy, type TestProxy } from './proxy-harness.ts';
import { startService, totpAt, type Harness } from './service-harness.ts';
import type { TOTP } from 'otpauth';

let service: Harness;
let slapd: ExternalServer;
let proxy: TestProxy;
let app: Application;
let aliceTotp: TOTP;

before(async () => {
  [service, slapd] = await Promise.all([startService(), startSlapd()]);
  app = await service.createApp({ newUserPolicy: 'allow' });
  aliceTotp = (await service.createUser('alice', { totp: true })).totp!;
  proxy = await startTestProxy({
    clientSection: adClientSection(slapd.port),
    clientName: 'ad_client',
    ikey: app.ikey,
    skey: app.skey,
    apiPort: service.port,
    caPem: service.caPem,
    failmode: 'secure',
  });
});
after(async () => {
  await proxy?.close();
  await service?.close();
  await slapd?.stop();
});

/** radclient's attribute syntax: a backslash in a quoted string is written twice. */
const quoted = (text: string) => `"${text.replace(/\\/g, '\\\\')}"`;

const login = (username: string, password: string) =>
  radclient(
    proxy.port,
    RADIUS_SECRET,
    `User-Name = ${quoted(username)}, User-Password = ${quoted(password)}, Message-Authenticator = 0x00`,
  );

describe('usernames through the RADIUS proxy with an LDAP primary', () => {
  for (const spelling of ['Alice', 'alice ', 'EXAMPLE\\alice', 'alice@example.org']) {
    it(`${JSON.stringify(spelling)} with alice's password still needs alice's second factor`, async () => {
      const wrong = await login(spelling, 'alicepw,000000');
      assert.equal(wrong.code, 'Access-Reject', wrong.output);
    });
  }

  it('a right passcode under another spelling logs in as alice', async () => {
    const ok = await login('EXAMPLE\\Alice', `alicepw,${totpAt(aliceTotp, service.clock)}`);
    assert.equal(ok.code, 'Access-Accept', ok.output);
    await waitForFileText(proxy.authEventsLog, '"status":"Allow"');
    const events = readFileSync(proxy.authEventsLog, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const allowed = events.filter((e) => e.status === 'Allow');
    assert.equal(allowed.length, 1);
    assert.equal(allowed[0]?.username, 'alice', 'the event names the directory user');
    assert.equal(allowed[0]?.second_factor_checked, true);
  });

  it('the wrong password under any spelling is rejected by the directory', async () => {
    const res = await login('ALICE', 'bobpw,000000');
    assert.equal(res.code, 'Access-Reject', res.output);
  });
});
