// Duo's response envelope: `{stat:"OK",response}` on success, `{stat:"FAIL",code,message}` on error.
import type { FastifyReply } from 'fastify';
import type { AirlockError } from '../../core/error-registry.ts';

export function sendOk(reply: FastifyReply, response: unknown): FastifyReply {
  return reply.code(200).type('application/json').send({ stat: 'OK', response });
}

export function sendFail(reply: FastifyReply, error: AirlockError): FastifyReply {
  return reply.code(error.status).type('application/json').send(failEnvelope(error));
}

/** The FAIL envelope of an error: what `sendFail` sends, and the in-process transport answers. */
export function failEnvelope(error: AirlockError): Record<string, unknown> {
  const body: Record<string, unknown> = {
    stat: 'FAIL',
    code: error.duoCode ?? error.status * 100 + 1,
    message: error.expose ? registryMessage(error) : 'Internal server error',
  };
  if (error.expose && error.detail) body.message_detail = error.detail;
  return body;
}

function registryMessage(error: AirlockError): string {
  // The registry message without the detail suffix: Duo clients show `message` and
  // `message_detail` separately.
  return error.detail && error.message.endsWith(`: ${error.detail}`)
    ? error.message.slice(0, -(error.detail.length + 2))
    : error.message;
}
