// The headers of every prompt page: a strict CSP (no inline code, no framing), no caching, no
// referrer (the login id is in the URL), no MIME sniffing.
import type { FastifyReply } from 'fastify';

/**
 * `frame-ancestors 'none'` and X-Frame-Options refuse framing (clickjacking of the approve step).
 * Forms post to the prompt itself; `redirectOrigin` is added to form-action because the browser
 * applies form-action to the redirect that follows a form (back to the application).
 */
export function promptCsp(redirectOrigin?: string): string {
  const formAction = redirectOrigin ? `'self' ${redirectOrigin}` : "'self'";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function sendPromptPage(
  reply: FastifyReply,
  page: string,
  options: { redirectOrigin?: string | undefined } = {},
): FastifyReply {
  return setPromptHeaders(reply, options.redirectOrigin)
    .type('text/html; charset=utf-8')
    .send(page);
}

export function setPromptHeaders(reply: FastifyReply, redirectOrigin?: string): FastifyReply {
  return reply
    .header('content-security-policy', promptCsp(redirectOrigin))
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff');
}
