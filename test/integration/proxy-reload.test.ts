// Reloading the proxy's configuration without dropping logins: `airlock proxy` in a child process
// (slapd primary, the real service, radclient), reloaded with SIGHUP and `airlock proxy reload`.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  DeviceClient,
  newDeviceKey,
  type LoginRequest,
} from '../../src/authenticator/device-client.ts';
import type { Application } from '../../src/core/model.ts';
import { airlockOutput } from './airlock-process.ts';
import { freeUdpPort, radclient, startSlapd, type ExternalServer } from './external-servers.ts';
import { adClientSection, RADIUS_SECRET } from './proxy-harness.ts';
import { startService, type Harness } from './service-harness.ts';

const BIN = fileURLToPath(new URL('../../bin/airlock.js', import.meta.url));

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('proxy configuration reload', () => {
  let service: Harness;
  let slapd: ExternalServer;
  let app: Application;
  let devices: DeviceClient;
  let phone: { deviceId: string; privateKey: KeyObject };
  let dir: string;
  let configFile: string;
  let radiusPort: number;
  let adminPort: number;
  let proxy: ChildProcess;
  let output = '';

  /** The configuration file; `extra` lines go into the server section. */
  const writeConfig = (extra: string[] = [], port = radiusPort) =>
    writeFileSync(
      configFile,
      [
        '[main]',
        'log_dir=log',
        'state_dir=state',
        'log_auth_events=true',
        `admin_listen=127.0.0.1:${adminPort}`,
        '',
        adClientSection(slapd.port),
        '',
        '[radius_server_auto]',
        `ikey=${app.ikey}`,
        `skey=${app.skey}`,
        'api_host=localhost',
        `api_port=${service.port}`,
        'api_ca_file=api-ca.pem',
        'api_timeout=5',
        'client=ad_client',
        'failmode=secure',
        'interface=127.0.0.1',
        `port=${port}`,
        'push_timeout=20',
        'radius_ip_1=127.0.0.1',
        `radius_secret_1=${RADIUS_SECRET}`,
        ...extra,
        '',
      ].join('\n'),
    );
  const authproxyLog = () => readFileSync(join(dir, 'log', 'authproxy.log'), 'utf8');
  const login = (username: string, password: string, timeoutSeconds = 10) =>
    radclient(
      radiusPort,
      RADIUS_SECRET,
      `User-Name = "${username}", User-Password = "${password}", Message-Authenticator = 0x00`,
      { timeoutSeconds },
    );
  /** Waits until authproxy.log has one more line matching `pattern` than `before` had. */
  const logLine = async (pattern: RegExp, count: number): Promise<string> => {
    for (let i = 0; i < 200; i++) {
      const matches = authproxyLog().match(new RegExp(pattern.source, 'g')) ?? [];
      if (matches.length >= count) return authproxyLog();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`authproxy.log never got ${count} × ${pattern}:\n${authproxyLog()}`);
  };
  const count = (pattern: RegExp) =>
    (authproxyLog().match(new RegExp(pattern.source, 'g')) ?? []).length;
  const RELOADED = /Configuration reloaded/;
  const REFUSED = /Configuration reload refused/;

  async function pushFor(): Promise<LoginRequest> {
    for (;;) {
      const requests = await devices.requests(phone, 10);
      if (requests.length > 0) return requests[0]!;
    }
  }

  before(async () => {
    [service, slapd] = await Promise.all([
      startService({ authStatusWaitSeconds: 1 }),
      startSlapd(),
    ]);
    app = await service.createApp();
    devices = new DeviceClient({ apiHost: `localhost:${service.port}`, caPem: service.caPem });
    const { id } = await service.createUser('alice');
    await service.store.createDeviceActivation({
      activationCode: 'ALICE'.padEnd(20, '0'),
      userId: id,
      expiresAtMs: service.clock.nowMs() + 600_000,
    });
    const key = newDeviceKey();
    const activated = await devices.activate({
      activationCode: 'ALICE'.padEnd(20, '0'),
      publicJwk: key.publicJwk,
      name: "alice's phone",
      platform: 'cli',
    });
    phone = { deviceId: activated.deviceId, privateKey: key.privateKey };

    dir = mkdtempSync(join(tmpdir(), 'airlock-reload-'));
    configFile = join(dir, 'authproxy.cfg');
    writeFileSync(join(dir, 'api-ca.pem'), service.caPem);
    [radiusPort, adminPort] = await Promise.all([freeUdpPort(), freeTcpPort()]);
    writeConfig();
    proxy = spawn(process.execPath, [BIN, 'proxy', '--config', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`proxy not ready:\n${output}`)), 20_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (/proxy status: http/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      proxy.stdout!.on('data', onData);
      proxy.stderr!.on('data', onData);
      proxy.once('exit', (code) => reject(new Error(`proxy exited ${code}:\n${output}`)));
    });
  });

  after(async () => {
    if (proxy && proxy.exitCode === null) {
      proxy.kill('SIGTERM');
      await new Promise((resolve) => proxy.once('exit', resolve));
    }
    devices?.close();
    await service?.close();
    await slapd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a login with its push pending during a SIGHUP reload completes; the next login gets the new file', async () => {
    // Not exempt yet: carol is unknown to the service, so her login is refused.
    assert.equal((await login('carol', 'carolpw')).code, 'Access-Reject');

    const pending = login('alice', 'alicepw', 30);
    const push = await pushFor();
    writeConfig(['exempt_username_1=carol']);
    const reloads = count(RELOADED);
    proxy.kill('SIGHUP');
    await logLine(RELOADED, reloads + 1);
    // The login that started on the old configuration is still waiting for its push.
    await devices.answer(phone, push.txid, 'approve');
    const answer = await pending;
    assert.equal(answer.code, 'Access-Accept', answer.output);
    assert.equal(proxy.exitCode, null, 'SIGHUP must not stop the proxy');

    const carol = await login('carol', 'carolpw');
    assert.equal(carol.code, 'Access-Accept', carol.output);
  });

  it('refuses a broken file with every error in the log, keeps the old configuration and keeps answering', async () => {
    writeConfig(['exempt_username_1=carol', 'failmode=open', 'push_timout=5']);
    const refusals = count(REFUSED);
    proxy.kill('SIGHUP');
    const log = await logLine(REFUSED, refusals + 1);
    const refusal = log.slice(log.lastIndexOf('Configuration reload refused'));
    assert.match(refusal, /failmode/);
    assert.match(refusal, /push_timout.*push_timeout/);
    assert.equal(proxy.exitCode, null);
    // The old configuration (carol exempt) still answers.
    assert.equal((await login('carol', 'carolpw')).code, 'Access-Accept');

    // `airlock proxy reload` on the same file lists every error and fails.
    const run = spawnFails(['proxy', 'reload', '--config', configFile]);
    const result = await run;
    assert.equal(result.code, 1);
    assert.match(result.stderr, /failmode/);
    assert.match(result.stderr, /push_timout/);
  });

  it('airlock proxy reload applies a valid change and reports it', async () => {
    writeConfig([]);
    const out = await airlockOutput(['proxy', 'reload', '--config', configFile]);
    assert.match(out.stdout, /Configuration reloaded: \[radius_server_auto\]/);
    assert.equal((await login('carol', 'carolpw')).code, 'Access-Reject');
  });

  it('refuses a changed port (it needs a restart) and keeps listening where it was', async () => {
    writeConfig(['exempt_username_1=carol'], radiusPort + 1);
    const result = await spawnFails(['proxy', 'reload', '--config', configFile]);
    assert.equal(result.code, 1);
    assert.match(
      result.stdout,
      new RegExp(
        `\\[radius_server_auto\\] port: ${radiusPort} -> ${radiusPort + 1} needs a restart`,
      ),
    );
    // Nothing of the refused file applies: carol is still not exempt, on the old port.
    assert.equal((await login('carol', 'carolpw')).code, 'Access-Reject');
  });
});

/** Runs `airlock …` expected to fail; resolves with its exit code and output. */
function spawnFails(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
