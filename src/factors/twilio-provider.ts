// Twilio-compatible REST provider: sends SMS (Messages.json) and starts calls (Calls.json) with HTTP Basic auth.
//
// No Twilio SDK on purpose: it is a large dependency tree for the two form POSTs we make, and
// owning them keeps the timeout, the error mapping and "no secret in an error" under our control.
// `baseUrl` is configurable so tests (and Twilio-compatible carriers) can stand in for Twilio.
import { httpSend as realHttpSend, type HttpSend } from '../runtime/http-send.ts';
import {
  ProviderError,
  parseProviderAnswer,
  providerErrorFromSend,
  providerErrorKindForStatus,
  type CallRequest,
  type MessageProvider,
  type ProviderReceipt,
  type SmsMessage,
} from './message-provider.ts';

export const TWILIO_CALL_MODES = ['twiml', 'url'] as const;
/**
 * `twiml`: the call carries its own TwiML (say the text, gather one key, POST it to the callback
 * URL), so the service only receives the signed "key pressed" callback. `url`: Twilio fetches
 * TwiML from the callback URL when the call is answered; the service must answer it.
 */
export type TwilioCallMode = (typeof TWILIO_CALL_MODES)[number];

export const TWILIO_DEFAULT_BASE_URL = 'https://api.twilio.com';

export interface TwilioProviderOptions {
  readonly accountSid: string;
  /** Secret: the HMAC key of callbacks and the Basic auth password. */
  readonly authToken: string;
  /** The sender: a Twilio number in E.164 form, or an alphanumeric sender id for SMS. */
  readonly from: string;
  /** Default `https://api.twilio.com`; no trailing slash needed. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly callMode: TwilioCallMode;
}

export interface TwilioProviderDeps {
  readonly httpSend?: HttpSend;
}

/** Seconds the callee has to press a key (TwiML `<Gather timeout>`). */
const GATHER_TIMEOUT_SECONDS = 15;

/**
 * @example
 * const sms = createTwilioProvider({}, { accountSid, authToken, from: '+15555550100', baseUrl: TWILIO_DEFAULT_BASE_URL, timeoutMs: 10_000, callMode: 'twiml' });
 * await sms.sendSms({ to: '+15555550123', body: 'Your code: 1234567' });
 */
export function createTwilioProvider(
  deps: TwilioProviderDeps,
  options: TwilioProviderOptions,
): MessageProvider {
  return new TwilioProvider(deps.httpSend ?? realHttpSend, options);
}

class TwilioProvider implements MessageProvider {
  readonly name = 'twilio' as const;
  readonly #send: HttpSend;
  readonly #options: TwilioProviderOptions;
  readonly #accountUrl: string;
  readonly #authorization: string;

  constructor(send: HttpSend, options: TwilioProviderOptions) {
    this.#send = send;
    this.#options = options;
    this.#accountUrl = `${options.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}`;
    this.#authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`, 'utf8').toString('base64')}`;
  }

  sendSms(message: SmsMessage, signal?: AbortSignal): Promise<ProviderReceipt> {
    const form = new URLSearchParams({
      To: message.to,
      From: this.#options.from,
      Body: message.body,
    });
    return this.#post('Messages.json', form, signal);
  }

  startCall(call: CallRequest, signal?: AbortSignal): Promise<ProviderReceipt> {
    const form = new URLSearchParams({ To: call.to, From: this.#options.from });
    if (this.#options.callMode === 'twiml') {
      form.set('Twiml', gatherTwiml(call.callbackUrl, call.say));
    } else {
      form.set('Url', call.callbackUrl);
      form.set('Method', 'POST');
    }
    return this.#post('Calls.json', form, signal);
  }

  async #post(
    resource: 'Messages.json' | 'Calls.json',
    form: URLSearchParams,
    signal: AbortSignal | undefined,
  ): Promise<ProviderReceipt> {
    let response;
    try {
      response = await this.#send({
        url: `${this.#accountUrl}/${resource}`,
        headers: {
          authorization: this.#authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
        timeoutMs: this.#options.timeoutMs,
        signal,
      });
    } catch (e) {
      providerErrorFromSend('twilio', e, signal);
    }
    const answer = parseProviderAnswer(response.bodyText);
    if (response.status < 200 || response.status > 299) {
      // Twilio's error body: {code, message, more_info, status}. Its message can quote the
      // recipient's number, so only the numeric code is kept.
      const code = typeof answer?.code === 'number' ? answer.code : undefined;
      throw new ProviderError(
        'twilio',
        providerErrorKindForStatus(response.status),
        `HTTP ${response.status}${code === undefined ? '' : ` (Twilio code ${code})`}`,
        { httpStatus: response.status, providerCode: code },
      );
    }
    const sid = answer?.sid;
    if (typeof sid !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(sid)) {
      throw new ProviderError('twilio', 'bad-response', `HTTP ${response.status} without a sid`, {
        httpStatus: response.status,
      });
    }
    return { providerId: sid };
  }
}

/**
 * TwiML for a login call: say the text, wait for one key, POST it (`Digits`) to `callbackUrl`.
 * `actionOnEmptyResult` makes Twilio call back also when no key was pressed, so the service can
 * answer "No keypress detected" instead of waiting for its own timeout.
 */
export function gatherTwiml(callbackUrl: string, say: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><Response>' +
    `<Gather numDigits="1" timeout="${GATHER_TIMEOUT_SECONDS}" method="POST" actionOnEmptyResult="true" action="${escapeXml(callbackUrl)}">` +
    `<Say>${escapeXml(say)}</Say></Gather></Response>`
  );
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}
