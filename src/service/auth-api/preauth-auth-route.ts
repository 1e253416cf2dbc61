// Airlock extension `POST /auth/v2/preauth_auth` (docs/auth-api.md): a login whose user already
// typed a passcode makes one call instead of preauth then /auth — the very two steps, in order.
import { AirlockError } from '../../core/error-registry.ts';
import type { AuthApiSteps, LoadedLogin, StepCall, StepHandler } from './auth-api-routes.ts';
import {
  AUTH_API_OPERATIONS,
  type AuthResponse,
  type PreauthAuthResponse,
  type PreauthResponse,
} from './auth-api-schemas.ts';
import { param, paramsOf, requireParam } from './request-params.ts';

/** What preauth_auth passes on to the two steps: the login's own parameters, nothing else. */
const LOGIN_PARAMS = ['username', 'user_id', 'ipaddr', 'hostname'] as const;

/**
 * Preauth's step, then — only when it answers `auth` — /auth's step with `factor=passcode`: the
 * same decisions, audit events, lockout, limits and metrics as the two calls, since they are the
 * same code. Preauth's allow, deny or enroll ends the login as it does over two calls (audited as
 * `auth.preauth`; the passcode is not looked at).
 */
export function createPreauthAuthStep(steps: AuthApiSteps): StepHandler {
  return async (call: StepCall): Promise<PreauthAuthResponse> => {
    const passcode = requireParam(call.params, 'passcode');
    const values: Record<string, string> = {};
    for (const name of LOGIN_PARAMS) {
      const value = param(call.params, name);
      if (value !== undefined) values[name] = value;
    }
    // One read of the subject and one policy decision serve both steps (same parameters, time).
    const loaded: LoadedLogin = {};
    // Object.assign, not `{ ...call, params, loaded }`: on Node 20's V8 a literal that starts with
    // a spread pays about 0.4 µs for each key it adds (docs/benchmarks.md, fifth session).
    const preauth = (await steps.preauth(
      Object.assign({}, call, { params: paramsOf(values), loaded }),
    )) as PreauthResponse;
    const summary: PreauthAuthResponse['preauth'] = {
      result: preauth.result,
      status_msg: preauth.status_msg,
      ...(preauth.enroll_portal_url === undefined
        ? {}
        : { enroll_portal_url: preauth.enroll_portal_url }),
    };
    if (preauth.result !== 'auth') return { preauth: summary };
    const authParams = paramsOf(Object.assign({}, values, { factor: 'passcode', passcode }));
    const auth = (await steps.auth(
      Object.assign({}, call, { params: authParams, loaded }),
    )) as AuthResponse;
    if (auth.result === undefined || auth.status === undefined || auth.status_msg === undefined) {
      // A synchronous passcode /auth always answers all three; anything else is a bug here.
      throw new AirlockError('AUTH_INTERNAL', undefined, {
        message: 'passcode auth gave no result',
      });
    }
    return {
      preauth: summary,
      auth: { result: auth.result, status: auth.status, status_msg: auth.status_msg },
    };
  };
}

/** Registers the route: signature and rate limit as every signed endpoint, then the step. */
export function registerPreauthAuthRoute(steps: AuthApiSteps, step: StepHandler): void {
  steps.signedRoute(AUTH_API_OPERATIONS.preauthAuth, ({ req, app, params, nowMs }) =>
    step({ app, params, nowMs, clientIp: req.ip }),
  );
}
