// bench:authapi — signed preauth + auth(passcode) through the real service vs a bare Fastify route.
// Both servers run as child processes over HTTPS on loopback; autocannon drives them from here.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { signRequest } from '../src/protocol/duo-signature.ts';
import {
  airlock,
  airlockJson,
  startServe,
  stopServe,
} from '../test/integration/airlock-process.ts';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const HOST = 'localhost';

interface Figures {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-'));
  const data = ['--data-dir', dir];
  const service = await startServe([...data, '--listen', '127.0.0.1:0', '--log-level', 'warn']);
  let bare: { child: ChildProcess; port: number } | undefined;
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
    const requests = [
      signed('/auth/v2/preauth', { username: 'benchuser', ipaddr: '192.0.2.1' }),
      signed('/auth/v2/auth', {
        username: 'benchuser',
        factor: 'passcode',
        passcode,
        ipaddr: '192.0.2.1',
      }),
    ];

    bare = await startBare(join(dir, 'tls', 'server.pem'), join(dir, 'tls', 'server-key.pem'));
    console.log(
      `bench:authapi — ${CONNECTIONS} connections, ${DURATION_SECONDS} s each, HTTPS on loopback, 2 cores shared with the load generator`,
    );
    console.log(
      'workload: alternating signed POST /auth/v2/preauth and /auth/v2/auth (factor=passcode, bypass code), SQLite store\n',
    );

    await run('warm-up airlock', service.port, requests, 2);
    const airlockFigures = await run(
      'airlock (preauth+auth)',
      service.port,
      requests,
      DURATION_SECONDS,
    );
    await run('warm-up bare', bare.port, requests, 2);
    const bareFigures = await run('bare fastify route', bare.port, requests, DURATION_SECONDS);

    printTable([airlockFigures, bareFigures]);
    if (airlockFigures.non2xx > 0 || airlockFigures.errors > 0) {
      throw new Error(
        `airlock answered ${airlockFigures.non2xx} non-2xx and ${airlockFigures.errors} errors: the run is invalid`,
      );
    }
    console.log(
      `ratio: ${(airlockFigures.requestsPerSecond / bareFigures.requestsPerSecond).toFixed(2)}`,
    );
  } finally {
    bare?.child.kill('SIGTERM');
    await stopServe(service);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(
  name: string,
  port: number,
  requests: autocannon.Request[],
  seconds: number,
): Promise<Figures> {
  const result = await autocannon({
    url: `https://127.0.0.1:${port}`,
    servername: HOST,
    connections: CONNECTIONS,
    duration: seconds,
    requests,
  });
  return {
    name,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

function printTable(rows: Figures[]): void {
  console.log('target                    req/s     p50 ms  p99 ms  errors  non-2xx');
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(24)}  ${r.requestsPerSecond.toFixed(0).padStart(7)}  ${r.p50Ms.toFixed(1).padStart(6)}  ${r.p99Ms.toFixed(1).padStart(6)}  ${String(r.errors).padStart(6)}  ${String(r.non2xx).padStart(7)}`,
    );
  }
}

function startBare(cert: string, key: string): Promise<{ child: ChildProcess; port: number }> {
  const script = fileURLToPath(new URL('./bare-fastify.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, cert, key], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on https:\/\/127\.0\.0\.1:([0-9]+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`bare fastify exited ${code}`)));
  });
}

await main();
