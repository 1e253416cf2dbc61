// The first run as the README tells it: `airlock start` on a fresh data directory, a user with a
// TOTP token from the CLI, then the printed next steps — `airlock radius-test` and FreeRADIUS's
// radclient, both taking the shared secret from the configuration file — to an Access-Accept.
// The secret itself is never printed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { TOTP } from 'otpauth';
import {
  airlock,
  airlockFails,
  airlockJson,
  airlockOutput,
  startStart,
  stopServe,
  type RunningService,
} from './airlock-process.ts';

const EXAMPLE_CONFIG = fileURLToPath(new URL('../../examples/authproxy.cfg', import.meta.url));

/** The printed `./bin/airlock.js radius-test alice PASSWORD …` line, as arguments after the command. */
function printedRadiusTest(output: string, password: string): string[] {
  const line = new RegExp(
    `^\\s*\\./bin/airlock\\.js (radius-test alice ${password}\\b.*)$`,
    'm',
  ).exec(output)?.[1];
  assert.ok(line, `no "radius-test alice ${password}" next step in:\n${output}`);
  return line.trim().split(/\s+/);
}

/** The shared secret `airlock start` wrote for a NAS on this host. */
function fileSecret(path: string): string {
  const secret = /^radius_secret_1 *= *(\S+)$/m.exec(readFileSync(path, 'utf8'))?.[1];
  assert.ok(secret, `no radius_secret_1 in ${path}`);
  return secret;
}

/** The printed radclient pipeline, run by a shell as a user pasting it would. */
async function runPrintedRadclient(output: string, user: string, code: string) {
  const line = /^\s*(echo "User-Name = alice, .*\| radclient .*)$/m.exec(output)?.[1];
  assert.ok(line, `no radclient next step in:\n${output}`);
  const command = line
    .replace('User-Name = alice', `User-Name = ${user}`)
    .replace('User-Password = 123456', `User-Password = ${code}`);
  return promisify(execFile)('bash', ['-c', command], { timeout: 20_000 });
}

/** A TOTP code for the user's token, with the token's own secret. */
async function totpUser(name: string, data: string[]): Promise<TOTP> {
  await airlock(['user', 'create', name, ...data]);
  const token = await airlockJson<{ secret: string }>(['token', 'add-totp', name, ...data]);
  return new TOTP({ secret: token.secret });
}

describe('first run: airlock start, a TOTP user, the printed radius-test', () => {
  let root: string;
  let dir: string;
  let started: RunningService | undefined;
  const data = () => ['--data-dir', dir];

  before(async () => {
    process.umask(0o022);
    root = mkdtempSync(join(tmpdir(), 'airlock-first-run-'));
    dir = join(root, 'data');
    started = await startStart([...data(), '--listen', '127.0.0.1:0']);
  });
  after(async () => {
    if (started) await stopServe(started);
    rmSync(root, { recursive: true, force: true });
  });

  it('writes DATA_DIR/authproxy.cfg (0600) with a strong random secret, and never prints it', () => {
    const output = started!.output();
    const path = join(dir, 'authproxy.cfg');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.match(output, /proxy configuration written to .*authproxy\.cfg \(mode 0600\)/);
    const secret = fileSecret(path);
    assert.match(secret, /^[A-Za-z0-9]{32}$/);
    assert.equal(output.includes(secret), false, 'the shared secret is printed');
    assert.deepEqual(printedRadiusTest(output, '123456').slice(3), ['--proxy-config', path]);
    assert.doesNotMatch(output, /testing123|shorter than 16/);
    // The radclient alternative, with how to get radclient.
    assert.match(output, /apt-get install freeradius-utils/);
  });

  it('logs alice in with the printed next step: Access-Accept, exit 0', async () => {
    const totp = await totpUser('alice', data());
    const args = printedRadiusTest(started!.output(), '123456');
    args[2] = totp.generate();
    const { stdout } = await airlockOutput(args);
    assert.match(stdout, /^Access-Accept\b/);
    // The proxy reached its own service in-process (no TLS, HTTP or signing), in one call for
    // the typed passcode (preauth_auth), as its banner and its API latency metric say.
    const output = started!.output();
    assert.match(
      output,
      /proxy \[radius_server_auto\] listening .*Auth API localhost:\d+ in-process\)/,
    );
    const status = /proxy status: (http:\/\/\S+)\/status and \/metrics/.exec(output)?.[1];
    assert.ok(status, 'the proxy status URL is printed');
    const metrics = await (await fetch(`${status}/metrics`)).text();
    assert.match(
      metrics,
      /airlock_proxy_api_latency_seconds_count\{[^}]*endpoint="preauth_auth"[^}]*\} 1$/m,
    );
    assert.doesNotMatch(
      metrics,
      /airlock_proxy_api_latency_seconds_count\{[^}]*endpoint="preauth"/,
    );
  });

  it('logs a user in with the printed radclient line (the secret read from the file by the shell)', async () => {
    const totp = await totpUser('dora', data());
    const { stdout } = await runPrintedRadclient(started!.output(), 'dora', totp.generate());
    assert.match(stdout, /Received Access-Accept/);
  });

  it('says Access-Reject with exit 1 for a wrong code, 3 for a wrong secret, 2 for no secret', async () => {
    const args = printedRadiusTest(started!.output(), '123456');
    args[2] = '000000';
    const wrongCode = await airlockFails(args);
    assert.equal(wrongCode.code, 1, wrongCode.stderr);
    assert.match(wrongCode.stdout, /^Access-Reject\b/);

    const both = await airlockFails([...args, '--secret', 'x']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /one of --secret, --secret-file or --proxy-config/);

    const wrongSecret = await airlockFails([
      ...args.slice(0, 3),
      '--secret',
      'not-the-secret-of-this-proxy',
      '--timeout',
      '1',
    ]);
    assert.equal(wrongSecret.code, 3, wrongSecret.stderr);
    assert.match(wrongSecret.stdout, /no answer within 1 s/);

    const noSecret = await airlockFails(['radius-test', 'alice', '123456']);
    assert.equal(noSecret.code, 2);
    assert.match(noSecret.stderr, /--secret/);
  });

  it('keeps its configuration and secret on the next start, pointed at the new service port', async () => {
    const secret = fileSecret(join(dir, 'authproxy.cfg'));
    const before = readFileSync(join(dir, 'authproxy.cfg'), 'utf8');
    const firstPort = started!.port;
    await stopServe(started!);
    started = undefined;
    started = await startStart([...data(), '--listen', '127.0.0.1:0']);
    assert.notEqual(started.port, firstPort);
    assert.equal(started.output().includes(secret), false, 'the shared secret is printed');
    assert.doesNotMatch(started.output(), /proxy configuration written/);
    assert.equal(readFileSync(join(dir, 'authproxy.cfg'), 'utf8'), before);

    // A new user, so that no TOTP code is replayed: the proxy reaches the service on its new port.
    const totp = await totpUser('bob', data());
    const args = printedRadiusTest(started.output(), '123456');
    args[1] = 'bob';
    args[2] = totp.generate();
    const { stdout } = await airlockOutput(args);
    assert.match(stdout, /^Access-Accept\b/);
  });

  it("still runs an older version's example config (testing123), with a hint to replace the secret", async () => {
    await stopServe(started!);
    started = undefined;
    // A copy beside the temporary data: its relative log_dir=../data/… stays in this test's root.
    const config = join(root, 'examples', 'authproxy.cfg');
    mkdirSync(join(root, 'examples'));
    copyFileSync(EXAMPLE_CONFIG, config);
    const other = join(root, 'old');
    started = await startStart([
      '--data-dir',
      other,
      '--listen',
      '127.0.0.1:0',
      '--proxy-config',
      config,
    ]);
    const output = started.output();
    assert.deepEqual(printedRadiusTest(output, '123456').slice(3), ['--proxy-config', config]);
    assert.doesNotMatch(output, /testing123/);
    assert.match(output, /warning: .*radius_secret_1.*shorter than 16/);
    assert.match(output, /shared secret in .*authproxy\.cfg is weak/);
    const totp = await totpUser('carol', ['--data-dir', other]);
    const args = printedRadiusTest(output, '123456');
    args[1] = 'carol';
    args[2] = totp.generate();
    const { stdout } = await airlockOutput(args);
    assert.match(stdout, /^Access-Accept\b/);
  });
});
