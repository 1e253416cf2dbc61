// The OpenID Connect provider's storage adapter over the gateway's state file: interactions,
// sessions, grants, authorization codes and tokens survive a restart (a used code stays used),
// each expiring by the injected clock. Shaped like oidc-provider's own memory adapter.
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import type { Clock } from '../runtime/clock.ts';
import type { GatewayStateDb } from '../runtime/gateway-state-db.ts';

/** Models whose records a revoked grant takes with it (oidc-provider's memory adapter's list). */
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/** A record stored without an expiry never expires by itself (the provider destroys it). */
const NO_EXPIRY_MS = Number.MAX_SAFE_INTEGER;

/** The state file's kind for the provider's records of `model` (`Session`, `Grant`, …). */
export const oidcKind = (model: string): string => `oidc:${model}`;

export function createOidcAdapter(db: GatewayStateDb, clock: Clock): AdapterFactory {
  return (model: string): Adapter => {
    const kind = oidcKind(model);
    const now = () => clock.nowMs();
    const found = (payload: unknown) => payload as AdapterPayload | undefined;
    return {
      upsert(id, payload, expiresIn) {
        const expiresAtMs = typeof expiresIn === 'number' ? now() + expiresIn * 1000 : NO_EXPIRY_MS;
        db.put(kind, id, payload, expiresAtMs, {
          grantId: GRANTABLE.has(model) ? payload.grantId : undefined,
          uid: model === 'Session' ? payload.uid : undefined,
          userCode: payload.userCode,
        });
        return Promise.resolve();
      },
      find: (id) => Promise.resolve(found(db.get(kind, id, now()))),
      findByUid: (uid) => Promise.resolve(found(db.findBy(kind, 'uid', uid, now()))),
      findByUserCode: (code) => Promise.resolve(found(db.findBy(kind, 'userCode', code, now()))),
      consume(id) {
        const payload = found(db.get(kind, id, now()));
        if (payload !== undefined) {
          db.update(kind, id, { ...payload, consumed: Math.floor(now() / 1000) });
        }
        return Promise.resolve();
      },
      destroy(id) {
        db.delete(kind, id);
        return Promise.resolve();
      },
      revokeByGrantId(grantId) {
        db.deleteByGrantId(grantId);
        return Promise.resolve();
      },
    };
  };
}
