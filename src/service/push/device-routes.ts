// The device API (docs/device-api.md): activation, then device-signed calls to fetch and answer
// login requests.
import type { KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Secret } from 'otpauth';
import { AirlockError } from '../../core/error-registry.ts';
import type { Device, OobRequest } from '../../core/model.ts';
import {
  DEVICE_DATE_HEADER,
  DEVICE_ID_HEADER,
  importDevicePublicKey,
  verifyDeviceRequest,
} from '../../protocol/device-signature.ts';
import type { Clock } from '../../runtime/clock.ts';
import { generateId, type Random } from '../../runtime/random.ts';
import type { Store } from '../../store/store.ts';
import type { WriteBatcher } from '../../store/write-batcher.ts';
import { parseActivationCode } from '../../core/activation-code.ts';
import { sendOk } from '../auth-api/envelope.ts';
import { deviceCapabilities } from '../../core/device-capabilities.ts';
import type { OobHub } from './oob-hub.ts';
import type { PushFlow } from './push-flow.ts';
import { bodyChecker, routeSchema } from '../api-schema.ts';
import {
  ActivateBody,
  AnswerBody,
  DEVICE_OPERATIONS as OPS,
  type ActivatedDevice,
  type DeviceInfo,
  type LoginRequest,
  type RequestsQuery,
  type TxidParams,
} from './device-schemas.ts';

export interface DeviceRoutesDeps {
  store: Store;
  writes: WriteBatcher;
  clock: Clock;
  random: Random;
  hub: OobHub;
  push: PushFlow;
  options: { dateWindowSeconds: number; maxWaitSeconds: number };
  /** Called for each request a device takes (per-factor delivery health). */
  onDelivered?: (request: OobRequest, latencyMs: number) => void;
}

const checkActivateBody = bodyChecker(ActivateBody);
const checkAnswerBody = bodyChecker(AnswerBody);

export function registerDeviceRoutes(server: FastifyInstance, d: DeviceRoutesDeps): void {
  // Keys are parsed once per device; the device row is still read on every call, so a removed
  // device stops working at once.
  const keys = new Map<string, { jwk: string; key: KeyObject }>();
  const keyOf = (device: Device): KeyObject => {
    const cached = keys.get(device.id);
    if (cached && cached.jwk === device.publicKeyJwk) return cached.key;
    const key = importDevicePublicKey(JSON.parse(device.publicKeyJwk ?? '{}')).key;
    if (keys.size > 10_000) keys.clear();
    keys.set(device.id, { jwk: device.publicKeyJwk ?? '', key });
    return key;
  };

  async function authenticateDevice(req: FastifyRequest): Promise<Device> {
    const deviceId = header(req, DEVICE_ID_HEADER);
    const date = header(req, DEVICE_DATE_HEADER);
    if (!deviceId || !date) throw new AirlockError('AUTH_MISSING_CREDENTIALS');
    const nowSeconds = d.clock.nowMs() / 1000;
    if (
      !/^[0-9]{1,12}$/.test(date) ||
      Math.abs(Number(date) - nowSeconds) > d.options.dateWindowSeconds
    ) {
      throw new AirlockError('AUTH_BAD_DATE');
    }
    const device = /^DV[A-Z0-9]{18}$/.test(deviceId)
      ? await d.store.getDevice(deviceId)
      : undefined;
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const ok =
      device?.publicKeyJwk != null &&
      verifyDeviceRequest(
        { method: req.method, pathAndQuery: req.url, date, deviceId, body },
        header(req, 'authorization'),
        keyOf(device),
      );
    // Unknown device and bad signature answer alike.
    if (!ok || !device) throw new AirlockError('AUTH_BAD_SIGNATURE', 'device signature');
    return device;
  }

  server.post(OPS.activate.path, { schema: routeSchema(OPS.activate) }, async (req, reply) => {
    const body = checkActivateBody(parseJsonBody(req.body));
    const code = parseActivationCode(body.activation_code);
    const name = body.name.trim();
    if (name === '') throw new AirlockError('AUTH_INVALID_PARAMETERS', 'name');
    const platform = body.platform;
    let jwk: string;
    try {
      jwk = JSON.stringify(importDevicePublicKey(body.public_key).jwk);
    } catch {
      throw new AirlockError('AUTH_INVALID_PARAMETERS', 'public_key');
    }
    if (code === undefined) throw new AirlockError('AUTH_INVALID_PARAMETERS', 'activation_code');
    const nowMs = d.clock.nowMs();
    const totpSecret = new Secret({ buffer: new Uint8Array(d.random.bytes(20)).buffer }).base32;
    const activated = await d.writes.run(async (tx) => {
      const claim = await tx.claimActivation(code, nowMs);
      if (!claim) return undefined;
      const user = await tx.getUser(claim.userId);
      if (!user) return undefined;
      const token = await tx.addOtpToken({
        id: generateId(d.random, 'DT'),
        userId: user.id,
        type: 'totp',
        secret: totpSecret,
        algorithm: 'SHA1',
        digits: 6,
        periodSeconds: 30,
        counter: 0,
        name: `authenticator: ${name}`,
      });
      const device = await tx.createDevice({
        id: generateId(d.random, 'DV'),
        userId: user.id,
        name,
        platform,
        publicKeyJwk: jwk,
        otpTokenId: token.id,
      });
      await tx.appendAudit({
        tsMs: nowMs,
        actor: `device:${device.id}`,
        action: 'device.activate',
        targetType: 'device',
        targetId: device.id,
        appId: claim.appId,
        username: user.username,
        result: 'success',
        ip: req.ip,
        detail: { platform, name },
      });
      return { user, device };
    });
    // Unknown, used and expired codes get one answer.
    if (!activated) throw new AirlockError('AUTH_INVALID_PARAMETERS', 'activation_code');
    return sendOk(reply, {
      device_id: activated.device.id,
      user_id: activated.user.id,
      username: activated.user.username,
      capabilities: deviceCapabilities(activated.device, { sms: false, phone: false }),
      totp: { secret: totpSecret, algorithm: 'SHA1', digits: 6, period: 30 },
    } satisfies ActivatedDevice);
  });

  server.get(OPS.device.path, { schema: routeSchema(OPS.device) }, async (req, reply) => {
    const device = await authenticateDevice(req);
    const user = await d.store.getUser(device.userId);
    return sendOk(reply, {
      device_id: device.id,
      user_id: device.userId,
      username: user?.username ?? '',
      name: device.name,
      platform: device.platform,
      capabilities: deviceCapabilities(device, { sms: false, phone: false }),
      created: Math.floor(device.createdAtMs / 1000),
    } satisfies DeviceInfo);
  });

  server.get<{ Querystring: RequestsQuery }>(
    OPS.requests.path,
    { schema: routeSchema(OPS.requests) },
    async (req, reply) => {
      const device = await authenticateDevice(req);
      const waitSeconds = parseWait(req.query.wait, d.options.maxWaitSeconds);
      const pending = await readPendingRequests(d, device.id, waitSeconds, req.raw);
      const nowMs = d.clock.nowMs();
      const fresh = pending.filter((r) => r.deliveredAtMs === null);
      if (fresh.length > 0) {
        await d.store.markOobDelivered(
          fresh.map((r) => r.txid),
          nowMs,
        );
        for (const r of fresh) d.onDelivered?.(r, nowMs - r.createdAtMs);
      }
      await d.store.touchDevice(device.id, nowMs);
      return sendOk(reply, { requests: pending.map(describeRequest) });
    },
  );

  server.post<{ Params: TxidParams }>(
    OPS.answer.path,
    { schema: routeSchema(OPS.answer) },
    async (req, reply) => {
      const device = await authenticateDevice(req);
      const body = checkAnswerBody(parseJsonBody(req.body));
      const outcome = await d.push.answer({
        device,
        txid: req.params.txid,
        answer: body.answer,
        verificationCode: body.verification_code,
        nowMs: d.clock.nowMs(),
      });
      return sendOk(reply, { result: outcome.result, status: outcome.status });
    },
  );
}

/**
 * The device's pending requests; with a wait, a long poll that answers at once only with something
 * new: requests the device already took (still pending, shown on its screen) do not end the wait,
 * or a client would spin. The watch starts before the first read (OobHub.watchDevice says why).
 */
async function readPendingRequests(
  d: DeviceRoutesDeps,
  deviceId: string,
  waitSeconds: number,
  request: IncomingMessage,
): Promise<OobRequest[]> {
  const watch = waitSeconds > 0 ? d.hub.watchDevice(deviceId) : undefined;
  try {
    const pending = await d.store.listPendingOobRequests(deviceId, d.clock.nowMs());
    if (watch === undefined || pending.some((r) => r.deliveredAtMs === null)) return pending;
    const aborted = new AbortController();
    const onClose = () => aborted.abort();
    request.once('close', onClose);
    await watch.wait(waitSeconds * 1000, aborted.signal);
    request.off('close', onClose);
    return await d.store.listPendingOobRequests(deviceId, d.clock.nowMs());
  } finally {
    watch?.cancel();
  }
}

function describeRequest(r: OobRequest): LoginRequest {
  return {
    txid: r.txid,
    factor: r.factor,
    application: r.context.application,
    username: r.context.username,
    display_username: r.context.displayUsername,
    type: r.context.type,
    ipaddr: r.context.ipaddr,
    hostname: r.context.hostname,
    pushinfo: r.context.pushinfo,
    time: Math.floor(r.createdAtMs / 1000),
    expires: Math.floor(r.expiresAtMs / 1000),
    verification: r.verificationCode !== null,
  };
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

function parseWait(value: string | undefined, max: number): number {
  if (value === undefined) return 0;
  if (!/^[0-9]{1,3}$/.test(value) || Number(value) > max) {
    throw new AirlockError('AUTH_INVALID_PARAMETERS', 'wait');
  }
  return Number(value);
}

function parseJsonBody(body: unknown): Record<string, unknown> {
  if (!Buffer.isBuffer(body)) throw new AirlockError('AUTH_INVALID_PARAMETERS', 'body');
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // fall through
  }
  throw new AirlockError('AUTH_INVALID_PARAMETERS', 'body must be a JSON object');
}
