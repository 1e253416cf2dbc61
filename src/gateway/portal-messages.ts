// Every string the gateway portal shows, in English and German: the login pages' shared strings
// (src/pages/login-messages.ts, the hosted prompt's too) plus the portal's own (sign-in, sessions,
// failmode). `{name}` marks a value filled in by `t`; the test checks both languages have every key
// and placeholder.
import {
  PAGE_LANGUAGES,
  SHARED_DE,
  SHARED_EN,
  catalogue,
  chooseLanguage,
  type PageLanguage,
} from '../pages/login-messages.ts';

const EN = {
  ...SHARED_EN,
  pageTitle: 'Airlock login',
  signInHeading: 'Log in',
  signInIntro: 'Log in with your directory account to continue to {app}.',
  signInIntroPortal: 'Log in with your directory account.',
  usernameLabel: 'Username',
  passwordLabel: 'Password',
  tooManyAttempts: 'Too many incorrect passcodes. Start the login again.',
  badPassword: 'Incorrect username or password.',
  enrollRequired:
    'You have no second factor yet. Enrol one with your help desk or the enrolment portal, then log in again.',
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
  smsFailed: 'SMS passcodes could not be sent. Use another factor.',
} as const;

export type MessageKey = keyof typeof EN;

const DE: Record<MessageKey, string> = {
  ...SHARED_DE,
  pageTitle: 'Airlock-Anmeldung',
  signInHeading: 'Anmelden',
  signInIntro: 'Melden Sie sich mit Ihrem Verzeichniskonto an, um zu {app} zu gelangen.',
  signInIntroPortal: 'Melden Sie sich mit Ihrem Verzeichniskonto an.',
  usernameLabel: 'Benutzername',
  passwordLabel: 'Passwort',
  tooManyAttempts: 'Zu viele falsche Passcodes. Starten Sie die Anmeldung erneut.',
  badPassword: 'Benutzername oder Passwort ist falsch.',
  enrollRequired:
    'Sie haben noch keinen zweiten Faktor. Richten Sie einen über Ihren Helpdesk oder das Registrierungsportal ein und melden Sie sich dann erneut an.',
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
  smsFailed: 'Die SMS-Passcodes konnten nicht gesendet werden. Verwenden Sie einen anderen Faktor.',
};

export const PORTAL_LANGUAGES = PAGE_LANGUAGES;
export type PortalLanguage = PageLanguage;

const PAGES = catalogue(EN, DE);
export const CATALOGUE = PAGES.messages;
export const t = PAGES.t;

export { chooseLanguage };
