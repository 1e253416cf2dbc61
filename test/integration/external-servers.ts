// Starts the real servers the integration tests talk to (slapd, FreeRADIUS) with the scripts in
// scripts/, on free loopback ports; a server that cannot start fails the test with the reason.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import dgram from 'node:dgram';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../scripts/', import.meta.url));

export async function freeTcpPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export interface ExternalServer {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** OpenLDAP seeded by scripts/start-slapd.sh (alice/alicepw, bob/bobpw, carol/carolpw …). */
export async function startSlapd(env: Record<string, string> = {}): Promise<ExternalServer> {
  const port = await freeTcpPort();
  const dir = await mkdtemp(join(tmpdir(), 'airlock-slapd-'));
  await runScript('start-slapd.sh', { LDAP_PORT: String(port), LDAP_DIR: dir, ...env });
  return { port, dir, stop: () => runScript('stop-slapd.sh', {}, [dir]) };
}

/** FreeRADIUS from scripts/start-freeradius.sh (carol/secret, alice/alicepw; secret testing123). */
export async function startFreeradius(env: Record<string, string> = {}): Promise<ExternalServer> {
  const port = await freeUdpPort();
  const dir = await mkdtemp(join(tmpdir(), 'airlock-raddb-'));
  await runScript('start-freeradius.sh', { RADIUS_PORT: String(port), RADDB_DIR: dir, ...env });
  return { port, dir, stop: () => runScript('stop-freeradius.sh', {}, [dir]) };
}

async function runScript(
  name: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<void> {
  try {
    await run('bash', [join(SCRIPTS, name), ...args], { env: { ...process.env, ...env } });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(`scripts/${name} failed: ${stderr.trim()}`, { cause: err });
  }
}

export interface RadclientResult {
  /** The code radclient received, e.g. `Access-Accept`; undefined when nothing came back. */
  code: string | undefined;
  replyMessage: string | undefined;
  /** The State attribute of a challenge, as radclient prints it (`0x…`). */
  state: string | undefined;
  output: string;
  exitCode: number;
}

/** Sends one Access-Request with FreeRADIUS's radclient (`attributes` in radclient's syntax). */
export async function radclient(
  port: number,
  secret: string,
  attributes: string,
  options: { timeoutSeconds?: number; retries?: number } = {},
): Promise<RadclientResult> {
  const child = spawn(
    'radclient',
    [
      '-x',
      '-r',
      String(options.retries ?? 1),
      '-t',
      String(options.timeoutSeconds ?? 5),
      `127.0.0.1:${port}`,
      'auth',
      secret,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  child.stdin.end(`${attributes}\n`);
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', (e) =>
      reject(new Error(`radclient could not run (apt-get install freeradius-utils): ${e.message}`)),
    );
    child.once('exit', (code) => resolve(code ?? -1));
  });
  return {
    code: /Received (Access-[A-Za-z]+)/.exec(output)?.[1],
    replyMessage: /Reply-Message = "([^"]*)"/.exec(output)?.[1],
    state: /State = (0x[0-9a-f]+)/.exec(output)?.[1],
    output,
    exitCode,
  };
}

/** Waits until `file` contains `text` (logs are written asynchronously); bounded. */
export async function waitForFileText(
  file: string,
  text: string | RegExp,
  ms = 3000,
): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const content = await readFile(file, 'utf8').catch(() => '');
    if (typeof text === 'string' ? content.includes(text) : text.test(content)) return content;
    if (Date.now() > deadline)
      throw new Error(
        `${file} does not contain ${String(text)} after ${ms} ms:\n${content.slice(-2000)}`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}
