// bench:ldap — simple binds with an appended TOTP code through the proxy's [ldap_server_auto]
// (bind to slapd, entry lookup, preauth + auth to the service) side by side with the same binds
// straight to slapd without a second factor. Child processes on loopback; the load generator
// here binds with ldapts, CONCURRENCY connections per target, each binding again and again.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, InvalidCredentialsError } from 'ldapts';
import { Secret, TOTP } from 'otpauth';
import { openContext } from '../src/cli/open-context.ts';
import { generateId } from '../src/runtime/random.ts';
import { airlockJson, startServe } from '../test/integration/airlock-process.ts';
import { startSlapd } from '../test/integration/external-servers.ts';
import { cpuSnapshot, machineCpuMs } from './process-cpu.ts';
import { spawnAirlock, stopChild } from './bench-support.ts';
import { ldapRunProblems, sized, SMOKE, verdict } from './run-checks.ts';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? sized(4, 32));
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? sized(2, 10));
const WARMUP_SECONDS = sized(1, 2);
/** A bind answered later than this is a timeout. */
const BIND_TIMEOUT_MS = 10_000;
/** The rate the user pool is sized for (each user binds through the proxy once: TOTP is one-time). */
const EXPECTED_RATE = Number(process.env.BENCH_EXPECTED_RATE ?? sized(300, 1500));
const USERS = Number(
  process.env.BENCH_USERS ?? Math.ceil(EXPECTED_RATE * (WARMUP_SECONDS + DURATION_SECONDS)),
);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const PEOPLE = 'ou=people,dc=example,dc=org';

interface Bind {
  dn: string;
  password: string;
}

interface Target {
  name: string;
  port: number;
  nextBind: () => Bind | undefined;
  /** The server processes whose CPU time a bind costs, by name. */
  processes: Record<string, number>;
}

interface Figures {
  name: string;
  seconds: number;
  bindsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  successes: number;
  rejects: number;
  errors: number;
  exhausted: boolean;
  /** CPU time (user + system) per answered bind, ms, by process; the load generator included. */
  cpuMsPerBind: Record<string, number>;
  /** Cores' worth of CPU that everything else on the machine used meanwhile (other jobs). */
  otherCores: number;
}

/** Closed loop: CONCURRENCY connections, each binds again as soon as its last bind ended. */
async function runLoad(target: Target, seconds: number): Promise<Figures> {
  const clients = Array.from(
    { length: CONCURRENCY },
    () =>
      new Client({
        url: `ldap://127.0.0.1:${target.port}`,
        timeout: BIND_TIMEOUT_MS,
        connectTimeout: BIND_TIMEOUT_MS,
      }),
  );
  const latencies: number[] = [];
  const counts = { successes: 0, rejects: 0, errors: 0 };
  let exhausted = false;
  const cpuBefore = cpuSnapshot(target.processes);
  const machineBefore = machineCpuMs();
  const startedMs = performance.now();
  const endMs = startedMs + seconds * 1000;
  const worker = async (client: Client) => {
    while (performance.now() < endMs) {
      const bind = target.nextBind();
      if (!bind) {
        exhausted = true;
        return;
      }
      const t0 = performance.now();
      try {
        await client.bind(bind.dn, bind.password);
        counts.successes += 1;
        latencies.push(performance.now() - t0);
      } catch (err) {
        if (err instanceof InvalidCredentialsError) {
          counts.rejects += 1;
          latencies.push(performance.now() - t0);
        } else {
          counts.errors += 1;
        }
      }
    }
  };
  try {
    await Promise.all(clients.map(worker));
  } finally {
    await Promise.all(clients.map((c) => c.unbind().catch(() => undefined)));
  }
  const elapsedSeconds = (performance.now() - startedMs) / 1000;
  const cpuAfter = cpuSnapshot(target.processes);
  const machineMs = machineCpuMs() - machineBefore;
  const answered = counts.successes + counts.rejects;
  const ownMs = Object.keys(cpuAfter).reduce((sum, n) => sum + cpuAfter[n]! - cpuBefore[n]!, 0);
  latencies.sort((a, b) => a - b);
  return {
    cpuMsPerBind: Object.fromEntries(
      Object.keys(cpuAfter).map((n) => [n, (cpuAfter[n]! - cpuBefore[n]!) / Math.max(answered, 1)]),
    ),
    otherCores: (machineMs - ownMs) / (elapsedSeconds * 1000),
    name: target.name,
    seconds: elapsedSeconds,
    bindsPerSecond: answered / elapsedSeconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    ...counts,
    exhausted,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/** The directory entries scripts/start-slapd.sh makes for LDAP_USERS: uid=user0001, pw0001. */
const userName = (i: number) => `user${String(i).padStart(4, '0')}`;
const userPassword = (i: number) => `pw${String(i).padStart(4, '0')}`;
const userDn = (i: number) => `uid=${userName(i)},${PEOPLE}`;

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
        const bytes = ctx.random.bytes(20);
        const secret = new Secret({
          buffer: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 20) as ArrayBuffer,
        }).base32;
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

function proxyConfig(input: {
  ldapPort: number;
  ikey: string;
  skey: string;
  apiPort: number;
  caFile: string;
}): string {
  return [
    '[main]',
    'log_dir=log',
    'state_dir=state',
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
    `search_dn=${PEOPLE}`,
    'username_attribute=uid',
    '',
    '[ldap_server_auto]',
    `ikey=${input.ikey}`,
    `skey=${input.skey}`,
    'api_host=localhost',
    `api_port=${input.apiPort}`,
    `api_ca_file=${input.caFile}`,
    'client=ad_client',
    'failmode=secure',
    'interface=127.0.0.1',
    'port=0',
    // Every bind gets the second factor, and a connection binds again and again (as the direct
    // target's do), so the figures compare binds, not connection set-up.
    'exempt_primary_bind=false',
    'allow_unlimited_binds=true',
    '',
  ].join('\n');
}

/** CPU time per bind by process: unlike the rates, not skewed by other load on the machine. */
function printCpu(rows: Figures[]): void {
  console.log('\nCPU ms per bind (user + system):');
  for (const r of rows) {
    const parts = Object.entries(r.cpuMsPerBind).map(([name, ms]) => `${name} ${ms.toFixed(2)}`);
    const total = Object.values(r.cpuMsPerBind).reduce((a, b) => a + b, 0);
    console.log(`  ${r.name}: ${parts.join(', ')}; total ${total.toFixed(2)}`);
  }
  console.log(
    `other jobs on the machine meanwhile: ${rows.map((r) => `${Math.max(0, r.otherCores).toFixed(2)} cores during ${r.name}`).join(', ')}`,
  );
}

function printTable(rows: Figures[]): void {
  console.log('target                      binds/s  p50 ms  p99 ms  successes  rejects  errors');
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(26)}  ${r.bindsPerSecond.toFixed(0).padStart(7)}  ${r.p50Ms.toFixed(1).padStart(6)}  ${r.p99Ms.toFixed(1).padStart(6)}  ${String(r.successes).padStart(9)}  ${String(r.rejects).padStart(7)}  ${String(r.errors).padStart(6)}`,
    );
  }
}

async function main(): Promise<number> {
  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async () => {
    for (const step of cleanups.reverse()) {
      await step().catch((e: unknown) => console.error(`cleanup: ${(e as Error).message}`));
    }
  };
  process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));
  try {
    if (!SMOKE) await run('npm', ['run', '--silent', 'build'], { cwd: ROOT });
    const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-ldap-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const dataDir = join(dir, 'data');

    const slapd = await startSlapd({ LDAP_USERS: String(USERS) });
    cleanups.push(() => slapd.stop());
    const slapdPid = Number(readFileSync(join(slapd.dir, 'slapd.pid'), 'utf8').trim());
    const service = await startServe([
      '--data-dir',
      dataDir,
      '--listen',
      '127.0.0.1:0',
      '--log-level',
      'warn',
    ]);
    cleanups.push(() => stopChild(service.child, service.exited));
    const app = await airlockJson<{ ikey: string; skey: string }>([
      'app',
      'create',
      'bench-ldap',
      '--type',
      'radius',
      '--rate-limit',
      '0',
      '--data-dir',
      dataDir,
    ]);
    const secrets = await createUsers(dataDir, USERS);

    const proxyDir = join(dir, 'proxy');
    mkdirSync(proxyDir);
    const configFile = join(proxyDir, 'authproxy.cfg');
    writeFileSync(
      configFile,
      proxyConfig({
        ldapPort: slapd.port,
        ikey: app.ikey,
        skey: app.skey,
        apiPort: service.port,
        caFile: join(dataDir, 'tls', 'ca.pem'),
      }),
    );
    const proxy = await spawnAirlock(
      ['proxy', '--config', configFile],
      [],
      /listening for LDAP on 127\.0\.0\.1:([0-9]+)/,
    );
    cleanups.push(() => stopChild(proxy.child, proxy.exited));

    let nextProxyUser = 1;
    const throughProxy: Target = {
      name: 'airlock proxy+service',
      port: proxy.port,
      processes: { proxy: proxy.child.pid!, service: service.child.pid!, slapd: slapdPid },
      nextBind: () => {
        if (nextProxyUser > USERS) return undefined;
        const i = nextProxyUser++;
        const code = new TOTP({
          secret: Secret.fromBase32(secrets[i - 1]!),
          period: 30,
        }).generate();
        return { dn: userDn(i), password: `${userPassword(i)},${code}` };
      },
    };
    let nextDirectUser = 0;
    const direct: Target = {
      name: 'slapd direct (no 2FA)',
      port: slapd.port,
      processes: { slapd: slapdPid },
      nextBind: () => {
        const i = (nextDirectUser++ % USERS) + 1;
        return { dn: userDn(i), password: userPassword(i) };
      },
    };

    console.log(
      `bench:ldap${SMOKE ? ' (smoke)' : ''} — ${CONCURRENCY} connections per target binding back to back, ${DURATION_SECONDS} s after a ${WARMUP_SECONDS} s warm-up, loopback`,
    );
    console.log(
      `machine: ${availableParallelism()} cores shared by the load generator (ldapts), slapd, and Airlock's proxy + service; Node ${process.version}`,
    );
    console.log(
      `workload: simple binds; ${USERS} users in OpenLDAP slapd (mdb).\n` +
        '  airlock: "pwNNNN,<TOTP>": bind to slapd, entry lookup (service account), preauth + auth over HTTPS to the service (SQLite); each user once\n' +
        '  slapd direct: "pwNNNN", no second factor\n',
    );

    const figures: Figures[] = [];
    for (const target of [throughProxy, direct]) {
      await runLoad(target, WARMUP_SECONDS);
      const f = await runLoad(target, DURATION_SECONDS);
      if (f.exhausted) {
        console.log(
          `note: ${f.name} used up all ${USERS} users after ${f.seconds.toFixed(1)} s (set BENCH_USERS higher); its figures cover those seconds`,
        );
      }
      figures.push(f);
    }
    printTable(figures);
    printCpu(figures);
    const problems = ldapRunProblems(figures);
    const [airlockFigures, directFigures] = figures as [Figures, Figures];
    if (problems.length === 0) {
      console.log(
        `ratio: ${(airlockFigures.bindsPerSecond / directFigures.bindsPerSecond).toFixed(2)}`,
      );
    }
    return verdict('bench:ldap', problems);
  } finally {
    await cleanUp();
  }
}

process.exitCode = await main();
