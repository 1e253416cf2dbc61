// What the OIDC endpoints and the hosted prompt need: the store, the ports, the in-process Auth
// API and factor health, and the host rules shared with the Auth API.
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { FactorHealthBoard } from '../../core/factor-health.ts';
import type { Application } from '../../core/model.ts';
import { isAllowedHost } from '../../protocol/request-host.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { Random } from '../../runtime/random.ts';
import type { Store } from '../../store/store.ts';
import type { PromptAuthApi } from './prompt-auth-api.ts';

export interface PromptContext {
  store: Store;
  clock: Clock;
  random: Random;
  logger: Logger;
  authApi: PromptAuthApi;
  factorHealth: FactorHealthBoard;
  options: {
    apiHost: () => string;
    /** Strict host mode: the hosts the endpoints may be called as (as for the Auth API). */
    allowedHosts?: readonly string[] | undefined;
  };
}

/**
 * The host the application called us as: the Host header when the host rules allow it (any host
 * unless `--strict-host`, as for signed Auth API requests), else the configured API host. The
 * JWT audiences and the id_token issuer are built from it, as Duo's clients build theirs from
 * the api_host they were given.
 */
export function calledHost(ctx: PromptContext, req: FastifyRequest): string {
  const given = req.headers.host;
  const apiHost = ctx.options.apiHost();
  if (given === undefined || given === '' || given.length > 255) return apiHost;
  const allowed = ctx.options.allowedHosts;
  if (allowed !== undefined && !isAllowedHost(given, [apiHost, ...allowed])) return apiHost;
  return given;
}

/** The URLs a client JWT for `path` may name as its audience: as called, and as configured. */
export function endpointAudiences(ctx: PromptContext, req: FastifyRequest, path: string): string[] {
  return [...new Set([calledHost(ctx, req), ctx.options.apiHost()])].map(
    (host) => `https://${host}${path}`,
  );
}

/** A Web SDK application by its client id (= ikey); other types are not OIDC clients. */
export async function loadWebSdkApp(
  ctx: PromptContext,
  clientId: string | undefined,
): Promise<Application | undefined> {
  if (clientId === undefined || clientId === '' || clientId.length > 100) return undefined;
  const app = await ctx.store.getApplicationByIkey(clientId);
  return app?.type === 'web-sdk' ? app : undefined;
}
