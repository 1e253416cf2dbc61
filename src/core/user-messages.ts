// The outage guide's three user messages (English and German), their variables and rendering.

export const MESSAGE_KINDS = ['failmode-safe', 'failmode-secure', 'factor-outage'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];
export const isMessageKind = (v: unknown): v is MessageKind =>
  typeof v === 'string' && (MESSAGE_KINDS as readonly string[]).includes(v);

export const MESSAGE_LANGUAGES = ['en', 'de'] as const;
export type MessageLanguage = (typeof MESSAGE_LANGUAGES)[number];
export const isMessageLanguage = (v: unknown): v is MessageLanguage =>
  typeof v === 'string' && (MESSAGE_LANGUAGES as readonly string[]).includes(v);

/** The variables a template may use, as `{name}`. */
export const MESSAGE_VARIABLES = [
  'application',
  'factor',
  'other_factors',
  'incident',
  'expected_update',
] as const;
export type MessageVariable = (typeof MESSAGE_VARIABLES)[number];

export interface MessageTemplate {
  kind: MessageKind;
  language: MessageLanguage;
  subject: string;
  body: string;
}

/**
 * The guide's templates (docs/outage-playbook.md), translated, with the guide's placeholders as
 * variables: `<your application>` → `{application}`, `<push/SMS/phone>` → `{factor}`, the
 * workaround → `{other_factors}`; `{incident}` and `{expected_update}` are Airlock's.
 */
export const DEFAULT_TEMPLATES: readonly MessageTemplate[] = [
  {
    kind: 'failmode-safe',
    language: 'en',
    subject: 'Authentication issues – in progress ({incident})',
    body:
      'Our two-factor authentication service is reporting problems. As a temporary workaround, ' +
      'we are lifting the two-factor authentication requirement for {application}. Two-factor ' +
      'authentication will be turned back on as soon as the problem is fixed. Next update: ' +
      '{expected_update}.',
  },
  {
    kind: 'failmode-safe',
    language: 'de',
    subject: 'Authentifizierungsprobleme – in Bearbeitung ({incident})',
    body:
      'Unser Dienst für die Zwei-Faktor-Authentifizierung meldet Probleme. Als vorübergehende ' +
      'Problemumgehung heben wir die Anforderung der Zwei-Faktor-Authentifizierung für ' +
      '{application} auf. Sobald das Problem behoben ist, wird die Zwei-Faktor-Authentifizierung ' +
      'wieder aktiviert. Nächste Aktualisierung: {expected_update}.',
  },
  {
    kind: 'failmode-secure',
    language: 'en',
    subject: 'Authentication issues – in progress ({incident})',
    body:
      'We are having problems with two-factor authentication. Because of the nature of the data ' +
      'in {application}, access is denied until this problem is fixed. Next update: ' +
      '{expected_update}.',
  },
  {
    kind: 'failmode-secure',
    language: 'de',
    subject: 'Authentifizierungsprobleme – in Bearbeitung ({incident})',
    body:
      'Wir haben Probleme mit der Zwei-Faktor-Authentifizierung. Aufgrund der Art der in ' +
      '{application} enthaltenen Daten wird der Zugriff verweigert, bis dieses Problem behoben ' +
      'ist. Nächste Aktualisierung: {expected_update}.',
  },
  {
    kind: 'factor-outage',
    language: 'en',
    subject: 'Authentication issues – in progress ({incident})',
    body:
      'Our two-factor authentication service is reporting problems with {factor}. As a temporary ' +
      'workaround, use {other_factors}. You can expect a further update when the problem is fixed.',
  },
  {
    kind: 'factor-outage',
    language: 'de',
    subject: 'Authentifizierungsprobleme – in Bearbeitung ({incident})',
    body:
      'Unser Dienst für die Zwei-Faktor-Authentifizierung meldet Probleme mit {factor}. Verwenden ' +
      'Sie als temporäre Problemumgehung {other_factors}. Sie können mit einer weiteren ' +
      'Aktualisierung rechnen, wenn das Problem behoben wurde.',
  },
];

/** The default template of a kind and language. */
export function defaultTemplate(kind: MessageKind, language: MessageLanguage): MessageTemplate {
  const t = DEFAULT_TEMPLATES.find((d) => d.kind === kind && d.language === language);
  if (!t) throw new Error(`no default template ${kind}/${language}`);
  return t;
}

/** Which template the guide applies to an application: its failmode decides. */
export function templateKindFor(failmode: 'safe' | 'secure'): MessageKind {
  return failmode === 'safe' ? 'failmode-safe' : 'failmode-secure';
}

/** `{name}` placeholders a template text uses that are not variables; empty when valid. */
export function unknownVariables(text: string): string[] {
  const names = [...text.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] ?? '');
  return [...new Set(names.filter((n) => !(MESSAGE_VARIABLES as readonly string[]).includes(n)))];
}

/** Names of the factors in each language, as users know them. */
const FACTOR_NAMES: Record<MessageLanguage, Record<string, string>> = {
  en: { push: 'push', sms: 'SMS', phone: 'phone calls', passcode: 'passcodes' },
  de: { push: 'Push', sms: 'SMS', phone: 'Telefonanrufen', passcode: 'Passcodes' },
};
const FACTOR_NAMES_WORKAROUND: Record<MessageLanguage, Record<string, string>> = {
  en: { push: 'push', sms: 'SMS', phone: 'a phone call', passcode: 'a passcode' },
  de: { push: 'Push', sms: 'SMS', phone: 'einen Telefonanruf', passcode: 'einen Passcode' },
};
const OR: Record<MessageLanguage, string> = { en: 'or', de: 'oder' };

/** A factor's name for `{factor}` (the one that fails). */
export function factorName(factor: string, language: MessageLanguage): string {
  return FACTOR_NAMES[language][factor] ?? factor;
}

/** The other factors for `{other_factors}`: "SMS or a passcode", "SMS oder einen Passcode". */
export function otherFactorsText(factors: readonly string[], language: MessageLanguage): string {
  const names = factors.map((f) => FACTOR_NAMES_WORKAROUND[language][f] ?? f);
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} ${OR[language]} ${names[names.length - 1] ?? ''}`;
}

/** Fills `{variable}`s; a variable without a value is left as written, so it shows. */
export function renderTemplate(
  template: Pick<MessageTemplate, 'subject' | 'body'>,
  values: Partial<Record<MessageVariable, string>>,
): { subject: string; body: string } {
  const fill = (text: string) =>
    text.replace(/\{([a-z_]+)\}/g, (whole, name: string) => {
      const value = values[name as MessageVariable];
      return value === undefined ? whole : value;
    });
  return { subject: fill(template.subject), body: fill(template.body) };
}
