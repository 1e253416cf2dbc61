// `airlock authenticator …`: the command-line authenticator — a user's device on the terminal.
// It keeps its keys in a state file (0600) and speaks the device API like the web authenticator.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { TOTP } from 'otpauth';
import {
  DeviceClient,
  newDeviceKey,
  type ActivatedDevice,
  type LoginRequest,
} from '../../authenticator/device-client.ts';
import { AirlockError } from '../../core/error-registry.ts';
import { emit, table } from '../output.ts';
import { nonNegativeInt } from './common.ts';

interface StoredDevice {
  device_id: string;
  user_id: string;
  username: string;
  name: string;
  api_host: string;
  /** PEM of the CA that signed the service's certificate, when it is not a public one. */
  ca_pem: string | null;
  plain_http: boolean;
  /** PKCS#8 PEM of the device key. */
  private_key: string;
  totp: ActivatedDevice['totp'];
}

interface StateFile {
  devices: StoredDevice[];
}

interface StateFlags {
  state?: string;
  json?: boolean;
  device?: string;
}

export function registerAuthenticatorCommands(program: Command): void {
  const auth = program
    .command('authenticator')
    .description(
      "the command-line authenticator: activate this machine as a user's device, then approve or deny logins and show passcodes",
    );
  const withState = (cmd: Command) =>
    cmd
      .option(
        '--state <file>',
        'state file with the device keys (env AIRLOCK_AUTHENTICATOR_STATE, default ~/.config/airlock/authenticator.json)',
      )
      .option('--json', 'print machine-readable JSON');
  const withDevice = (cmd: Command) =>
    withState(cmd).option('--device <id>', 'which device, when this state file holds several');

  withState(
    auth
      .command('activate <activation-code>')
      .description('activate with a code from `airlock device enroll` or /auth/v2/enroll')
      .option('--name <name>', 'device name shown to administrators', 'command line')
      .option('--api-host <host:port>', 'service address (default: the one inside the code)')
      .option('--ca <file>', "PEM file of the service's CA (e.g. DATA_DIR/tls/ca.pem)")
      .option('--plain-http', 'talk plain HTTP (a loopback service run with --insecure-http)'),
  ).action(
    async (
      code: string,
      flags: StateFlags & { name: string; apiHost?: string; ca?: string; plainHttp?: boolean },
    ) => {
      const apiHost = flags.apiHost ?? apiHostFromCode(code);
      const caPem = flags.ca ? readFileSync(flags.ca, 'utf8') : null;
      const client = new DeviceClient({
        apiHost,
        caPem: caPem ?? undefined,
        plainHttp: flags.plainHttp,
      });
      try {
        const key = newDeviceKey();
        const activated = await client.activate({
          activationCode: code,
          publicJwk: key.publicJwk,
          name: flags.name,
          platform: 'cli',
        });
        const path = statePath(flags);
        const state = readState(path);
        state.devices.push({
          device_id: activated.deviceId,
          user_id: activated.userId,
          username: activated.username,
          name: flags.name,
          api_host: apiHost,
          ca_pem: caPem,
          plain_http: flags.plainHttp === true,
          private_key: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
          totp: activated.totp,
        });
        writeState(path, state);
        emit(
          flags,
          {
            device_id: activated.deviceId,
            username: activated.username,
            api_host: apiHost,
            capabilities: activated.capabilities,
          },
          () => `Activated ${activated.deviceId} for "${activated.username}" at ${apiHost}.`,
        );
      } finally {
        client.close();
      }
    },
  );

  withState(auth.command('devices').description('list the devices in the state file')).action(
    (flags: StateFlags) => {
      const rows = readState(statePath(flags)).devices.map((d) => ({
        device_id: d.device_id,
        username: d.username,
        name: d.name,
        api_host: d.api_host,
      }));
      emit(flags, rows, () => table(rows, ['device_id', 'username', 'name', 'api_host']));
    },
  );

  withDevice(
    auth
      .command('pending')
      .description('show login requests waiting for an answer')
      .option(
        '--wait <seconds>',
        'wait up to this long for one to arrive (0-30)',
        nonNegativeInt,
        0,
      ),
  ).action(async (flags: StateFlags & { wait: number }) =>
    withDeviceClient(flags, async (client, device) => {
      const requests = await client.requests(device, flags.wait);
      emit(flags, requests, () =>
        requests.length === 0 ? '(no pending login requests)' : requests.map(describe).join('\n\n'),
      );
    }),
  );

  withDevice(
    auth
      .command('approve <txid>')
      .description('approve a login request')
      .option('--code <digits>', 'verification code the login prompt shows (verified push)'),
  ).action(async (txid: string, flags: StateFlags & { code?: string }) =>
    answerRequest(flags, txid, 'approve', flags.code),
  );

  withDevice(
    auth
      .command('deny <txid>')
      .description('deny a login request')
      .option('--fraud', 'report it as fraud: you did not try to log in'),
  ).action(async (txid: string, flags: StateFlags & { fraud?: boolean }) =>
    answerRequest(flags, txid, flags.fraud ? 'fraud' : 'deny', undefined),
  );

  withDevice(auth.command('code').description('show the current passcode (TOTP)')).action(
    (flags: StateFlags) => {
      const device = pickDevice(readState(statePath(flags)), flags.device);
      const totp = new TOTP({
        secret: device.totp.secret,
        algorithm: device.totp.algorithm,
        digits: device.totp.digits,
        period: device.totp.period,
      });
      const now = Date.now();
      const remaining = device.totp.period - (Math.floor(now / 1000) % device.totp.period);
      const passcode = totp.generate({ timestamp: now });
      emit(flags, { passcode, seconds_left: remaining }, () => `${passcode}  (${remaining}s left)`);
    },
  );
}

function answerRequest(
  flags: StateFlags,
  txid: string,
  answer: 'approve' | 'deny' | 'fraud',
  code: string | undefined,
): Promise<void> {
  return withDeviceClient(flags, async (client, device) => {
    const r = await client.answer(device, txid, answer, code);
    emit(flags, r, () => `Login ${r.result === 'allow' ? 'approved' : 'denied'} (${r.status}).`);
  });
}

async function withDeviceClient(
  flags: StateFlags,
  fn: (client: DeviceClient, device: { deviceId: string; privateKey: KeyObject }) => Promise<void>,
): Promise<void> {
  const stored = pickDevice(readState(statePath(flags)), flags.device);
  const client = new DeviceClient({
    apiHost: stored.api_host,
    caPem: stored.ca_pem ?? undefined,
    plainHttp: stored.plain_http,
  });
  try {
    await fn(client, {
      deviceId: stored.device_id,
      privateKey: createPrivateKey(stored.private_key),
    });
  } finally {
    client.close();
  }
}

function describe(r: LoginRequest): string {
  const lines = [
    `${r.type} for ${r.display_username} to ${r.application}`,
    `  txid:     ${r.txid}`,
    `  from:     ${r.ipaddr ?? 'unknown'}${r.hostname ? ` (${r.hostname})` : ''}`,
    `  at:       ${new Date(r.time * 1000).toISOString()}, expires in ${Math.max(0, r.expires - Math.floor(Date.now() / 1000))}s`,
  ];
  for (const [k, v] of r.pushinfo) lines.push(`  ${k}: ${v}`);
  if (r.verification)
    lines.push('  needs the verification code shown by the login prompt (--code)');
  return lines.join('\n');
}

/** `duo://CODE-BASE64HOST` carries the service address; a bare code does not. */
function apiHostFromCode(code: string): string {
  const m = /^duo:\/\/[A-Z0-9]{20}-([A-Za-z0-9+/]+)$/.exec(code.trim());
  if (!m?.[1]) {
    throw new AirlockError('CLI_USAGE', undefined, {
      message: 'this activation code does not name the service; add --api-host HOST:PORT',
    });
  }
  return Buffer.from(m[1], 'base64').toString('utf8');
}

function statePath(flags: StateFlags): string {
  if (flags.state) return resolve(flags.state);
  if (process.env.AIRLOCK_AUTHENTICATOR_STATE)
    return resolve(process.env.AIRLOCK_AUTHENTICATOR_STATE);
  const config = process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config');
  return join(config, 'airlock', 'authenticator.json');
}

function readState(path: string): StateFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { devices: [] };
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<StateFile>;
  if (!Array.isArray(parsed.devices)) throw new Error(`${path} is not an authenticator state file`);
  return { devices: parsed.devices };
}

function writeState(path: string, state: StateFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

function pickDevice(state: StateFile, id: string | undefined): StoredDevice {
  if (state.devices.length === 0) {
    throw new AirlockError('CLI_USAGE', undefined, {
      message: 'no device activated yet: run `airlock authenticator activate CODE` first',
    });
  }
  if (id === undefined) {
    if (state.devices.length === 1) return state.devices[0]!;
    throw new AirlockError('CLI_USAGE', undefined, {
      message: `several devices in the state file; choose one with --device (${state.devices.map((d) => d.device_id).join(', ')})`,
    });
  }
  const found = state.devices.find((d) => d.device_id === id || d.username === id);
  if (!found)
    throw new AirlockError('CLI_USAGE', undefined, {
      message: `no device "${id}" in the state file`,
    });
  return found;
}
