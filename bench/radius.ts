// bench:radius — PAP+TOTP (append mode) logins through the proxy → slapd → service, side by side
// with FreeRADIUS doing PAP against the same slapd (LDAP bind, no second factor).
// Everything runs as child processes on loopback; the load generator here sends real UDP.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Secret, TOTP } from 'otpauth';
import { openContext } from '../src/cli/open-context.ts';
import { ProtocolError } from '../src/protocol/protocol-error.ts';
import { createAttribute } from '../src/protocol/radius/radius-attributes.ts';
import { encodeAccessRequest } from '../src/protocol/radius/radius-request.ts';
import { verifyResponse } from '../src/protocol/radius/radius-response.ts';
import { CryptoRandom, generateId } from '../src/runtime/random.ts';
import { airlockJson, startServe } from '../test/integration/airlock-process.ts';
import { freeUdpPort, startSlapd } from '../test/integration/external-servers.ts';
import { radiusRunProblems, sized, SMOKE, verdict } from './run-checks.ts';
import { cpuSnapshot, machineCpuMs } from './process-cpu.ts';
import { spawnAirlock, stopChild } from './bench-support.ts';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? sized(4, 32));
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? sized(2, 10));
const WARMUP_SECONDS = sized(1, 2);
/** A reply later than this is a timeout; nothing is retransmitted. */
const REPLY_TIMEOUT_MS = 5000;
/** The rate the user pool is sized for: the FreeRADIUS figure Airlock should reach. */
const EXPECTED_RATE = Number(process.env.BENCH_EXPECTED_RATE ?? sized(800, 5000));
// A TOTP code is one-time per user and 30 s step: each user logs in once, so the pool must cover
// every login of the warm-up and the run at the expected rate.
const USERS = Number(
  process.env.BENCH_USERS ?? Math.ceil(EXPECTED_RATE * (WARMUP_SECONDS + DURATION_SECONDS)),
);
/** Set to a directory to write V8 CPU profiles of the proxy and the service (--cpu-prof). */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
/**
 * How the proxy reaches the service: `in-process` (default) runs both in one `airlock start`
 * process, the co-located fast path (no TLS, HTTP or signing; one preauth_auth call per login);
 * `https` runs `airlock serve` and `airlock proxy` apart, preauth then auth over HTTPS (Duo's way);
 * `https-one-call` is that with `api_preauth_auth=true` (one call over HTTPS).
 */
const TRANSPORTS = ['in-process', 'https', 'https-one-call'] as const;
type Transport = (typeof TRANSPORTS)[number];
const TRANSPORT = (process.env.BENCH_TRANSPORT ?? 'in-process') as Transport;
if (!TRANSPORTS.includes(TRANSPORT)) {
  throw new Error(`BENCH_TRANSPORT must be one of ${TRANSPORTS.join(', ')}, got ${TRANSPORT}`);
}
const TRANSPORT_TEXT: Record<Transport, string> = {
  'in-process':
    'then one preauth_auth call in-process (proxy and service in one `airlock start` process: no TLS, HTTP or signing)',
  https:
    'then preauth + auth over HTTPS to the service (`airlock serve` and `airlock proxy` apart)',
  'https-one-call':
    'then one preauth_auth call over HTTPS (api_preauth_auth=true; `airlock serve` and `airlock proxy` apart)',
};
/** In-flight requests per UDP socket: well under the 256 Identifiers a socket has. */
const REQUESTS_PER_SOCKET = 64;

const RADIUS_SECRET = 'bench-radius-secret-0123456789';
const CLIENT_IP = '192.0.2.10';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPTS = join(ROOT, 'scripts');
const run = promisify(execFile);
const random = new CryptoRandom();

interface Login {
  username: string;
  password: string;
}

interface Target {
  name: string;
  port: number;
  /** The next login to send; undefined when the pool is used up. */
  nextLogin: () => Login | undefined;
  /** Airlock always signs its replies; FreeRADIUS 3.2.1 (before the BlastRADIUS fixes) does not. */
  requireMessageAuthenticator: boolean;
  /** The server processes whose CPU time a login costs, by name. */
  processes: Record<string, number>;
}

interface Figures {
  name: string;
  seconds: number;
  authPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  accepts: number;
  rejects: number;
  timeouts: number;
  /** Replies that did not verify (wrong authenticator, unknown Identifier): ignored, not counted. */
  badReplies: number;
  exhausted: boolean;
  /** CPU time (user + system) per answered login, ms, by process; the load generator included. */
  cpuMsPerAuth: Record<string, number>;
  /** Cores' worth of CPU that everything else on the machine used meanwhile (other jobs). */
  otherCores: number;
}

type Outcome = 'accept' | 'reject' | 'timeout';

interface Pending {
  authenticator: Buffer;
  startedMs: number;
  timer: NodeJS.Timeout;
  resolve: (outcome: Outcome) => void;
}

/** One UDP socket with its own Identifier space (RFC 2865 §3: 256 per source address and port). */
class RadiusLoadSocket {
  readonly #socket = dgram.createSocket('udp4');
  readonly #pending = new Map<number, Pending>();
  readonly #port: number;
  readonly #requireMessageAuthenticator: boolean;
  #nextIdentifier = 0;
  badReplies = 0;

  constructor(port: number, requireMessageAuthenticator: boolean) {
    this.#port = port;
    this.#requireMessageAuthenticator = requireMessageAuthenticator;
    this.#socket.on('message', (msg) => this.#onReply(msg));
  }

  async open(): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.bind(0, '127.0.0.1', resolve));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  /** Sends one Access-Request; resolves with the outcome and the latency in ms. */
  send(login: Login): Promise<{ outcome: Outcome; latencyMs: number }> {
    const identifier = this.#takeIdentifier();
    const authenticator = random.bytes(16);
    const packet = encodeAccessRequest({
      identifier,
      authenticator,
      secret: RADIUS_SECRET,
      attributes: [
        createAttribute('User-Name', login.username),
        createAttribute('NAS-IP-Address', '127.0.0.1'),
        createAttribute('Calling-Station-Id', CLIENT_IP),
      ],
      password: login.password,
    });
    const startedMs = performance.now();
    return new Promise((resolve) => {
      const done = (outcome: Outcome) => {
        this.#pending.delete(identifier);
        resolve({ outcome, latencyMs: performance.now() - startedMs });
      };
      const timer = setTimeout(() => done('timeout'), REPLY_TIMEOUT_MS);
      this.#pending.set(identifier, { authenticator, startedMs, timer, resolve: done });
      this.#socket.send(packet, this.#port, '127.0.0.1');
    });
  }

  #takeIdentifier(): number {
    // Round robin, so that an Identifier freed by a timeout is the last one reused.
    for (let i = 0; i < 256; i++) {
      const id = (this.#nextIdentifier + i) % 256;
      if (!this.#pending.has(id)) {
        this.#nextIdentifier = (id + 1) % 256;
        return id;
      }
    }
    throw new Error('no free RADIUS Identifier on this socket');
  }

  #onReply(msg: Buffer): void {
    const pending = msg.length >= 2 ? this.#pending.get(msg[1]!) : undefined;
    if (!pending) {
      this.badReplies += 1;
      return;
    }
    let code: string;
    try {
      code = verifyResponse({
        request: { identifier: msg[1]!, authenticator: pending.authenticator },
        response: msg,
        secret: RADIUS_SECRET,
        requireMessageAuthenticator: this.#requireMessageAuthenticator,
      }).code;
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.badReplies += 1;
      return;
    }
    clearTimeout(pending.timer);
    pending.resolve(code === 'Access-Accept' ? 'accept' : 'reject');
  }
}

/** Closed loop: CONCURRENCY workers, each sends its next request when the previous one ended. */
async function runLoad(target: Target, seconds: number): Promise<Figures> {
  const sockets = Array.from(
    { length: Math.ceil(CONCURRENCY / REQUESTS_PER_SOCKET) },
    () => new RadiusLoadSocket(target.port, target.requireMessageAuthenticator),
  );
  await Promise.all(sockets.map((s) => s.open()));
  const latencies: number[] = [];
  const counts = { accept: 0, reject: 0, timeout: 0 };
  let exhausted = false;
  const cpuBefore = cpuSnapshot(target.processes);
  const machineBefore = machineCpuMs();
  const startedMs = performance.now();
  const endMs = startedMs + seconds * 1000;
  const worker = async (socket: RadiusLoadSocket) => {
    while (performance.now() < endMs) {
      const login = target.nextLogin();
      if (!login) {
        exhausted = true;
        return;
      }
      const { outcome, latencyMs } = await socket.send(login);
      counts[outcome] += 1;
      if (outcome !== 'timeout') latencies.push(latencyMs);
    }
  };
  try {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, (_, i) => worker(sockets[i % sockets.length]!)),
    );
  } finally {
    await Promise.all(sockets.map((s) => s.close()));
  }
  // Until the last request ended: the requests still in flight at the deadline count, and so
  // does the time they took.
  const elapsedSeconds = (performance.now() - startedMs) / 1000;
  const cpuAfter = cpuSnapshot(target.processes);
  const machineMs = machineCpuMs() - machineBefore;
  const answered = counts.accept + counts.reject;
  latencies.sort((a, b) => a - b);
  return {
    name: target.name,
    seconds: elapsedSeconds,
    authPerSecond: answered / elapsedSeconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    accepts: counts.accept,
    rejects: counts.reject,
    timeouts: counts.timeout,
    badReplies: sockets.reduce((n, s) => n + s.badReplies, 0),
    exhausted,
    otherCores:
      (machineMs -
        Object.keys(cpuAfter).reduce((sum, name) => sum + cpuAfter[name]! - cpuBefore[name]!, 0)) /
      (elapsedSeconds * 1000),
    cpuMsPerAuth: Object.fromEntries(
      Object.keys(cpuAfter).map((name) => [
        name,
        (cpuAfter[name]! - cpuBefore[name]!) / Math.max(answered, 1),
      ]),
    ),
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/** Users user0001..userN with a TOTP token each, in one transaction; returns their secrets. */
async function createUsers(dataDir: string, count: number): Promise<string[]> {
  const ctx = await openContext({ dataDir });
  try {
    const secrets: string[] = [];
    await ctx.store.transaction(async (tx) => {
      for (let i = 1; i <= count; i++) {
        const user = await tx.createUser({
          id: generateId(ctx.random, 'DU'),
          username: userName(i),
        });
        const secret = new Secret({ buffer: toArrayBuffer(ctx.random.bytes(20)) }).base32;
        await tx.addOtpToken({
          id: generateId(ctx.random, 'DT'),
          userId: user.id,
          type: 'totp',
          secret,
          algorithm: 'SHA1',
          digits: 6,
          periodSeconds: 30,
          counter: 0,
        });
        secrets.push(secret);
      }
    });
    return secrets;
  } finally {
    await ctx.close();
  }
}

/** The directory entries scripts/start-slapd.sh makes for LDAP_USERS: uid=user0001, pw0001. */
const userName = (i: number) => `user${String(i).padStart(4, '0')}`;
const userPassword = (i: number) => `pw${String(i).padStart(4, '0')}`;

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function proxyConfig(input: {
  ldapPort: number;
  ikey: string;
  skey: string;
  /** `airlock start` puts its own service's port here. */
  apiPort: number;
  /** Undefined in-process: no TLS to verify. */
  caFile: string | undefined;
  preauthAuth: boolean;
}): string {
  return [
    '[main]',
    'log_dir=log',
    'state_dir=state',
    // Airlock's default logging stays on: it is part of what a login costs.
    'log_auth_events=true',
    'admin_listen=127.0.0.1:0',
    '',
    '[ad_client]',
    'host=127.0.0.1',
    `port=${input.ldapPort}`,
    'auth_type=plain',
    'transport=clear',
    'bind_dn=cn=airlock-svc,dc=example,dc=org',
    'service_account_password=svcpw',
    'search_dn=ou=people,dc=example,dc=org',
    'username_attribute=uid',
    '',
    '[radius_server_auto]',
    `ikey=${input.ikey}`,
    `skey=${input.skey}`,
    'api_host=localhost',
    `api_port=${input.apiPort}`,
    ...(input.caFile === undefined ? [] : [`api_ca_file=${input.caFile}`]),
    ...(input.preauthAuth ? ['api_preauth_auth=true'] : []),
    'client=ad_client',
    'failmode=secure',
    'interface=127.0.0.1',
    'port=0',
    'radius_ip_1=127.0.0.1',
    `radius_secret_1=${RADIUS_SECRET}`,
    '',
  ].join('\n');
}

/**
 * Airlock's side, its application and users: one `airlock start` (in-process), or `airlock serve`
 * and `airlock proxy` apart (https). Returns the RADIUS port and the processes whose CPU counts.
 */
async function startAirlock(input: {
  dataDir: string;
  serveArgs: string[];
  nodeFlags: string[];
  ldapPort: number;
  cleanups: (() => Promise<void>)[];
}): Promise<{ radiusPort: number; processes: Record<string, number>; secrets: string[] }> {
  const { dataDir, serveArgs, nodeFlags, cleanups } = input;
  const createApp = () =>
    airlockJson<{ ikey: string; skey: string }>([
      'app',
      'create',
      'bench-radius',
      '--type',
      'radius',
      '--rate-limit',
      '0',
      '--data-dir',
      dataDir,
    ]);
  if (TRANSPORT === 'in-process') {
    // `airlock start` reads DATA_DIR/authproxy.cfg and points its api_port at its own service.
    const app = await createApp();
    const secrets = await createUsers(dataDir, USERS);
    writeFileSync(
      join(dataDir, 'authproxy.cfg'),
      proxyConfig({
        ldapPort: input.ldapPort,
        ikey: app.ikey,
        skey: app.skey,
        apiPort: 443,
        caFile: undefined,
        preauthAuth: false,
      }),
      { mode: 0o600 },
    );
    const started = await spawnAirlock(
      ['start', ...serveArgs],
      nodeFlags,
      /listening for RADIUS on 127\.0\.0\.1:([0-9]+) .*in-process\)/,
    );
    cleanups.push(() => stopChild(started.child, started.exited));
    return {
      radiusPort: started.port,
      processes: { 'airlock start': started.child.pid! },
      secrets,
    };
  }
  // --cpu-prof is refused in NODE_OPTIONS: a profiled service is spawned with the flag itself.
  const service = PROFILE_DIR
    ? await spawnAirlock(
        ['serve', ...serveArgs],
        nodeFlags,
        /listening on https:\/\/[^\s]+:([0-9]+)/,
      )
    : await startServe(serveArgs);
  cleanups.push(() => stopChild(service.child, service.exited));
  const app = await createApp();
  const secrets = await createUsers(dataDir, USERS);
  const proxyDir = join(dataDir, '..', 'proxy');
  mkdirSync(proxyDir);
  const configFile = join(proxyDir, 'authproxy.cfg');
  writeFileSync(
    configFile,
    proxyConfig({
      ldapPort: input.ldapPort,
      ikey: app.ikey,
      skey: app.skey,
      apiPort: service.port,
      caFile: join(dataDir, 'tls', 'ca.pem'),
      preauthAuth: TRANSPORT === 'https-one-call',
    }),
  );
  const proxy = await spawnAirlock(
    ['proxy', '--config', configFile],
    nodeFlags,
    /listening for RADIUS on 127\.0\.0\.1:([0-9]+) .*HTTPS\)/,
  );
  cleanups.push(() => stopChild(proxy.child, proxy.exited));
  return {
    radiusPort: proxy.port,
    processes: { proxy: proxy.child.pid!, service: service.child.pid! },
    secrets,
  };
}

/** FreeRADIUS with rlm_ldap against the slapd (scripts/start-freeradius-ldap.sh). */
async function startFreeradiusLdap(
  dir: string,
  ldapPort: number,
): Promise<{ port: number; pid: number; stop: () => Promise<void> }> {
  const port = await freeUdpPort();
  const env = {
    ...process.env,
    RADIUS_PORT: String(port),
    RADDB_DIR: dir,
    LDAP_PORT: String(ldapPort),
    RADIUS_SECRET,
  };
  try {
    await run('bash', [join(SCRIPTS, 'start-freeradius-ldap.sh')], { env });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(`scripts/start-freeradius-ldap.sh failed: ${stderr.trim()}`, { cause: err });
  }
  return {
    port,
    pid: Number(readFileSync(join(dir, 'radiusd.pid'), 'utf8').trim()),
    stop: async () => {
      await run('bash', [join(SCRIPTS, 'stop-freeradius.sh'), dir]);
    },
  };
}

function printTable(rows: Figures[]): void {
  console.log('target                   auth/s  p50 ms  p99 ms  accepts  rejects  timeouts');
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(22)}  ${r.authPerSecond.toFixed(0).padStart(6)}  ${r.p50Ms.toFixed(1).padStart(6)}  ${r.p99Ms.toFixed(1).padStart(6)}  ${String(r.accepts).padStart(7)}  ${String(r.rejects).padStart(7)}  ${String(r.timeouts).padStart(8)}`,
    );
  }
}

/** CPU time per login by process: what the table's rates cost, unlike them not skewed by other load. */
function printCpu(rows: Figures[]): void {
  console.log('\nCPU ms per authentication (user + system):');
  for (const r of rows) {
    const parts = Object.entries(r.cpuMsPerAuth).map(([name, ms]) => `${name} ${ms.toFixed(2)}`);
    const total = Object.values(r.cpuMsPerAuth).reduce((a, b) => a + b, 0);
    console.log(`  ${r.name}: ${parts.join(', ')}; total ${total.toFixed(2)}`);
  }
  console.log(
    `other jobs on the machine meanwhile: ${rows.map((r) => `${Math.max(0, r.otherCores).toFixed(2)} cores during ${r.name}`).join(', ')}`,
  );
}

async function main(): Promise<number> {
  const cleanups: (() => Promise<void>)[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      for (const step of cleanups.reverse()) {
        await step().catch((e: unknown) => console.error(`cleanup: ${(e as Error).message}`));
      }
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping every server`);
    void cleanUp().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // The service and the proxy run the built command: measure the current sources. (Smoke runs
    // come from npm run bench:smoke or scripts/test.sh, which build first.)
    if (!SMOKE) await run('npm', ['run', '--silent', 'build'], { cwd: ROOT });

    const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-radius-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    // FreeRADIUS drops to the freerad user before it reads its configuration copy in here.
    chmodSync(dir, 0o755);
    const dataDir = join(dir, 'data');
    const nodeFlags = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];

    const slapd = await startSlapd({ LDAP_USERS: String(USERS) });
    cleanups.push(() => slapd.stop());
    const slapdPid = Number(readFileSync(join(slapd.dir, 'slapd.pid'), 'utf8').trim());

    const serveArgs = ['--data-dir', dataDir, '--listen', '127.0.0.1:0', '--log-level', 'warn'];
    const airlockProcesses = await startAirlock({
      dataDir,
      serveArgs,
      nodeFlags,
      ldapPort: slapd.port,
      cleanups,
    });
    const secrets = airlockProcesses.secrets;

    const freeradius = await startFreeradiusLdap(join(dir, 'raddb'), slapd.port);
    cleanups.push(() => freeradius.stop());

    // Airlock: each user once (a TOTP code is one-time per step); FreeRADIUS: round robin.
    let nextAirlockUser = 1;
    const airlock: Target = {
      name: 'airlock proxy+service',
      port: airlockProcesses.radiusPort,
      requireMessageAuthenticator: true,
      processes: { ...airlockProcesses.processes, slapd: slapdPid },
      nextLogin: () => {
        if (nextAirlockUser > USERS) return undefined;
        const i = nextAirlockUser++;
        const code = new TOTP({
          secret: Secret.fromBase32(secrets[i - 1]!),
          algorithm: 'SHA1',
          digits: 6,
          period: 30,
        }).generate();
        return { username: userName(i), password: `${userPassword(i)},${code}` };
      },
    };
    let nextFreeradiusUser = 0;
    const freeradiusTarget: Target = {
      name: 'freeradius (PAP only)',
      port: freeradius.port,
      requireMessageAuthenticator: false,
      processes: { freeradius: freeradius.pid, slapd: slapdPid },
      nextLogin: () => {
        const i = (nextFreeradiusUser++ % USERS) + 1;
        return { username: userName(i), password: userPassword(i) };
      },
    };

    console.log(
      `bench:radius${SMOKE ? ' (smoke)' : ''} — ${CONCURRENCY} concurrent Access-Requests per target, ${DURATION_SECONDS} s after a ${WARMUP_SECONDS} s warm-up, UDP on loopback`,
    );
    console.log(
      `machine: ${availableParallelism()} cores shared by the load generator (this process), slapd, and either Airlock's proxy + service or FreeRADIUS; Node ${process.version}`,
    );
    console.log(
      `workload: PAP Access-Request with Message-Authenticator; ${USERS} users in OpenLDAP slapd (mdb).\n` +
        `  airlock: "pwNNNN,<TOTP>" (append mode): LDAP search + bind, ${TRANSPORT_TEXT[TRANSPORT]}; service on SQLite; each user once\n` +
        `  transport: ${TRANSPORT} (BENCH_TRANSPORT=${TRANSPORTS.join('|')})\n` +
        '  freeradius 3.2.1: "pwNNNN": rlm_ldap search + bind (stock module and pool), no second factor\n',
    );

    const figures: Figures[] = [];
    for (const target of [airlock, freeradiusTarget]) {
      await runLoad(target, WARMUP_SECONDS);
      const f = await runLoad(target, DURATION_SECONDS);
      if (f.exhausted) {
        console.log(
          `note: ${f.name} used up all ${USERS} users after ${f.seconds.toFixed(1)} s (set BENCH_USERS higher); its figures cover those seconds`,
        );
      }
      if (f.badReplies > 0)
        console.log(`note: ${f.name} sent ${f.badReplies} unverifiable replies`);
      figures.push(f);
    }
    const [airlockFigures, freeradiusFigures] = figures as [Figures, Figures];

    printTable(figures);
    printCpu(figures);
    const problems = radiusRunProblems(figures);
    if (problems.length === 0) {
      console.log(
        `ratio: ${(airlockFigures.authPerSecond / freeradiusFigures.authPerSecond).toFixed(2)}`,
      );
    }
    return verdict('bench:radius', problems);
  } finally {
    await cleanUp();
  }
}

process.exitCode = await main();
