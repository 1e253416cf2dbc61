// The hosted prompt's pages, server-rendered: every string from the catalogue, every value escaped.
import { loginLayout } from '../../pages/login-layout.ts';
import { passcodeField } from '../../pages/passcode-field.ts';
import { html, type SafeHtml } from '../admin/console/html.ts';
import { t, type MessageKey, type PromptLanguage } from './prompt-messages.ts';

export interface PromptFrame {
  lang: PromptLanguage;
  /** `/frame/v4/<login id>`: where the page's forms post. */
  base: string;
  appName: string;
  username: string;
}

/** One capable device per out-of-band factor, as preauth listed it. */
export interface FactorChoices {
  push: { device: string; name: string } | undefined;
  phone: { device: string; name: string } | undefined;
  sms: { device: string; name: string } | undefined;
  passcode: boolean;
}

export function layout(lang: PromptLanguage, body: SafeHtml): string {
  return loginLayout({
    lang,
    title: t(lang, 'pageTitle'),
    stylesheetHref: '/frame/assets/prompt.css',
    scriptHref: '/frame/assets/prompt.js',
    body,
  });
}

function header(f: PromptFrame): SafeHtml {
  return html`<h1>${t(f.lang, 'heading')}</h1>
    <p class="muted">${t(f.lang, 'loggingInAs', { app: f.appName, user: f.username })}</p>`;
}

function rememberBox(f: PromptFrame, hours: number): SafeHtml | string {
  if (hours <= 0) return '';
  return html`<label class="check"
    ><input
      type="checkbox"
      name="remember"
      value="1"
    />${t(f.lang, 'rememberDevice', { hours })}</label
  >`;
}

/** The factor choice: passcode field first (keyboard users land there), then the devices. */
export function factorPage(
  f: PromptFrame,
  options: {
    factors: FactorChoices;
    /** Per-factor health ("Push is having problems — use a passcode"). */
    healthMessage: string | undefined;
    error: MessageKey | undefined;
    notice: MessageKey | undefined;
    rememberHours: number;
  },
): string {
  const { factors } = options;
  const lang = f.lang;
  const body = html`${header(f)}
    ${options.error ? html`<p class="error" role="alert">${t(lang, options.error)}</p>` : ''}
    ${options.notice ? html`<p class="status" role="status">${t(lang, options.notice)}</p>` : ''}
    ${
      options.healthMessage
        ? html`<p class="warning" role="status">${options.healthMessage}</p>`
        : ''
    }
    <p>${t(lang, 'chooseMethod')}</p>
    ${
      factors.passcode
        ? html`<form method="post" action="${f.base}/passcode">
            ${passcodeField(lang)} ${rememberBox(f, options.rememberHours)}
            <button type="submit">${t(lang, 'logIn')}</button>
          </form>`
        : ''
    }
    <div class="factors">
      ${
        factors.push
          ? html`<form method="post" action="${f.base}/push">
              <input type="hidden" name="device" value="${factors.push.device}" />
              ${rememberBox(f, options.rememberHours)}
              <button type="submit" class="secondary">${t(lang, 'sendPush')}</button>
            </form>`
          : ''
      }
      ${
        factors.phone
          ? html`<form method="post" action="${f.base}/phone">
              <input type="hidden" name="device" value="${factors.phone.device}" />
              <button type="submit" class="secondary">
                ${t(lang, 'callPhone', { device: factors.phone.name })}
              </button>
            </form>`
          : ''
      }
      ${
        factors.sms
          ? html`<form method="post" action="${f.base}/sms">
              <input type="hidden" name="device" value="${factors.sms.device}" />
              <button type="submit" class="secondary">
                ${t(lang, 'sendSms', { device: factors.sms.name })}
              </button>
            </form>`
          : ''
      }
    </div>
    ${returnForm(f)}`;
  return layout(lang, body);
}

/** A push or call under way: live status, and a Continue button that works without script. */
export function waitingPage(
  f: PromptFrame,
  options: {
    txid: string;
    started: MessageKey;
    deviceName: string;
    verificationCode: string | null;
    remember: boolean;
  },
): string {
  const lang = f.lang;
  const statusUrl = `${f.base}/status?txid=${encodeURIComponent(options.txid)}`;
  const body = html`${header(f)}
    <p>${t(lang, options.started, { device: options.deviceName })}</p>
    ${
      options.verificationCode
        ? html`<p>${t(lang, 'verifyCode', { code: options.verificationCode })}</p>
            <p class="code" aria-label="${options.verificationCode.split('').join(' ')}">
              ${options.verificationCode}
            </p>`
        : ''
    }
    <div class="status" data-status-url="${statusUrl}">
      <p id="status-text" role="status" aria-live="polite">${t(lang, 'waiting')}</p>
    </div>
    <form method="post" action="${f.base}/complete" id="complete">
      <input type="hidden" name="txid" value="${options.txid}" />
      ${options.remember ? html`<input type="hidden" name="remember" value="1" />` : ''}
      <button type="submit">${t(lang, 'continue')}</button>
    </form>
    <form method="get" action="${f.base}">
      <button type="submit" class="secondary">${t(lang, 'tryAnother')}</button>
    </form>`;
  return layout(lang, body);
}

/** A login that ended without access: the reason, another try, or back to the application. */
export function deniedPage(
  f: PromptFrame,
  options: { message: MessageKey; txid: string | undefined; canRetry: boolean },
): string {
  const lang = f.lang;
  const body = html`${header(f)}
    <p class="error" role="alert">${t(lang, options.message)}</p>
    ${
      options.canRetry
        ? html`<form method="get" action="${f.base}">
            <button type="submit">${t(lang, 'tryAnother')}</button>
          </form>`
        : ''
    }
    ${returnForm(f, options.txid)}`;
  return layout(lang, body);
}

export function enrollPage(f: PromptFrame, options: { activationUrl: string }): string {
  const lang = f.lang;
  const body = html`<h1>${t(lang, 'enrollHeading')}</h1>
    <p>${t(lang, 'enrollIntro')}</p>
    <p class="link"><a href="${options.activationUrl}">${options.activationUrl}</a></p>
    <p>${t(lang, 'enrollDone')}</p>
    <form method="get" action="${f.base}">
      <button type="submit">${t(lang, 'continue')}</button>
    </form>
    ${returnForm(f)}`;
  return layout(lang, body);
}

/** A failure before or outside a login: a message only, nothing about keys or tokens. */
export function errorPage(lang: PromptLanguage, message: MessageKey): string {
  return layout(
    lang,
    html`<h1>${t(lang, 'errorHeading')}</h1>
      <p class="error" role="alert">${t(lang, message)}</p>`,
  );
}

function returnForm(f: PromptFrame, txid?: string): SafeHtml {
  return html`<form method="post" action="${f.base}/return">
    ${txid ? html`<input type="hidden" name="txid" value="${txid}" />` : ''}
    <button type="submit" class="secondary">${t(f.lang, 'returnToApp')}</button>
  </form>`;
}
