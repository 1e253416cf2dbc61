// npm run bench:push — 10,000 pushes pending at once through the RADIUS proxy and the service.
//
// Every login is a [duo_only_client] Access-Request whose password is the word "push": the proxy
// starts an async push and waits on the service's result stream. When all pushes are pending the
// benchmark reads each process's peak RSS (VmHWM), then approves every push from the users'
// devices (signed device API calls) and times approval → Access-Accept. The run checks itself
// (run-checks.ts): one push per login, all pending at once, every login accepted, none left
// pending; otherwise it says why and exits non-zero. --smoke: 100 users.
// Env: BENCH_PUSHES (default 10000), BENCH_APPROVERS (concurrent approvals, default 64),
// BENCH_KEEP=1 (keep the temp dir: the service's database and the proxy's logs).
import { spawn, type ChildProcess } from 'node:child_process';
import { createECDH, createPrivateKey, type KeyObject } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { DeviceClient } from '../src/authenticator/device-client.ts';
import { openContext } from '../src/cli/open-context.ts';
import { createAttribute, getAttribute } from '../src/protocol/radius/radius-attributes.ts';
import { encodeAccessRequest } from '../src/protocol/radius/radius-request.ts';
import { verifyResponse } from '../src/protocol/radius/radius-response.ts';
import { CryptoRandom, generateId } from '../src/runtime/random.ts';
import { airlockJson, startServe } from '../test/integration/airlock-process.ts';
import { freeUdpPort } from '../test/integration/external-servers.ts';
import { pushRunProblems, sized, SMOKE, verdict } from './run-checks.ts';

const PUSHES = Number(process.env.BENCH_PUSHES ?? sized(100, 10_000));
const APPROVERS = Number(process.env.BENCH_APPROVERS ?? sized(8, 64));
/** Node flags for the proxy and the service, e.g. a heap cap as a production unit would set. */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const TARGET_MIB = 256;
const SECRET = 'bench-push-radius-secret';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'airlock.js');
const random = new CryptoRandom();

interface Phone {
  username: string;
  deviceId: string;
  privateKey: KeyObject;
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-push-'));
  const children: ChildProcess[] = [];
  try {
    const dataDir = join(dir, 'data');
    const service = await startServe(
      ['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--log-level', 'warn'],
      NODE_FLAGS.length > 0 ? { NODE_OPTIONS: NODE_FLAGS.join(' ') } : {},
    );
    children.push(service.child);
    const app = await airlockJson<{ ikey: string; skey: string }>([
      'app',
      'create',
      'bench-push',
      '--type',
      'radius',
      '--rate-limit',
      '0',
      '--data-dir',
      dataDir,
    ]);
    console.log(`creating ${PUSHES} users with an authenticator each…`);
    const phones = await createPhones(dataDir, PUSHES);

    const proxyDir = join(dir, 'proxy');
    mkdirSync(proxyDir);
    const radiusPort = await freeUdpPort();
    writeFileSync(
      join(proxyDir, 'authproxy.cfg'),
      [
        '[main]',
        'log_dir=log',
        'state_dir=state',
        'log_auth_events=true',
        'admin_listen=127.0.0.1:0',
        '',
        '[duo_only_client]',
        '',
        '[radius_server_auto]',
        `ikey=${app.ikey}`,
        `skey=${app.skey}`,
        'api_host=localhost',
        `api_port=${service.port}`,
        `api_ca_file=${join(dataDir, 'tls', 'ca.pem')}`,
        'api_timeout=20',
        'push_timeout=60',
        'client=duo_only_client',
        'failmode=secure',
        'interface=127.0.0.1',
        `port=${radiusPort}`,
        'radius_ip_1=127.0.0.1',
        `radius_secret_1=${SECRET}`,
        '',
      ].join('\n'),
    );
    const proxy = await spawnUntil(
      ['proxy', '--config', join(proxyDir, 'authproxy.cfg')],
      /listening for RADIUS/,
    );
    children.push(proxy);

    const nas = new Nas(radiusPort);
    await nas.open();
    const sentAt = performance.now();
    const answers: Promise<Answer>[] = [];
    for (const [i, p] of phones.entries()) {
      answers.push(nas.login(p.username, 'push'));
      // About 1,000 logins a second: a burst, but not one the receive buffer must hold at once.
      if (i % 100 === 99) await sleep(100);
    }
    console.log(`sent ${PUSHES} Access-Requests; waiting until every push is pending…`);
    const db = new BetterSqlite3(join(dataDir, 'airlock.db'), { readonly: true });
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    // Users with a push pending: a second push for one login would not count twice.
    const pendingCount = () =>
      count("SELECT COUNT(DISTINCT user_id) AS n FROM oob_requests WHERE status = 'pushed'");
    let pending = 0;
    while ((pending = pendingCount()) < PUSHES && performance.now() - sentAt < 50_000) {
      await sleep(250);
    }
    const allPendingMs = performance.now() - sentAt;
    const memory = {
      proxy: memoryOf(proxy.pid!),
      service: memoryOf(service.child.pid!),
    };
    console.log(
      `${pending} pushes pending after ${(allPendingMs / 1000).toFixed(1)} s; approving them…`,
    );

    const devices = new DeviceClient({
      apiHost: `localhost:${service.port}`,
      caPem: readFileSync(join(dataDir, 'tls', 'ca.pem'), 'utf8'),
    });
    const approvedAt = new Map<string, number>();
    const approvalErrors: string[] = [];
    let next = 0;
    const approver = async () => {
      while (next < phones.length) {
        const phone = phones[next++]!;
        try {
          const [request] = await devices.requests(phone);
          if (!request) continue; // counted: its login is not accepted
          approvedAt.set(phone.username, performance.now());
          await devices.answer(phone, request.txid, 'approve');
        } catch (err) {
          approvalErrors.push(`${phone.username}: ${(err as Error).message}`);
        }
      }
    };
    const approvingFrom = performance.now();
    await Promise.all(Array.from({ length: APPROVERS }, approver));
    console.log(`approved in ${((performance.now() - approvingFrom) / 1000).toFixed(1)} s`);
    devices.close();
    const results = await Promise.all(answers);
    nas.close();
    const pendingLeft = count("SELECT COUNT(*) AS n FROM oob_requests WHERE status = 'pushed'");
    const pushesCreated = count('SELECT COUNT(*) AS n FROM oob_requests');
    db.close();

    const latencies: number[] = [];
    const counts = { accept: 0, reject: 0, timeout: 0 };
    const rejectReasons = new Map<string, number>();
    results.forEach((r, i) => {
      counts[r.outcome] += 1;
      if (r.outcome === 'reject') {
        const why = r.replyMessage ?? '(no Reply-Message)';
        rejectReasons.set(why, (rejectReasons.get(why) ?? 0) + 1);
      }
      const approved = approvedAt.get(phones[i]!.username);
      if (r.outcome === 'accept' && approved !== undefined) latencies.push(r.atMs - approved);
    });
    latencies.sort((a, b) => a - b);
    const mib = (kb: number) => (kb / 1024).toFixed(1);
    console.log('');
    console.log(
      `pushes pending at once: ${pending} of ${PUSHES}; pushes created: ${pushesCreated}; still pending at the end: ${pendingLeft}`,
    );
    console.log(
      `node flags: ${NODE_FLAGS.join(' ') || '(none: V8 default heap sizing)'}; approvers: ${APPROVERS}`,
    );
    console.log('process   peak RSS (VmHWM)   RSS with all pending   target');
    for (const [name, m] of Object.entries(memory)) {
      console.log(
        `${name.padEnd(9)} ${`${mib(m.peakKb)} MiB`.padStart(16)}   ${`${mib(m.rssKb)} MiB`.padStart(20)}   ≤ ${TARGET_MIB} MiB`,
      );
    }
    console.log(
      `answers: ${counts.accept} Access-Accept, ${counts.reject} Access-Reject, ${counts.timeout} no answer`,
    );
    for (const [why, n] of rejectReasons) console.log(`  rejected ${n}×: ${why}`);
    for (const e of approvalErrors.slice(0, 5)) console.log(`  approval failed: ${e}`);
    console.log(
      `approval → Access-Accept: p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms (from the start of the approving device call)`,
    );
    const peakMiB = { proxy: memory.proxy.peakKb / 1024, service: memory.service.peakKb / 1024 };
    const problems = pushRunProblems({
      users: PUSHES,
      pendingAtOnce: pending,
      pushesCreated,
      accepts: counts.accept,
      rejects: counts.reject,
      timeouts: counts.timeout,
      pendingLeft,
      approvalErrors: approvalErrors.length,
      peakRssMiB: peakMiB,
      approvalP99Ms: percentile(latencies, 0.99),
    });
    if (problems.length === 0) {
      const peak = Math.max(peakMiB.proxy, peakMiB.service);
      console.log(
        `peak RSS ratio to target: ${(peak / TARGET_MIB).toFixed(2)} (≤ 1.00 meets it${SMOKE ? '; smoke run, not a figure' : ''})`,
      );
    }
    console.log(
      `peak RSS: proxy ${mib(memory.proxy.peakKb)} MiB, service ${mib(memory.service.peakKb)} MiB; accepted ${counts.accept} of ${PUSHES}`,
    );
    return verdict('bench:push', problems);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    if (process.env.BENCH_KEEP) console.log(`kept ${dir} (BENCH_KEEP)`);
    else await rm(dir, { recursive: true, force: true });
  }
}

/** Users with one activated device each, written straight into the store (setup, not measured). */
async function createPhones(dataDir: string, count: number): Promise<Phone[]> {
  const ctx = await openContext({ dataDir });
  try {
    const phones: Phone[] = [];
    await ctx.store.transaction(async (tx) => {
      for (let i = 1; i <= count; i++) {
        const username = `pushuser${String(i).padStart(5, '0')}`;
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

interface Answer {
  outcome: 'accept' | 'reject' | 'timeout';
  atMs: number;
  replyMessage?: string;
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

/** Many logins over a few UDP sockets: identifiers 0-255 per socket, a resend every 5 s. */
class Nas {
  readonly #port: number;
  readonly #sockets: dgram.Socket[] = [];
  readonly #pending = new Map<string, { authenticator: Buffer; resolve: (r: Answer) => void }>();
  #next = 0;

  constructor(port: number) {
    this.#port = port;
  }

  async open(): Promise<void> {
    const count = Math.ceil(PUSHES / 256) + 1;
    for (let s = 0; s < count; s++) {
      const socket = dgram.createSocket('udp4');
      socket.on('message', (msg) => {
        const key = `${s}:${msg[1]}`;
        const entry = this.#pending.get(key);
        if (!entry) return;
        try {
          const r = verifyResponse({
            request: { identifier: msg[1]!, authenticator: entry.authenticator },
            response: msg,
            secret: SECRET,
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
      });
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      this.#sockets.push(socket);
    }
  }

  login(username: string, password: string): Promise<Answer> {
    const n = this.#next++;
    const s = Math.floor(n / 256);
    const identifier = n % 256;
    const authenticator = random.bytes(16);
    const packet = encodeAccessRequest({
      identifier,
      authenticator,
      secret: SECRET,
      password,
      attributes: [
        createAttribute('User-Name', username),
        createAttribute('NAS-IP-Address', '127.0.0.1'),
      ],
    });
    return new Promise((resolve) => {
      const send = () => this.#sockets[s]!.send(packet, this.#port, '127.0.0.1');
      // Like a NAS: the same packet again every 5 s while unanswered. A burst overflows the
      // proxy's UDP receive buffer (about 256 datagrams by default); the proxy answers every copy
      // of one request with one login, so a retransmit never starts a second push.
      const retransmit = setInterval(send, 5_000);
      const timer = setTimeout(() => {
        clearInterval(retransmit);
        this.#pending.delete(`${s}:${identifier}`);
        resolve({ outcome: 'timeout', atMs: performance.now() });
      }, 90_000);
      this.#pending.set(`${s}:${identifier}`, {
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
}

function memoryOf(pid: number): { peakKb: number; rssKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+([0-9]+) kB`, 'm').exec(status)?.[1]);
  return { peakKb: field('VmHWM'), rssKb: field('VmRSS') };
}

function spawnUntil(args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...NODE_FLAGS, BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in 20 s:\n${out}`)), 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
  });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
