// Generic webhook provider: POSTs each SMS or call as a templated JSON or form body to a configured URL.
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

export const WEBHOOK_CONTENT_TYPES = ['json', 'form'] as const;
export type WebhookContentType = (typeof WEBHOOK_CONTENT_TYPES)[number];

const MEDIA_TYPES: Readonly<Record<WebhookContentType, string>> = {
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
};

export const WEBHOOK_TEMPLATE_KINDS = ['sms', 'call'] as const;
export type WebhookTemplateKind = (typeof WEBHOOK_TEMPLATE_KINDS)[number];

/** The placeholders each template may use; `{{name}}`, whitespace inside the braces allowed. */
export const WEBHOOK_PLACEHOLDERS: Readonly<Record<WebhookTemplateKind, readonly string[]>> = {
  sms: ['to', 'body'],
  call: ['to', 'callback_url', 'say'],
};

/** Used when the configuration names no template. */
export const WEBHOOK_DEFAULT_TEMPLATES: Readonly<
  Record<WebhookContentType, Readonly<Record<WebhookTemplateKind, string>>>
> = {
  json: {
    sms: '{"to":"{{to}}","body":"{{body}}"}',
    call: '{"to":"{{to}}","callback_url":"{{callback_url}}","say":"{{say}}"}',
  },
  form: {
    sms: 'to={{to}}&body={{body}}',
    call: 'to={{to}}&callback_url={{callback_url}}&say={{say}}',
  },
};

export interface WebhookProviderOptions {
  readonly url: string;
  /** Sent with every POST; values are secrets (API keys), never logged or echoed. */
  readonly headers: Readonly<Record<string, string>>;
  readonly contentType: WebhookContentType;
  readonly smsTemplate: string;
  readonly callTemplate: string;
  readonly timeoutMs: number;
  /** A top-level string field of a JSON answer that holds the receiver's id for the message. */
  readonly idField: string | undefined;
}

export interface WebhookProviderDeps {
  readonly httpSend?: HttpSend;
  /** An id for the receipt when the receiver returns none. */
  readonly newId: () => string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_]+)\s*\}\}/g;

/**
 * @example
 * const provider = createWebhookProvider({ newId }, { url: 'https://sms-gw.example/send', headers: { authorization: 'Bearer …' }, contentType: 'json', smsTemplate: WEBHOOK_DEFAULT_TEMPLATES.json.sms, callTemplate: WEBHOOK_DEFAULT_TEMPLATES.json.call, timeoutMs: 10_000, idField: 'id' });
 */
export function createWebhookProvider(
  deps: WebhookProviderDeps,
  options: WebhookProviderOptions,
): MessageProvider {
  return new WebhookProvider(deps.httpSend ?? realHttpSend, deps.newId, options);
}

class WebhookProvider implements MessageProvider {
  readonly name = 'webhook' as const;
  readonly #send: HttpSend;
  readonly #newId: () => string;
  readonly #options: WebhookProviderOptions;

  constructor(send: HttpSend, newId: () => string, options: WebhookProviderOptions) {
    this.#send = send;
    this.#newId = newId;
    this.#options = options;
  }

  sendSms(message: SmsMessage, signal?: AbortSignal): Promise<ProviderReceipt> {
    const values = { to: message.to, body: message.body };
    return this.#post(
      renderWebhookTemplate(this.#options.smsTemplate, values, this.#options.contentType),
      signal,
    );
  }

  startCall(call: CallRequest, signal?: AbortSignal): Promise<ProviderReceipt> {
    const values = { to: call.to, callback_url: call.callbackUrl, say: call.say };
    return this.#post(
      renderWebhookTemplate(this.#options.callTemplate, values, this.#options.contentType),
      signal,
    );
  }

  async #post(body: string, signal: AbortSignal | undefined): Promise<ProviderReceipt> {
    let response;
    try {
      response = await this.#send({
        url: this.#options.url,
        headers: {
          ...this.#options.headers,
          'content-type': MEDIA_TYPES[this.#options.contentType],
        },
        body,
        timeoutMs: this.#options.timeoutMs,
        signal,
      });
    } catch (e) {
      providerErrorFromSend('webhook', e, signal);
    }
    if (response.status < 200 || response.status > 299) {
      throw new ProviderError(
        'webhook',
        providerErrorKindForStatus(response.status),
        `HTTP ${response.status}`,
        { httpStatus: response.status },
      );
    }
    const { idField } = this.#options;
    if (idField === undefined) return { providerId: this.#newId() };
    const id = parseProviderAnswer(response.bodyText)?.[idField];
    if (typeof id !== 'string' || id.length === 0 || id.length > 128) {
      throw new ProviderError(
        'webhook',
        'bad-response',
        `HTTP ${response.status} without "${idField}"`,
        {
          httpStatus: response.status,
        },
      );
    }
    return { providerId: id };
  }
}

/**
 * Substitutes `{{name}}` placeholders, each value escaped for the body's type: inside a JSON
 * string literal (the template writes the quotes) or form-urlencoded. Escaping is what keeps an
 * SMS text or a callee-controlled value from changing the body's structure.
 */
export function renderWebhookTemplate(
  template: string,
  values: Readonly<Record<string, string>>,
  contentType: WebhookContentType,
): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = values[name] ?? '';
    return contentType === 'json' ? JSON.stringify(value).slice(1, -1) : formEncode(value);
  });
}

/**
 * What is wrong with a template, for the config loader: unknown placeholders, and for JSON, a
 * body that does not parse once filled in. Empty when it is usable.
 */
export function checkWebhookTemplate(
  template: string,
  kind: WebhookTemplateKind,
  contentType: WebhookContentType,
): string[] {
  const allowed = WEBHOOK_PLACEHOLDERS[kind];
  const problems: string[] = [];
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (name !== undefined && !allowed.includes(name)) {
      problems.push(
        `unknown placeholder {{${name}}}; ${kind === 'sms' ? 'an SMS' : 'a call'} template may use ${allowed.map((a) => `{{${a}}}`).join(', ')}`,
      );
    }
  }
  if (contentType === 'json') {
    // A value with quotes and a backslash proves the placeholders sit inside string literals.
    const sample = Object.fromEntries(allowed.map((a) => [a, 'x"\\y']));
    try {
      JSON.parse(renderWebhookTemplate(template, sample, 'json'));
    } catch {
      problems.push('is not valid JSON once filled in (put each placeholder inside "quotes")');
    }
  }
  return problems;
}

function formEncode(value: string): string {
  // application/x-www-form-urlencoded, as URLSearchParams writes it (space as "+").
  return new URLSearchParams([['', value]]).toString().slice(1);
}
