// Every string the hosted prompt shows, in English and German: one catalogue. `{name}` marks a
// value filled in by `t`; the test checks that both languages have every key and placeholder.

const EN = {
  pageTitle: 'Two-factor login',
  heading: 'Confirm it is you',
  loggingInAs: 'Logging in to {app} as {user}',
  chooseMethod: 'Choose a way to confirm your login.',
  passcodeLabel: 'Passcode',
  passcodeHint: 'A code from your authenticator, an SMS passcode or a bypass code.',
  logIn: 'Log in',
  sendPush: 'Send push',
  callPhone: 'Call {device}',
  sendSms: 'Text passcodes to {device}',
  rememberDevice: 'Remember this device for {hours} hours',
  pushSent: 'Push sent to {device}. Approve it on your device.',
  callStarted: 'Calling {device}. Answer and follow the instructions.',
  smsSent: 'SMS passcodes sent. Enter one below.',
  verifyCode: 'Enter this code in your authenticator: {code}',
  waiting: 'Waiting for your answer…',
  continue: 'Continue',
  tryAnother: 'Use another method',
  returnToApp: 'Return to the application',
  approved: 'Approved. Logging you in…',
  denied: 'Login request denied.',
  timedOut: 'The login request timed out.',
  fraud: 'Login request reported as fraud.',
  pushFailed: 'The push could not be delivered.',
  wrongPasscode: 'Incorrect passcode. Please try again.',
  lockedOut: 'Your account is locked out. Contact your help desk.',
  accountDisabled: 'Your account is disabled. Contact your help desk.',
  accessDenied: 'Access denied.',
  factorProblem: '{factors} is having problems. Use {alternatives} instead.',
  factorPush: 'Push',
  factorPhone: 'Phone call',
  factorSms: 'SMS',
  factorPasscode: 'a passcode',
  or: 'or',
  enrollHeading: 'Set up two-factor login',
  enrollIntro: 'You have no authenticator yet. Activate the Airlock authenticator with this link:',
  enrollDone: 'When your authenticator is activated, continue.',
  errorHeading: 'This login cannot continue',
  errorUnknownClient: 'The application is not known to this service.',
  errorBadRequest: 'The login request from the application is not valid.',
  errorRedirectUri: 'The application asked to return to an address it has not registered.',
  errorReplayed: 'This login link was already used. Start the login again from the application.',
  errorExpired: 'This login has expired. Start the login again from the application.',
  errorEnded: 'This login has already ended.',
  errorUnavailable: 'The login service cannot answer right now. Please try again.',
  errorNotFound: 'Page not found.',
  languageName: 'English',
} as const;

export type MessageKey = keyof typeof EN;

const DE: Record<MessageKey, string> = {
  pageTitle: 'Anmeldung mit zweitem Faktor',
  heading: 'Bestätigen Sie, dass Sie es sind',
  loggingInAs: 'Anmeldung bei {app} als {user}',
  chooseMethod: 'Wählen Sie, wie Sie die Anmeldung bestätigen.',
  passcodeLabel: 'Passcode',
  passcodeHint: 'Ein Code aus Ihrem Authenticator, ein SMS-Passcode oder ein Notfallcode.',
  logIn: 'Anmelden',
  sendPush: 'Push senden',
  callPhone: '{device} anrufen',
  sendSms: 'Passcodes per SMS an {device}',
  rememberDevice: 'Dieses Gerät {hours} Stunden lang merken',
  pushSent: 'Push an {device} gesendet. Bestätigen Sie ihn auf Ihrem Gerät.',
  callStarted: '{device} wird angerufen. Nehmen Sie an und folgen Sie den Anweisungen.',
  smsSent: 'SMS-Passcodes gesendet. Geben Sie einen davon unten ein.',
  verifyCode: 'Geben Sie diesen Code in Ihrem Authenticator ein: {code}',
  waiting: 'Warte auf Ihre Antwort…',
  continue: 'Weiter',
  tryAnother: 'Andere Methode verwenden',
  returnToApp: 'Zurück zur Anwendung',
  approved: 'Bestätigt. Sie werden angemeldet…',
  denied: 'Anmeldeanfrage abgelehnt.',
  timedOut: 'Die Anmeldeanfrage ist abgelaufen.',
  fraud: 'Anmeldeanfrage als Betrug gemeldet.',
  pushFailed: 'Der Push konnte nicht zugestellt werden.',
  wrongPasscode: 'Falscher Passcode. Bitte versuchen Sie es erneut.',
  lockedOut: 'Ihr Konto ist gesperrt. Wenden Sie sich an Ihren Helpdesk.',
  accountDisabled: 'Ihr Konto ist deaktiviert. Wenden Sie sich an Ihren Helpdesk.',
  accessDenied: 'Zugriff verweigert.',
  factorProblem: '{factors} hat Probleme. Verwenden Sie stattdessen {alternatives}.',
  factorPush: 'Push',
  factorPhone: 'Anruf',
  factorSms: 'SMS',
  factorPasscode: 'einen Passcode',
  or: 'oder',
  enrollHeading: 'Anmeldung mit zweitem Faktor einrichten',
  enrollIntro:
    'Sie haben noch keinen Authenticator. Aktivieren Sie den Airlock-Authenticator über diesen Link:',
  enrollDone: 'Wenn Ihr Authenticator aktiviert ist, fahren Sie fort.',
  errorHeading: 'Diese Anmeldung kann nicht fortgesetzt werden',
  errorUnknownClient: 'Die Anwendung ist diesem Dienst nicht bekannt.',
  errorBadRequest: 'Die Anmeldeanfrage der Anwendung ist ungültig.',
  errorRedirectUri:
    'Die Anwendung möchte zu einer Adresse zurückkehren, die sie nicht registriert hat.',
  errorReplayed:
    'Dieser Anmeldelink wurde bereits verwendet. Starten Sie die Anmeldung erneut in der Anwendung.',
  errorExpired:
    'Diese Anmeldung ist abgelaufen. Starten Sie die Anmeldung erneut in der Anwendung.',
  errorEnded: 'Diese Anmeldung ist bereits beendet.',
  errorUnavailable: 'Der Anmeldedienst kann gerade nicht antworten. Bitte versuchen Sie es erneut.',
  errorNotFound: 'Seite nicht gefunden.',
  languageName: 'Deutsch',
};

export const PROMPT_LANGUAGES = ['en', 'de'] as const;
export type PromptLanguage = (typeof PROMPT_LANGUAGES)[number];

export const CATALOGUE: Readonly<Record<PromptLanguage, Readonly<Record<MessageKey, string>>>> = {
  en: EN,
  de: DE,
};

/** The message in `lang` with `{name}` placeholders filled (values are escaped by the page). */
export function t(
  lang: PromptLanguage,
  key: MessageKey,
  values: Readonly<Record<string, string | number>> = {},
): string {
  return CATALOGUE[lang][key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(values, name) ? String(values[name]) : whole,
  );
}

/**
 * The language of the browser (RFC 9110 §12.5.4 Accept-Language): the supported language with
 * the highest weight, English when none is supported.
 */
export function chooseLanguage(acceptLanguage: string | undefined): PromptLanguage {
  let best: { lang: PromptLanguage; q: number } | undefined;
  for (const part of (acceptLanguage ?? '').split(',').slice(0, 20)) {
    const [range = '', ...attrs] = part.trim().toLowerCase().split(';');
    const primary = range.split('-')[0] ?? '';
    const qAttr = attrs.find((a) => a.trim().startsWith('q='));
    const q = qAttr === undefined ? 1 : Number(qAttr.trim().slice(2));
    if (!Number.isFinite(q) || q <= 0) continue;
    const lang = PROMPT_LANGUAGES.find((l) => l === primary);
    if (lang && (best === undefined || q > best.q)) best = { lang, q };
  }
  return best?.lang ?? 'en';
}
