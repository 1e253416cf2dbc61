// bench:authapi — signed preauth + auth(passcode) through the real service vs a bare Fastify route.
// A third target, the floor route (bench/floor-fastify.ts), does only the work such a login cannot
// skip. All three run as child processes over HTTPS on loopback; autocannon drives them from here.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import BetterSqlite3 from 'better-sqlite3';
import { signRequest } from '../src/protocol/duo-signature.ts';
import {
  airlock,
  airlockJson,
  startServe,
  stopServe,
} from '../test/integration/airlock-process.ts';
import { processCpuMs } from './process-cpu.ts';
import { authapiRunProblems, sized, SMOKE, verdict } from './run-checks.ts';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? sized(8, 32));
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? sized(2, 10));
const WARMUP_SECONDS = sized(1, 2);
const HOST = 'localhost';

interface Figures {
  name: string;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /** CPU the server process spent per answered request, ms (contention changes it less than req/s). */
  serverCpuMsPerRequest: number;
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
  const data = ['--data-dir', dir];
  const service = await startServe([...data, '--listen', '127.0.0.1:0', '--log-level', 'warn']);
  let bare: { child: ChildProcess; port: number } | undefined;
  let floor: { child: ChildProcess; port: number } | undefined;
  try {
    const app = await airlockJson<{ ikey: string; skey: string }>([
      'app',
      'create',
      'bench',
      '--rate-limit',
      '0',
      ...data,
    ]);
    await airlock(['user', 'create', 'benchuser', ...data]);
    await airlock(['token', 'add-totp', 'benchuser', ...data]);
    const { codes } = await airlockJson<{ codes: string[] }>([
      'bypass-codes',
      'benchuser',
      '--count',
      '1',
      '--uses',
      '0',
      ...data,
    ]);
    const passcode = codes[0]!;

    // Pre-signed requests: the Date stays inside the 300 s window for the whole run.
    const date = new Date().toUTCString();
    const signed = (path: string, params: Record<string, string>) => {
      const body = new URLSearchParams(params).toString().replace(/\+/g, '%20');
      return {
        method: 'POST' as const,
        path,
        body,
        headers: {
          host: HOST,
          date,
          'content-type': 'application/x-www-form-urlencoded',
          authorization: signRequest({
            ikey: app.ikey,
            skey: app.skey,
            method: 'POST',
            host: HOST,
            path,
            params,
            date,
          }),
        },
      };
    };
    // One client address per connection: the per-source failure budgets reserve a unit for every
    // attempt in flight (docs/security.md, finding 3), so 32 concurrent logins of one user from
    // one address would be refused as source-limited. A connection has one request in flight.
    const requests = Array.from({ length: CONNECTIONS }, (_, c) => {
      const ipaddr = `10.0.${c >> 8}.${(c & 255) + 1}`;
      return [
        signed('/auth/v2/preauth', { username: 'benchuser', ipaddr }),
        signed('/auth/v2/auth', { username: 'benchuser', factor: 'passcode', passcode, ipaddr }),
      ];
    });

    const tls = [join(dir, 'tls', 'server.pem'), join(dir, 'tls', 'server-key.pem')];
    bare = await startChild('bare-fastify.ts', tls);
    floor = await startChild('floor-fastify.ts', [...tls, join(dir, 'airlock.db')], {
      FLOOR_SKEY: app.skey,
    });
    console.log(
      `bench:authapi${SMOKE ? ' (smoke)' : ''} — ${CONNECTIONS} connections, ${DURATION_SECONDS} s each, HTTPS on loopback, 2 cores shared with the load generator`,
    );
    console.log(
      'workload: alternating signed POST /auth/v2/preauth and /auth/v2/auth (factor=passcode, bypass code; one ipaddr per connection), SQLite store\n',
    );

    // Each target: a warm-up, then the measured run.
    const measure = async (name: string, target: { port: number; pid: number }) => {
      await run(`warm-up ${name}`, target.port, target.pid, requests, WARMUP_SECONDS);
      return run(name, target.port, target.pid, requests, DURATION_SECONDS);
    };
    const airlockFigures = await measure('airlock (preauth+auth)', {
      port: service.port,
      pid: service.child.pid!,
    });
    const bareFigures = await measure('bare fastify route', {
      port: bare.port,
      pid: bare.child.pid!,
    });
    const floorFigures = await measure('floor route', { port: floor.port, pid: floor.child.pid! });

    printTable([airlockFigures, bareFigures, floorFigures]);
    const passcodes = passcodeAnswers(join(dir, 'airlock.db'));
    console.log(
      `airlock's audit: ${passcodes.allowed} passcode logins allowed, ${passcodes.denied} denied${passcodes.reasons.length > 0 ? `: ${passcodes.reasons.join(', ')}` : ''}`,
    );
    console.log(
      `server CPU per request: airlock ${airlockFigures.serverCpuMsPerRequest.toFixed(3)} ms, bare route ${bareFigures.serverCpuMsPerRequest.toFixed(3)} ms, floor route ${floorFigures.serverCpuMsPerRequest.toFixed(3)} ms`,
    );
    const problems = authapiRunProblems([airlockFigures, bareFigures, floorFigures], passcodes);
    if (problems.length === 0) {
      console.log(
        `floor ratio: ${(floorFigures.requestsPerSecond / bareFigures.requestsPerSecond).toFixed(2)} (the floor route over the bare route: the most any implementation of the same work reaches here)`,
      );
      console.log(
        `ratio: ${(airlockFigures.requestsPerSecond / bareFigures.requestsPerSecond).toFixed(2)}`,
      );
    }
    return verdict('bench:authapi', problems);
  } finally {
    bare?.child.kill('SIGTERM');
    floor?.child.kill('SIGTERM');
    await stopServe(service);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(
  name: string,
  port: number,
  serverPid: number,
  requests: autocannon.Request[][],
  seconds: number,
): Promise<Figures> {
  let nextConnection = 0;
  const cpuBefore = processCpuMs(serverPid);
  const result = await autocannon({
    url: `https://127.0.0.1:${port}`,
    servername: HOST,
    connections: CONNECTIONS,
    duration: seconds,
    requests: requests[0]!,
    setupClient: (client) => client.setRequests(requests[nextConnection++ % requests.length]!),
  });
  const cpuMs = processCpuMs(serverPid) - cpuBefore;
  return {
    name,
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    serverCpuMsPerRequest: cpuMs / Math.max(result.requests.total, 1),
  };
}

/** What the service decided on the measured `auth` calls (and the warm-up's), from its audit. */
function passcodeAnswers(dbFile: string): {
  allowed: number;
  denied: number;
  reasons: string[];
} {
  const db = new BetterSqlite3(dbFile, { readonly: true });
  try {
    const rows = db
      .prepare(
        `SELECT result, json_extract(detail, '$.reason') AS reason, COUNT(*) AS n
           FROM audit_events WHERE action = 'auth.passcode' GROUP BY 1, 2`,
      )
      .all() as { result: string; reason: string | null; n: number }[];
    const sum = (list: typeof rows) => list.reduce((a, r) => a + r.n, 0);
    const denied = rows.filter((r) => r.result !== 'allow');
    return {
      allowed: sum(rows.filter((r) => r.result === 'allow')),
      denied: sum(denied),
      reasons: denied.map((r) => `${r.n}× ${r.result} (${r.reason ?? 'no reason'})`),
    };
  } finally {
    db.close();
  }
}

function printTable(rows: Figures[]): void {
  console.log(
    'target                    req/s     p50 ms  p99 ms  errors  non-2xx  server CPU ms/req',
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(24)}  ${r.requestsPerSecond.toFixed(0).padStart(7)}  ${r.p50Ms.toFixed(1).padStart(6)}  ${r.p99Ms.toFixed(1).padStart(6)}  ${String(r.errors).padStart(6)}  ${String(r.non2xx).padStart(7)}  ${r.serverCpuMsPerRequest.toFixed(3).padStart(17)}`,
    );
  }
}

/** Starts one of the comparison servers (bench/NAME) and resolves with its port. */
function startChild(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; port: number }> {
  const script = fileURLToPath(new URL(`./${name}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on https:\/\/127\.0\.0\.1:([0-9]+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${name} exited ${code}`)));
  });
}

process.exitCode = await main();
