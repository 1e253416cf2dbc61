// The passcode field of the second-factor step, as the hosted prompt and the gateway portal show
// it: label, one-time-code input (focused: keyboard users land there) and the hint naming what
// codes it takes.
import { html, type SafeHtml } from '../core/html.ts';
import { SHARED_DE, SHARED_EN, catalogue, type PageLanguage } from './login-messages.ts';

const SHARED = catalogue(SHARED_EN, SHARED_DE);

/** The label, input and hint of the `passcode` form field; the form and its button are the page's. */
export function passcodeField(lang: PageLanguage): SafeHtml {
  return html`<label for="passcode">${SHARED.t(lang, 'passcodeLabel')}</label>
    <input
      type="text"
      id="passcode"
      name="passcode"
      inputmode="numeric"
      autocomplete="one-time-code"
      aria-describedby="passcode-hint"
      required
      autofocus
    />
    <p class="muted" id="passcode-hint">${SHARED.t(lang, 'passcodeHint')}</p>`;
}
