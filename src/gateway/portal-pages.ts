// The portal's pages, server-rendered: every string from the catalogue, every value escaped, no
// inline script or style (the CSP forbids them), each form with its CSRF token.
import { html, type SafeHtml } from '../core/html.ts';
import { loginLayout } from '../pages/login-layout.ts';
import { passcodeField } from '../pages/passcode-field.ts';
import { t, type MessageKey, type PortalLanguage } from './portal-messages.ts';

export interface PortalFrame {
  lang: PortalLanguage;
  /** The portal's base path (`/` or `/airlock/`): where forms post and assets load from. */
  base: string;
}

export function layout(f: PortalFrame, body: SafeHtml): string {
  return loginLayout({
    lang: f.lang,
    title: t(f.lang, 'pageTitle'),
    stylesheetHref: `${f.base}assets/portal.css`,
    scriptHref: `${f.base}assets/portal.js`,
    referrer: 'same-origin',
    body,
  });
}

function alert(f: PortalFrame, key: MessageKey | undefined, kind = 'error'): SafeHtml | string {
  if (key === undefined) return '';
  return html`<p class="${kind}" role="alert">${t(f.lang, key)}</p>`;
}

/** Username and password, checked against the directory. */
export function signInPage(
  f: PortalFrame,
  o: { csrf: string; appName: string | undefined; username: string; error?: MessageKey },
): string {
  const intro =
    o.appName === undefined
      ? t(f.lang, 'signInIntroPortal')
      : t(f.lang, 'signInIntro', { app: o.appName });
  return layout(
    f,
    html`<h1>${t(f.lang, 'signInHeading')}</h1>
      <p class="muted">${intro}</p>
      ${alert(f, o.error)}
      <form method="post" action="${f.base}login">
        <input type="hidden" name="csrf" value="${o.csrf}" />
        <label for="username">${t(f.lang, 'usernameLabel')}</label>
        <input
          type="text"
          id="username"
          name="username"
          value="${o.username}"
          autocomplete="username"
          autocapitalize="none"
          spellcheck="false"
          required
          autofocus
        />
        <label for="password">${t(f.lang, 'passwordLabel')}</label>
        <input
          type="password"
          id="password"
          name="password"
          autocomplete="current-password"
          required
        />
        <button type="submit">${t(f.lang, 'logIn')}</button>
      </form>`,
  );
}

/** A button of the factor page: the factor to start and the device's name. */
export interface FactorButton {
  factor: 'push' | 'phone' | 'sms';
  deviceName: string;
}

/**
 * The second factor: passcode first (keyboard users land there), then push, call and SMS, healthy
 * ones first, with a notice naming any degraded factor and what to use instead.
 */
export function factorPage(
  f: PortalFrame,
  o: {
    csrf: string;
    appName: string;
    username: string;
    buttons: readonly FactorButton[];
    healthMessage?: string | undefined;
    error?: MessageKey | undefined;
    notice?: MessageKey | undefined;
  },
): string {
  return layout(
    f,
    html`<h1>${t(f.lang, 'heading')}</h1>
      <p class="muted">${t(f.lang, 'loggingInAs', { app: o.appName, user: o.username })}</p>
      ${alert(f, o.error)}
      ${o.notice ? html`<p class="status" role="status">${t(f.lang, o.notice)}</p>` : ''}
      ${
        o.healthMessage
          ? html`<p class="warning" role="status" id="factor-health">${o.healthMessage}</p>`
          : ''
      }
      <form method="post" action="${f.base}login/passcode">
        <input type="hidden" name="csrf" value="${o.csrf}" />
        ${passcodeField(f.lang)}
        <button type="submit">${t(f.lang, 'logIn')}</button>
      </form>
      ${
        o.buttons.length === 0
          ? ''
          : html`<div class="factors">
              ${o.buttons.map(
                (b) =>
                  html`<form method="post" action="${f.base}login/${b.factor}">
                    <input type="hidden" name="csrf" value="${o.csrf}" />
                    <button type="submit" class="secondary">${buttonLabel(f, b)}</button>
                  </form>`,
              )}
            </div>`
      }`,
  );
}

function buttonLabel(f: PortalFrame, b: FactorButton): string {
  switch (b.factor) {
    case 'push':
      return t(f.lang, 'sendPush');
    case 'phone':
      return t(f.lang, 'callPhone', { device: b.deviceName });
    case 'sms':
      return t(f.lang, 'sendSms', { device: b.deviceName });
  }
}

/**
 * A push or call is under way: live status by script, and a Continue button that works without
 * it.
 */
export function pushWaitPage(
  f: PortalFrame,
  o: { csrf: string; device: string; factor?: 'push' | 'phone' },
): string {
  const started = o.factor === 'phone' ? 'callStarted' : 'pushSent';
  return layout(
    f,
    html`<h1>${t(f.lang, 'heading')}</h1>
      <div
        class="status"
        role="status"
        aria-live="polite"
        data-status-url="${f.base}login/push/status"
      >
        <p>${t(f.lang, started, { device: o.device })}</p>
        <p id="status-text">${t(f.lang, 'waiting')}</p>
      </div>
      <form method="post" action="${f.base}login/push/complete" id="complete">
        <input type="hidden" name="csrf" value="${o.csrf}" />
        <button type="submit">${t(f.lang, 'continue')}</button>
      </form>`,
  );
}

/** Failmode safe let the user in without a second factor: say so before going on. */
export function failmodeBannerPage(
  f: PortalFrame,
  o: { appName: string; minutes: number; continueTo: string },
): string {
  return layout(
    f,
    html`<h1>${t(f.lang, 'loggedInHeading')}</h1>
      <p class="warning" role="alert" id="failmode-banner">
        ${t(f.lang, 'failmodeBanner', { app: o.appName, minutes: o.minutes })}
      </p>
      <p><a class="button" href="${o.continueTo}">${t(f.lang, 'continue')}</a></p>`,
  );
}

/** An error or notice that ends the login, with a way to start again. */
export function messagePage(
  f: PortalFrame,
  o: {
    heading: MessageKey;
    message: string;
    kind: 'error' | 'warning' | 'status';
    again?: boolean;
  },
): string {
  return layout(
    f,
    html`<h1>${t(f.lang, o.heading)}</h1>
      <p class="${o.kind}" role="${o.kind === 'status' ? 'status' : 'alert'}">${o.message}</p>
      ${o.again ? html`<p><a href="${f.base}login">${t(f.lang, 'logIn')}</a></p>` : ''}`,
  );
}

/** The portal opened with a session: who is logged in, and the logout form. */
export function loggedInPage(
  f: PortalFrame,
  o: { username: string; csrf: string; banner?: string },
): string {
  return layout(
    f,
    html`<h1>${t(f.lang, 'loggedInHeading')}</h1>
      ${o.banner ? html`<p class="warning" role="alert">${o.banner}</p>` : ''}
      <p>${t(f.lang, 'loggedInAs', { user: o.username })}</p>
      <form method="post" action="${f.base}logout">
        <input type="hidden" name="csrf" value="${o.csrf}" />
        <button type="submit">${t(f.lang, 'logOut')}</button>
      </form>`,
  );
}
