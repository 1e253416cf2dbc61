// Typed, error-collecting access to one authproxy.cfg section (every error placed, did-you-mean).
import { isOneOf } from '../core/closed-set.ts';
import { isIpAddress } from '../core/ip-ranges.ts';
import { type IniEntry, type IniSection } from './ini-parse.ts';
import { closestWord } from './closest-word.ts';
import { fingerprintSecret } from './secret-fingerprint.ts';
import { NOT_SUPPORTED, kindsWithKey } from './authproxy-config-schema.ts';
import type { SectionSchema } from './authproxy-config-schema.ts';
import type { ParseAuthProxyConfigOptions } from './authproxy-config-model.ts';

// ---------------------------------------------------------------------------------------------
// Reading one section
// ---------------------------------------------------------------------------------------------

export interface StringOptions {
  required?: boolean;
  /** Return "" for an empty value instead of treating it as unset. */
  allowEmpty?: boolean;
}

export interface IntOptions {
  min?: number;
  max?: number;
  /** Message for a value below `min`, instead of the generic range message. */
  belowMin?: string;
}

/** Typed access to one section's keys; records errors and warnings in the shared context. */
export class SectionReader {
  readonly #section: IniSection;
  readonly #schema: SectionSchema;
  readonly #ctx: Context;
  readonly #entries: ReadonlyMap<string, IniEntry>;
  /** Flushed to the context, in line order, by `finish`. */
  readonly #errors: Array<{ line: number; text: string }> = [];
  /** The section kinds of this file that take a key ("it belongs in [x]"). */
  readonly #kindsWithKey: (key: string) => readonly string[];

  /** `kindsWithKey`: for another file's schema (gateway.cfg); default authproxy.cfg's. */
  constructor(
    section: IniSection,
    schema: SectionSchema,
    ctx: Context,
    kindsWith: (key: string) => readonly string[] = kindsWithKey,
  ) {
    this.#section = section;
    this.#schema = schema;
    this.#ctx = ctx;
    this.#kindsWithKey = kindsWith;
    this.#entries = new Map(section.entries.map((e) => [e.key, e]));
  }

  get name(): string {
    return this.#section.name;
  }

  has(key: string): boolean {
    return this.#entry(key) !== undefined;
  }

  readFile(path: string): string {
    return this.#ctx.options.readFile(path);
  }

  error(key: string, message: string): void {
    const line = this.#entries.get(key)?.line;
    this.#errors.push({
      line: line ?? 0,
      text: `[${this.name}] ${key}: ${message}${line ? ` (line ${line})` : ''}`,
    });
  }

  warn(key: string, message: string): void {
    this.#ctx.warnings.push(`[${this.name}] ${key}: ${message}`);
  }

  /** Trimmed value; an empty value counts as unset unless `allowEmpty`. */
  string(key: string, options: StringOptions = {}): string | undefined {
    const entry = this.#entry(key);
    const value = entry?.value;
    if (value === undefined || (value === '' && !options.allowEmpty)) {
      if (options.required) this.error(key, entry ? 'must not be empty' : 'required');
      return undefined;
    }
    return value;
  }

  /** Like `string`, but no message ever shows the value. */
  secret(key: string, options: StringOptions = {}): { value: string; fingerprint: string } {
    const value = this.string(key, options) ?? '';
    return { value, fingerprint: value === '' ? '' : fingerprintSecret(value) };
  }

  /** ConfigParser's booleans: true/false, yes/no, on/off, 1/0, any case. */
  bool(key: string, fallback: boolean): boolean {
    const value = this.string(key, { allowEmpty: true });
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (['true', 'yes', 'on', '1'].includes(lower)) return true;
    if (['false', 'no', 'off', '0'].includes(lower)) return false;
    this.error(key, `must be true or false (or yes/no, on/off, 1/0), got ${quote(value)}`);
    return fallback;
  }

  /** A decimal integer, nothing else (no units, no exponent, no hex). */
  int(key: string, fallback: number, options: IntOptions = {}): number {
    const value = this.string(key, { allowEmpty: true });
    if (value === undefined) return fallback;
    const n = /^-?\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n)) {
      this.error(key, `must be an integer, got ${quote(value)}`);
      return fallback;
    }
    const { min = -Infinity, max = Infinity } = options;
    if (n < min && options.belowMin) {
      this.error(key, `${options.belowMin}, got ${n}`);
      return fallback;
    }
    if (n < min || n > max) {
      const range = max === Infinity ? `at least ${min}` : `${min}-${max}`;
      this.error(key, `must be ${range}, got ${n}`);
      return fallback;
    }
    return n;
  }

  port(key: string, fallback: number, options: { allowZero?: boolean } = {}): number {
    return this.int(key, fallback, { min: options.allowZero ? 0 : 1, max: 65_535 });
  }

  /** One of `values`, case-insensitive. */
  oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T {
    const value = this.string(key, { allowEmpty: true });
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (isOneOf(values, lower)) return lower;
    this.error(key, `must be ${orList(values)}, got ${quote(value)}`);
    return fallback;
  }

  /** A single IPv4 or IPv6 address. */
  ipAddress(key: string): string | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (isIpAddress(value)) return value;
    this.error(key, `must be an IP address, got ${quote(value)}`);
    return undefined;
  }

  /** Comma-separated; items trimmed, empty items dropped. */
  list(key: string): string[] {
    const value = this.string(key) ?? '';
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  /** An ordered, duplicate-free list drawn from `values` (case-insensitive). */
  factorList<T extends string>(key: string, values: readonly T[], fallback: readonly T[]): T[] {
    if (!this.has(key)) return [...fallback];
    const items = this.list(key).map((s) => s.toLowerCase());
    if (items.length === 0) {
      this.error(key, `must list at least one of ${values.join(', ')}`);
      return [...fallback];
    }
    const bad = items.filter((i) => !isOneOf(values, i));
    const dupes = items.filter((item, i) => items.indexOf(item) !== i);
    if (bad.length > 0) {
      this.error(key, `${bad.map(quote).join(', ')} not allowed: choose from ${values.join(', ')}`);
      return [...fallback];
    }
    if (dupes.length > 0) {
      this.error(key, `lists ${dupes.map(quote).join(', ')} more than once`);
      return [...fallback];
    }
    return items as T[];
  }

  /** Keys `<prefix>N` (N = 1, 2, …) in number order. */
  numbered(prefix: string): Array<{ n: number; value: string }> {
    this.#assertKnown(prefix, true);
    const out: Array<{ n: number; value: string }> = [];
    for (const e of this.#section.entries) {
      if (!e.key.startsWith(prefix)) continue;
      const digits = e.key.slice(prefix.length);
      if (/^[1-9]\d*$/.test(digits)) out.push({ n: Number(digits), value: e.value });
    }
    return out.sort((a, b) => a.n - b.n);
  }

  /** Reports every key the schema does not support: ignored (warning), refused, unknown. */
  finish(): void {
    for (const entry of this.#section.entries) {
      const { key } = entry;
      if (this.#schema.keys.includes(key) || this.#isNumbered(key)) continue;
      const ignored = this.#schema.ignored[key];
      if (ignored !== undefined) {
        this.warn(key, ignored === '' ? NOT_SUPPORTED : `${NOT_SUPPORTED} (${ignored})`);
        continue;
      }
      const refused = Object.entries(this.#schema.refused).find(([k]) =>
        k.endsWith('_') ? key.startsWith(k) && /^\d+$/.test(key.slice(k.length)) : key === k,
      );
      if (refused) {
        this.error(key, refused[1]);
        continue;
      }
      this.#unknownKey(entry);
    }
    // Missing keys first, then in file order, so the list reads from the top of the section down.
    this.#errors.sort((a, b) => a.line - b.line);
    this.#ctx.errors.push(...this.#errors.map((e) => e.text));
    this.#errors.length = 0;
  }

  #unknownKey(entry: IniEntry): void {
    const { key } = entry;
    const probe = key.split(/\s/)[0] ?? '';
    const numberSuffix = /_([1-9]\d*)$/.exec(probe)?.[1] ?? '1';
    const candidates = [
      ...this.#schema.keys,
      ...this.#schema.numbered.map((p) => p + numberSuffix),
    ];
    const guess = closestWord(probe, candidates);
    const elsewhere = this.#kindsWithKey(key);
    const hint = guess
      ? `; did you mean ${guess}?`
      : elsewhere.length > 0
        ? `; it belongs in ${elsewhere.map((k) => `[${k}]`).join(' or ')}`
        : '';
    // A stray line such as `<secret>: x` or `<secret> = x` parses as a key: echo a key only when
    // it is a typo of a key, a key of another section, or at least shaped like a key name.
    const shown =
      !/\s/.test(key) &&
      (guess !== undefined ||
        elsewhere.length > 0 ||
        /^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/.test(key)) &&
      key.length <= 40;
    this.#errors.push({
      line: entry.line,
      text: shown
        ? `[${this.name}] ${key}: unknown key${hint} (line ${entry.line})`
        : `[${this.name}] unknown key (not shown: it does not look like a key name and may be a secret)${hint} (line ${entry.line})`,
    });
  }

  #isNumbered(key: string): boolean {
    return this.#schema.numbered.some(
      (p) => key.startsWith(p) && /^[1-9]\d*$/.test(key.slice(p.length)),
    );
  }

  #entry(key: string): IniEntry | undefined {
    this.#assertKnown(key, false);
    return this.#entries.get(key);
  }

  /** Reading a key the schema does not list is a bug here, not in the file. */
  #assertKnown(key: string, prefix: boolean): void {
    const ok = prefix
      ? this.#schema.numbered.includes(key)
      : this.#schema.keys.includes(key) || this.#isNumbered(key);
    if (!ok) throw new Error(`authproxy schema: ${key} is not a key of [${this.name}]`);
  }
}

export interface Context {
  readonly options: ParseAuthProxyConfigOptions;
  readonly errors: string[];
  readonly warnings: string[];
}

export function orList(values: readonly string[]): string {
  return values.length <= 1
    ? (values[0] ?? '')
    : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

/** A non-secret value for a message: JSON-quoted (newlines visible), cut at 64 characters. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}
