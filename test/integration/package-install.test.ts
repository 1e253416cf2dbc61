// The package as an administrator installs it: `npm pack`, `npm install -g` of the tarball into an
// empty prefix (--prefer-offline: from the npm cache `npm ci` filled; npm ci caches no package
// metadata, which a runtime dependency's optional peer, e.g. debug's supports-color, makes npm
// ask for), then the installed `airlock` runs the
// service (one login through Duo's client) and the proxy (one RADIUS request through radclient).
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { TOTP } from 'otpauth';
import { latestSchemaVersion } from '../../src/store/migrations/migration-provider.ts';
import { startServe, stopServe, type RunningService } from './airlock-process.ts';
import { duoClient, routeDuoClients } from './duo-client.ts';
import { freeUdpPort, radclient } from './external-servers.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  devDependencies: Record<string, string>;
};
const RADIUS_SECRET = 'package-test-secret-0123456789';

/**
 * A local prebuilds directory holding better-sqlite3's binary for this Node (the one this
 * checkout's `npm ci` installed), named as prebuild-install looks for it. It is how an air-gapped
 * host installs without a compiler (docs/deployment.md); the test then checks nothing was compiled.
 */
async function localPrebuilds(dir: string): Promise<string> {
  const version = (
    JSON.parse(
      readFileSync(join(ROOT, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8'),
    ) as { version: string }
  ).version;
  const stage = join(dir, 'stage');
  mkdirSync(join(stage, 'build', 'Release'), { recursive: true });
  copyFileSync(
    join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'),
    join(stage, 'build', 'Release', 'better_sqlite3.node'),
  );
  const prebuilds = join(dir, 'prebuilds');
  mkdirSync(prebuilds);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await runOk('tar', ['czf', join(prebuilds, name), '-C', stage, 'build']);
  return prebuilds;
}

/**
 * The checkout's files as git sees them (tracked and new, not ignored: no dist/, no data/), with
 * its node_modules linked in. Packing there builds dist/ from scratch, as a release would, and
 * leaves the checkout's own dist/ alone for the tests running beside this one.
 */
async function copyOfCheckout(dir: string): Promise<string> {
  const files = (
    await runOk('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
      cwd: ROOT,
    })
  )
    .split('\0')
    .filter((f) => f !== '' && f !== 'node_modules' && existsSync(join(ROOT, f)));
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(dir, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Runs a command; on failure the error carries its output. */
async function runOk(
  file: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<string> {
  try {
    const { stdout } = await run(file, args, { maxBuffer: 64 * 1024 * 1024, ...options });
    return stdout;
  } catch (e) {
    const err = e as { code?: number; stderr?: string; stdout?: string };
    throw new Error(`${file} ${args.join(' ')} exited ${err.code}:\n${err.stderr}${err.stdout}`, {
      cause: e,
    });
  }
}

/** Starts `airlock proxy --config` and resolves once it printed that it listens for RADIUS. */
function startProxyProcess(bin: string, config: string): Promise<ChildProcess> {
  const child = spawn(bin, ['proxy', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`airlock proxy did not start within 20 s:\n${out}`));
    }, 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (/listening for RADIUS/.test(out)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`airlock proxy exited with ${code} before listening:\n${out}`));
    });
  });
}

describe('the package installed from its tarball', () => {
  let work: string;
  let prefix: string;
  let bin: string;
  let installed: string;
  let tarballFiles: string[];
  let installOutput: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'airlock-package-'));
    const checkout = await copyOfCheckout(join(work, 'checkout'));
    // `npm pack` runs prepack (shrinkwrap), prepare (the build) and postpack, as for a release.
    const packed = JSON.parse(
      await runOk('npm', ['pack', '--json', '--pack-destination', work], { cwd: checkout }),
    ) as { filename: string; files: { path: string }[] }[];
    tarballFiles = packed[0]!.files.map((f) => f.path);
    const tarball = join(work, packed[0]!.filename);
    const prebuilds = await localPrebuilds(work);
    prefix = join(work, 'prefix');
    mkdirSync(prefix);
    installOutput = await runOk(
      'npm',
      ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
      {
        cwd: work, // not the checkout: nothing may come from its node_modules
        env: { ...process.env, npm_config_better_sqlite3_local_prebuilds: prebuilds },
        timeout: 120_000,
      },
    );
    bin = join(prefix, 'bin', 'airlock');
    installed = join(prefix, 'lib', 'node_modules', pkg.name);
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('packs the built command, docs, units and a shrinkwrap, and no tests, sources or maps', () => {
    for (const needed of [
      'bin/airlock.js',
      'dist/cli/main.js',
      'dist/service/authenticator-web/index.html',
      'npm-shrinkwrap.json',
      'README.md',
      'docs/deployment.md',
      'deploy/systemd/airlock-service.service',
      'deploy/systemd/airlock-proxy@.service',
      'deploy/container/Containerfile',
      'examples/authproxy.cfg',
      'examples/web-sdk-app/server.js',
      'dist/sdk/index.js',
      'dist/sdk/index.d.ts',
    ])
      assert.ok(tarballFiles.includes(needed), `${needed} is missing from the tarball`);
    const unwanted = tarballFiles.filter(
      (f) =>
        // Sources are not packed; the SDK's type declarations (.d.ts) are.
        /\.test\.js$|(?<!\.d)\.ts$|\.map$|\.tsbuildinfo$/.test(f) ||
        /^(src|test|bench|scripts)\//.test(f) ||
        f.startsWith('dist/store/contract/'),
    );
    assert.deepEqual(unwanted, []);
  });

  it('installs without dev dependencies, without building and without compiling', () => {
    assert.ok(existsSync(bin), `no ${bin} after install:\n${installOutput}`);
    const presentDev = Object.keys(pkg.devDependencies).filter((name) =>
      existsSync(join(installed, 'node_modules', name)),
    );
    assert.deepEqual(presentDev, [], 'dev dependencies installed');
    assert.ok(
      existsSync(join(installed, 'node_modules', 'fastify')),
      'runtime dependencies missing',
    );
    // `prepare` (tsc) does not run on an install from a tarball: it would leave its build info.
    assert.ok(!existsSync(join(installed, 'dist', '.tsbuildinfo')), 'prepare ran on install');
    // better-sqlite3 came prebuilt: node-gyp leaves its object files in build/Release/obj.target.
    const release = join(installed, 'node_modules', 'better-sqlite3', 'build', 'Release');
    assert.ok(existsSync(join(release, 'better_sqlite3.node')), 'better-sqlite3 has no binary');
    assert.ok(!existsSync(join(release, 'obj.target')), 'better-sqlite3 was compiled on install');
  });

  it('exports the typed Web SDK as airlock/sdk to an application that installed it', async () => {
    const app = join(work, 'web-app');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    symlinkSync(installed, join(app, 'node_modules', pkg.name));
    writeFileSync(
      join(app, 'probe.mjs'),
      "import { decideFailmode, WebSdkError } from 'airlock/sdk';\n" +
        "console.log(JSON.stringify(decideFailmode({ failmode: 'safe', error: new WebSdkError('timeout', 'x') })));\n",
    );
    const out = await runOk(process.execPath, [join(app, 'probe.mjs')]);
    assert.deepEqual(JSON.parse(out), {
      allowed: true,
      secondFactorChecked: false,
      reason: 'failmode-safe-timeout',
    });
  });

  it('prints the version and the schema version', async () => {
    const out = await runOk(bin, ['--version']);
    assert.equal(out.trim(), `airlock ${pkg.version} (schema ${latestSchemaVersion()})`);
  });

  describe('serving and proxying', () => {
    let data: string;
    let service: RunningService;
    let routing: { close(): void };
    let proxy: ChildProcess | undefined;

    before(async () => {
      data = join(work, 'data');
      service = await startServe(['--data-dir', data, '--listen', '127.0.0.1:0'], {}, bin);
      routing = routeDuoClients(service.port, readFileSync(join(data, 'tls', 'ca.pem'), 'utf8'));
    });
    after(async () => {
      routing?.close();
      if (proxy && proxy.exitCode === null) {
        const exited = new Promise((r) => proxy!.once('exit', r));
        proxy.kill('SIGTERM');
        await exited;
      }
      if (service) await stopServe(service);
    });

    /** Creates a user with a TOTP token through the installed command; returns the token. */
    async function userWithTotp(name: string): Promise<TOTP> {
      await runOk(bin, ['user', 'create', name, '--data-dir', data]);
      const token = JSON.parse(
        await runOk(bin, ['token', 'add-totp', name, '--data-dir', data, '--json']),
      ) as { uri: string };
      const secret = new URL(token.uri).searchParams.get('secret')!;
      return new TOTP({ secret, digits: 6, period: 30, algorithm: 'SHA1' });
    }

    it("logs a user in through Duo's client", async () => {
      const app = JSON.parse(
        await runOk(bin, ['app', 'create', 'web', '--data-dir', data, '--json']),
      ) as { ikey: string; skey: string };
      const totp = await userWithTotp('dana');
      const call = duoClient(app);
      const auth = await call('POST', '/auth/v2/auth', {
        username: 'dana',
        factor: 'passcode',
        passcode: totp.generate(),
      });
      assert.equal(auth.stat, 'OK', JSON.stringify(auth));
      assert.equal((auth.response as { result: string }).result, 'allow');
    });

    it('answers a RADIUS request with the installed proxy', async () => {
      const app = JSON.parse(
        await runOk(bin, ['app', 'create', 'vpn', '--data-dir', data, '--json']),
      ) as { ikey: string; skey: string };
      const totp = await userWithTotp('erin');
      const port = await freeUdpPort();
      const config = join(work, 'authproxy.cfg');
      writeFileSync(
        config,
        [
          '[main]',
          `log_dir=${join(work, 'proxy-log')}`,
          `state_dir=${join(work, 'proxy-state')}`,
          'admin_listen=127.0.0.1:0',
          '',
          '[duo_only_client]',
          '',
          '[radius_server_auto]',
          `ikey=${app.ikey}`,
          `skey=${app.skey}`,
          'api_host=localhost',
          `api_port=${service.port}`,
          `api_ca_file=${join(data, 'tls', 'ca.pem')}`,
          'client=duo_only_client',
          'failmode=secure',
          'interface=127.0.0.1',
          `port=${port}`,
          'radius_ip_1=127.0.0.1',
          `radius_secret_1=${RADIUS_SECRET}`,
          '',
        ].join('\n'),
      );
      proxy = await startProxyProcess(bin, config);
      const reply = await radclient(
        port,
        RADIUS_SECRET,
        `User-Name = "erin", User-Password = "${totp.generate()}", Message-Authenticator = 0x00`,
      );
      assert.equal(reply.code, 'Access-Accept', reply.output);
    });
  });
});
