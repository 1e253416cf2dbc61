// bench:nodes — passcode logins (signed preauth + auth) per second with two service nodes on one
// PostgreSQL against one node on the same database (docs/multi-node.md). The nodes are
// `airlock serve` child processes with their own data directories and the same secret key;
// autocannon drives them from here, splitting its connections over the nodes as a load balancer
// would. PostgreSQL: the database of AIRLOCK_TEST_DATABASE_URL's server (as npm test sets it), or
// a throw-away server started with scripts/start-pg.sh, as the tests do.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { openContext } from '../src/cli/open-context.ts';
import { hashBypassCode } from '../src/core/bypass-code.ts';
import { signRequest } from '../src/protocol/duo-signature.ts';
import { generateDigits, generateId } from '../src/runtime/random.ts';
import {
  airlockJson,
  startServe,
  stopServe,
  type RunningService,
} from '../test/integration/airlock-process.ts';
import { processCpuMs } from './process-cpu.ts';
import { nodesRunProblems, sized, SMOKE, verdict, type NodesPhaseRun } from './run-checks.ts';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? sized(8, 32));
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? sized(2, 10));
const WARMUP_SECONDS = sized(1, 2);
const HOST = 'localhost';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Database {
  url: string;
  where: string;
  /** The postmaster's pid when this bench started the server (its CPU is then measured). */
  postmasterPid: number | undefined;
  close(): Promise<void>;
}

interface Node {
  name: string;
  service: RunningService;
}

async function main(): Promise<number> {
  const db = await openDatabase();
  const dirs = [
    mkdtempSync(join(tmpdir(), 'airlock-nodes-a-')),
    mkdtempSync(join(tmpdir(), 'airlock-nodes-b-')),
  ];
  const env = {
    AIRLOCK_DATABASE_URL: db.url,
    AIRLOCK_SECRET_KEY: randomBytes(32).toString('base64'),
  };
  const nodes: Node[] = [];
  try {
    for (const [i, dir] of dirs.entries()) {
      const service = await startServe(
        ['--data-dir', dir, '--listen', '127.0.0.1:0', '--log-level', 'warn'],
        env,
      );
      nodes.push({ name: `node ${'AB'[i]}`, service });
    }
    const data = ['--data-dir', dirs[0]!];
    const app = await airlockJson<{ ikey: string; skey: string }>(
      ['app', 'create', 'bench', '--rate-limit', '0', ...data],
      env,
    );
    const requests = signedLogins(app, await createUsers(dirs[0]!, env));

    console.log(
      `bench:nodes${SMOKE ? ' (smoke)' : ''} — ${CONNECTIONS} connections in all, ${DURATION_SECONDS} s per run, HTTPS on loopback`,
    );
    console.log(
      'workload: alternating signed POST /auth/v2/preauth and /auth/v2/auth (factor=passcode, bypass code; one user and ipaddr per connection); a login is one of each',
    );
    console.log(`ran where: PostgreSQL ${db.where}; load generator pid ${process.pid}`);
    for (const n of nodes) {
      console.log(
        `           ${n.name}: airlock serve pid ${n.service.child.pid}, port ${n.service.port}`,
      );
    }
    console.log('');

    await phase('warm-up', nodes, requests, WARMUP_SECONDS, db);
    const one = await phase('1 node', nodes.slice(0, 1), requests, DURATION_SECONDS, db);
    await phase('warm-up', nodes, requests, WARMUP_SECONDS, db);
    const two = await phase('2 nodes', nodes, requests, DURATION_SECONDS, db);

    printTable([one, two]);
    const passcodes = await passcodeAnswers(db.url);
    console.log(
      `the service's audit: ${passcodes.allowed} passcode logins allowed, ${passcodes.denied} denied${passcodes.reasons.length > 0 ? `: ${passcodes.reasons.join(', ')}` : ''}`,
    );
    const problems = nodesRunProblems([one, two], passcodes);
    if (problems.length === 0) {
      console.log(`ratio: ${(two.loginsPerSecond / one.loginsPerSecond).toFixed(2)}`);
    }
    return verdict('bench:nodes', problems);
  } finally {
    for (const n of nodes) await stopServe(n.service);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await db.close();
  }
}

/**
 * One user per connection, each with a bypass code of unlimited uses, straight into the store
 * (setup): several nodes serve many users, and one user's rows would serialize every login.
 */
async function createUsers(
  dataDir: string,
  env: Record<string, string>,
): Promise<{ username: string; passcode: string }[]> {
  Object.assign(process.env, env);
  const ctx = await openContext({ dataDir });
  try {
    return await ctx.store.transaction(async (tx) => {
      const users = [];
      for (let c = 0; c < CONNECTIONS; c++) {
        const username = `benchuser${String(c).padStart(3, '0')}`;
        const user = await tx.createUser({ id: generateId(ctx.random, 'DU'), username });
        const passcode = generateDigits(ctx.random, 9);
        await tx.replaceBypassCodes(user.id, [
          {
            id: generateId(ctx.random, 'BC'),
            codeHash: hashBypassCode(ctx.bypassPepper, passcode),
            remainingUses: null,
            expiresAtMs: null,
          },
        ]);
        users.push({ username, passcode });
      }
      return users;
    });
  } finally {
    await ctx.close();
  }
}

/** Pre-signed requests, one pair per connection (the Date stays in the window for the run). */
function signedLogins(
  app: { ikey: string; skey: string },
  users: readonly { username: string; passcode: string }[],
): autocannon.Request[][] {
  const date = new Date().toUTCString();
  const signed = (path: string, params: Record<string, string>): autocannon.Request => ({
    method: 'POST',
    path,
    body: new URLSearchParams(params).toString().replace(/\+/g, '%20'),
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
  });
  // One user and address per connection: the per-source budgets reserve a unit per attempt in flight.
  return users.map(({ username, passcode }, c) => {
    const ipaddr = `10.1.${c >> 8}.${(c & 255) + 1}`;
    return [
      signed('/auth/v2/preauth', { username, ipaddr }),
      signed('/auth/v2/auth', { username, factor: 'passcode', passcode, ipaddr }),
    ];
  });
}

/** One run: the connections split evenly over `nodes`, all at once. */
async function phase(
  name: string,
  nodes: readonly Node[],
  requests: autocannon.Request[][],
  seconds: number,
  db: Database,
): Promise<NodesPhaseRun> {
  const processes: Record<string, () => number> = {};
  for (const n of nodes) processes[n.name] = () => processCpuMs(n.service.child.pid!);
  if (db.postmasterPid !== undefined) {
    const pid = db.postmasterPid;
    processes.postgresql = () => postgresCpuMs(pid);
  }
  const own = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  processes['load generator'] = own;
  const before = Object.fromEntries(Object.entries(processes).map(([k, f]) => [k, f()]));
  const perNode = Math.max(1, Math.floor(CONNECTIONS / nodes.length));
  const results = await Promise.all(
    nodes.map((n, i) => {
      let next = 0;
      const mine = requests.slice(i * perNode, (i + 1) * perNode);
      return autocannon({
        url: `https://127.0.0.1:${n.service.port}`,
        servername: HOST,
        connections: perNode,
        duration: seconds,
        requests: mine[0]!,
        setupClient: (client) => client.setRequests(mine[next++ % mine.length]!),
      });
    }),
  );
  const cpuMs = Object.fromEntries(
    Object.entries(processes).map(([k, f]) => [k, f() - before[k]!]),
  );
  const requestsTotal = results.reduce((a, r) => a + r.requests.total, 0);
  const logins = requestsTotal / 2;
  return {
    name,
    nodes: nodes.map((n, i) => ({
      name: n.name,
      requests: results[i]!.requests.total,
      errors: results[i]!.errors + results[i]!.timeouts,
      non2xx: results[i]!.non2xx,
      p99Ms: results[i]!.latency.p99,
    })),
    logins,
    loginsPerSecond: logins / seconds,
    cpuMsPerLogin: Object.fromEntries(
      Object.entries(cpuMs).map(([k, ms]) => [k, ms / Math.max(logins, 1)]),
    ),
  };
}

function printTable(runs: readonly NodesPhaseRun[]): void {
  console.log('run       logins/s  node       requests  errors  non-2xx  p99 ms');
  for (const r of runs) {
    for (const [i, n] of r.nodes.entries()) {
      console.log(
        `${(i === 0 ? r.name : '').padEnd(8)}  ${(i === 0 ? r.loginsPerSecond.toFixed(0) : '').padStart(8)}  ${n.name.padEnd(9)}  ${String(n.requests).padStart(8)}  ${String(n.errors).padStart(6)}  ${String(n.non2xx).padStart(7)}  ${n.p99Ms.toFixed(1).padStart(6)}`,
      );
    }
  }
  console.log('\nCPU per login (ms) per process:');
  for (const r of runs) {
    const parts = Object.entries(r.cpuMsPerLogin).map(([k, ms]) => `${k} ${ms.toFixed(3)}`);
    console.log(`  ${r.name}: ${parts.join(', ')}`);
  }
}

/** What the service decided on the `auth` calls, from its audit (a deny is a 200 too). */
async function passcodeAnswers(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ result: string; reason: string | null; n: string }>(
      `SELECT result, (detail::jsonb)->>'reason' AS reason, COUNT(*) AS n
         FROM audit_events WHERE action = 'auth.passcode' GROUP BY 1, 2`,
    );
    const sum = (list: typeof rows) => list.reduce((a, r) => a + Number(r.n), 0);
    const denied = rows.filter((r) => r.result !== 'allow');
    return {
      allowed: sum(rows.filter((r) => r.result === 'allow')),
      denied: sum(denied),
      reasons: denied.map((r) => `${r.n}× ${r.result} (${r.reason ?? 'no reason'})`),
    };
  } finally {
    await client.end();
  }
}

/** CPU of the PostgreSQL server: the postmaster and its children (one backend per connection). */
function postgresCpuMs(postmasterPid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // proc(5): field 4 is the parent's pid (index 1 after the comm).
      if (Number(entry) === postmasterPid || Number(fields[1]) === postmasterPid) {
        total += processCpuMs(Number(entry));
      }
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return total;
}

/** A fresh database on the tests' server, or a throw-away server of this bench's own. */
async function openDatabase(): Promise<Database> {
  const name = `airlock_bench_nodes_${randomBytes(4).toString('hex')}`;
  const shared = process.env.AIRLOCK_TEST_DATABASE_URL;
  let adminUrl: string;
  let stop: () => void = () => {};
  let postmasterPid: number | undefined;
  let where: string;
  if (shared !== undefined && shared !== '') {
    adminUrl = shared;
    where = `${new URL(shared).host} (AIRLOCK_TEST_DATABASE_URL; its CPU not measured: shared server)`;
  } else {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'airlock-nodes-pg-'));
    chmodSync(dir, 0o755);
    execFileSync('bash', [join(ROOT, 'scripts/start-pg.sh')], {
      env: { ...process.env, PGPORT: String(port), PG_DIR: join(dir, 'pg') },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    adminUrl = `postgres://postgres@127.0.0.1:${port}/airlock_test`;
    postmasterPid = Number(
      readFileSync(join(dir, 'pg', 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    where = `127.0.0.1:${port} (started by this bench, pid ${postmasterPid})`;
    stop = () => {
      execFileSync('bash', [join(ROOT, 'scripts/stop-pg.sh'), join(dir, 'pg')], {
        stdio: 'ignore',
      });
      rmSync(dir, { recursive: true, force: true });
    };
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    where,
    postmasterPid,
    async close() {
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
      stop();
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

process.exitCode = await main();
