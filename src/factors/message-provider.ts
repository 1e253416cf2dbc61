// The message provider port: what the SMS and phone factors need from a carrier (send a text, start a call).
import { isOneOf } from '../core/closed-set.ts';
import { HttpSendError } from '../runtime/http-send.ts';

export const PROVIDER_KINDS = ['twilio', 'webhook', 'file'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];
export const isProviderKind = (v: unknown): v is ProviderKind => isOneOf(PROVIDER_KINDS, v);

export const PROVIDER_ERROR_KINDS = ['timeout', 'rejected', 'unreachable', 'bad-response'] as const;
/**
 * `timeout`: no answer within the provider's `timeoutMs`. `rejected`: the provider answered 4xx
 * (credentials, a number it refuses). `unreachable`: no connection, a reset, or a 5xx.
 * `bad-response`: a 2xx (or 3xx) whose body is not what the provider's API promises.
 */
export type ProviderErrorKind = (typeof PROVIDER_ERROR_KINDS)[number];

export interface SmsMessage {
  /** E.164 number, e.g. `+15555550100`. */
  readonly to: string;
  readonly body: string;
}

export interface CallRequest {
  readonly to: string;
  /** Where the provider reports the call's outcome ("answered", the key pressed). */
  readonly callbackUrl: string;
  /** What the call says when answered, e.g. "Press 1 to log in.". */
  readonly say: string;
}

export interface ProviderReceipt {
  /** The provider's id for the message or call (Twilio's `sid`); never secret. */
  readonly providerId: string;
}

/**
 * A carrier adapter. Every method resolves once the provider has accepted the message or call
 * (not when it reached the phone), rejects with a `ProviderError`, or, when `signal` fires first,
 * with `signal.reason` (the caller gave up; that says nothing about the provider's health).
 *
 * @example
 * const { providerId } = await provider.sendSms({ to: '+15555550100', body: 'Code: 1234567' }, signal);
 */
export interface MessageProvider {
  /** A label for logs, health and metrics: `twilio`, `webhook`, `file`. */
  readonly name: ProviderKind;
  sendSms(message: SmsMessage, signal?: AbortSignal): Promise<ProviderReceipt>;
  startCall(call: CallRequest, signal?: AbortSignal): Promise<ProviderReceipt>;
}

/** A failed delivery attempt. The message names the provider and the failure, never a secret or URL. */
export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  readonly provider: ProviderKind;
  /** The HTTP status, when the provider answered one. */
  readonly httpStatus: number | undefined;
  /** The provider's own error code, when it sent one (Twilio: 20003 = authentication failed). */
  readonly providerCode: number | undefined;

  constructor(
    provider: ProviderKind,
    kind: ProviderErrorKind,
    detail: string,
    extra: { httpStatus?: number | undefined; providerCode?: number | undefined } = {},
  ) {
    super(`${provider}: ${kind}: ${detail}`);
    this.name = 'ProviderError';
    this.kind = kind;
    this.provider = provider;
    this.httpStatus = extra.httpStatus;
    this.providerCode = extra.providerCode;
  }
}

export function isProviderError(e: unknown): e is ProviderError {
  return e instanceof ProviderError;
}

/**
 * Maps a transport failure to the provider's error, or rethrows the caller's abort reason.
 * Shared by the HTTP providers so they classify alike.
 */
export function providerErrorFromSend(
  provider: ProviderKind,
  e: unknown,
  signal: AbortSignal | undefined,
): never {
  if (e instanceof HttpSendError) {
    if (e.failure === 'aborted' && signal?.aborted === true) throw signal.reason;
    if (e.failure === 'timeout') throw new ProviderError(provider, 'timeout', 'no answer in time');
    throw new ProviderError(provider, 'unreachable', e.detail ?? 'connection failed');
  }
  throw e;
}

/** 4xx = the provider refused us; 5xx = it cannot serve now; anything else non-2xx is unexpected. */
export function providerErrorKindForStatus(status: number): ProviderErrorKind {
  if (status >= 400 && status < 500) return 'rejected';
  if (status >= 500) return 'unreachable';
  return 'bad-response';
}

/** A provider's answer when it is a JSON object; undefined for anything else (HTML, arrays, empty). */
export function parseProviderAnswer(text: string): Readonly<Record<string, unknown>> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
