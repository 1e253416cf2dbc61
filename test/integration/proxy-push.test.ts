// Push over RADIUS: radclient → proxy (slapd primary) → service → the user's authenticator, and
// back. The proxy waits on the service's result stream; retransmits never send a second push.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DeviceClient,
  newDeviceKey,
  type LoginRequest,
} from '../../src/authenticator/device-client.ts';
import type { Application } from '../../src/core/model.ts';
import { airlockJson } from './airlock-process.ts';
import { radclient, startSlapd, type ExternalServer } from './external-servers.ts';
import { adClientSection, RADIUS_SECRET, startTestProxy, type TestProxy } from './proxy-harness.ts';
import { startService, type Harness } from './service-harness.ts';
import type { KeyObject } from 'node:crypto';

let service: Harness;
let slapd: ExternalServer;
let app: Application;
let devices: DeviceClient;
const phones = new Map<string, { deviceId: string; privateKey: KeyObject }>();

before(async () => {
  [service, slapd] = await Promise.all([startService({ authStatusWaitSeconds: 1 }), startSlapd()]);
  app = await service.createApp();
  devices = new DeviceClient({ apiHost: `localhost:${service.port}`, caPem: service.caPem });
  for (const username of ['alice', 'bob', 'carol', 'dave']) {
    const { id } = await service.createUser(username);
    const code = `${username.toUpperCase()}`.padEnd(20, '0');
    await service.store.createDeviceActivation({
      activationCode: code,
      userId: id,
      expiresAtMs: service.clock.nowMs() + 600_000,
    });
    const key = newDeviceKey();
    const activated = await devices.activate({
      activationCode: code,
      publicJwk: key.publicJwk,
      name: `${username}'s phone`,
      platform: 'cli',
    });
    phones.set(username, { deviceId: activated.deviceId, privateKey: key.privateKey });
  }
});
after(async () => {
  devices?.close();
  await service?.close();
  await slapd?.stop();
});

const proxyFor = (kind: 'radius_server_auto' | 'radius_server_challenge', extra: string[] = []) =>
  startTestProxy({
    serverKind: kind,
    clientSection: adClientSection(slapd.port),
    clientName: 'ad_client',
    ikey: app.ikey,
    skey: app.skey,
    apiPort: service.port,
    caPem: service.caPem,
    failmode: 'secure',
    extra,
  });

const login = (
  proxy: TestProxy,
  username: string,
  password: string,
  more = '',
  options: { timeoutSeconds?: number; retries?: number } = {},
) =>
  radclient(
    proxy.port,
    RADIUS_SECRET,
    `User-Name = "${username}", User-Password = "${password}", Message-Authenticator = 0x00${more}`,
    options,
  );

/** The user's next login request, as their phone sees it (long poll). */
async function pushFor(username: string): Promise<LoginRequest> {
  const phone = phones.get(username)!;
  for (;;) {
    const requests = await devices.requests(phone, 10);
    if (requests.length > 0) return requests[0]!;
  }
}

async function pushesSent(username: string): Promise<number> {
  return (await service.store.listAudit({ username, action: 'auth.push.sent' })).length;
}

describe('push through the RADIUS proxy', () => {
  let proxy: TestProxy;
  before(async () => {
    proxy = await proxyFor('radius_server_auto', ['push_timeout=6']);
  });
  after(async () => {
    await proxy?.close();
  });

  it('accepts when the user approves the push on the device', async () => {
    const answer = login(proxy, 'alice', 'alicepw', '', { timeoutSeconds: 15 });
    const request = await pushFor('alice');
    assert.equal(request.username, 'alice');
    assert.equal(request.ipaddr, null);
    await devices.answer(phones.get('alice')!, request.txid, 'approve');
    const res = await answer;
    assert.equal(res.code, 'Access-Accept', res.output);
    const last = proxy.events().at(-1);
    assert.equal(last?.factor, 'auto');
    assert.equal(last?.second_factor_checked, true);
  });

  it('rejects when the user denies it, with the service message', async () => {
    const answer = login(proxy, 'bob', 'bobpw', '', { timeoutSeconds: 15 });
    const request = await pushFor('bob');
    await devices.answer(phones.get('bob')!, request.txid, 'deny');
    const res = await answer;
    assert.equal(res.code, 'Access-Reject', res.output);
    assert.equal(res.replyMessage, 'Login request denied.');
  });

  it('sends one push for a request the NAS retransmits while the user decides', async () => {
    const before = await pushesSent('carol');
    // radclient resends every second; the user answers after about three seconds.
    const answer = login(proxy, 'carol', 'carolpw', '', { timeoutSeconds: 1, retries: 8 });
    const request = await pushFor('carol');
    await new Promise((r) => setTimeout(r, 3_000));
    await devices.answer(phones.get('carol')!, request.txid, 'approve');
    const res = await answer;
    assert.equal(res.code, 'Access-Accept', res.output);
    assert.equal((await pushesSent('carol')) - before, 1);
    assert.ok(
      (res.output.match(/Sent Access-Request/g) ?? []).length > 1,
      `radclient retransmitted: ${res.output}`,
    );
  });

  it('rejects after push_timeout when nobody answers, before the NAS gives up', async () => {
    const started = Date.now();
    const res = await login(proxy, 'dave', 'davepw', '', { timeoutSeconds: 15 });
    assert.equal(res.code, 'Access-Reject', res.output);
    assert.match(res.replyMessage ?? '', /Login timed out: no answer to the auto within 6 s/);
    assert.ok(Date.now() - started < 15_000);
    // The phone still sees it (the service's push lives 60 s); answering later changes nothing.
    const request = await pushFor('dave');
    await devices.answer(phones.get('dave')!, request.txid, 'deny');
  });

  it('a wrong password sends no push', async () => {
    const before = await pushesSent('alice');
    const res = await login(proxy, 'alice', 'wrong');
    assert.equal(res.code, 'Access-Reject', res.output);
    assert.equal(await pushesSent('alice'), before);
  });
});

describe('challenge_push in [radius_server_challenge]', () => {
  it('pushes with the challenge; Enter after approving logs in', async () => {
    const proxy = await proxyFor('radius_server_challenge', ['challenge_push=true']);
    try {
      const first = await login(proxy, 'alice', 'alicepw');
      assert.equal(first.code, 'Access-Challenge', first.output);
      assert.match(first.replyMessage ?? '', /Approve it, then press Enter/);
      const request = await pushFor('alice');
      await devices.answer(phones.get('alice')!, request.txid, 'approve');
      const second = await login(proxy, 'alice', '', `, State = ${first.state}`);
      assert.equal(second.code, 'Access-Accept', second.output);
    } finally {
      await proxy.close();
    }
  });

  it('a denied push makes Enter a reject', async () => {
    const proxy = await proxyFor('radius_server_challenge', ['challenge_push=true']);
    try {
      const first = await login(proxy, 'bob', 'bobpw');
      const request = await pushFor('bob');
      await devices.answer(phones.get('bob')!, request.txid, 'fraud');
      const second = await login(proxy, 'bob', '', `, State = ${first.state}`);
      assert.equal(second.code, 'Access-Reject', second.output);
      assert.equal(second.replyMessage, 'Login request reported as fraudulent.');
    } finally {
      await proxy.close();
    }
  });
});

describe('the CLI authenticator answers a push started by radclient', () => {
  it('approves with `airlock authenticator approve`, and denies with `deny --fraud`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-pp-'));
    const proxy = await proxyFor('radius_server_auto');
    try {
      // dave's only device becomes the CLI authenticator's.
      assert.equal(await service.store.deleteDevice(phones.get('dave')!.deviceId), true);
      const { id } = (await service.store.findUser('dave'))!;
      await service.store.createDeviceActivation({
        activationCode: 'DAVECLI0000000000000',
        userId: id,
        expiresAtMs: service.clock.nowMs() + 600_000,
      });
      writeFileSync(join(dir, 'ca.pem'), service.caPem);
      const state = ['--state', join(dir, 'auth.json')];
      await airlockJson([
        'authenticator',
        'activate',
        'DAVECLI0000000000000',
        '--api-host',
        `localhost:${service.port}`,
        '--ca',
        join(dir, 'ca.pem'),
        ...state,
      ]);
      const answer = login(proxy, 'dave', 'davepw', '', { timeoutSeconds: 20 });
      const pending = await airlockJson<{ txid: string; username: string }[]>([
        'authenticator',
        'pending',
        '--wait',
        '10',
        ...state,
      ]);
      assert.equal(pending.length, 1);
      assert.equal(pending[0]?.username, 'dave');
      await airlockJson(['authenticator', 'approve', pending[0].txid, ...state]);
      const res = await answer;
      assert.equal(res.code, 'Access-Accept', res.output);

      // And a login the user did not start: denied and reported from the CLI.
      const second = login(proxy, 'dave', 'davepw', '', { timeoutSeconds: 20 });
      const next = await airlockJson<{ txid: string }[]>([
        'authenticator',
        'pending',
        '--wait',
        '10',
        ...state,
      ]);
      assert.equal(next.length, 1);
      await airlockJson(['authenticator', 'deny', next[0]!.txid, '--fraud', ...state]);
      const denied = await second;
      assert.equal(denied.code, 'Access-Reject', denied.output);
      assert.equal(denied.replyMessage, 'Login request reported as fraudulent.');
    } finally {
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
