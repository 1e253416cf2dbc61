// Every string the hosted prompt shows, in English and German: the login pages' shared strings
// (src/pages/login-messages.ts, the gateway portal's too) plus the prompt's own. `{name}` marks a
// value filled in by `t`; the test checks that both languages have every key and placeholder.
import {
  PAGE_LANGUAGES,
  SHARED_DE,
  SHARED_EN,
  catalogue,
  chooseLanguage,
  type PageLanguage,
} from '../../pages/login-messages.ts';

const EN = {
  ...SHARED_EN,
  pageTitle: 'Two-factor login',
  chooseMethod: 'Choose a way to confirm your login.',
  rememberDevice: 'Remember this device for {hours} hours',
  verifyCode: 'Enter this code in your authenticator: {code}',
  tryAnother: 'Use another method',
  returnToApp: 'Return to the application',
  fraud: 'Login request reported as fraud.',
  pushFailed: 'The push could not be delivered.',
  lockedOut: 'Your account is locked out. Contact your help desk.',
  accountDisabled: 'Your account is disabled. Contact your help desk.',
  enrollHeading: 'Set up two-factor login',
  enrollIntro: 'You have no authenticator yet. Activate the Airlock authenticator with this link:',
  enrollDone: 'When your authenticator is activated, continue.',
  errorUnknownClient: 'The application is not known to this service.',
  errorBadRequest: 'The login request from the application is not valid.',
  errorRedirectUri: 'The application asked to return to an address it has not registered.',
  errorReplayed: 'This login link was already used. Start the login again from the application.',
  errorExpired: 'This login has expired. Start the login again from the application.',
  errorEnded: 'This login has already ended.',
} as const;

export type MessageKey = keyof typeof EN;

const DE: Record<MessageKey, string> = {
  ...SHARED_DE,
  pageTitle: 'Anmeldung mit zweitem Faktor',
  chooseMethod: 'Wählen Sie, wie Sie die Anmeldung bestätigen.',
  rememberDevice: 'Dieses Gerät {hours} Stunden lang merken',
  verifyCode: 'Geben Sie diesen Code in Ihrem Authenticator ein: {code}',
  tryAnother: 'Andere Methode verwenden',
  returnToApp: 'Zurück zur Anwendung',
  fraud: 'Anmeldeanfrage als Betrug gemeldet.',
  pushFailed: 'Der Push konnte nicht zugestellt werden.',
  lockedOut: 'Ihr Konto ist gesperrt. Wenden Sie sich an Ihren Helpdesk.',
  accountDisabled: 'Ihr Konto ist deaktiviert. Wenden Sie sich an Ihren Helpdesk.',
  enrollHeading: 'Anmeldung mit zweitem Faktor einrichten',
  enrollIntro:
    'Sie haben noch keinen Authenticator. Aktivieren Sie den Airlock-Authenticator über diesen Link:',
  enrollDone: 'Wenn Ihr Authenticator aktiviert ist, fahren Sie fort.',
  errorUnknownClient: 'Die Anwendung ist diesem Dienst nicht bekannt.',
  errorBadRequest: 'Die Anmeldeanfrage der Anwendung ist ungültig.',
  errorRedirectUri:
    'Die Anwendung möchte zu einer Adresse zurückkehren, die sie nicht registriert hat.',
  errorReplayed:
    'Dieser Anmeldelink wurde bereits verwendet. Starten Sie die Anmeldung erneut in der Anwendung.',
  errorExpired:
    'Diese Anmeldung ist abgelaufen. Starten Sie die Anmeldung erneut in der Anwendung.',
  errorEnded: 'Diese Anmeldung ist bereits beendet.',
};

export const PROMPT_LANGUAGES = PAGE_LANGUAGES;
export type PromptLanguage = PageLanguage;

const PAGES = catalogue(EN, DE);
export const CATALOGUE = PAGES.messages;
export const t = PAGES.t;

export { chooseLanguage };
