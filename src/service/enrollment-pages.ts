// Unsigned pages linked from /enroll responses: the activation QR code and the activation link.
import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import { AirlockError } from '../core/error-registry.ts';

const ACTIVATION_VALUE = /^duo:\/\/[A-Z0-9]{20}-[A-Za-z0-9+/]{1,400}$/;
const ACTIVATION_CODE = /^[A-Z0-9]{20}$/;

export function registerEnrollmentPages(server: FastifyInstance): void {
  // The QR code of an activation code; only activation codes are rendered (no open QR service).
  server.get<{ Querystring: { value?: string } }>('/frame/qr', async (req, reply) => {
    const value = req.query.value;
    if (!value || !ACTIVATION_VALUE.test(value))
      throw new AirlockError('AUTH_INVALID_PARAMETERS', 'value');
    const png = await QRCode.toBuffer(value, { type: 'png', margin: 2, width: 256 });
    return reply.type('image/png').header('Cache-Control', 'no-store').send(png);
  });

  // The activation URL of /enroll: opens the web authenticator with the code filled in.
  server.get<{ Params: { code: string } }>('/activate/:code', async (req, reply) => {
    const code = req.params.code;
    if (!ACTIVATION_CODE.test(code)) throw new AirlockError('AUTH_INVALID_PARAMETERS', 'code');
    return reply.header('Cache-Control', 'no-store').redirect(`/authenticator/?code=${code}`, 302);
  });
}
