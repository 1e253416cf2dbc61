// The gateway's OpenID Connect provider: panva's certified `oidc-provider`, configured for the
// authorization code flow with PKCE, clients from gateway.cfg's [oidc_client:ID] sections, consent
// skipped (first-party clients), and the portal as its login page. The ID token's `amr` and `acr`
// say whether a second factor was used (RFC 8176).
import { createPrivateKey, hkdfSync, type JsonWebKey } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { GatewayConfig, GatewayOidcClientConfig } from '../config/gateway-config-model.ts';
import type { Clock } from '../runtime/clock.ts';
import type { GatewayStateDb } from '../runtime/gateway-state-db.ts';
import type { Random } from '../runtime/random.ts';
import { groupNames } from './access-rules.ts';
import { createOidcAdapter, endOidcAccount } from './oidc-adapter.ts';
import type { DirectoryUser } from './session-store.ts';

/** `acr` values: both factors, or the directory password alone (failmode safe). */
export const ACR_MFA = 'urn:airlock:acr:mfa';
export const ACR_PASSWORD = 'urn:airlock:acr:pwd';
const SCOPES = 'openid email profile';

export interface GatewayOidc {
  /** `https://portal/oidc`. */
  readonly issuer: string;
  /** The path the provider is mounted at (`/oidc`). */
  readonly mountPath: string;
  /** Serves a request under `mountPath` (the caller checked the prefix). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /**
   * Ends the user's login at the provider (portal logout): its sessions then find no account and
   * the next authorize asks for the password again.
   */
  endLogin(username: string): void;
  /** The client of a pending interaction; undefined when it expired or never was. */
  interactionClient(uid: string): Promise<GatewayOidcClientConfig | undefined>;
  /** Records the login on the interaction and returns where the browser resumes the flow. */
  completeInteraction(
    uid: string,
    user: DirectoryUser,
    login: { amr: readonly string[]; secondFactorChecked: boolean },
  ): Promise<string | undefined>;
}

/** Users known from portal logins, by name, in the state file: what ID token claims are read from. */
const ACCOUNT = 'oidc-account';

export function createGatewayOidc(
  config: GatewayConfig,
  { clock, random }: { clock: Clock; random: Random },
  db: GatewayStateDb,
): GatewayOidc | undefined {
  const oidc = config.oidc;
  if (oidc === undefined) return undefined;
  const { gateway } = config;
  const issuer = new URL('oidc', gateway.portalUrl).href;
  const mountPath = new URL(issuer).pathname;
  const cookieKey = Buffer.from(
    hkdfSync('sha256', gateway.sessionSecret, 'airlock-gateway', 'oidc-cookies', 32),
  ).toString('base64url');

  const keys = oidc.signingKeysPem.map((pem) => signingJwk(pem));
  const configuration: Configuration = {
    clients: oidc.clients.map((c) => ({
      // ID tokens are signed with the newest key.
      id_token_signed_response_alg: keys[0]?.alg ?? 'ES256',
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: [...c.redirectUris],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys },
    cookies: { keys: [cookieKey] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    acrValues: [ACR_MFA, ACR_PASSWORD],
    // acr, amr and auth_time in every ID token (OIDC Core §2, RFC 8176): the relying party
    // learns whether a second factor was used without asking for the claims.
    claims: {
      iss: null,
      sid: null,
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      email: ['email'],
      profile: ['preferred_username', 'groups'],
    },
    interactions: {
      url: (_ctx: KoaContextWithOIDC, interaction) =>
        `${gateway.portalUrl.pathname}oidc-login/${interaction.uid}`,
    },
    // Interactions, sessions, grants, codes and tokens: in the state file, so a restart keeps them.
    adapter: createOidcAdapter(db, { clock, random, secret: gateway.sessionSecret }),
    findAccount: (_ctx, sub) => {
      const user = db.get(ACCOUNT, sub, clock.nowMs()) as DirectoryUser | undefined;
      if (user === undefined) return undefined;
      return {
        accountId: sub,
        claims: () => ({
          sub,
          preferred_username: user.username,
          groups: groupNames(user.groups),
          ...(user.email === undefined ? {} : { email: user.email }),
        }),
      };
    },
    // First-party clients only: the grant is made without a consent page.
    loadExistingGrant: async (ctx) => {
      const grantId =
        ctx.oidc.result?.consent?.grantId ??
        ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client!.clientId,
        accountId: ctx.oidc.session!.accountId!,
      });
      grant.addOIDCScope(SCOPES);
      await grant.save();
      return grant;
    },
    renderError: (ctx, out) => {
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = `${out.error}: ${out.error_description ?? ''}`;
    },
  };
  const provider = new Provider(issuer, configuration);
  // Behind the reverse proxy: X-Forwarded-Proto and -Host name the public address. The gateway
  // drops them from any peer not in trusted_proxies before the provider sees the request
  // (client-address.ts); of X-Forwarded-For only the trusted proxy's own entry counts.
  provider.proxy = true;
  provider.maxIpsCount = 1;
  const callback = provider.callback();

  return {
    issuer,
    mountPath,
    handle(req, res) {
      // As a framework mounting it would: the provider sees the path below its mount point and
      // finds the mount point from originalUrl.
      const original = req.url ?? '/';
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = original;
      req.url = original.slice(mountPath.length) || '/';
      void callback(req, res);
    },
    endLogin(username) {
      // Its provider sessions and grants go with it: a session whose account is gone is an error
      // to the provider, not a sign-in prompt.
      endOidcAccount(db, username);
      db.delete(ACCOUNT, username);
    },
    async interactionClient(uid) {
      const interaction = await provider.Interaction.find(uid);
      const clientId = interaction?.params.client_id;
      return oidc.clients.find((c) => c.clientId === clientId);
    },
    async completeInteraction(uid, user, login) {
      const interaction = await provider.Interaction.find(uid);
      if (interaction === undefined) return undefined;
      // As long as a portal session lasts (a failmode one: its shorter lifetime): a provider session
      // outliving it logs in again.
      const lifetimeMs = login.secondFactorChecked
        ? gateway.sessionLifetimeMs
        : gateway.failmodeSessionLifetimeMs;
      db.put(ACCOUNT, user.username, user, clock.nowMs() + lifetimeMs);
      interaction.result = {
        login: {
          accountId: user.username,
          amr: [...login.amr],
          acr: login.secondFactorChecked ? ACR_MFA : ACR_PASSWORD,
          remember: false,
        },
      };
      const ttlSeconds = Math.max(1, interaction.exp - Math.floor(clock.nowMs() / 1000));
      await interaction.save(ttlSeconds);
      return interaction.returnTo;
    },
  };
}

/** The public+private JWK of a PEM signing key, with the algorithm it signs with. */
function signingJwk(pem: string): JsonWebKey & { use: string; alg: 'ES256' | 'RS256' } {
  const key = createPrivateKey(pem);
  const jwk = key.export({ format: 'jwk' });
  return { ...jwk, use: 'sig', alg: key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256' };
}
