// Every string the gateway portal shows, in English and German: one catalogue, shaped like the
// hosted prompt's (same keys where the meaning is the same), so the two can become one.
// `{name}` marks a value filled in by `t`; the test checks both languages have every key and
// placeholder.

const EN = {
  pageTitle: 'Airlock login',
  signInHeading: 'Log in',
  signInIntro: 'Log in with your directory account to continue to {app}.',
  signInIntroPortal: 'Log in with your directory account.',
  usernameLabel: 'Username',
  passwordLabel: 'Password',
  logIn: 'Log in',
  heading: 'Confirm it is you',
  loggingInAs: 'Logging in to {app} as {user}',
  passcodeLabel: 'Passcode',
  passcodeHint: 'A code from your authenticator, an SMS passcode or a bypass code.',
  sendPush: 'Send push',
  pushSent: 'Push sent to {device}. Approve it on your device.',
  waiting: 'Waiting for your answer…',
  continue: 'Continue',
  approved: 'Approved. Logging you in…',
  denied: 'Login request denied.',
  timedOut: 'The login request timed out.',
  wrongPasscode: 'Incorrect passcode. Please try again.',
  tooManyAttempts: 'Too many incorrect passcodes. Start the login again.',
  badPassword: 'Incorrect username or password.',
  accessDenied: 'Access denied.',
  enrollRequired:
    'You have no second factor yet. Enrol one with your help desk or the enrolment portal, then log in again.',
  errorHeading: 'This login cannot continue',
  errorUnavailable: 'The login service cannot answer right now. Please try again.',
  directoryUnavailable: 'The directory cannot check your password right now. Please try again.',
  failmodeRefused:
    '{app} requires a second factor, and the two-factor service cannot be reached. Access is refused until it is back (failmode secure).',
  failmodeBanner:
    'The two-factor service cannot be reached. You are logged in to {app} with your password only, for at most {minutes} minutes (failmode safe).',
  errorExpired: 'This login has expired. Start the login again.',
  errorForm: 'This form has expired or did not come from this page. Start the login again.',
  returnNotAllowed: 'The address to return to is not one this gateway protects.',
  loggedInHeading: 'You are logged in',
  loggedInAs: 'Logged in as {user}.',
  logOut: 'Log out',
  loggedOut: 'You are logged out of every application behind this gateway.',
  errorNotFound: 'Page not found.',
  languageName: 'English',
  callPhone: 'Call {device}',
  sendSms: 'Text passcodes to {device}',
  callStarted: 'Calling {device}. Answer and follow the instructions.',
  smsSent: 'SMS passcodes sent. Enter one below.',
  smsFailed: 'SMS passcodes could not be sent. Use another factor.',
  factorProblem: '{factors} is having problems. Use {alternatives} instead.',
  factorPush: 'Push',
  factorPhone: 'Phone call',
  factorSms: 'SMS',
  factorPasscode: 'a passcode',
  or: 'or',
} as const;

export type MessageKey = keyof typeof EN;

const DE: Record<MessageKey, string> = {
  pageTitle: 'Airlock-Anmeldung',
  signInHeading: 'Anmelden',
  signInIntro: 'Melden Sie sich mit Ihrem Verzeichniskonto an, um zu {app} zu gelangen.',
  signInIntroPortal: 'Melden Sie sich mit Ihrem Verzeichniskonto an.',
  usernameLabel: 'Benutzername',
  passwordLabel: 'Passwort',
  logIn: 'Anmelden',
  heading: 'Bestätigen Sie, dass Sie es sind',
  loggingInAs: 'Anmeldung bei {app} als {user}',
  passcodeLabel: 'Passcode',
  passcodeHint: 'Ein Code aus Ihrem Authenticator, ein SMS-Passcode oder ein Notfallcode.',
  sendPush: 'Push senden',
  pushSent: 'Push an {device} gesendet. Bestätigen Sie ihn auf Ihrem Gerät.',
  waiting: 'Warte auf Ihre Antwort…',
  continue: 'Weiter',
  approved: 'Bestätigt. Sie werden angemeldet…',
  denied: 'Anmeldeanfrage abgelehnt.',
  timedOut: 'Die Anmeldeanfrage ist abgelaufen.',
  wrongPasscode: 'Falscher Passcode. Bitte versuchen Sie es erneut.',
  tooManyAttempts: 'Zu viele falsche Passcodes. Starten Sie die Anmeldung erneut.',
  badPassword: 'Benutzername oder Passwort ist falsch.',
  accessDenied: 'Zugriff verweigert.',
  enrollRequired:
    'Sie haben noch keinen zweiten Faktor. Richten Sie einen über Ihren Helpdesk oder das Registrierungsportal ein und melden Sie sich dann erneut an.',
  errorHeading: 'Diese Anmeldung kann nicht fortgesetzt werden',
  errorUnavailable: 'Der Anmeldedienst kann gerade nicht antworten. Bitte versuchen Sie es erneut.',
  directoryUnavailable:
    'Das Verzeichnis kann Ihr Passwort gerade nicht prüfen. Bitte versuchen Sie es erneut.',
  failmodeRefused:
    '{app} verlangt einen zweiten Faktor, und der Zwei-Faktor-Dienst ist nicht erreichbar. Der Zugriff bleibt gesperrt, bis er wieder verfügbar ist (Failmode secure).',
  failmodeBanner:
    'Der Zwei-Faktor-Dienst ist nicht erreichbar. Sie sind bei {app} nur mit Ihrem Passwort angemeldet, höchstens {minutes} Minuten lang (Failmode safe).',
  errorExpired: 'Diese Anmeldung ist abgelaufen. Starten Sie die Anmeldung erneut.',
  errorForm:
    'Dieses Formular ist abgelaufen oder stammt nicht von dieser Seite. Starten Sie die Anmeldung erneut.',
  returnNotAllowed:
    'Die Rücksprungadresse gehört zu keiner von diesem Gateway geschützten Anwendung.',
  loggedInHeading: 'Sie sind angemeldet',
  loggedInAs: 'Angemeldet als {user}.',
  logOut: 'Abmelden',
  loggedOut: 'Sie sind von allen Anwendungen hinter diesem Gateway abgemeldet.',
  errorNotFound: 'Seite nicht gefunden.',
  languageName: 'Deutsch',
  callPhone: '{device} anrufen',
  sendSms: 'Passcodes per SMS an {device}',
  callStarted: '{device} wird angerufen. Nehmen Sie an und folgen Sie den Anweisungen.',
  smsSent: 'SMS-Passcodes gesendet. Geben Sie einen davon unten ein.',
  smsFailed: 'Die SMS-Passcodes konnten nicht gesendet werden. Verwenden Sie einen anderen Faktor.',
  factorProblem: '{factors} hat Probleme. Verwenden Sie stattdessen {alternatives}.',
  factorPush: 'Push',
  factorPhone: 'Anruf',
  factorSms: 'SMS',
  factorPasscode: 'einen Passcode',
  or: 'oder',
};

export const PORTAL_LANGUAGES = ['en', 'de'] as const;
export type PortalLanguage = (typeof PORTAL_LANGUAGES)[number];

export const CATALOGUE: Readonly<Record<PortalLanguage, Readonly<Record<MessageKey, string>>>> = {
  en: EN,
  de: DE,
};

/** The message in `lang` with `{name}` placeholders filled (values are escaped by the page). */
export function t(
  lang: PortalLanguage,
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
export function chooseLanguage(acceptLanguage: string | undefined): PortalLanguage {
  let best: { lang: PortalLanguage; q: number } | undefined;
  for (const part of (acceptLanguage ?? '').split(',').slice(0, 20)) {
    const [range = '', ...attrs] = part.trim().toLowerCase().split(';');
    const primary = range.split('-')[0] ?? '';
    const qAttr = attrs.find((a) => a.trim().startsWith('q='));
    const q = qAttr === undefined ? 1 : Number(qAttr.trim().slice(2));
    if (!Number.isFinite(q) || q <= 0) continue;
    const lang = PORTAL_LANGUAGES.find((l) => l === primary);
    if (lang && (best === undefined || q > best.q)) best = { lang, q };
  }
  return best?.lang ?? 'en';
}
