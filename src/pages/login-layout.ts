// The frame of every login page (hosted prompt and gateway portal): one look, one stylesheet and
// script from files (nothing inline: the CSP forbids it), the language on <html>.
import { html, type SafeHtml } from '../core/html.ts';
import type { PageLanguage } from './login-messages.ts';

export function loginLayout(o: {
  lang: PageLanguage;
  title: string;
  /** Where the page loads `LOGIN_CSS` and `LOGIN_JS` from. */
  stylesheetHref: string;
  scriptHref: string;
  /** `<meta name="referrer">`, when the page needs one. */
  referrer?: string;
  body: SafeHtml;
}): string {
  return html`<!doctype html>
    <html lang="${o.lang}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${o.referrer ? html`<meta name="referrer" content="${o.referrer}" />` : ''}
        <title>${o.title}</title>
        <link rel="stylesheet" href="${o.stylesheetHref}" />
      </head>
      <body>
        <main class="prompt">
          <p class="brand">Airlock</p>
          ${o.body}
        </main>
        <script src="${o.scriptHref}" defer></script>
      </body>
    </html>`.value;
}
