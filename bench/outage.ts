// bench:outage — what a blackhole outage of the service costs each login, with the circuit
// breaker and without it (Duo's behaviour), side by side: time to a failmode decision, time to
// detect the outage, time to recover after it ends. The proxy runs as the product runs: a child
// process, `airlock proxy --config authproxy.cfg` of the built dist/ (npm run build), in front of
// the fault injector in this process; the load generator (also in this process) speaks RADIUS over
// UDP with our codec. So the proxy's latency and CPU are its own, not shared with the generator's
// work and GC. Each login has a real primary (an LDAP bind against slapd from
// scripts/start-slapd.sh): failmode safe lets a login through only after its primary
// authentication succeeded (docs/outage-engine.md). AIRLOCK_CPU_PROF_DIR=DIR profiles the proxy
// children (--cpu-prof, written when they exit).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FAILMODE_LOG_MESSAGES } from '../src/core/failmode-decision.ts';
import {
  createDrillTlsMaterial,
  startFaultInjector,
  type DrillTlsMaterial,
} from '../src/proxy/fault-injector.ts';
import { createNasSocket, sendRadiusLogin } from '../src/proxy/radius-login-client.ts';
import { SystemClock } from '../src/runtime/clock.ts';
import { CryptoRandom } from '../src/runtime/random.ts';
import { startSlapd } from '../test/integration/external-servers.ts';
import { adClientSection } from '../test/integration/proxy-harness.ts';
import { spawnAirlock, stopChild } from './bench-support.ts';
import { machineCpuMs, processCpuMs } from './process-cpu.ts';
import { outageRunProblems, sized, SMOKE, verdict, type OutageRun } from './run-checks.ts';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
/** Each worker starts at most one login per this interval (a steady, realistic login rate). */
const LOGIN_INTERVAL_MS = Number(process.env.BENCH_LOGIN_INTERVAL_MS ?? 100);
const HEALTHY_BEFORE_MS = Number(process.env.BENCH_HEALTHY_BEFORE_SECONDS ?? sized(1, 3)) * 1000;
const OUTAGE_MS = Number(process.env.BENCH_OUTAGE_SECONDS ?? sized(3, 20)) * 1000;
const HEALTHY_AFTER_MS = Number(process.env.BENCH_HEALTHY_AFTER_SECONDS ?? sized(3, 25)) * 1000;
const API_TIMEOUT_SECONDS = sized(1, 2);
/** Smoke: a short open period, so the breaker run recovers inside a seconds-long phase. */
const BREAKER_OPEN_SECONDS = sized(1, 10);
const BREAKER_MAX_OPEN_SECONDS = sized(1, 120);
const BREAKER_THRESHOLD = 3;
const HEALTH_CHECK_INTERVAL_SECONDS = 1;
const RADIUS_SECRET = 'bench-outage-radius-secret';
const SERVICE_ALLOW = 'Allowed by the drill service'; // the injector's healthy preauth status_msg
const PROFILE_DIR = process.env.AIRLOCK_CPU_PROF_DIR;

const clock = new SystemClock();
const random = new CryptoRandom();

interface Login {
  /** Wall clock (compared with the outage's phases and authproxy.log's times). */
  startMs: number;
  endMs: number;
  /** Request sent → answer received, from the monotonic clock in µs resolution (`performance.now`). */
  tookMs: number;
  /** `service`: the service's own answer; `failmode`: failmode decided; `other`: anything else. */
  decidedBy: 'service' | 'failmode' | 'other';
}

interface RunResult {
  name: string;
  breakerEnabled: boolean;
  logins: Login[];
  outageStartMs: number;
  outageEndMs: number;
  /** Outage start → the breaker opened (authproxy.log); undefined when it never did. */
  detectMs: number | undefined;
  /** Outage start → the health monitor reported the host unreachable. */
  unhealthyMs: number | undefined;
  /** Outage start → the first failmode answer. */
  firstFailmodeMs: number | undefined;
  /** Outage end → the first login answered by the service again. */
  recoverMs: number | undefined;
  failmodeP50Ms: number;
  failmodeP99Ms: number;
  failmodeMaxMs: number;
  failmodeCount: number;
  /**
   * The same for logins started once the breaker was open (the target's measure: the answer
   * without a network call); undefined in the run without a breaker.
   */
  open: { count: number; p50Ms: number; p99Ms: number; maxMs: number } | undefined;
  /**
   * The outage's second half: CPU ms per login of the proxy child, of this process (load generator
   * and fault injector), of slapd.
   */
  cpuPerLogin: { proxyMs: number; benchMs: number; slapdMs: number; otherCores: number };
}

/** The directory entries scripts/start-slapd.sh makes for LDAP_USERS: uid=user0001, pw0001. */
const userName = (w: number) => `user${String(w + 1).padStart(4, '0')}`;
const userPassword = (w: number) => `pw${String(w + 1).padStart(4, '0')}`;

function configText(dir: string, breakerEnabled: boolean, ldapPort: number): string {
  return [
    '[main]',
    `log_dir=${join(dir, 'log')}`,
    `state_dir=${join(dir, 'state')}`,
    'admin_listen=127.0.0.1:0', // never the default 9443 another proxy may hold
    '',
    adClientSection(ldapPort),
    '',
    '[radius_server_auto]',
    'ikey=DIXXXXXXXXXXXXXXXXXX',
    'skey=XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
    'api_host=127.0.0.1',
    'api_port=PORT',
    'api_ca_file=ca.pem',
    `api_timeout=${API_TIMEOUT_SECONDS}`,
    'client=ad_client',
    'failmode=safe',
    `breaker_enabled=${breakerEnabled}`,
    `breaker_failure_threshold=${BREAKER_THRESHOLD}`,
    `breaker_open_seconds=${BREAKER_OPEN_SECONDS}`,
    `breaker_max_open_seconds=${BREAKER_MAX_OPEN_SECONDS}`,
    `health_check_interval=${HEALTH_CHECK_INTERVAL_SECONDS}`,
    'interface=127.0.0.1',
    'port=0',
    'radius_ip_1=127.0.0.1',
    `radius_secret_1=${RADIUS_SECRET}`,
    '',
  ].join('\n');
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

async function runOnce(
  name: string,
  breakerEnabled: boolean,
  tls: DrillTlsMaterial,
  ldapPort: number,
  slapdPid: number,
): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-outage-'));
  const injector = await startFaultInjector({ tls, mode: 'healthy', clock });
  writeFileSync(join(dir, 'ca.pem'), tls.caPem);
  const configFile = join(dir, 'authproxy.cfg');
  writeFileSync(
    configFile,
    configText(dir, breakerEnabled, ldapPort).replace('api_port=PORT', `api_port=${injector.port}`),
  );
  // --cpu-prof is refused in NODE_OPTIONS: a profiled proxy is spawned with the flag itself.
  const proxy = await spawnAirlock(
    ['proxy', '--config', configFile],
    PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`],
    /listening for RADIUS on 127\.0\.0\.1:([0-9]+)/,
  );
  const proxyPid = proxy.child.pid!;
  const port = proxy.port;

  const logins: Login[] = [];
  let stop = false;
  let outageStartMs = 0;
  let outageEndMs = 0;
  let secondHalf: Parameters<typeof cpuPerLogin>[3] | undefined;
  let workers: Promise<void>[] = [];
  // The proxy child is stopped whatever happens here: a bench that fails must not leave it running.
  try {
    const worker = async (w: number) => {
      await sleep((LOGIN_INTERVAL_MS / CONCURRENCY) * w); // spread the workers out
      // Each NAS keeps its socket, as a real one does: a socket per login would be bench work
      // counted inside every measured login (the load generator's event loop times it).
      const socket = createNasSocket('127.0.0.1');
      try {
        await nasLogins(w, socket);
      } finally {
        socket.close();
      }
    };
    const nasLogins = async (w: number, socket: ReturnType<typeof createNasSocket>) => {
      while (!stop) {
        const startMs = clock.nowMs();
        const sentAt = performance.now();
        const answer = await sendRadiusLogin({
          host: '127.0.0.1',
          port,
          secret: RADIUS_SECRET,
          username: userName(w),
          password: userPassword(w),
          timeoutMs: API_TIMEOUT_SECONDS * 1000 * 3,
          random,
          socket,
        });
        const tookMs = performance.now() - sentAt;
        const endMs = clock.nowMs();
        const reply = answer.kind === 'answer' ? answer.replyMessage : undefined;
        logins.push({
          startMs,
          endMs,
          tookMs,
          decidedBy:
            reply === SERVICE_ALLOW
              ? 'service'
              : reply === FAILMODE_LOG_MESSAGES.failmodeSafe
                ? 'failmode'
                : 'other',
        });
        await sleep(LOGIN_INTERVAL_MS - (endMs - startMs));
      }
    };
    workers = Array.from({ length: CONCURRENCY }, (_, w) => worker(w));

    await sleep(HEALTHY_BEFORE_MS);
    outageStartMs = clock.nowMs();
    injector.setMode('blackhole');
    // The outage's second half (the breaker opens after api_timeout): CPU per login there is the
    // open-breaker path's cost, a figure other jobs on a shared machine change far less than p99.
    await sleep(OUTAGE_MS / 2);
    const cpuFrom = {
      at: clock.nowMs(),
      own: process.cpuUsage(),
      proxy: processCpuMs(proxyPid),
      slapd: processCpuMs(slapdPid),
    };
    const machineFrom = machineCpuMs();
    await sleep(OUTAGE_MS / 2);
    outageEndMs = clock.nowMs();
    const own = process.cpuUsage(cpuFrom.own);
    secondHalf = {
      proxyMs: processCpuMs(proxyPid) - cpuFrom.proxy,
      benchMs: (own.user + own.system) / 1000,
      slapdMs: processCpuMs(slapdPid) - cpuFrom.slapd,
      machineMs: machineCpuMs() - machineFrom,
      elapsedMs: outageEndMs - cpuFrom.at,
    };
    injector.setMode('healthy');
    await sleep(HEALTHY_AFTER_MS);
  } finally {
    stop = true;
    await Promise.allSettled(workers);
    await stopChild(proxy.child, proxy.exited); // SIGTERM: it closes its logs, then exits
  }
  await Promise.all(workers); // a worker that failed fails the run (settled above)
  await injector.close();

  const log = readFileSync(join(dir, 'log', 'authproxy.log'), 'utf8');
  rmSync(dir, { recursive: true, force: true });
  const firstLine = (pattern: RegExp) => {
    const found = log
      .split('\n')
      .find((l) => pattern.test(l) && l.slice(0, 24) >= iso(outageStartMs));
    return found ? Date.parse(found.slice(0, 24)) - outageStartMs : undefined;
  };
  const detectMs = firstLine(/circuit breaker for .*-> open/);
  const unhealthyMs = firstLine(/API host .* is unreachable/);

  const during = logins.filter(
    (l) => l.startMs >= outageStartMs && l.startMs < outageEndMs && l.decidedBy === 'failmode',
  );
  const times = during.map((l) => l.tookMs).sort((a, b) => a - b);
  const openAtMs = detectMs === undefined ? undefined : outageStartMs + detectMs;
  const openTimes =
    openAtMs === undefined
      ? undefined
      : during
          .filter((l) => l.startMs >= openAtMs)
          .map((l) => l.tookMs)
          .sort((a, b) => a - b);
  const firstFailmode = logins
    .filter((l) => l.decidedBy === 'failmode' && l.endMs >= outageStartMs)
    .sort((a, b) => a.endMs - b.endMs)[0];
  const recovered = logins
    .filter((l) => l.decidedBy === 'service' && l.endMs > outageEndMs)
    .sort((a, b) => a.endMs - b.endMs)[0];
  return {
    name,
    breakerEnabled,
    logins,
    outageStartMs,
    outageEndMs,
    detectMs,
    unhealthyMs,
    firstFailmodeMs: firstFailmode ? firstFailmode.endMs - outageStartMs : undefined,
    recoverMs: recovered ? recovered.endMs - outageEndMs : undefined,
    failmodeP50Ms: percentile(times, 50),
    failmodeP99Ms: percentile(times, 99),
    failmodeMaxMs: times.at(-1) ?? NaN,
    failmodeCount: times.length,
    cpuPerLogin: cpuPerLogin(logins, outageEndMs - secondHalf.elapsedMs, outageEndMs, secondHalf),
    open: openTimes && {
      count: openTimes.length,
      p50Ms: percentile(openTimes, 50),
      p99Ms: percentile(openTimes, 99),
      maxMs: openTimes.at(-1) ?? NaN,
    },
  };
}

/** CPU per login over a window; `otherCores`: what the rest of the machine used meanwhile. */
function cpuPerLogin(
  logins: readonly Login[],
  fromMs: number,
  toMs: number,
  used: { proxyMs: number; benchMs: number; slapdMs: number; machineMs: number; elapsedMs: number },
): RunResult['cpuPerLogin'] {
  const n = logins.filter((l) => l.startMs >= fromMs && l.startMs < toMs).length;
  const measured = used.proxyMs + used.benchMs + used.slapdMs;
  return {
    proxyMs: used.proxyMs / n,
    benchMs: used.benchMs / n,
    slapdMs: used.slapdMs / n,
    otherCores: Math.max(0, used.machineMs - measured) / used.elapsedMs,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
const fmt = (ms: number | undefined) =>
  ms === undefined || Number.isNaN(ms) ? 'n/a' : `${Math.round(ms)} ms`;
/** One decimal: the open-breaker figures, a few ms, against a 5 ms target. */
const fmt1 = (ms: number) => (Number.isNaN(ms) ? 'n/a' : `${ms.toFixed(1)} ms`);

async function main(): Promise<number> {
  const tls = await createDrillTlsMaterial(clock.nowMs());
  const slapd = await startSlapd({ LDAP_USERS: String(CONCURRENCY) });
  const slapdPid = Number(readFileSync(join(slapd.dir, 'slapd.pid'), 'utf8').trim());
  process.stdout.write(
    `bench:outage${SMOKE ? ' (smoke)' : ''} — failmode=safe, api_timeout=${API_TIMEOUT_SECONDS} s, breaker_failure_threshold=${BREAKER_THRESHOLD}, ` +
      `breaker_open_seconds=${BREAKER_OPEN_SECONDS} (doubling to ${BREAKER_MAX_OPEN_SECONDS}), health_check_interval=${HEALTH_CHECK_INTERVAL_SECONDS} s; ` +
      `${CONCURRENCY} concurrent NAS workers, one login per ${LOGIN_INTERVAL_MS} ms each, LDAP primary (slapd) then the service; ` +
      `the proxy: a child process (airlock proxy, built dist/); ` +
      `healthy ${HEALTHY_BEFORE_MS / 1000} s → blackhole ${OUTAGE_MS / 1000} s → healthy ${HEALTHY_AFTER_MS / 1000} s\n`,
  );
  const results: RunResult[] = [];
  try {
    for (const [name, enabled] of [
      ['breaker', true],
      ['no breaker (Duo)', false],
    ] as const) {
      process.stdout.write(`running: ${name} …\n`);
      results.push(await runOnce(name, enabled, tls, slapd.port, slapdPid));
    }
  } finally {
    await slapd.stop();
  }

  const columns = [
    'run',
    'logins',
    'failmode decisions in outage',
    'p50 to decision',
    'p99 to decision',
    'max',
    'once open: decisions, p50, p99, max',
    'first failmode answer',
    'detect (breaker open)',
    'health: unreachable',
    'recover',
    'other answers',
  ];
  const rows = results.map((r) => [
    r.name,
    String(r.logins.length),
    String(r.failmodeCount),
    fmt(r.failmodeP50Ms),
    fmt(r.failmodeP99Ms),
    fmt(r.failmodeMaxMs),
    r.open
      ? `${r.open.count}, ${fmt1(r.open.p50Ms)}, ${fmt1(r.open.p99Ms)}, ${fmt1(r.open.maxMs)}`
      : 'n/a',
    fmt(r.firstFailmodeMs),
    r.detectMs === undefined ? 'never' : fmt(r.detectMs),
    r.unhealthyMs === undefined ? 'never' : fmt(r.unhealthyMs),
    fmt(r.recoverMs),
    String(r.logins.filter((l) => l.decidedBy === 'other').length),
  ]);
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`\n${line(columns)}\n${rows.map(line).join('\n')}\n\n`);
  for (const r of results) {
    const c = r.cpuPerLogin;
    process.stdout.write(
      `CPU ms per login in the outage's second half, ${r.name}: proxy ${c.proxyMs.toFixed(3)}, bench (load generator + fault injector) ${c.benchMs.toFixed(3)}, slapd ${c.slapdMs.toFixed(3)}; other jobs on the machine meanwhile: ${c.otherCores.toFixed(2)} cores\n`,
    );
  }
  process.stdout.write('\n');
  const problems = outageRunProblems(results.map(checkedRun));
  const [withBreaker, without] = results as [RunResult, RunResult];
  process.stdout.write(
    `breaker p99: ${fmt1(withBreaker.open?.p99Ms ?? NaN)} once open (${Math.round(withBreaker.failmodeP99Ms)} ms over the whole outage) vs no breaker p99: ${Math.round(without.failmodeP99Ms)} ms\n`,
  );
  return verdict('bench:outage', problems);
}

/** What run-checks.ts checks of one run. */
function checkedRun(r: RunResult): OutageRun {
  return {
    name: r.name,
    breakerEnabled: r.breakerEnabled,
    logins: r.logins.length,
    serviceAnswersBefore: r.logins.filter(
      (l) => l.decidedBy === 'service' && l.endMs < r.outageStartMs,
    ).length,
    failmodeCount: r.failmodeCount,
    failmodeP99Ms: r.failmodeP99Ms,
    ...(r.open ? { openFailmodeCount: r.open.count, openFailmodeP99Ms: r.open.p99Ms } : {}),
    otherAnswers: r.logins.filter((l) => l.decidedBy === 'other').length,
    recoverMs: r.recoverMs,
    detectMs: r.detectMs,
    proxyCpuMsPerLogin: r.cpuPerLogin.proxyMs,
  };
}

process.exitCode = await main();
