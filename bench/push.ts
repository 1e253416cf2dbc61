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
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { DeviceClient } from '../src/authenticator/device-client.ts';
import { airlockJson, startServe } from '../test/integration/airlock-process.ts';
import { freeUdpPort } from '../test/integration/external-servers.ts';
import { pushRunProblems, sized, SMOKE, verdict } from './run-checks.ts';
import { createPhones, memoryOf, Nas, percentile, sleep, type NasAnswer } from './bench-support.ts';

const PUSHES = Number(process.env.BENCH_PUSHES ?? sized(100, 10_000));
const APPROVERS = Number(process.env.BENCH_APPROVERS ?? sized(8, 64));
/** Node flags for the proxy and the service, e.g. a heap cap as a production unit would set. */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const TARGET_MIB = 256;
const SECRET = 'bench-push-radius-secret';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'airlock.js');

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

    const nas = new Nas({
      port: radiusPort,
      secret: SECRET,
      sockets: Math.ceil(PUSHES / 256) + 1,
    });
    await nas.open();
    const sentAt = performance.now();
    const answers: Promise<NasAnswer>[] = [];
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

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
