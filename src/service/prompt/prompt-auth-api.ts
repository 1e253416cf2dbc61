// The hosted prompt asks the Auth API, in process, what any integration would ask it: preauth,
// auth and auth_status, signed with the application's own key. So the prompt runs the one login
// decision (policies, lockout, source limits, push, passcode checks, audit) and keeps no copy.
import type { FastifyInstance } from 'fastify';
import type { Application } from '../../core/model.ts';
import { signRequest } from '../../protocol/duo-signature.ts';
import type { Clock } from '../../runtime/clock.ts';

/** What an Auth API call answered: Duo's envelope. */
export type AuthApiAnswer =
  | { ok: true; response: Record<string, unknown> }
  | { ok: false; code: number; message: string; detail: string | undefined };

export interface PromptAuthApi {
  call(
    app: Application,
    method: 'GET' | 'POST',
    path: '/auth/v2/preauth' | '/auth/v2/auth' | '/auth/v2/auth_status' | '/auth/v2/enroll',
    params: Record<string, string>,
  ): Promise<AuthApiAnswer>;
}

export function createPromptAuthApi(
  server: FastifyInstance,
  deps: { clock: Clock; apiHost: () => string },
): PromptAuthApi {
  return {
    async call(app, method, path, params) {
      const host = deps.apiHost();
      const date = new Date(deps.clock.nowMs()).toUTCString();
      const authorization = signRequest({
        ikey: app.ikey,
        skey: app.skey,
        date,
        method,
        host,
        path,
        params,
      });
      const encoded = new URLSearchParams(params).toString();
      const response = await server.inject({
        method,
        url: method === 'GET' ? `${path}?${encoded}` : path,
        headers: {
          host,
          date,
          authorization,
          ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(method === 'POST' ? { payload: encoded } : {}),
      });
      return readEnvelope(response.body);
    },
  };
}

function readEnvelope(body: string): AuthApiAnswer {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return { ok: false, code: 50001, message: 'unreadable answer', detail: undefined };
  }
  if (parsed.stat === 'OK' && typeof parsed.response === 'object' && parsed.response !== null) {
    return { ok: true, response: parsed.response as Record<string, unknown> };
  }
  return {
    ok: false,
    code: typeof parsed.code === 'number' ? parsed.code : 50001,
    message: typeof parsed.message === 'string' ? parsed.message : 'error',
    detail: typeof parsed.message_detail === 'string' ? parsed.message_detail : undefined,
  };
}
