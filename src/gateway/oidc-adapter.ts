// The OpenID Connect provider's storage adapter over the gateway's state file: interactions,
// sessions, grants, authorization codes and tokens survive a restart (a used code stays used),
// each expiring by the injected clock. Shaped like oidc-provider's own memory adapter.
//
// The records are credentials (an access token's id is the bearer token, a code's id the code, a
// session's id the provider's session cookie), so a copy of the file must not yield them: rows and
// their lookup keys are SHA-256 of the values, and each payload is sealed (AES-256-GCM under a key
// derived from gateway.cfg's session_secret) bound to its row, so a payload moved to another row
// does not open either. A changed session_secret leaves the old records unreadable: absent.
import { errors, type Adapter, type AdapterFactory, type AdapterPayload } from 'oidc-provider';
import type { Clock } from '../runtime/clock.ts';
import { stateKey, type GatewayStateDb, type StoredRecord } from '../runtime/gateway-state-db.ts';
import type { Random } from '../runtime/random.ts';
import { createSealer } from './session-seal.ts';

/** Models whose records a revoked grant takes with it (oidc-provider's memory adapter's list). */
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/** Models whose records belong to a user and end with the user's portal login. */
const ACCOUNT_MODELS = ['Session', 'Grant'] as const;

/** A record stored without an expiry never expires by itself (the provider destroys it). */
const NO_EXPIRY_MS = Number.MAX_SAFE_INTEGER;

/** A provider record sealed is a few kilobytes at most; refuse to open anything far larger. */
const MAX_SEALED_RECORD = 256 * 1024;

/** The state file's kind for the provider's records of `model` (`Session`, `Grant`, …). */
const oidcKind = (model: string): string => `oidc:${model}`;

/** The stored key of an optional lookup value (uid, grant id, user code, account). */
const keyOf = (value: string | undefined) => (value === undefined ? undefined : stateKey(value));

export interface OidcAdapterDeps {
  clock: Clock;
  random: Random;
  /** gateway.cfg's session_secret: the sealing key is derived from it. */
  secret: string;
}

export function createOidcAdapter(db: GatewayStateDb, deps: OidcAdapterDeps): AdapterFactory {
  const sealer = createSealer(deps.secret, 'oidc-state', deps.random, MAX_SEALED_RECORD);
  const now = () => deps.clock.nowMs();
  return (model: string): Adapter => {
    const kind = oidcKind(model);
    /** The payload of a stored record, with its consumption mark; undefined when it does not open. */
    const opened = (record: StoredRecord | undefined) => {
      if (record === undefined || typeof record.payload !== 'string') return undefined;
      const payload = sealer.open(record.payload, `${kind}\0${record.id}`) as
        AdapterPayload | undefined;
      if (payload === undefined || record.consumedAt === undefined) return payload;
      return { ...payload, consumed: record.consumedAt };
    };
    const find = (id: string) => opened(db.getRecord(kind, stateKey(id), now()));
    const findBy = (key: 'uid' | 'userCode', value: string) =>
      opened(db.findBy(kind, key, stateKey(value), now()));
    return {
      upsert(id, payload, expiresIn) {
        const row = stateKey(id);
        const expiresAtMs = typeof expiresIn === 'number' ? now() + expiresIn * 1000 : NO_EXPIRY_MS;
        db.put(kind, row, sealer.seal(payload, `${kind}\0${row}`), expiresAtMs, {
          grantId: GRANTABLE.has(model) ? keyOf(payload.grantId) : undefined,
          uid: model === 'Session' ? keyOf(payload.uid) : undefined,
          userCode: keyOf(payload.userCode),
          account: keyOf(payload.accountId),
        });
        return Promise.resolve();
      },
      find: (id) => Promise.resolve(find(id)),
      findByUid: (uid) => Promise.resolve(findBy('uid', uid)),
      findByUserCode: (code) => Promise.resolve(findBy('userCode', code)),
      consume(id) {
        const row = stateKey(id);
        if (db.consume(kind, row, Math.floor(now() / 1000))) return Promise.resolve();
        // Consumed between the provider's find and now — by another gateway process on the file.
        // As a code used twice (RFC 6749 §4.1.2): refused, and the grant's tokens revoked.
        const payload = find(id);
        if (payload?.grantId !== undefined) db.deleteByGrantId(stateKey(payload.grantId));
        return Promise.reject(new errors.InvalidGrant(`${model} already consumed`));
      },
      destroy(id) {
        db.delete(kind, stateKey(id));
        return Promise.resolve();
      },
      revokeByGrantId(grantId) {
        db.deleteByGrantId(stateKey(grantId));
        return Promise.resolve();
      },
    };
  };
}

/** Ends a user's provider sessions and grants (portal logout): none of them opens again. */
export function endOidcAccount(db: GatewayStateDb, accountId: string): void {
  for (const model of ACCOUNT_MODELS) db.deleteByAccount(oidcKind(model), stateKey(accountId));
}
