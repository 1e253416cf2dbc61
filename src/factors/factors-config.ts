// The factors configuration (factors.json): SMS and phone providers, health thresholds, SMS passcodes; validated once, frozen.
//
// Loading collects every error, each with its JSON path (`sms.timeoutMs: …`). Secrets (auth
// tokens, header values, webhook URLs, which often carry a key) are never echoed; `describe…`
// shows them as fingerprints.
import {
  FACTOR_HEALTH_DEFAULTS,
  checkFactorHealthOptions,
  type FactorHealthBoard,
  type FactorHealthOptions,
} from '../core/factor-health.ts';
import { isLoopbackHost } from '../core/loopback-host.ts';
import { isOneOf } from '../core/closed-set.ts';
import { closestWord } from '../config/closest-word.ts';
import { fingerprintSecret } from '../config/secret-fingerprint.ts';
import type { Clock } from '../runtime/clock.ts';
import type { HttpSend } from '../runtime/http-send.ts';
import { createFileProvider } from './file-provider.ts';
import { PROVIDER_KINDS, type MessageProvider } from './message-provider.ts';
import { observeProvider } from './observed-provider.ts';
import {
  TWILIO_CALL_MODES,
  TWILIO_DEFAULT_BASE_URL,
  createTwilioProvider,
  type TwilioCallMode,
} from './twilio-provider.ts';
import {
  WEBHOOK_CONTENT_TYPES,
  WEBHOOK_DEFAULT_TEMPLATES,
  checkWebhookTemplate,
  createWebhookProvider,
  type WebhookContentType,
} from './webhook-provider.ts';

export const MESSAGE_FACTORS = ['sms', 'phone'] as const;
/** The factors delivered through a message provider. */
export type MessageFactor = (typeof MESSAGE_FACTORS)[number];

export interface TwilioSettings {
  readonly provider: 'twilio';
  readonly accountSid: string;
  readonly authToken: string;
  readonly from: string;
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /** Phone only. */
  readonly callMode: TwilioCallMode;
}

export interface WebhookSettings {
  readonly provider: 'webhook';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly contentType: WebhookContentType;
  /** The body template of this factor (SMS or call). */
  readonly template: string;
  readonly timeoutMs: number;
  readonly idField: string | undefined;
}

export interface FileSettings {
  readonly provider: 'file';
  /** As written; the service resolves a relative path against its data directory. */
  readonly path: string;
}

export type ProviderSettings = TwilioSettings | WebhookSettings | FileSettings;

export interface SmsPasscodeSettings {
  /** Passcodes per SMS. */
  readonly count: number;
  /** How long a sent passcode stays usable. */
  readonly validSeconds: number;
}

export interface FactorsConfig {
  /** Undefined: the SMS factor is off. */
  readonly sms: ProviderSettings | undefined;
  /** Undefined: the phone factor is off. */
  readonly phone: ProviderSettings | undefined;
  readonly health: Readonly<FactorHealthOptions>;
  readonly smsPasscodes: SmsPasscodeSettings;
}

/** Every default in one place (also documented in docs/factors.md). */
export const FACTORS_CONFIG_DEFAULTS: {
  readonly timeoutMs: number;
  readonly twilio: { readonly baseUrl: string; readonly callMode: TwilioCallMode };
  readonly webhook: { readonly contentType: WebhookContentType };
  readonly health: Readonly<FactorHealthOptions>;
  readonly smsPasscodes: SmsPasscodeSettings;
} = deepFreeze({
  timeoutMs: 10_000,
  twilio: { baseUrl: TWILIO_DEFAULT_BASE_URL, callMode: 'twiml' },
  webhook: { contentType: 'json' },
  health: FACTOR_HEALTH_DEFAULTS,
  smsPasscodes: { count: 10, validSeconds: 3600 },
});

const TIMEOUT_RANGE_MS = [100, 60_000] as const;
const SECTION_KEYS = ['sms', 'phone', 'health', 'smsPasscodes'] as const;
/** Keys of each provider; `phoneOnly` keys are unknown in the `sms` section. */
const PROVIDER_KEYS: Readonly<
  Record<(typeof PROVIDER_KINDS)[number], { all: readonly string[]; phoneOnly: readonly string[] }>
> = {
  twilio: {
    all: [
      'provider',
      'accountSid',
      'authToken',
      'from',
      'baseUrl',
      'timeoutMs',
      'allowPlainHttp',
      'callMode',
    ],
    phoneOnly: ['callMode'],
  },
  webhook: {
    all: [
      'provider',
      'url',
      'headers',
      'contentType',
      'template',
      'timeoutMs',
      'idField',
      'allowPlainHttp',
    ],
    phoneOnly: [],
  },
  file: { all: ['provider', 'path'], phoneOnly: [] },
};
/** Set by the HTTP client from the request itself; a configured value would conflict. */
const MANAGED_HEADERS = [
  'content-type',
  'content-length',
  'host',
  'transfer-encoding',
  'connection',
];

export type ParseFactorsConfigResult =
  | { readonly ok: true; readonly config: FactorsConfig }
  | { readonly ok: false; readonly errors: readonly string[] };

/**
 * Validates factors.json's text. A syntax error is reported by position only: the parser's own
 * message can quote the text around it, which may be a secret.
 */
export function parseFactorsConfigText(text: string): ParseFactorsConfigResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const position = /position (\d+)/.exec(e instanceof Error ? e.message : '')?.[1];
    const where = position === undefined ? '' : ` at ${lineColumn(text, Number(position))}`;
    return { ok: false, errors: [`not valid JSON${where}`] };
  }
  return parseFactorsConfig(value);
}

/**
 * Validates a parsed factors.json, reporting every problem at once.
 *
 * @example
 * const r = parseFactorsConfig({ sms: { provider: 'file', path: 'messages.jsonl' } });
 * if (!r.ok) throw new ConfigError('factors.json', r.errors);
 */
export function parseFactorsConfig(value: unknown): ParseFactorsConfigResult {
  const errors: string[] = [];
  if (!isPlainObject(value)) return { ok: false, errors: ['(root): must be a JSON object'] };
  const root = new ObjectReader('', value, errors);
  root.checkKeys(SECTION_KEYS);
  const sms = root.has('sms') ? readProvider(root.object('sms'), 'sms') : undefined;
  const phone = root.has('phone') ? readProvider(root.object('phone'), 'phone') : undefined;
  const health = readHealth(root.has('health') ? root.object('health') : undefined, errors);
  const smsReader = root.has('smsPasscodes') ? root.object('smsPasscodes') : undefined;
  smsReader?.checkKeys(['count', 'validSeconds']);
  const defaults = FACTORS_CONFIG_DEFAULTS.smsPasscodes;
  const smsPasscodes = {
    count: smsReader?.integer('count', 1, 10) ?? defaults.count,
    validSeconds: smsReader?.integer('validSeconds', 60, 7 * 24 * 3600) ?? defaults.validSeconds,
  };
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, config: deepFreeze({ sms, phone, health, smsPasscodes }) };
}

function readProvider(
  r: ObjectReader | undefined,
  factor: MessageFactor,
): ProviderSettings | undefined {
  if (r === undefined) return undefined;
  const provider = r.oneOf('provider', PROVIDER_KINDS, { required: true });
  if (provider === undefined) return undefined;
  const keys = PROVIDER_KEYS[provider];
  r.checkKeys(factor === 'phone' ? keys.all : keys.all.filter((k) => !keys.phoneOnly.includes(k)));
  switch (provider) {
    case 'twilio': {
      const allowPlainHttp = r.boolean('allowPlainHttp') ?? false;
      const accountSid = r.string('accountSid', {
        required: true,
        pattern: /^[A-Za-z0-9_-]{1,64}$/,
        patternText: '1–64 letters, digits, - or _',
      });
      const authToken = r.string('authToken', { required: true, secret: true });
      const from = r.string('from', { required: true });
      const baseUrl = r.url('baseUrl', { allowPlainHttp, secret: false, allowQuery: false });
      const timeoutMs = r.integer('timeoutMs', ...TIMEOUT_RANGE_MS);
      const callMode =
        factor === 'phone'
          ? r.oneOf('callMode', TWILIO_CALL_MODES, { required: false })
          : undefined;
      if (accountSid === undefined || authToken === undefined || from === undefined)
        return undefined;
      return {
        provider,
        accountSid,
        authToken,
        from,
        baseUrl: (baseUrl ?? FACTORS_CONFIG_DEFAULTS.twilio.baseUrl).replace(/\/+$/, ''),
        timeoutMs: timeoutMs ?? FACTORS_CONFIG_DEFAULTS.timeoutMs,
        callMode: callMode ?? FACTORS_CONFIG_DEFAULTS.twilio.callMode,
      };
    }
    case 'webhook': {
      const allowPlainHttp = r.boolean('allowPlainHttp') ?? false;
      // A webhook URL often carries the receiver's key: treated as a secret.
      const url = r.url('url', { allowPlainHttp, secret: true, allowQuery: true, required: true });
      const headers = r.headers('headers');
      const contentType =
        r.oneOf('contentType', WEBHOOK_CONTENT_TYPES, { required: false }) ??
        FACTORS_CONFIG_DEFAULTS.webhook.contentType;
      const kind = factor === 'sms' ? 'sms' : 'call';
      const template =
        r.string('template', { required: false }) ?? WEBHOOK_DEFAULT_TEMPLATES[contentType][kind];
      for (const problem of checkWebhookTemplate(template, kind, contentType)) {
        r.error('template', problem);
      }
      const timeoutMs = r.integer('timeoutMs', ...TIMEOUT_RANGE_MS);
      const idField = r.string('idField', { required: false });
      if (url === undefined) return undefined;
      return {
        provider,
        url,
        headers: headers ?? {},
        contentType,
        template,
        timeoutMs: timeoutMs ?? FACTORS_CONFIG_DEFAULTS.timeoutMs,
        idField,
      };
    }
    case 'file': {
      const path = r.string('path', { required: true });
      return path === undefined ? undefined : { provider, path };
    }
  }
}

function readHealth(r: ObjectReader | undefined, errors: string[]): FactorHealthOptions {
  const keys = Object.keys(FACTOR_HEALTH_DEFAULTS) as Array<keyof FactorHealthOptions>;
  if (r === undefined) return { ...FACTOR_HEALTH_DEFAULTS };
  r.checkKeys(keys);
  const merged: FactorHealthOptions = { ...FACTOR_HEALTH_DEFAULTS };
  const typed = new Set<string>();
  for (const key of keys) {
    const v = r.number(key);
    if (v !== undefined) merged[key] = v;
    if (r.has(key) && v === undefined) typed.add(key);
  }
  for (const problem of checkFactorHealthOptions(merged)) {
    const key = problem.slice(0, problem.indexOf(':'));
    // A value of the wrong type is already reported (and replaced by its default here).
    if (!typed.has(key))
      errors.push(`health.${problem}, got ${String(merged[key as keyof FactorHealthOptions])}`);
  }
  return merged;
}

// ---------------------------------------------------------------------------------------------
// Building the providers
// ---------------------------------------------------------------------------------------------

export interface CreateProvidersDeps {
  readonly clock: Clock;
  /** Receipt ids for providers without their own (file, webhook without idField). */
  readonly newId: () => string;
  readonly httpSend?: HttpSend;
  /** When given, every delivery attempt is recorded under (factor, provider). */
  readonly health?: FactorHealthBoard;
}

export interface MessageProviders {
  readonly sms: MessageProvider | undefined;
  readonly phone: MessageProvider | undefined;
}

/**
 * One provider per configured factor.
 *
 * @example
 * const { sms, phone } = createProviders(config, { clock, newId: () => generateId(random, 'MS'), health });
 */
export function createProviders(
  config: FactorsConfig,
  deps: CreateProvidersDeps,
): MessageProviders {
  const build = (factor: MessageFactor): MessageProvider | undefined => {
    const settings = config[factor];
    if (settings === undefined) return undefined;
    const provider = createProvider(settings, factor, deps);
    return deps.health === undefined
      ? provider
      : observeProvider({ clock: deps.clock, health: deps.health }, factor, provider);
  };
  return { sms: build('sms'), phone: build('phone') };
}

function createProvider(
  settings: ProviderSettings,
  factor: MessageFactor,
  deps: CreateProvidersDeps,
): MessageProvider {
  switch (settings.provider) {
    case 'twilio':
      return createTwilioProvider({ httpSend: deps.httpSend }, settings);
    case 'webhook': {
      const defaults = WEBHOOK_DEFAULT_TEMPLATES[settings.contentType];
      return createWebhookProvider(
        { httpSend: deps.httpSend, newId: deps.newId },
        {
          url: settings.url,
          headers: settings.headers,
          contentType: settings.contentType,
          smsTemplate: factor === 'sms' ? settings.template : defaults.sms,
          callTemplate: factor === 'phone' ? settings.template : defaults.call,
          timeoutMs: settings.timeoutMs,
          idField: settings.idField,
        },
      );
    }
    case 'file':
      return createFileProvider({ clock: deps.clock, newId: deps.newId }, settings);
  }
}

/** One line per factor for logs and the CLI; secrets appear as fingerprints only. */
export function describeFactorsConfig(config: FactorsConfig): string[] {
  return MESSAGE_FACTORS.map((factor) => {
    const s = config[factor];
    if (s === undefined) return `${factor}: off`;
    switch (s.provider) {
      case 'twilio':
        return (
          `${factor}: twilio ${new URL(s.baseUrl).host} account ${s.accountSid} ` +
          `token ${fingerprintSecret(s.authToken)} from ${s.from}, timeout ${s.timeoutMs} ms` +
          (factor === 'phone' ? `, call mode ${s.callMode}` : '')
        );
      case 'webhook':
        return (
          `${factor}: webhook ${new URL(s.url).host} url ${fingerprintSecret(s.url)} ${s.contentType}` +
          (Object.keys(s.headers).length > 0
            ? `, headers ${Object.entries(s.headers)
                .map(([k, v]) => `${k}=${fingerprintSecret(v)}`)
                .join(' ')}`
            : '') +
          `, timeout ${s.timeoutMs} ms`
        );
      case 'file':
        return `${factor}: file ${s.path} (development only)`;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Reading one JSON object, collecting errors with their path
// ---------------------------------------------------------------------------------------------

class ObjectReader {
  readonly #prefix: string;
  readonly #obj: Readonly<Record<string, unknown>>;
  readonly #errors: string[];

  constructor(path: string, obj: Readonly<Record<string, unknown>>, errors: string[]) {
    this.#prefix = path === '' ? '' : `${path}.`;
    this.#obj = obj;
    this.#errors = errors;
  }

  error(key: string, message: string): void {
    this.#errors.push(`${this.#prefix}${key}: ${message}`);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.#obj, key) && this.#obj[key] !== undefined;
  }

  /** Unknown keys are errors, with a "did you mean"; their values are never shown. */
  checkKeys(allowed: readonly string[]): void {
    for (const key of Object.keys(this.#obj)) {
      if (allowed.includes(key)) continue;
      const guess = closestWord(key, allowed);
      this.error(key, `unknown key${guess === undefined ? '' : `; did you mean ${guess}?`}`);
    }
  }

  object(key: string): ObjectReader | undefined {
    const v = this.#obj[key];
    if (!isPlainObject(v)) {
      this.error(key, 'must be a JSON object');
      return undefined;
    }
    return new ObjectReader(`${this.#prefix}${key}`, v, this.#errors);
  }

  string(
    key: string,
    o: { required: boolean; secret?: boolean; pattern?: RegExp; patternText?: string },
  ): string | undefined {
    if (!this.has(key)) {
      if (o.required) this.error(key, 'is required');
      return undefined;
    }
    const v = this.#obj[key];
    if (typeof v !== 'string' || v.length === 0) {
      this.error(key, 'must be a non-empty string');
      return undefined;
    }
    if (o.pattern !== undefined && !o.pattern.test(v)) {
      this.error(
        key,
        `must be ${o.patternText ?? 'well-formed'}${o.secret === true ? '' : `, got ${JSON.stringify(v)}`}`,
      );
      return undefined;
    }
    return v;
  }

  integer(key: string, min: number, max: number): number | undefined {
    if (!this.has(key)) return undefined;
    const v = this.#obj[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.error(key, `must be an integer from ${min} to ${max}, got ${describeValue(v)}`);
      return undefined;
    }
    return v;
  }

  number(key: string): number | undefined {
    if (!this.has(key)) return undefined;
    const v = this.#obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.error(key, `must be a number, got ${describeValue(v)}`);
      return undefined;
    }
    return v;
  }

  boolean(key: string): boolean | undefined {
    if (!this.has(key)) return undefined;
    const v = this.#obj[key];
    if (typeof v !== 'boolean') {
      this.error(key, `must be true or false, got ${describeValue(v)}`);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(
    key: string,
    values: readonly T[],
    o: { required: boolean },
  ): T | undefined {
    if (!this.has(key)) {
      if (o.required) this.error(key, `is required (one of ${values.join(', ')})`);
      return undefined;
    }
    const v = this.#obj[key];
    if (isOneOf(values, v)) return v;
    const guess = typeof v === 'string' ? closestWord(v, values) : undefined;
    this.error(
      key,
      `must be one of ${values.join(', ')}, got ${describeValue(v)}` +
        (guess === undefined ? '' : `; did you mean ${guess}?`),
    );
    return undefined;
  }

  /**
   * An absolute http(s) URL. Plain http only to a loopback host unless `allowPlainHttp`: the
   * provider's credentials travel with every request. Credentials inside the URL are refused.
   */
  url(
    key: string,
    o: { allowPlainHttp: boolean; secret: boolean; allowQuery: boolean; required?: boolean },
  ): string | undefined {
    const text = this.string(key, { required: o.required ?? false, secret: o.secret });
    if (text === undefined) return undefined;
    const shown = o.secret ? '' : `, got ${JSON.stringify(text)}`;
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      this.error(key, `must be an absolute http(s) URL${shown}`);
      return undefined;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      this.error(key, `must be an http(s) URL, got scheme ${url.protocol.slice(0, -1)}`);
      return undefined;
    }
    if (url.username !== '' || url.password !== '') {
      this.error(key, 'must not carry credentials (user:password@); use the provider settings');
      return undefined;
    }
    if (!o.allowQuery && (url.search !== '' || url.hash !== '')) {
      this.error(key, `must have no query or fragment${shown}`);
      return undefined;
    }
    if (url.protocol === 'http:' && !o.allowPlainHttp && !isLoopbackHost(url.hostname)) {
      this.error(
        key,
        'must use https (plain http only to a loopback host, or with allowPlainHttp: true)',
      );
      return undefined;
    }
    return text;
  }

  /** Header names are shown; values are secrets (API keys) and never are. */
  headers(key: string): Record<string, string> | undefined {
    if (!this.has(key)) return undefined;
    const r = this.object(key);
    if (r === undefined) return undefined;
    const out: Record<string, string> = {};
    const seen = new Set<string>();
    for (const [name, value] of Object.entries(r.#obj)) {
      const shownName = /^[\x21-\x7e]{1,64}$/.test(name) ? name : '(header name)';
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
        r.error(shownName, 'is not a valid HTTP header name');
      } else if (MANAGED_HEADERS.includes(name.toLowerCase())) {
        r.error(name, 'is set by Airlock (contentType chooses the content type); remove it');
      } else if (seen.has(name.toLowerCase())) {
        r.error(name, 'is given twice (header names ignore case)');
      } else if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
        r.error(name, 'must be a string without line breaks');
      } else {
        out[name] = value;
      }
      seen.add(name.toLowerCase());
    }
    return out;
  }
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function lineColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
