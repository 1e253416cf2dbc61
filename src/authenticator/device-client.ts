// A client of the device API (docs/device-api.md): what `airlock authenticator` runs on, and what
// tests and the push benchmark use to act as a user's phone.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Agent, request } from 'node:https';
import { request as plainRequest } from 'node:http';
import {
  DEVICE_DATE_HEADER,
  DEVICE_ID_HEADER,
  signDeviceRequest,
} from '../protocol/device-signature.ts';
import { SystemClock, type Clock } from '../runtime/clock.ts';

export interface DeviceEndpoint {
  /** `host:port` of the service. */
  apiHost: string;
  /** PEM of the CA to trust for the service's certificate; undefined = the system's. */
  caPem?: string | undefined;
  /** Plain HTTP (loopback services started with --insecure-http only). */
  plainHttp?: boolean;
}

export interface ActivatedDevice {
  deviceId: string;
  userId: string;
  username: string;
  capabilities: string[];
  totp: { secret: string; algorithm: string; digits: number; period: number };
}

export interface LoginRequest {
  txid: string;
  factor: string;
  application: string;
  username: string;
  display_username: string;
  type: string;
  ipaddr: string | null;
  hostname: string | null;
  pushinfo: [string, string][];
  time: number;
  expires: number;
  verification: boolean;
}

/** An answer from the service that is not `stat: OK`, with Duo's code and detail. */
export class DeviceApiError extends Error {
  readonly httpStatus: number;
  readonly code: number | undefined;
  readonly detail: string | undefined;

  constructor(httpStatus: number, code: number | undefined, message: string, detail?: string) {
    super(detail ? `${message}: ${detail}` : message);
    this.name = 'DeviceApiError';
    this.httpStatus = httpStatus;
    this.code = code;
    this.detail = detail;
  }
}

export function newDeviceKey(): { privateKey: KeyObject; publicJwk: Record<string, unknown> } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicJwk: publicKey.export({ format: 'jwk' }) };
}

export class DeviceClient {
  readonly #endpoint: DeviceEndpoint;
  readonly #agent: Agent | undefined;
  readonly #clock: Clock;

  /** `deps.clock` dates the signed requests (the service checks the date); the system's by default. */
  constructor(endpoint: DeviceEndpoint, deps: { clock?: Clock } = {}) {
    this.#endpoint = endpoint;
    this.#clock = deps.clock ?? new SystemClock();
    this.#agent = endpoint.plainHttp
      ? undefined
      : new Agent({ keepAlive: true, ...(endpoint.caPem ? { ca: endpoint.caPem } : {}) });
  }

  async activate(input: {
    activationCode: string;
    publicJwk: Record<string, unknown>;
    name: string;
    platform: string;
  }): Promise<ActivatedDevice> {
    const r = await this.#call('POST', '/device/v1/activate', {
      activation_code: input.activationCode,
      public_key: input.publicJwk,
      name: input.name,
      platform: input.platform,
    });
    return {
      deviceId: String(r.device_id),
      userId: String(r.user_id),
      username: String(r.username),
      capabilities: r.capabilities as string[],
      totp: r.totp as ActivatedDevice['totp'],
    };
  }

  /** Pending login requests; with `waitSeconds` > 0 a long poll. */
  async requests(
    device: { deviceId: string; privateKey: KeyObject },
    waitSeconds = 0,
  ): Promise<LoginRequest[]> {
    const path =
      waitSeconds > 0 ? `/device/v1/requests?wait=${waitSeconds}` : '/device/v1/requests';
    const r = await this.#call('GET', path, undefined, device);
    return r.requests as LoginRequest[];
  }

  async answer(
    device: { deviceId: string; privateKey: KeyObject },
    txid: string,
    answer: 'approve' | 'deny' | 'fraud',
    verificationCode?: string,
  ): Promise<{ result: string; status: string }> {
    const body =
      verificationCode === undefined ? { answer } : { answer, verification_code: verificationCode };
    const r = await this.#call(
      'POST',
      `/device/v1/requests/${encodeURIComponent(txid)}`,
      body,
      device,
    );
    return { result: String(r.result), status: String(r.status) };
  }

  async info(device: {
    deviceId: string;
    privateKey: KeyObject;
  }): Promise<Record<string, unknown>> {
    return this.#call('GET', '/device/v1/device', undefined, device);
  }

  close(): void {
    this.#agent?.destroy();
  }

  #call(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    signer?: { deviceId: string; privateKey: KeyObject },
  ): Promise<Record<string, unknown>> {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (signer) {
      const date = String(Math.floor(this.#clock.nowMs() / 1000));
      headers[DEVICE_ID_HEADER] = signer.deviceId;
      headers[DEVICE_DATE_HEADER] = date;
      headers.authorization = signDeviceRequest(
        { method, pathAndQuery: path, date, deviceId: signer.deviceId, body: payload },
        signer.privateKey,
      );
    }
    const [host, port] = splitHostPort(this.#endpoint.apiHost);
    return new Promise((resolve, reject) => {
      const options = { host, port, method, path, headers };
      const req = this.#endpoint.plainHttp
        ? plainRequest(options)
        : request({ ...options, agent: this.#agent, servername: isIp(host) ? undefined : host });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          } catch {
            reject(new DeviceApiError(res.statusCode ?? 0, undefined, 'answer is not JSON'));
            return;
          }
          if (parsed.stat === 'OK') {
            resolve(parsed.response as Record<string, unknown>);
            return;
          }
          reject(
            new DeviceApiError(
              res.statusCode ?? 0,
              typeof parsed.code === 'number' ? parsed.code : undefined,
              typeof parsed.message === 'string' ? parsed.message : 'request failed',
              typeof parsed.message_detail === 'string' ? parsed.message_detail : undefined,
            ),
          );
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }
}

function splitHostPort(apiHost: string): [string, number] {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::([0-9]+))?$/.exec(apiHost);
  if (!m) throw new Error(`not a host[:port]: ${apiHost}`);
  return [m[1] ?? m[2] ?? '', m[3] ? Number(m[3]) : 443];
}

function isIp(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(':');
}
