// The seam for policies and emergency controls: the Admin API and the console call these when
// they are plugged in, and answer "not available" (ADMIN_NOT_AVAILABLE, 501) until then.
import type { Finding } from '../../core/advisor.ts';
import type { EmergencyControl } from '../../core/emergency-control.ts';
import type { Policy } from '../../core/policy.ts';
import type { EmergencyStartRequest } from '../../operations/emergency-operations.ts';

export type PolicyScope = { kind: 'global' } | { kind: 'application'; appId: string };

export interface PolicyAdmin {
  /** The global policy (null when none) and every application policy. */
  list(): Promise<{ global: Policy | null; applications: { appId: string; policy: Policy }[] }>;
  /**
   * Validates `policy` (the decoded JSON the administrator sent) and stores it. Throws an
   * AirlockError `ADMIN_INVALID_PARAMETERS` naming every problem; writes its own audit event
   * with `actor` in the same transaction.
   */
  set(scope: PolicyScope, policy: unknown, actor: string): Promise<Policy>;
  /**
   * The advisor's findings that `policy` (validated like `set`) would add over the scope's current
   * policy, shown before the administrator confirms a change.
   */
  preview?(scope: PolicyScope, policy: unknown): Promise<Finding[]>;
  /** Removes the policy of the scope; false when there was none. Audited like `set`. */
  clear(scope: PolicyScope, actor: string): Promise<boolean>;
}

export type { EmergencyStartRequest };

export interface EmergencyAdmin {
  /** Controls in effect at `nowMs`: the console shows a banner on every page while any is. */
  listActive(nowMs: number): Promise<EmergencyControl[]>;
  /** Every control, newest first, ended ones included. */
  listAll(): Promise<EmergencyControl[]>;
  /** The advisor's findings for a request, shown before the administrator confirms it. */
  preview(request: EmergencyStartRequest): Promise<Finding[]>;
  /** Plans, applies and audits the control; throws ADMIN_INVALID_PARAMETERS with every error. */
  start(request: EmergencyStartRequest, actor: string): Promise<EmergencyControl>;
  /** Reverts exactly what the control did; audited. Throws ADMIN_NOT_FOUND for an unknown id. */
  revert(id: string, actor: string, reason: string): Promise<EmergencyControl>;
}

/** Optional modules; each part of the console and the API checks for its own. */
export interface AdminExtensions {
  policies?: PolicyAdmin;
  emergency?: EmergencyAdmin;
}
