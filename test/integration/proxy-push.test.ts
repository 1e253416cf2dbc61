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
import { randomBytes, type KeyObject } from 'node:crypto';
import dgram from 'node:dgram';
import { createAttribute } from '../../src/protocol/radius/radius-attributes.ts';
import { encodeAccessRequest } from '../../src/protocol/radius/radius-request.ts';
import { verifyResponse } from '../../src/protocol/radius/radius-response.ts';

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

describe('send_push_timeout: the push ends when the proxy stops waiting for it', () => {
  it('takes the push off the phone once push_timeout passed, instead of after 60 s', async () => {
    const proxy = await proxyFor('radius_server_auto', [
      'push_timeout=5',
      'send_push_timeout=true',
    ]);
    try {
      const before = await pushesSent('dave');
      const res = await login(proxy, 'dave', 'davepw', '', { timeoutSeconds: 15 });
      assert.equal(res.code, 'Access-Reject', res.output);
      assert.match(res.replyMessage ?? '', /no answer to the auto within 5 s/);
      assert.equal((await pushesSent('dave')) - before, 1, 'a push was sent');
      const request = await pushFor('dave');
      assert.equal(request.expires - request.time, 5, 'the push lives as long as the proxy waits');
      // The service's clock is the test's: the 5 s the proxy waited pass there too.
      service.clock.advance(5_000);
      assert.deepEqual(await devices.requests(phones.get('dave')!, 1), []);
    } finally {
      await proxy.close();
    }
  });
});

describe('proxy pairs: a NAS that fails over to the other proxy with the same request', () => {
  /**
   * One Access-Request (one Request Authenticator), sent to proxy A and, as a NAS failing over
   * does, the same packet to proxy B a moment later. Resolves with each proxy's answer code.
   */
  async function failover(a: TestProxy, b: TestProxy, username: string, password: string) {
    const nas = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => nas.bind(0, '127.0.0.1', resolve));
    const authenticator = randomBytes(16);
    const packet = encodeAccessRequest({
      identifier: 7,
      authenticator,
      secret: RADIUS_SECRET,
      password,
      attributes: [createAttribute('User-Name', username)],
    });
    const answers = new Map<number, string>();
    const done = new Promise<void>((resolve) => {
      nas.on('message', (msg, from) => {
        const r = verifyResponse({
          request: { identifier: 7, authenticator },
          response: msg,
          secret: RADIUS_SECRET,
          requireMessageAuthenticator: true,
        });
        answers.set(from.port, r.code);
        if (answers.size === 2) resolve();
      });
    });
    nas.send(packet, a.port, '127.0.0.1');
    const request = await pushFor(username);
    nas.send(packet, b.port, '127.0.0.1');
    return {
      request,
      answers: async () => {
        await done;
        nas.close();
        return [answers.get(a.port), answers.get(b.port)];
      },
    };
  }

  const pairProxy = (sendLoginKey: boolean) =>
    proxyFor('radius_server_auto', ['push_timeout=10', `send_login_key=${sendLoginKey}`]);

  it('with send_login_key=true the login gets one push, and both proxies answer it', async () => {
    const [a, b] = await Promise.all([pairProxy(true), pairProxy(true)]);
    try {
      const sentBefore = await pushesSent('carol');
      const pair = await failover(a, b, 'carol', 'carolpw');
      // Proxy B's primary authentication and preauth run, then its push joins A's.
      for (let i = 0; i < 50; i++) {
        const joined = await service.store.listAudit({
          username: 'carol',
          action: 'auth.push.joined',
        });
        if (joined.some((e) => e.detail.txid === pair.request.txid)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await devices.answer(phones.get('carol')!, pair.request.txid, 'approve');
      assert.deepEqual(await pair.answers(), ['Access-Accept', 'Access-Accept']);
      assert.equal((await pushesSent('carol')) - sentBefore, 1);
      const joined = await service.store.listAudit({
        username: 'carol',
        action: 'auth.push.joined',
      });
      assert.equal(joined.filter((e) => e.detail.txid === pair.request.txid).length, 1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('without it (the default, for Duo) each proxy sends its own push', async () => {
    const [a, b] = await Promise.all([pairProxy(false), pairProxy(false)]);
    try {
      const sentBefore = await pushesSent('bob');
      const pair = await failover(a, b, 'bob', 'bobpw');
      // B's push is a second request on bob's phone; approve both.
      await devices.answer(phones.get('bob')!, pair.request.txid, 'approve');
      const second = await pushFor('bob');
      assert.notEqual(second.txid, pair.request.txid);
      await devices.answer(phones.get('bob')!, second.txid, 'approve');
      assert.deepEqual(await pair.answers(), ['Access-Accept', 'Access-Accept']);
      assert.equal((await pushesSent('bob')) - sentBefore, 2);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  /**
   * A NAS in front of radclient: radclient's Access-Request goes to proxy A; `failOver()` sends
   * the very same bytes (Identifier, Request Authenticator, Message-Authenticator) to proxy B from
   * the same socket, as a NAS that gave up on A does. Every answer goes back to radclient, which
   * verifies it with the shared secret and keeps the first.
   */
  async function failoverNas(a: TestProxy, b: TestProxy) {
    const nas = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => nas.bind(0, '127.0.0.1', resolve));
    let request: Buffer | undefined;
    let radclientAt: { address: string; port: number } | undefined;
    const answers = new Map<number, Buffer>();
    nas.on('message', (msg, from) => {
      if (from.port === a.port || from.port === b.port) {
        answers.set(from.port, msg);
        if (radclientAt) nas.send(msg, radclientAt.port, radclientAt.address);
        return;
      }
      radclientAt = from;
      request ??= msg;
      nas.send(msg, a.port, '127.0.0.1');
    });
    const codeOf = (answer: Buffer | undefined) =>
      answer &&
      verifyResponse({
        request: { identifier: request![1]!, authenticator: request!.subarray(4, 20) },
        response: answer,
        secret: RADIUS_SECRET,
        requireMessageAuthenticator: true,
      }).code;
    return {
      port: nas.address().port,
      failOver: () => nas.send(request!, b.port, '127.0.0.1'),
      /** Each proxy's verified answer code, once both answered (bounded). */
      answers: async () => {
        for (let i = 0; i < 100 && answers.size < 2; i++) {
          await new Promise((r) => setTimeout(r, 100));
        }
        return [codeOf(answers.get(a.port)), codeOf(answers.get(b.port))];
      },
      close: () => nas.close(),
    };
  }

  it('radclient through a NAS failing over: one push with send_login_key=true, both proxies accept', async () => {
    const [a, b] = await Promise.all([pairProxy(true), pairProxy(true)]);
    const nas = await failoverNas(a, b);
    try {
      const sentBefore = await pushesSent('dave');
      const answer = radclient(
        nas.port,
        RADIUS_SECRET,
        'User-Name = "dave", User-Password = "davepw", Message-Authenticator = 0x00',
        { timeoutSeconds: 20, retries: 1 },
      );
      const request = await pushFor('dave'); // proxy A's login waits for the user
      nas.failOver();
      const joined = async () =>
        (await service.store.listAudit({ username: 'dave', action: 'auth.push.joined' })).filter(
          (e) => e.detail.txid === request.txid,
        ).length;
      for (let i = 0; i < 50 && (await joined()) === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(await joined(), 1, "proxy B's login joined proxy A's push");
      await devices.answer(phones.get('dave')!, request.txid, 'approve');
      const res = await answer;
      assert.equal(res.code, 'Access-Accept', res.output);
      assert.deepEqual(await nas.answers(), ['Access-Accept', 'Access-Accept']);
      assert.equal((await pushesSent('dave')) - sentBefore, 1, 'one push across the pair');
      assert.deepEqual(await devices.requests(phones.get('dave')!, 0), [], 'no second push');
      for (const proxy of [a, b]) {
        const last = proxy.events().at(-1);
        assert.equal(last?.status, 'Allow');
        assert.equal(last?.second_factor_checked, true);
      }
    } finally {
      nas.close();
      await Promise.all([a.close(), b.close()]);
    }
  });
  it('radclient through a NAS whose Access-Accept from A was lost: B answers from the same push', async () => {
    const [a, b] = await Promise.all([pairProxy(true), pairProxy(true)]);
    const nas = await failoverNas(a, b);
    try {
      const sentBefore = await pushesSent('alice');
      const answer = radclient(
        nas.port,
        RADIUS_SECRET,
        'User-Name = "alice", User-Password = "alicepw", Message-Authenticator = 0x00',
        { timeoutSeconds: 20, retries: 1 },
      );
      const request = await pushFor('alice');
      await devices.answer(phones.get('alice')!, request.txid, 'approve');
      const res = await answer; // A's answer; the NAS sends the same request to B anyway
      assert.equal(res.code, 'Access-Accept', res.output);
      nas.failOver();
      assert.deepEqual(await nas.answers(), ['Access-Accept', 'Access-Accept']);
      assert.equal((await pushesSent('alice')) - sentBefore, 1, 'one push across the pair');
    } finally {
      nas.close();
      await Promise.all([a.close(), b.close()]);
    }
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

  it("keeps the service's push timeout with send_push_timeout=true: the wait starts at Enter", async () => {
    const proxy = await proxyFor('radius_server_challenge', [
      'challenge_push=true',
      'push_timeout=5',
      'send_push_timeout=true',
    ]);
    try {
      const first = await login(proxy, 'carol', 'carolpw');
      assert.equal(first.code, 'Access-Challenge', first.output);
      const request = await pushFor('carol');
      assert.equal(request.expires - request.time, 60);
      service.clock.advance(10_000); // the user takes longer than push_timeout to approve
      await devices.answer(phones.get('carol')!, request.txid, 'approve');
      const second = await login(proxy, 'carol', '', `, State = ${first.state}`);
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
