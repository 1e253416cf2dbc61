// Upstream RADIUS primary authentication against a real FreeRADIUS 3.2.1 (scripts/start-freeradius.sh), signing its
// replies with a Message-Authenticator as hardened and as stock, and local UDP fakes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createAttribute, getAttribute } from '../../src/protocol/radius/radius-attributes.ts';
import { computeResponseAuthenticator } from '../../src/protocol/radius/radius-crypto.ts';
import { encodePacket, type RadiusAttribute } from '../../src/protocol/radius/radius-packet.ts';
import {
  decodeAccessRequest,
  decodePasswordText,
  type AccessRequest,
} from '../../src/protocol/radius/radius-request.ts';
import {
  encodeResponse,
  type AccessResponseCode,
} from '../../src/protocol/radius/radius-response.ts';
import type { PrimaryResult } from '../../src/proxy/primary/primary-authenticator.ts';
import {
  createRadiusPrimary,
  type RadiusPrimary,
  type RadiusPrimaryOptions,
} from '../../src/proxy/primary/radius-primary.ts';
import { CryptoRandom } from '../../src/runtime/random.ts';

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../scripts/', import.meta.url));
const SECRET = 'testing123';
const LOCALHOST = '127.0.0.1';

/** A UDP port nothing listens on (bound, then released). */
async function closedUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, LOCALHOST, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

/** A local upstream built on our own codec: `answer` decides per received datagram. */
class FakeUpstream {
  readonly received: Buffer[] = [];
  readonly senderPorts: number[] = [];
  readonly #socket = dgram.createSocket('udp4');
  port = 0;

  constructor(
    private readonly answer: (
      request: AccessRequest,
      copy: number,
    ) =>
      | {
          code: AccessResponseCode;
          attributes?: RadiusAttribute[];
          secret?: string;
          /** False: a reply without Message-Authenticator (a pre-3.2.5 FreeRADIUS, or a forgery). */
          messageAuthenticator?: boolean;
        }
      | undefined,
  ) {}

  async start(): Promise<this> {
    this.#socket.on('message', (datagram, rinfo) => {
      this.received.push(datagram);
      this.senderPorts.push(rinfo.port);
      const request = decodeAccessRequest(datagram, SECRET, { requireMessageAuthenticator: true });
      const copy = this.received.filter((d) => d.equals(datagram)).length;
      const reply = this.answer(request, copy);
      if (reply === undefined) return;
      const response =
        reply.messageAuthenticator === false
          ? encodeResponseWithoutMessageAuthenticator(
              request,
              reply.code,
              reply.attributes ?? [],
              reply.secret ?? SECRET,
            )
          : encodeResponse({
              request,
              code: reply.code,
              attributes: reply.attributes ?? [],
              secret: reply.secret ?? SECRET,
            });
      this.#socket.send(response, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => this.#socket.bind(0, LOCALHOST, resolve));
    this.port = this.#socket.address().port;
    return this;
  }

  sendRaw(bytes: Buffer, port: number): void {
    this.#socket.send(bytes, port, LOCALHOST);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(resolve));
  }
}

/** A response with a valid Response Authenticator but no Message-Authenticator (RFC 2865 §3 only). */
function encodeResponseWithoutMessageAuthenticator(
  request: AccessRequest,
  code: AccessResponseCode,
  attributes: RadiusAttribute[],
  secret: string,
): Buffer {
  const bytes = encodePacket({
    code,
    identifier: request.identifier,
    authenticator: request.authenticator,
    attributes,
  });
  computeResponseAuthenticator(bytes, request.authenticator, secret).copy(bytes, 4);
  return bytes;
}

/** Starts scripts/start-freeradius.sh on a free port with `env`. */
async function startFreeradius(
  env: Record<string, string> = {},
): Promise<{ dir: string; port: number }> {
  const port = await closedUdpPort();
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [SCRIPTS + 'start-freeradius.sh'], {
      env: { ...process.env, RADIUS_PORT: String(port), ...env },
    }));
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(
      `FreeRADIUS could not be started by scripts/start-freeradius.sh (install with: apt-get install freeradius): ${stderr ?? String(error)}`,
      { cause: error },
    );
  }
  const dir = /dir (\S+)\s*$/.exec(stdout)?.[1];
  assert.ok(dir, `unexpected start-freeradius.sh output: ${stdout}`);
  return { dir, port };
}

/** A logger that keeps every warning line. */
function recordingLogger(): {
  warnings: string[];
  debug(): void;
  warn(obj: object, msg: string): void;
} {
  const warnings: string[] = [];
  return {
    warnings,
    debug() {},
    warn(obj, msg) {
      warnings.push(`${msg} ${JSON.stringify(obj)}`);
    },
  };
}

describe('RADIUS primary authentication', () => {
  /** Signs its replies with a Message-Authenticator (the script's default). */
  let freeradius: { dir: string; port: number };
  /** Stock FreeRADIUS 3.2.1: replies without Message-Authenticator. */
  let unsigned: { dir: string; port: number };
  const opened: RadiusPrimary[] = [];
  const fakes: FakeUpstream[] = [];

  const primary = (options: Partial<RadiusPrimaryOptions> = {}): RadiusPrimary => {
    const created = createRadiusPrimary({
      hosts: [{ host: LOCALHOST, port: freeradius.port }],
      secret: SECRET,
      random: new CryptoRandom(),
      retryWaitMs: 3000, // above FreeRADIUS's 1 s reject_delay
      ...options,
    });
    opened.push(created);
    return created;
  };
  const fake = async (answer: ConstructorParameters<typeof FakeUpstream>[0]) => {
    const upstream = await new FakeUpstream(answer).start();
    fakes.push(upstream);
    return upstream;
  };

  before(async () => {
    [freeradius, unsigned] = await Promise.all([
      startFreeradius(),
      startFreeradius({ RADIUS_REPLY_MESSAGE_AUTHENTICATOR: 'no' }),
    ]);
  });

  after(async () => {
    await Promise.all(opened.map((p) => p.close()));
    await Promise.all(fakes.map((f) => f.close()));
    for (const server of [freeradius, unsigned]) {
      if (server !== undefined) await run('bash', [SCRIPTS + 'stop-freeradius.sh', server.dir]);
    }
  });

  it('accepts carol and passes through Reply-Message and Class from FreeRADIUS', async () => {
    const result = await primary({ passThroughAttrNames: ['Reply-Message', 'class'] }).authenticate(
      {
        username: 'carol',
        password: 'secret',
        clientIp: '192.0.2.7',
      },
    );
    assert.equal(result.kind, 'accept');
    assert.deepEqual(result, {
      kind: 'accept',
      groups: [],
      attributes: [
        createAttribute('Reply-Message', 'Hello carol'),
        createAttribute('Class', Buffer.from('airlock-class')),
      ],
      message: 'Hello carol',
    });
  });

  it('passes through only the configured attributes', async () => {
    const result = await primary({ passThroughAttrNames: ['Class'] }).authenticate({
      username: 'carol',
      password: 'secret',
    });
    assert.equal(result.kind, 'accept');
    assert.deepEqual(result.kind === 'accept' && result.attributes, [
      createAttribute('Class', Buffer.from('airlock-class')),
    ]);
  });

  it('accepts alice, with NAS-IP-Address, and many logins in parallel', async () => {
    const client = primary({ nasIp: '10.9.8.7' });
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        client.authenticate({ username: 'alice', password: 'alicepw' }),
      ),
    );
    for (const result of results)
      assert.deepEqual(result, { kind: 'accept', groups: [], attributes: [] });
  });

  it('rejects a wrong password', async () => {
    const result = await primary().authenticate({ username: 'alice', password: 'wrong' });
    assert.deepEqual(result, { kind: 'reject', reason: 'upstream-reject' });
  });

  it('verifies the Message-Authenticator FreeRADIUS signs its accepts and rejects with', async () => {
    const client = primary();
    assert.deepEqual(await client.authenticate({ username: 'alice', password: 'alicepw' }), {
      kind: 'accept',
      groups: [],
      attributes: [],
    });
    assert.deepEqual(await client.authenticate({ username: 'alice', password: 'wrong' }), {
      kind: 'reject',
      reason: 'upstream-reject',
    });
    assert.deepEqual(client.droppedReplies(), {});
  });

  it('refuses by default the replies of a FreeRADIUS 3.2.1 that signs none, and logs why', async () => {
    const logger = recordingLogger();
    const result = await primary({
      hosts: [{ host: LOCALHOST, port: unsigned.port }],
      logger,
    }).authenticate({ username: 'alice', password: 'alicepw' });
    assert.deepEqual(result, { kind: 'error', reason: 'upstream-missing-message-authenticator' });
    assert.ok(
      logger.warnings.some((w) => w.includes('has no Message-Authenticator, which is required')),
      logger.warnings.join('\n'),
    );
  });

  it('accepts the unsigned replies of FreeRADIUS 3.2.1 only with requireMessageAuthenticator off', async () => {
    const result = await primary({
      hosts: [{ host: LOCALHOST, port: unsigned.port }],
      requireMessageAuthenticator: false,
    }).authenticate({ username: 'alice', password: 'alicepw' });
    assert.deepEqual(result, { kind: 'accept', groups: [], attributes: [] });
  });

  it('refuses by default an Access-Accept without Message-Authenticator (BlastRADIUS forgery)', async () => {
    // Its Response Authenticator verifies, as a Blast-RADIUS collision's would: only the missing
    // Message-Authenticator gives it away.
    const upstream = await fake(() => ({ code: 'Access-Accept', messageAuthenticator: false }));
    const logger = recordingLogger();
    const result = await primary({
      hosts: [{ host: LOCALHOST, port: upstream.port }],
      retryWaitMs: 1000,
      logger,
    }).authenticate({ username: 'mallory', password: 'guess' });
    assert.deepEqual(result, { kind: 'error', reason: 'upstream-missing-message-authenticator' });
    assert.equal(logger.warnings.length, 1, logger.warnings.join('\n'));
    assert.match(logger.warnings[0]!, /has no Message-Authenticator, which is required/);

    const lax = await primary({
      hosts: [{ host: LOCALHOST, port: upstream.port }],
      retryWaitMs: 1000,
      requireMessageAuthenticator: false,
    }).authenticate({ username: 'mallory', password: 'guess' });
    assert.equal(lax.kind, 'accept', 'accepted only with the requirement turned off');
  });

  it('reports upstream-timeout after the retries when the only host is closed', async () => {
    const client = primary({
      hosts: [{ host: LOCALHOST, port: await closedUdpPort() }],
      retries: 2,
      retryWaitMs: 50,
    });
    const started = performance.now();
    const result = await client.authenticate({ username: 'alice', password: 'alicepw' });
    assert.deepEqual(result, { kind: 'error', reason: 'upstream-timeout' });
    assert.ok(performance.now() - started >= 3 * 50 - 5, 'waited once per send: 1 + 2 retries');
  });

  it('retransmits the same packet when the first one is lost', async () => {
    const upstream = await fake((request, copy) =>
      copy === 1
        ? undefined // lost
        : {
            code: 'Access-Accept',
            attributes: [createAttribute('Reply-Message', `hi ${request.userName}`)],
          },
    );
    const result = await primary({
      hosts: [{ host: LOCALHOST, port: upstream.port }],
      retryWaitMs: 100,
      nasIp: '10.9.8.7',
    }).authenticate({ username: 'dave', password: 'pw1', clientIp: '192.0.2.7' });
    assert.deepEqual(result, { kind: 'accept', groups: [], attributes: [], message: 'hi dave' });
    assert.equal(upstream.received.length, 2);
    assert.deepEqual(
      upstream.received[1],
      upstream.received[0],
      'a retransmission is the same packet',
    );
    const request = decodeAccessRequest(upstream.received[0]!, SECRET, {
      requireMessageAuthenticator: true,
    });
    assert.equal(request.attributes[0]!.type, 80, 'Message-Authenticator first');
    assert.equal(decodePasswordText(request.password!), 'pw1');
    assert.equal(getAttribute(request.attributes, 'NAS-IP-Address'), '10.9.8.7');
    assert.equal(getAttribute(request.attributes, 'Calling-Station-Id'), '192.0.2.7');
  });

  it('fails over to host 2 when host 1 does not answer, after its retries', async () => {
    const blackhole = await fake(() => undefined);
    const result = await primary({
      hosts: [
        { host: LOCALHOST, port: blackhole.port },
        { host: LOCALHOST, port: freeradius.port },
      ],
      retries: 2,
      retryWaitMs: 100,
      passThroughAttrNames: ['Class'],
    }).authenticate({ username: 'carol', password: 'secret' });
    assert.equal(result.kind, 'accept');
    assert.equal(result.kind === 'accept' && result.message, 'Hello carol');
    assert.equal(blackhole.received.length, 3, 'first send and 2 retries to host 1');
    assert.ok(blackhole.received.every((d) => d.equals(blackhole.received[0]!)));
  });

  it('fails over to host 2 when host 1 is closed', async () => {
    const result = await primary({
      hosts: [
        { host: LOCALHOST, port: await closedUdpPort() },
        { host: LOCALHOST, port: freeradius.port },
      ],
      retries: 0,
      retryWaitMs: 100,
    }).authenticate({ username: 'alice', password: 'alicepw' });
    assert.deepEqual(result, { kind: 'accept', groups: [], attributes: [] });
  });

  it('ignores a forged reply and waits for the genuine one', async () => {
    const upstream = await fake((_request, copy) =>
      copy === 1
        ? { code: 'Access-Accept', secret: 'forger-does-not-know-it' }
        : { code: 'Access-Reject', attributes: [createAttribute('Reply-Message', 'no')] },
    );
    const client = primary({ hosts: [{ host: LOCALHOST, port: upstream.port }], retryWaitMs: 100 });
    const result = await client.authenticate({ username: 'eve', password: 'pw' });
    assert.deepEqual(result, { kind: 'reject', reason: 'upstream-reject', message: 'no' });
    assert.deepEqual(client.droppedReplies(), { RADIUS_BAD_RESPONSE_AUTHENTICATOR: 1 });
    assert.equal(upstream.received.length, 2);
  });

  it('counts garbage and unsolicited replies as dropped', async () => {
    const upstream = await fake(() => ({ code: 'Access-Accept' }));
    const client = primary({
      hosts: [{ host: LOCALHOST, port: upstream.port }],
      retryWaitMs: 1000,
    });
    assert.equal((await client.authenticate({ username: 'a', password: 'b' })).kind, 'accept');
    const clientPort = upstream.senderPorts[0]!;
    upstream.sendRaw(Buffer.from('not radius'), clientPort);
    const late = Buffer.alloc(20);
    late[0] = 2;
    late.writeUInt16BE(20, 2);
    upstream.sendRaw(late, clientPort);
    const deadline = Date.now() + 5000;
    while (Object.keys(client.droppedReplies()).length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(client.droppedReplies(), { RADIUS_TRUNCATED: 1, 'unknown-identifier': 1 });
  });

  it('rejects an upstream Access-Challenge as unsupported', async () => {
    const upstream = await fake(() => ({
      code: 'Access-Challenge',
      attributes: [
        createAttribute('State', Buffer.from('s')),
        createAttribute('Reply-Message', 'Enter your token'),
      ],
    }));
    const result = await primary({
      hosts: [{ host: LOCALHOST, port: upstream.port }],
    }).authenticate({
      username: 'frank',
      password: 'pw',
    });
    assert.deepEqual(result, {
      kind: 'reject',
      reason: 'upstream-challenge-unsupported',
      message: 'Enter your token',
    });
  });

  it('keeps at most 256 requests in flight and queues the rest', async () => {
    const held: (() => void)[] = [];
    const outstanding = new Map<number, string>();
    let maxOutstanding = 0;
    let conflicts = 0;
    let released = false;
    const socket = dgram.createSocket('udp4');
    socket.on('message', (datagram, rinfo) => {
      const request = decodeAccessRequest(datagram, SECRET, { requireMessageAuthenticator: true });
      const authenticator = request.authenticator.toString('hex');
      const known = outstanding.get(request.identifier);
      if (known !== undefined && known !== authenticator) conflicts++;
      outstanding.set(request.identifier, authenticator);
      maxOutstanding = Math.max(maxOutstanding, outstanding.size);
      const reply = () => {
        outstanding.delete(request.identifier);
        const response = encodeResponse({
          request,
          code: 'Access-Accept',
          attributes: [],
          secret: SECRET,
        });
        socket.send(response, rinfo.port, rinfo.address);
      };
      // Hold every reply until 256 requests are waiting, then answer all, and later ones at once.
      if (released) return reply();
      held.push(reply);
      if (held.length === 256) {
        released = true;
        for (const send of held.splice(0)) send();
      }
    });
    await new Promise<void>((resolve) => socket.bind(0, LOCALHOST, resolve));
    try {
      const client = primary({
        hosts: [{ host: LOCALHOST, port: socket.address().port }],
        retryWaitMs: 10_000,
      });
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          client.authenticate({ username: `u${i}`, password: 'pw' }),
        ),
      );
      assert.ok(results.every((r: PrimaryResult) => r.kind === 'accept'));
      assert.equal(maxOutstanding, 256);
      assert.equal(conflicts, 0, 'no Identifier reused while in flight');
    } finally {
      await new Promise<void>((resolve) => socket.close(resolve));
    }
  });

  it('ends pending logins with error "closed" on close()', async () => {
    const blackhole = await fake(() => undefined);
    const client = primary({
      hosts: [{ host: LOCALHOST, port: blackhole.port }],
      retryWaitMs: 60_000,
    });
    const pending = client.authenticate({ username: 'alice', password: 'alicepw' });
    while (blackhole.received.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await client.close();
    assert.deepEqual(await pending, { kind: 'error', reason: 'closed' });
    assert.deepEqual(await client.authenticate({ username: 'a', password: 'b' }), {
      kind: 'error',
      reason: 'closed',
    });
  });

  it('refuses a password PAP cannot carry without sending it', async () => {
    const blackhole = await fake(() => undefined);
    const client = primary({ hosts: [{ host: LOCALHOST, port: blackhole.port }] });
    assert.deepEqual(await client.authenticate({ username: 'a', password: 'x'.repeat(129) }), {
      kind: 'reject',
      reason: 'password-too-long',
    });
    assert.equal(blackhole.received.length, 0);
  });

  it('refuses unknown pass-through attribute names and bad options at creation', () => {
    assert.throws(() => primary({ passThroughAttrNames: ['No-Such-Attr'] }), /No-Such-Attr/);
    assert.throws(() => primary({ hosts: [] }), TypeError);
    assert.throws(() => primary({ secret: '' }), TypeError);
    assert.throws(() => primary({ nasIp: '::1' }), TypeError);
    assert.throws(() => primary({ retries: -1 }), RangeError);
  });
});
