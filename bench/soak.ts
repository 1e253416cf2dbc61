// npm run soak — an hour (SOAK_MINUTES) of mixed load on the service and the proxy, with an outage
// and a recovery every few minutes, reporting each process's RSS, heap, open files and event-loop
// delay per sample (a minute), and the drift of memory from the end of the warm-up to the end.
//
// Load (about 20 operations a second, so that the run measures leaks, not saturation): RADIUS
// logins through the proxy with a real primary (an LDAP bind against slapd), either with a
// passcode appended (bypass codes with unlimited uses) or a push approved from the user's device
// through the signed device API; signed Auth API preauth + auth from the benchmark; an admin
// write (a user created, then deleted, through the CLI) every 15 s. The proxy reaches the
// service through a TCP relay in this process: an outage is the relay refusing and cutting every
// connection, so the proxy decides by failmode (safe) and recovers after.
//
// Checks (run-checks.ts, soakRunProblems): every sample has logins answered; no error outside the
// outages (a reject, a timeout, a failed Auth API call or admin write); failmode decisions during
// the outages and none outside; every figure measured. --smoke (or BENCH_SMOKE=1): 45 s.
// Env: SOAK_MINUTES (default 60), BENCH_KEEP=1 (keep the temp dir).
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { DeviceClient } from '../src/authenticator/device-client.ts';
import { createAuthApiClient, type AuthApiClient } from '../src/client/auth-api-client.ts';
import { SystemClock } from '../src/runtime/clock.ts';
import {
  airlock,
  airlockJson,
  startServe,
  startUntil,
  stopServe,
  type RunningService,
} from '../test/integration/airlock-process.ts';
import { FAILMODE_LOG_MESSAGES } from '../src/core/failmode-decision.ts';
import {
  freeTcpPort,
  freeUdpPort,
  startSlapd,
  type ExternalServer,
} from '../test/integration/external-servers.ts';
import { adClientSection } from '../test/integration/proxy-harness.ts';
import { createPhones, memoryOf, Nas, sleep, type Phone } from './bench-support.ts';
import { soakRunProblems, sized, SMOKE, verdict, type SoakSample } from './run-checks.ts';

const TOTAL_MS = Number(process.env.SOAK_MINUTES ?? sized(45 / 60, 60)) * 60_000;
const SAMPLE_MS = sized(5_000, 60_000);
/** Memory drift is measured from the first sample after the warm-up to the end. */
const WARMUP_MS = sized(10_000, 5 * 60_000);
const OUTAGE_EVERY_MS = sized(20_000, 4 * 60_000);
const OUTAGE_MS = sized(4_000, 30_000);
/**
 * After an outage, logins are decided by failmode until the breaker's next probe (the health
 * check, every HEALTH_CHECK_SECONDS once the open period is over) finds the service back.
 */
const BREAKER_OPEN_SECONDS = 2;
const HEALTH_CHECK_SECONDS = 1;
const API_TIMEOUT_SECONDS = 3;
const RECOVERY_MS = (BREAKER_OPEN_SECONDS + HEALTH_CHECK_SECONDS + API_TIMEOUT_SECONDS + 1) * 1000;
const DRIFT_TARGET = 0.1;
const PUSH_TIMEOUT_SECONDS = 20;
const SECRET = 'soak-radius-secret';
const USERS = 8;
/** Push users, each logging in every PUSH_EVERY_MS: the service allows 3 pushes a minute a user. */
const PUSH_USERS = 16;
const PUSH_EVERY_MS = 25_000;
const run = promisify(execFile);
/** The directory entries scripts/start-slapd.sh makes for LDAP_USERS: uid=user0001, pw0001. */
const userName = (i: number) => `user${String(i).padStart(4, '0')}`;
const userPassword = (i: number) => `pw${String(i).padStart(4, '0')}`;

/** Counts of one sample period: what was sent, and how it ended. */
interface Tally {
  radiusAccepts: number;
  failmodeAccepts: number;
  authApiOk: number;
  adminWrites: number;
  errorsInOutage: number;
  errors: string[];
}

const newTally = (): Tally => ({
  radiusAccepts: 0,
  failmodeAccepts: 0,
  authApiOk: 0,
  adminWrites: 0,
  errorsInOutage: 0,
  errors: [],
});

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-soak-'));
  const dataDir = join(dir, 'data');
  const data = ['--data-dir', dataDir];
  const children: ChildProcess[] = [];
  let service: RunningService | undefined;
  let slapd: ExternalServer | undefined;
  try {
    // Users 1..USERS log in with a passcode, the next PUSH_USERS with a push.
    slapd = await startSlapd({ LDAP_USERS: String(USERS + PUSH_USERS) });
    service = await startServe([...data, '--listen', '127.0.0.1:0', '--log-level', 'warn']);
    const proxyApp = await airlockJson<{ ikey: string; skey: string }>([
      ...['app', 'create', 'soak-proxy', '--type', 'radius', '--rate-limit', '0'],
      ...data,
    ]);
    const apiApp = await airlockJson<{ ikey: string; skey: string }>([
      ...['app', 'create', 'soak-api', '--rate-limit', '0'],
      ...data,
    ]);
    console.log(`setting up ${USERS} passcode users and ${PUSH_USERS} push users…`);
    const passcodes: PasscodeUser[] = [];
    for (let i = 1; i <= USERS; i++) {
      const username = userName(i);
      await airlock(['user', 'create', username, ...data]);
      const { codes } = await airlockJson<{ codes: string[] }>([
        ...['bypass-codes', username, '--count', '1', '--uses', '0'],
        ...data,
      ]);
      passcodes.push({ username, password: userPassword(i), code: codes[0]! });
    }
    const phones = await createPhones(dataDir, PUSH_USERS, (i) => userName(USERS + i));
    const phonePassword = (p: Phone) => userPassword(Number(p.username.slice(4)));

    const relay = await startRelay(service.port);
    const proxy = await startProxy(dir, dataDir, proxyApp, relay.port, slapd.port);
    children.push(proxy.child);
    const caPem = readFileSync(join(dataDir, 'tls', 'ca.pem'), 'utf8');
    const api = createAuthApiClient({
      apiHost: 'localhost',
      apiPort: service.port,
      ikey: apiApp.ikey,
      skey: apiApp.skey,
      caPem,
      timeoutMs: 10_000,
      clock: new SystemClock(),
    });
    const devices = new DeviceClient({ apiHost: `localhost:${service.port}`, caPem });
    const nas = new Nas({ port: proxy.radiusPort, secret: SECRET, sockets: 2, giveUpMs: 30_000 });
    await nas.open();

    const pids = { service: service.child.pid!, proxy: proxy.child.pid! };
    const metricsUrls = {
      service: `https://localhost:${service.port}/metrics`,
      proxy: `http://127.0.0.1:${proxy.adminPort}/metrics`,
    };
    console.log(
      `soak${SMOKE ? ' (smoke)' : ''}: ${(TOTAL_MS / 60_000).toFixed(1)} min, a sample every ${SAMPLE_MS / 1000} s, an outage of ${OUTAGE_MS / 1000} s every ${OUTAGE_EVERY_MS / 1000} s`,
    );
    console.log(
      'minute  process  RSS MiB  heap MiB  fds  loop p99 ms  | RADIUS ok  failmode  API ok  admin  errors',
    );

    const startedAt = performance.now();
    let tally = newTally();
    const samples: SoakSample[] = [];
    let outage = false;
    const stop = { now: false };
    const inOutageWindow = () => outage;

    let turn = 0;
    const next = <T>(list: T[]): T => list[turn++ % list.length]!;
    const loops = [
      every(200, stop, async () => {
        const u = next(passcodes);
        const wasOutage = inOutageWindow();
        const a = await nas.login(u.username, `${u.password},${u.code}`);
        countRadius(tally, a, wasOutage || inOutageWindow(), 'passcode');
      }),
      // One push login per phone at a time: a second one would answer the first one's push.
      ...phones.map(
        (phone, i) =>
          every(
            PUSH_EVERY_MS,
            stop,
            async () => {
              const wasOutage = inOutageWindow();
              const answer = nas.login(phone.username, phonePassword(phone));
              if (!wasOutage) void approveSoon(devices, phone, Math.floor(Date.now() / 1000));
              countRadius(tally, await answer, wasOutage || inOutageWindow(), 'push');
            },
            (i * PUSH_EVERY_MS) / phones.length,
          ), // spread out over the period
      ),
      every(200, stop, async () => {
        await authApiLogin(api, next(passcodes), tally);
      }),
      every(15_000, stop, async () => {
        const name = `soaktmp${Math.floor(performance.now())}`;
        try {
          await airlock(['user', 'create', name, ...data]);
          await airlock(['user', 'delete', name, ...data]);
          tally.adminWrites += 2;
        } catch (e) {
          tally.errors.push(`admin write: ${(e as Error).message.split('\n')[0]}`);
        }
      }),
      (async () => {
        while (!stop.now) {
          await sleep(OUTAGE_EVERY_MS - OUTAGE_MS);
          if (stop.now) break;
          outage = true;
          if (process.env.SOAK_DEBUG)
            console.log(`outage from ${(performance.now() / 1000).toFixed(1)}`);
          relay.setDown(true);
          await sleep(OUTAGE_MS);
          relay.setDown(false);
          // Until the breaker's next probe finds the service back (breaker_open_seconds, then
          // api_timeout at most), logins are still decided by failmode: outage answers.
          await sleep(RECOVERY_MS);
          outage = false;
          if (process.env.SOAK_DEBUG)
            console.log(`outage over ${(performance.now() / 1000).toFixed(1)}`);
        }
      })(),
    ];

    while (performance.now() - startedAt < TOTAL_MS) {
      await sleep(SAMPLE_MS);
      const atMs = performance.now() - startedAt;
      const period = tally;
      tally = newTally();
      for (const name of ['service', 'proxy'] as const) {
        const m = await processFigures(pids[name], metricsUrls[name], caPem);
        const sample: SoakSample = { process: name, atMs, ...m, ...period };
        samples.push(sample);
        console.log(
          `${(atMs / 60_000).toFixed(1).padStart(6)}  ${name.padEnd(7)}  ${m.rssMiB.toFixed(1).padStart(7)}  ${m.heapMiB.toFixed(1).padStart(8)}  ${String(m.fds).padStart(3)}  ${m.loopP99Ms.toFixed(1).padStart(11)}  | ${String(period.radiusAccepts).padStart(9)}  ${String(period.failmodeAccepts).padStart(8)}  ${String(period.authApiOk).padStart(6)}  ${String(period.adminWrites).padStart(5)}  ${String(period.errors.length).padStart(6)}`,
        );
      }
      for (const e of period.errors.slice(0, 3)) console.log(`        error: ${e}`);
    }
    stop.now = true;
    relay.setDown(false);
    await Promise.all(loops);
    nas.close();
    devices.close();
    api.close();
    relay.close();

    const problems = soakRunProblems(samples, { warmupMs: WARMUP_MS, outages: true });
    const drift = (name: string, field: 'rssMiB' | 'heapMiB') => driftOf(samples, name, field);
    const figures = ['proxy', 'service']
      .map((n) => `${n} RSS ${pct(drift(n, 'rssMiB'))}, heap ${pct(drift(n, 'heapMiB'))}`)
      .join('; ');
    const worst = Math.max(
      ...['proxy', 'service'].flatMap((n) => [drift(n, 'rssMiB'), drift(n, 'heapMiB')]),
    );
    console.log(
      `target: memory drift after warm-up < ${DRIFT_TARGET * 100} %: ${worst < DRIFT_TARGET ? 'met' : 'missed'}${SMOKE ? ' (smoke run, not a figure)' : ''}`,
    );
    console.log(
      `drift: ${figures}; errors ${samples.reduce((a, s) => a + s.errors.length, 0) / 2}`,
    );
    return verdict('soak', problems);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    if (service) await stopServe(service);
    await slapd?.stop();
    if (process.env.BENCH_KEEP) console.log(`kept ${dir} (BENCH_KEEP)`);
    else await rm(dir, { recursive: true, force: true });
  }
}

/** Runs `body` every `ms`, the first time after `firstDelayMs`, until `stop.now`. */
async function every(
  ms: number,
  stop: { now: boolean },
  body: () => Promise<void>,
  firstDelayMs = 0,
) {
  const inFlight = new Set<Promise<void>>();
  await sleep(firstDelayMs);
  while (!stop.now) {
    const p = body().finally(() => inFlight.delete(p));
    inFlight.add(p);
    await sleep(ms);
  }
  await Promise.all(inFlight);
}

function countRadius(
  tally: Tally,
  a: { outcome: string; atMs: number; replyMessage?: string },
  outage: boolean,
  kind: string,
): void {
  const failmode = a.replyMessage === FAILMODE_LOG_MESSAGES.failmodeSafe;
  if (a.outcome === 'accept' && failmode) {
    if (outage) tally.failmodeAccepts += 1;
    else
      tally.errors.push(
        `${kind}: failmode accept outside an outage (${a.replyMessage}) at ${(a.atMs / 1000).toFixed(1)}`,
      );
  } else if (a.outcome === 'accept') {
    tally.radiusAccepts += 1;
  } else if (outage) {
    tally.errorsInOutage += 1;
  } else {
    tally.errors.push(`${kind}: ${a.outcome} (${a.replyMessage ?? 'no Reply-Message'})`);
  }
}

interface PasscodeUser {
  username: string;
  password: string;
  code: string;
}

async function authApiLogin(api: AuthApiClient, u: PasscodeUser, tally: Tally): Promise<void> {
  const pre = await api.preauth({ username: u.username, ipaddr: '10.9.0.1' });
  if (pre.kind !== 'ok' || pre.response.result !== 'auth') {
    tally.errors.push(`preauth: ${pre.kind === 'ok' ? pre.response.result : pre.kind}`);
    return;
  }
  const auth = await api.auth({
    username: u.username,
    factor: 'passcode',
    passcode: u.code,
    ipaddr: '10.9.0.1',
  });
  if (auth.kind === 'ok' && auth.response.result === 'allow') tally.authApiOk += 1;
  else tally.errors.push(`auth: ${auth.kind === 'ok' ? auth.response.result : auth.kind}`);
}

/**
 * Approves the push of `phone`'s login once it is pending: the device long-polls, as the
 * authenticator app does, until the login's push_timeout has nearly passed. Only a request sent
 * since the login began (`sinceSeconds`) is this login's: a push whose login the proxy already gave
 * up on (one in flight when an outage began) stays listed until its own expiry, and approving it
 * instead would leave this login to time out, and the next one, and so on.
 */
async function approveSoon(
  devices: DeviceClient,
  phone: Phone,
  sinceSeconds: number,
): Promise<void> {
  const until = performance.now() + (PUSH_TIMEOUT_SECONDS - 2) * 1000;
  while (performance.now() < until) {
    try {
      const pending = await devices.requests(phone, 2);
      const request = pending.find((r) => r.time >= sinceSeconds);
      if (request) {
        await devices.answer(phone, request.txid, 'approve');
        return;
      }
      // Only older requests: the long poll returns at once while they are listed.
      if (pending.length > 0) await sleep(200);
    } catch {
      await sleep(200); // counted by the login: not answered, it times out as an error
    }
  }
}

/** RSS and open files from /proc; heap and event-loop p99 from the process's /metrics. */
async function processFigures(
  pid: number,
  metricsUrl: string,
  caPem: string,
): Promise<{ rssMiB: number; heapMiB: number; fds: number; loopP99Ms: number }> {
  const text = await scrape(metricsUrl, caPem);
  const metric = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    rssMiB: memoryOf(pid).rssKb / 1024,
    heapMiB: metric('nodejs_heap_size_used_bytes') / 2 ** 20,
    fds: readdirSync(`/proc/${pid}/fd`).length,
    loopP99Ms: metric('nodejs_eventloop_lag_p99_seconds') * 1000,
  };
}

async function scrape(url: string, caPem: string): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [
      '-e',
      `const u=new URL(process.argv[1]);const m=u.protocol==='https:'?require('https'):require('http');m.get(u,{ca:process.env.CA},r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>process.stdout.write(b))}).on('error',e=>{console.error(e.message);process.exit(1)})`,
      url,
    ],
    { env: { ...process.env, CA: caPem } },
  );
  return stdout;
}

/** Relative change of `field` from the first sample after the warm-up to the mean of the last 3. */
function driftOf(samples: SoakSample[], name: string, field: 'rssMiB' | 'heapMiB'): number {
  const mine = samples.filter((s) => s.process === name);
  const after = mine.filter((s) => s.atMs >= WARMUP_MS);
  if (after.length < 2) return NaN;
  const base = after[0]![field];
  const tail = after.slice(-3);
  const end = tail.reduce((a, s) => a + s[field], 0) / tail.length;
  return (end - base) / base;
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;

/** A TCP relay to the service that can go down: refusing and cutting every connection. */
async function startRelay(servicePort: number) {
  let down = false;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (down) return client.destroy();
    const upstream = net.connect(servicePort, '127.0.0.1');
    open.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    setDown(value: boolean) {
      down = value;
      if (value) for (const s of open) s.destroy();
    },
    close() {
      for (const s of open) s.destroy();
      server.close();
    },
  };
}

async function startProxy(
  dir: string,
  dataDir: string,
  app: { ikey: string; skey: string },
  relayPort: number,
  ldapPort: number,
): Promise<{ child: ChildProcess; radiusPort: number; adminPort: number }> {
  const proxyDir = join(dir, 'proxy');
  mkdirSync(proxyDir);
  const radiusPort = await freeUdpPort();
  const adminPort = await freeTcpPort();
  writeFileSync(
    join(proxyDir, 'authproxy.cfg'),
    [
      '[main]',
      'log_dir=log',
      'state_dir=state',
      `admin_listen=127.0.0.1:${adminPort}`,
      // Short, so that several outages and recoveries fit in a run.
      `breaker_open_seconds=${BREAKER_OPEN_SECONDS}`,
      `breaker_max_open_seconds=${BREAKER_OPEN_SECONDS}`,
      `health_check_interval=${HEALTH_CHECK_SECONDS}`,
      '',
      adClientSection(ldapPort),
      '',
      '[radius_server_auto]',
      `ikey=${app.ikey}`,
      `skey=${app.skey}`,
      'api_host=localhost',
      `api_port=${relayPort}`,
      `api_ca_file=${join(dataDir, 'tls', 'ca.pem')}`,
      `api_timeout=${API_TIMEOUT_SECONDS}`,
      `push_timeout=${PUSH_TIMEOUT_SECONDS}`,
      'client=ad_client',
      'failmode=safe',
      'interface=127.0.0.1',
      `port=${radiusPort}`,
      'radius_ip_1=127.0.0.1',
      `radius_secret_1=${SECRET}`,
      '',
    ].join('\n'),
  );
  const proxy = await startUntil(
    ['proxy', '--config', join(proxyDir, 'authproxy.cfg')],
    {},
    /listening for RADIUS on [^\s]+:([0-9]+)/,
  );
  return { child: proxy.child, radiusPort, adminPort };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
