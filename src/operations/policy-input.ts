// What policy evaluation reads for one login, shared by the Auth API and `airlock explain`: the
// policies and active emergency controls, and the user's usable factors.
import { activeOverlays, type EmergencyControl } from '../core/emergency-control.ts';
import type { Application, BypassCode } from '../core/model.ts';
import type { Policy, PolicyInput } from '../core/policy.ts';
import { GLOBAL_POLICY_SCOPE, type AuthSubject, type Store } from '../store/store.ts';

/** What policy evaluation reads besides the user and the application. */
export interface PolicySnapshot {
  globalPolicy: Policy | undefined;
  /** Application policies by application id. */
  appPolicies: ReadonlyMap<string, Policy>;
  /** Active emergency controls (overlays are derived from them at the time of each login). */
  activeControls: readonly EmergencyControl[];
}

/** Reads every policy and the active emergency controls: two small queries. */
export async function loadPolicySnapshot(store: Store): Promise<PolicySnapshot> {
  const [policies, activeControls] = await Promise.all([
    store.listPolicies(),
    store.listEmergencyControls({ state: 'active' }),
  ]);
  const appPolicies = new Map<string, Policy>();
  let globalPolicy: Policy | undefined;
  for (const p of policies) {
    if (p.scope === GLOBAL_POLICY_SCOPE) globalPolicy = p.policy;
    else if (p.scope.startsWith('app:')) appPolicies.set(p.scope.slice('app:'.length), p.policy);
  }
  return { globalPolicy, appPolicies, activeControls };
}

/** The input of evaluatePolicy for this login; shared by the Auth API and `airlock explain`. */
export function buildPolicyInput(
  app: Application,
  subject: AuthSubject | undefined,
  snapshot: PolicySnapshot,
  login: {
    nowMs: number;
    clientIp?: string | undefined;
    /** Configured SMS / voice providers: a phone number counts as enrolled only with one. */
    phoneFactors?: { sms: boolean; phone: boolean };
  },
): PolicyInput {
  return {
    user: subject && {
      id: subject.user.id,
      username: subject.user.username,
      status: subject.user.status,
    },
    enrolled: subject ? hasUsableFactor(subject, login.nowMs, login.phoneFactors) : false,
    groups: (subject?.groups ?? []).map((g) => ({ id: g.id, name: g.name, status: g.status })),
    application: {
      id: app.id,
      name: app.name,
      newUserPolicy: app.newUserPolicy,
      allowedGroupIds: app.allowedGroupIds,
      restrictionLevel: app.restrictionLevel,
    },
    clientIp: login.clientIp,
    globalPolicy: snapshot.globalPolicy,
    appPolicy: snapshot.appPolicies.get(app.id),
    // From the expiry, not the state: a bypass ends on time even before its revert has run.
    emergencyOverlays: activeOverlays(snapshot.activeControls, login.nowMs),
  };
}

/**
 * Whether the user has any usable second factor (preauth's "enrolled"): a token, a bypass code,
 * an authenticator, or a phone number while an SMS or voice provider is configured.
 */
export function hasUsableFactor(
  subject: AuthSubject,
  nowMs: number,
  phoneFactors: { sms: boolean; phone: boolean } = { sms: false, phone: false },
): boolean {
  return (
    subject.tokens.length > 0 ||
    usableBypassCodes(subject, nowMs).length > 0 ||
    subject.devices.some(
      (d) =>
        d.publicKeyJwk !== null ||
        (d.phoneNumber !== null && (phoneFactors.sms || phoneFactors.phone)),
    )
  );
}

/** The user's bypass codes that have a use left and have not expired at `nowMs`. */
export function usableBypassCodes(subject: AuthSubject, nowMs: number): BypassCode[] {
  return subject.bypassCodes.filter(
    (c) =>
      (c.remainingUses === null || c.remainingUses > 0) &&
      (c.expiresAtMs === null || c.expiresAtMs > nowMs),
  );
}
