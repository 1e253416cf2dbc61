// Pieces several benchmarks share: users with an authenticator written straight into the store, a
// NAS that sends many Access-Requests over a few UDP sockets and resends like a real one, process
// memory from /proc, percentiles.
import { createECDH, createPrivateKey, type KeyObject } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openContext } from '../src/cli/open-context.ts';
import { createAttribute, getAttribute } from '../src/protocol/radius/radius-attributes.ts';
import { encodeAccessRequest } from '../src/protocol/radius/radius-request.ts';
import { verifyResponse } from '../src/protocol/radius/radius-response.ts';
import { CryptoRandom, generateId } from '../src/runtime/random.ts';

const random = new CryptoRandom();
/** The built command (npm run build). */
const AIRLOCK_BIN = fileURLToPath(new URL('../bin/airlock.js', import.meta.url));

export interface Phone {
  username: string;
  deviceId: string;
  privateKey: KeyObject;
}

/** Users `pushuser00001`… (or `name(i)`, i from 1) with one activated device each, straight into the store (setup). */
export async function createPhones(
  dataDir: string,
  count: number,
  name: (i: number) => string = (i) => `pushuser${String(i).padStart(5, '0')}`,
): Promise<Phone[]> {
  const ctx = await openContext({ dataDir });
  try {
    const phones: Phone[] = [];
    await ctx.store.transaction(async (tx) => {
      for (let i = 1; i <= count; i++) {
        const username = name(i);
        const user = await tx.createUser({ id: generateId(random, 'DU'), username });
        const key = deviceKey();
        const device = await tx.createDevice({
          id: generateId(random, 'DV'),
          userId: user.id,
          name: 'bench phone',
          platform: 'cli',
          publicKeyJwk: JSON.stringify(key.publicJwk),
        });
        phones.push({ username, deviceId: device.id, privateKey: key.privateKey });
      }
    });
    return phones;
  } finally {
    await ctx.close();
  }
}

/**
 * A P-256 device key like newDeviceKey()'s, made without generateKeyPairSync: on Node 20.20 that
 * deadlocks now and then when thousands are made in a row (the JWK export holds the key's mutex
 * while allocating; a GC in it finalizes the finished KeyGenJob, which takes the same mutex: the
 * bench hung at "creating users" with the store's write lock held).
 */
function deviceKey(): { privateKey: KeyObject; publicJwk: Record<string, unknown> } {
  const ecdh = createECDH('prime256v1');
  const point = ecdh.generateKeys(); // uncompressed: 0x04 || x || y
  const publicJwk = {
    kty: 'EC',
    crv: 'P-256',
    x: point.subarray(1, 33).toString('base64url'),
    y: point.subarray(33, 65).toString('base64url'),
  };
  const raw = ecdh.getPrivateKey();
  const d = Buffer.concat([Buffer.alloc(32 - raw.length), raw]).toString('base64url');
  return { privateKey: createPrivateKey({ key: { ...publicJwk, d }, format: 'jwk' }), publicJwk };
}

export interface NasAnswer {
  outcome: 'accept' | 'reject' | 'timeout';
  atMs: number;
  replyMessage?: string;
}

/**
 * Many logins over a few UDP sockets: identifiers 0-255 per socket, a resend every 5 s while
 * unanswered, as a NAS does; no answer within `giveUpMs` is a timeout. Identifiers are reused
 * round-robin, so at most 256 × `sockets` logins may be in flight at once.
 */
export class Nas {
  readonly #port: number;
  readonly #secret: string;
  readonly #socketCount: number;
  readonly #giveUpMs: number;
  readonly #sockets: dgram.Socket[] = [];
  readonly #pending = new Map<string, { authenticator: Buffer; resolve: (r: NasAnswer) => void }>();
  #next = 0;

  constructor(options: { port: number; secret: string; sockets: number; giveUpMs?: number }) {
    this.#port = options.port;
    this.#secret = options.secret;
    this.#socketCount = options.sockets;
    this.#giveUpMs = options.giveUpMs ?? 90_000;
  }

  async open(): Promise<void> {
    for (let s = 0; s < this.#socketCount; s++) {
      const socket = dgram.createSocket('udp4');
      socket.on('message', (msg) => this.#onAnswer(s, msg));
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      this.#sockets.push(socket);
    }
  }

  login(username: string, password: string): Promise<NasAnswer> {
    const n = this.#next++ % (256 * this.#socketCount);
    const s = Math.floor(n / 256);
    const identifier = n % 256;
    const authenticator = random.bytes(16);
    const packet = encodeAccessRequest({
      identifier,
      authenticator,
      secret: this.#secret,
      password,
      attributes: [
        createAttribute('User-Name', username),
        createAttribute('NAS-IP-Address', '127.0.0.1'),
      ],
    });
    const key = `${s}:${identifier}`;
    return new Promise((resolve) => {
      const send = () => this.#sockets[s]!.send(packet, this.#port, '127.0.0.1');
      // Like a NAS: the same packet again every 5 s while unanswered. The proxy answers every
      // copy of one request with one login, so a retransmit never starts a second push.
      const retransmit = setInterval(send, 5_000);
      const timer = setTimeout(() => {
        clearInterval(retransmit);
        this.#pending.delete(key);
        resolve({ outcome: 'timeout', atMs: performance.now() });
      }, this.#giveUpMs);
      this.#pending.set(key, {
        authenticator,
        resolve: (r) => {
          clearTimeout(timer);
          clearInterval(retransmit);
          resolve(r);
        },
      });
      send();
    });
  }

  close(): void {
    for (const s of this.#sockets) s.close();
  }

  #onAnswer(s: number, msg: Buffer): void {
    const key = `${s}:${msg[1]}`;
    const entry = this.#pending.get(key);
    if (!entry) return;
    try {
      const r = verifyResponse({
        request: { identifier: msg[1]!, authenticator: entry.authenticator },
        response: msg,
        secret: this.#secret,
        requireMessageAuthenticator: false,
      });
      this.#pending.delete(key);
      const reply = getAttribute(r.attributes, 'Reply-Message');
      entry.resolve({
        outcome: r.code === 'Access-Accept' ? 'accept' : 'reject',
        atMs: performance.now(),
        ...(typeof reply === 'string' ? { replyMessage: reply } : {}),
      });
    } catch {
      // not ours or forged: ignore
    }
  }
}

/** Peak and current resident memory of a process, KiB (/proc/PID/status VmHWM and VmRSS). */
export function memoryOf(pid: number): { peakKb: number; rssKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+([0-9]+) kB`, 'm').exec(status)?.[1]);
  return { peakKb: field('VmHWM'), rssKb: field('VmRSS') };
}

/** The p-quantile of an ascending list (NaN for an empty one: a run checks for it). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface AirlockProcess {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}

/** Runs `airlock ARGS` under `node NODE_FLAGS` and resolves with the port its `ready` line names. */
export function spawnAirlock(
  args: string[],
  nodeFlags: string[],
  ready: RegExp,
): Promise<AirlockProcess> {
  const child = spawn(process.execPath, [...nodeFlags, AIRLOCK_BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`airlock ${args[0]} did not print ${String(ready)} within 20 s:\n${out}`));
    }, 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), exited });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`airlock ${args[0]} exited with ${code} before it was ready:\n${out}`));
    });
  });
}

export async function stopChild(
  child: ChildProcess,
  exited: Promise<number | null>,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}
