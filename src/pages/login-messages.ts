// The strings the hosted prompt and the gateway portal share (the second-factor steps and their
// errors), in every page language, and the choice of language from the browser's Accept-Language.
// Each catalogue adds its own keys to these; `{name}` marks a value filled in by `fillMessage`.

export const PAGE_LANGUAGES = ['en', 'de'] as const;
export type PageLanguage = (typeof PAGE_LANGUAGES)[number];

export const SHARED_EN = {
  heading: 'Confirm it is you',
  loggingInAs: 'Logging in to {app} as {user}',
  passcodeLabel: 'Passcode',
  passcodeHint: 'A code from your authenticator, an SMS passcode or a bypass code.',
  logIn: 'Log in',
  sendPush: 'Send push',
  callPhone: 'Call {device}',
  sendSms: 'Text passcodes to {device}',
  pushSent: 'Push sent to {device}. Approve it on your device.',
  callStarted: 'Calling {device}. Answer and follow the instructions.',
  smsSent: 'SMS passcodes sent. Enter one below.',
  waiting: 'Waiting for your answer…',
  continue: 'Continue',
  approved: 'Approved. Logging you in…',
  denied: 'Login request denied.',
  timedOut: 'The login request timed out.',
  wrongPasscode: 'Incorrect passcode. Please try again.',
  accessDenied: 'Access denied.',
  factorProblem: '{factors} is having problems. Use {alternatives} instead.',
  factorPush: 'Push',
  factorPhone: 'Phone call',
  factorSms: 'SMS',
  factorPasscode: 'a passcode',
  or: 'or',
  errorHeading: 'This login cannot continue',
  errorUnavailable: 'The login service cannot answer right now. Please try again.',
  errorNotFound: 'Page not found.',
  languageName: 'English',
} as const;

export type SharedMessageKey = keyof typeof SHARED_EN;

export const SHARED_DE: Readonly<Record<SharedMessageKey, string>> = {
  heading: 'Bestätigen Sie, dass Sie es sind',
  loggingInAs: 'Anmeldung bei {app} als {user}',
  passcodeLabel: 'Passcode',
  passcodeHint: 'Ein Code aus Ihrem Authenticator, ein SMS-Passcode oder ein Notfallcode.',
  logIn: 'Anmelden',
  sendPush: 'Push senden',
  callPhone: '{device} anrufen',
  sendSms: 'Passcodes per SMS an {device}',
  pushSent: 'Push an {device} gesendet. Bestätigen Sie ihn auf Ihrem Gerät.',
  callStarted: '{device} wird angerufen. Nehmen Sie an und folgen Sie den Anweisungen.',
  smsSent: 'SMS-Passcodes gesendet. Geben Sie einen davon unten ein.',
  waiting: 'Warte auf Ihre Antwort…',
  continue: 'Weiter',
  approved: 'Bestätigt. Sie werden angemeldet…',
  denied: 'Anmeldeanfrage abgelehnt.',
  timedOut: 'Die Anmeldeanfrage ist abgelaufen.',
  wrongPasscode: 'Falscher Passcode. Bitte versuchen Sie es erneut.',
  accessDenied: 'Zugriff verweigert.',
  factorProblem: '{factors} hat Probleme. Verwenden Sie stattdessen {alternatives}.',
  factorPush: 'Push',
  factorPhone: 'Anruf',
  factorSms: 'SMS',
  factorPasscode: 'einen Passcode',
  or: 'oder',
  errorHeading: 'Diese Anmeldung kann nicht fortgesetzt werden',
  errorUnavailable: 'Der Anmeldedienst kann gerade nicht antworten. Bitte versuchen Sie es erneut.',
  errorNotFound: 'Seite nicht gefunden.',
  languageName: 'Deutsch',
};

/** `text` with its `{name}` placeholders filled; unknown ones stay visible. */
export function fillMessage(
  text: string,
  values: Readonly<Record<string, string | number>> = {},
): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}

/** A page's strings in every page language, and `t`, which fills one in. */
export interface MessageCatalogue<K extends string> {
  readonly messages: Readonly<Record<PageLanguage, Readonly<Record<K, string>>>>;
  /** The message in `lang` with `{name}` placeholders filled (values are escaped by the page). */
  readonly t: (
    lang: PageLanguage,
    key: K,
    values?: Readonly<Record<string, string | number>>,
  ) => string;
}

/** The catalogue of a page (the hosted prompt's, the portal's) from its English and German strings. */
export function catalogue<K extends string>(
  en: Readonly<Record<K, string>>,
  de: Readonly<Record<K, string>>,
): MessageCatalogue<K> {
  const messages = { en, de };
  return { messages, t: (lang, key, values = {}) => fillMessage(messages[lang][key], values) };
}

/**
 * The language of the browser (RFC 9110 §12.5.4 Accept-Language): the supported language with
 * the highest weight, English when none is supported.
 */
export function chooseLanguage(acceptLanguage: string | undefined): PageLanguage {
  let best: { lang: PageLanguage; q: number } | undefined;
  for (const part of (acceptLanguage ?? '').split(',').slice(0, 20)) {
    const [range = '', ...attrs] = part.trim().toLowerCase().split(';');
    const primary = range.split('-')[0] ?? '';
    const qAttr = attrs.find((a) => a.trim().startsWith('q='));
    const q = qAttr === undefined ? 1 : Number(qAttr.trim().slice(2));
    if (!Number.isFinite(q) || q <= 0) continue;
    const lang = PAGE_LANGUAGES.find((l) => l === primary);
    if (lang && (best === undefined || q > best.q)) best = { lang, q };
  }
  return best?.lang ?? 'en';
}
