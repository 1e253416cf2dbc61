// SMS passcodes and phone-call logins through the configured message providers (docs/factors.md).
// A call is an out-of-band request like a push: the provider calls the user and posts the key
// they pressed to a callback URL that carries a single-use secret (and, for Twilio, its signature).
import { createHash } from 'node:crypto';
import { hashBypassCode } from '../../core/bypass-code.ts';
import { AirlockError } from '../../core/error-registry.ts';
import type { Application, Device, OobContext, User } from '../../core/model.ts';
import type { MessageProvider } from '../../factors/message-provider.ts';
import type { Clock } from '../../runtime/clock.ts';
import { generateDigits, generateId, type Random } from '../../runtime/random.ts';
import type { RateBucketStore } from '../../store/rate-bucket-store.ts';
import type { Store } from '../../store/store.ts';
import type { WriteBatcher } from '../../store/write-batcher.ts';
import { maskPhoneNumber } from '../../core/device-capabilities.ts';
import type { OobHub } from './oob-hub.ts';
import type { PushStarted } from './push-flow.ts';
import {
  auditEvent,
  constantTimeEqual,
  settleOobRequest,
  spendLoginBudget,
  type AuthOutcome,
  type OobAnswerStatus,
} from './oob-shared.ts';

export interface PhoneFlowOptions {
  /** Read per call: `serve` learns its port (and so the host) only after listening. */
  apiHost: () => string;
  /** Passcodes per SMS and how long they stay valid. */
  smsPasscodeCount: number;
  smsPasscodeValidSeconds: number;
  /** How long a call may take until the key press arrives. */
  callTimeoutSeconds: number;
  /** Per-user budget of SMS and calls (against toll fraud and annoyance). */
  ratePerMinute: number;
  burst: number;
}

interface Deps {
  store: Store;
  /** The per-user out-of-band budget, shared with the other factors (memory-rate-buckets.ts). */
  budgets: RateBucketStore;
  writes: WriteBatcher;
  clock: Clock;
  random: Random;
  hub: OobHub;
  bypassPepper: Buffer;
  providers: { sms: MessageProvider | undefined; phone: MessageProvider | undefined };
  /** Twilio's auth token when the phone provider is Twilio: callbacks must carry its signature. */
  verifyCallbackSignature?: (
    fullUrl: string,
    params: URLSearchParams,
    header: string | undefined,
  ) => boolean;
  options: PhoneFlowOptions;
}

export type CallKey = 'approve' | 'fraud' | 'deny' | 'none';

export class PhoneFlow {
  readonly #d: Deps;

  constructor(deps: Deps) {
    this.#d = deps;
  }

  get available(): { sms: boolean; phone: boolean } {
    return {
      sms: this.#d.providers.sms !== undefined,
      phone: this.#d.providers.phone !== undefined,
    };
  }

  /** factor=sms: a new batch of passcodes by SMS; the login itself is denied ("sent"). */
  async sendSmsPasscodes(input: {
    app: Application;
    user: User;
    device: Device;
    access: Record<string, string | undefined>;
    nowMs: number;
  }): Promise<AuthOutcome> {
    const { app, user, device, nowMs } = input;
    const provider = this.#d.providers.sms;
    if (!provider || device.phoneNumber === null) {
      throw new AirlockError('AUTH_NO_CAPABLE_DEVICE', 'no capable device');
    }
    const limited = await this.#spend(input, 'sms');
    if (limited) return limited;
    const o = this.#d.options;
    const codes = Array.from({ length: o.smsPasscodeCount }, (_, i) => {
      // A leading 1-9: the first digit is what preauth's sms_nextcode names.
      const code = `${1 + this.#d.random.int(9)}${generateDigits(this.#d.random, 6)}`;
      return { code, seq: i + 1 };
    });
    const body =
      `${app.name} passcodes: ` +
      codes.map((c) => `${c.seq}. ${c.code}`).join(' ') +
      ' (use in order)';
    let failure: string | undefined;
    try {
      await provider.sendSms({ to: device.phoneNumber, body }, AbortSignal.timeout(15_000));
    } catch (err) {
      failure = err instanceof Error ? err.name : 'error';
    }
    await this.#d.writes.run(async (tx) => {
      if (failure === undefined) {
        await tx.replaceSmsPasscodes(
          user.id,
          device.id,
          codes.map((c) => ({
            id: generateId(this.#d.random, 'SP'),
            seq: c.seq,
            codeHash: hashBypassCode(this.#d.bypassPepper, c.code),
            firstDigit: c.code.charAt(0),
            expiresAtMs: nowMs + o.smsPasscodeValidSeconds * 1000,
          })),
        );
      }
      await tx.appendAudit(
        auditEvent(app, user, nowMs, 'auth.sms', failure === undefined ? 'sent' : 'failed', {
          deviceId: device.id,
          // Masked, for the telephony log (docs/admin-api.md): never the whole number.
          phone: maskPhoneNumber(device.phoneNumber),
          provider: provider.name,
          ...input.access,
        }),
      );
    });
    return failure === undefined
      ? { result: 'deny', status: 'sent', status_msg: 'New SMS passcodes sent.' }
      : {
          result: 'deny',
          status: 'deny',
          status_msg: 'Could not send SMS passcodes. Use another factor or try again later.',
        };
  }

  /** factor=phone: the provider calls the user; the key they press answers the login. */
  async startCall(input: {
    app: Application;
    user: User;
    device: Device;
    context: OobContext;
    access: Record<string, string | undefined>;
    nowMs: number;
  }): Promise<PushStarted | AuthOutcome> {
    const { app, user, device, nowMs } = input;
    const provider = this.#d.providers.phone;
    if (!provider || device.phoneNumber === null) {
      throw new AirlockError('AUTH_NO_CAPABLE_DEVICE', 'no capable device');
    }
    const limited = await this.#spend(input, 'phone');
    if (limited) return limited;
    const txid = this.#d.random.uuid();
    const token = this.#d.random.bytes(24).toString('base64url');
    const expiresAtMs = nowMs + this.#d.options.callTimeoutSeconds * 1000;
    const statusMsg = `Dialing ${maskPhoneNumber(device.phoneNumber)}...`;
    await this.#d.writes.run(async (tx) => {
      await tx.createOobRequest({
        txid,
        factor: 'phone',
        appId: app.id,
        userId: user.id,
        deviceId: device.id,
        status: 'calling',
        context: input.context,
        verificationCode: null,
        callbackTokenHash: sha256(token),
        expiresAtMs,
      });
      await tx.createAuthTransaction({
        txid,
        appId: app.id,
        userId: user.id,
        factor: 'phone',
        result: 'waiting',
        status: 'calling',
        statusMsg,
      });
    });
    const say =
      `This is ${app.name}. A login as ${user.username} is waiting for you. ` +
      'Press 1 to approve it. Press 9 if you did not try to log in. Any other key denies it.';
    try {
      await provider.startCall(
        {
          to: device.phoneNumber,
          callbackUrl: `https://${this.#d.options.apiHost()}/provider/v1/calls/${txid}?token=${token}`,
          say,
        },
        AbortSignal.timeout(15_000),
      );
    } catch {
      await this.#finish(txid, app, user, 'push_failed', nowMs, {
        result: 'deny',
        status: 'deny',
        status_msg: 'Could not call your phone. Use another factor or try again later.',
      });
      return {
        result: 'deny',
        status: 'deny',
        status_msg: 'Could not call your phone. Use another factor or try again later.',
      };
    }
    await this.#d.writes.run((tx) =>
      tx.appendAudit(
        auditEvent(app, user, nowMs, 'auth.phone.call', 'calling', {
          txid,
          deviceId: device.id,
          phone: maskPhoneNumber(device.phoneNumber),
          provider: provider.name,
          ...input.access,
        }),
      ),
    );
    return { txid, expiresAtMs, verificationCode: null, statusMsg };
  }

  /**
   * The provider's callback: checks the single-use token (and the provider's signature), then
   * answers the login by the key pressed. Unknown, answered, expired and forged callbacks get one
   * and the same rejection.
   */
  async answerCall(input: {
    txid: string;
    token: string | undefined;
    fullUrl: string;
    params: URLSearchParams;
    signature: string | undefined;
    nowMs: number;
  }): Promise<AuthOutcome> {
    const request = await this.#d.store.getOobRequest(input.txid);
    const tokenOk =
      request?.callbackTokenHash != null &&
      input.token !== undefined &&
      constantTimeEqual(sha256(input.token), request.callbackTokenHash);
    const signatureOk =
      this.#d.verifyCallbackSignature === undefined ||
      this.#d.verifyCallbackSignature(input.fullUrl, input.params, input.signature);
    if (
      !request ||
      !tokenOk ||
      !signatureOk ||
      request.factor !== 'phone' ||
      request.status !== 'calling' ||
      request.expiresAtMs <= input.nowMs
    ) {
      throw new AirlockError('AUTH_INVALID_PARAMETERS', 'call');
    }
    const digits = input.params.get('Digits') ?? input.params.get('digits') ?? '';
    const key: CallKey =
      digits === '1' ? 'approve' : digits === '9' ? 'fraud' : digits === '' ? 'none' : 'deny';
    const status = key === 'approve' ? 'allow' : key === 'fraud' ? 'fraud' : 'deny';
    const outcome: AuthOutcome =
      key === 'approve'
        ? { result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' }
        : key === 'fraud'
          ? { result: 'deny', status: 'fraud', status_msg: 'Login request reported as fraudulent.' }
          : key === 'none'
            ? {
                result: 'deny',
                status: 'deny',
                status_msg: 'No keypress detected. Please try again.',
              }
            : { result: 'deny', status: 'deny', status_msg: 'Login request denied.' };
    const app = await this.#d.store.getApplication(request.appId);
    if (!app) throw new AirlockError('AUTH_INVALID_PARAMETERS', 'call');
    const settled = await this.#finish(
      request.txid,
      app,
      { id: request.userId, username: request.context.username },
      status,
      input.nowMs,
      outcome,
      { key },
    );
    if (!settled) throw new AirlockError('AUTH_INVALID_PARAMETERS', 'call');
    return settled;
  }

  #spend(
    input: {
      app: Application;
      user: User;
      device: Device;
      access: Record<string, string | undefined>;
      nowMs: number;
    },
    factor: 'sms' | 'phone',
  ): Promise<AuthOutcome | undefined> {
    return spendLoginBudget({
      budgets: this.#d.budgets,
      writes: this.#d.writes,
      budget: { ratePerMinute: this.#d.options.ratePerMinute, burst: this.#d.options.burst },
      app: input.app,
      user: input.user,
      factor,
      detail: { deviceId: input.device.id, ...input.access },
      nowMs: input.nowMs,
    });
  }

  #finish(
    txid: string,
    app: Application,
    user: Pick<User, 'id' | 'username'>,
    status: OobAnswerStatus,
    nowMs: number,
    outcome: AuthOutcome,
    detail: Record<string, unknown> = {},
  ): Promise<AuthOutcome | undefined> {
    return settleOobRequest(this.#d, {
      txid,
      appId: app.id,
      app,
      user,
      factor: 'phone',
      status,
      outcome,
      nowMs,
      detail,
    });
  }
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
