// Unsigned pages linked from /enroll responses: the activation QR code and the activation page.
import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import { AirlockError } from '../core/error-registry.ts';

const ACTIVATION_VALUE = /^duo:\/\/[A-Z0-9]{20}-[A-Za-z0-9+/]{1,400}$/;
const ACTIVATION_CODE = /^[A-Z0-9]{20}$/;

export function registerEnrollmentPages(
  server: FastifyInstance,
  options: { apiHost: string },
): void {
  // The QR code of an activation code; only activation codes are rendered (no open QR service).
  server.get<{ Querystring: { value?: string } }>('/frame/qr', async (req, reply) => {
    const value = req.query.value;
    if (!value || !ACTIVATION_VALUE.test(value))
      throw new AirlockError('AUTH_INVALID_PARAMETERS', 'value');
    const png = await QRCode.toBuffer(value, { type: 'png', margin: 2, width: 256 });
    return reply.type('image/png').header('Cache-Control', 'no-store').send(png);
  });

  server.get<{ Params: { code: string } }>('/activate/:code', async (req, reply) => {
    const code = req.params.code;
    if (!ACTIVATION_CODE.test(code)) throw new AirlockError('AUTH_INVALID_PARAMETERS', 'code');
    return reply
      .type('text/html; charset=utf-8')
      .header('Cache-Control', 'no-store')
      .send(activationPage(code, options.apiHost));
  });
}

function activationPage(code: string, apiHost: string): string {
  // `code` and `apiHost` are validated/configured values; escape anyway.
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Activate Airlock</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem">
<h1>Activate your authenticator</h1>
<p>Activation code for <strong>${escapeHtml(apiHost)}</strong>:</p>
<p style="font-size:1.4rem;font-family:monospace">${escapeHtml(code)}</p>
<p>Enter this code in the Airlock authenticator, or ask your administrator to add a passcode token for you.</p>
</body></html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
