// Emergency controls: temporary measures with a mandatory expiry, reverted exactly
// (docs/design/goals-and-terms.md §4.3).
import { isOneOf } from './closed-set.ts';
import type { EmergencyOverlay } from './policy.ts';
import { PRIMARY_ONLY_MAX_MINUTES } from './primary-only.ts';

export const EMERGENCY_KINDS = [
  'app-bypass-groups',
  'users-to-bypass-group',
  'primary-only',
] as const;
export type EmergencyKind = (typeof EMERGENCY_KINDS)[number];
export const isEmergencyKind = (v: unknown): v is EmergencyKind => isOneOf(EMERGENCY_KINDS, v);

export const EMERGENCY_STATES = ['active', 'reverted', 'expired'] as const;
/** `reverted`: undone on demand; `expired`: undone because its expiry passed. */
export type EmergencyState = (typeof EMERGENCY_STATES)[number];

export interface EmergencyLimits {
  /** Used when a request names no expiry. */
  defaultDurationMs: number;
  /** The longest a control may last. Primary-only mode is also capped at 4 hours. */
  maxDurationMs: number;
}

export const EMERGENCY_DEFAULT_LIMITS: EmergencyLimits = Object.freeze({
  defaultDurationMs: 60 * 60_000,
  maxDurationMs: 24 * 60 * 60_000,
});

const PRIMARY_ONLY_MAX_MS = PRIMARY_ONLY_MAX_MINUTES * 60_000;

/** What an admin asks for. Users come already resolved (from a list, a CSV or a filter). */
export type EmergencyScopeRequest =
  /** A temporary application policy: members of these groups skip 2FA on this application. */
  | { kind: 'app-bypass-groups'; appId: string; groupIds: readonly string[] }
  /** Put these users into a bypass group; they are moved back at revert. */
  | { kind: 'users-to-bypass-group'; groupId: string; userIds: readonly string[] }
  /** Switch a proxy (or one of its sections) into primary-only mode. */
  | { kind: 'primary-only'; proxy: string; section?: string | undefined };

export interface EmergencyRequest {
  /** Chosen by the caller (the store); the core has no randomness. */
  id: string;
  scope: EmergencyScopeRequest;
  reason: string;
  actor: string;
  /** At most one of these; neither = the default duration. */
  durationMs?: number | undefined;
  expiresAtMs?: number | undefined;
}

/** The scope as recorded: for users, who this control actually added. */
export type EmergencyScope =
  | { kind: 'app-bypass-groups'; appId: string; groupIds: readonly string[] }
  | {
      kind: 'users-to-bypass-group';
      groupId: string;
      /** Every user the admin named. */
      requestedUserIds: readonly string[];
      /**
       * Users this control holds in the group: those who were not members, and those who were
       * members only because another active control added them. Only these are removed at revert.
       */
      addedUserIds: readonly string[];
      /** Users who were members on their own; never removed by this control. */
      alreadyMemberUserIds: readonly string[];
    }
  | { kind: 'primary-only'; proxy: string; section?: string | undefined };

/** The persisted record of a control. Plain data: it survives JSON and a restart. */
export interface EmergencyControl {
  id: string;
  scope: EmergencyScope;
  reason: string;
  actor: string;
  createdAtMs: number;
  expiresAtMs: number;
  state: EmergencyState;
  /** Set once the control is no longer active: when, by whom (`system` at expiry), why. */
  endedAtMs?: number | undefined;
  endedBy?: string | undefined;
  endReason?: string | undefined;
}

/** What the current state looks like, as far as planning and reverting need it. */
export interface EmergencyWorld {
  /** Current members of the groups named by users-to-bypass-group controls, by group id. */
  groupMembers: Readonly<Record<string, readonly string[]>>;
  /**
   * Of those members, the ones whose membership an emergency control made and no administrator
   * has claimed since (by adding the user by hand, or removing and adding them again). Only these
   * may be removed by a revert; required wherever `groupMembers` is.
   */
  controlMembers?: Readonly<Record<string, readonly string[]>>;
  /** Every persisted control; only active ones matter. */
  controls: readonly EmergencyControl[];
}

export type EmergencyOperation =
  | { op: 'add-group-member'; groupId: string; userId: string }
  | { op: 'remove-group-member'; groupId: string; userId: string }
  | { op: 'start-app-bypass'; appId: string; groupIds: readonly string[] }
  | { op: 'end-app-bypass'; appId: string; groupIds: readonly string[] }
  | {
      op: 'start-primary-only';
      proxy: string;
      section?: string | undefined;
      expiresAtMs: number;
    }
  | { op: 'end-primary-only'; proxy: string; section?: string | undefined };

/** Something a revert leaves in place on purpose, and why. */
export interface KeptInPlace {
  what: string;
  because: string;
}

export type PlanEmergencyResult =
  | { ok: true; control: EmergencyControl; operations: EmergencyOperation[] }
  | { ok: false; errors: string[] };

/**
 * Validates a request and plans it. Every problem is reported, not just the first. For
 * users-to-bypass-group, `world.groupMembers[groupId]` and `world.controlMembers[groupId]` must be
 * given: without them the plan could not tell who was already a member, and the revert would
 * remove them.
 */
export function planEmergency(
  request: EmergencyRequest,
  nowMs: number,
  limits: EmergencyLimits = EMERGENCY_DEFAULT_LIMITS,
  world: EmergencyWorld = { groupMembers: {}, controls: [] },
): PlanEmergencyResult {
  const errors: string[] = [];
  const { scope } = request;
  if (request.id.trim() === '') errors.push('id: must not be empty');
  if (request.reason.trim() === '') errors.push('reason: a reason is required');
  if (request.actor.trim() === '') errors.push('actor: who is doing this is required');

  const expiry = planExpiry(request, nowMs, limits);
  errors.push(...expiry.errors);
  const { expiresAtMs } = expiry;

  let recorded: EmergencyScope | undefined;
  const operations: EmergencyOperation[] = [];
  switch (scope.kind) {
    case 'app-bypass-groups': {
      if (scope.appId.trim() === '') errors.push('scope: an application is required');
      if (scope.groupIds.length === 0) errors.push('scope: at least one group is required');
      const groupIds = unique(scope.groupIds);
      recorded = { kind: scope.kind, appId: scope.appId, groupIds };
      operations.push({ op: 'start-app-bypass', appId: scope.appId, groupIds });
      break;
    }
    case 'users-to-bypass-group': {
      if (scope.groupId.trim() === '') errors.push('scope: a bypass group is required');
      if (scope.userIds.length === 0) errors.push('scope: at least one user is required');
      const members = world.groupMembers[scope.groupId];
      const byControls = world.controlMembers?.[scope.groupId];
      if (members === undefined || byControls === undefined) {
        errors.push(`scope: the current members of group ${scope.groupId} are required`);
        break;
      }
      const held = heldByActiveControls(world.controls, scope.groupId, undefined);
      const requested = unique(scope.userIds);
      const added: string[] = [];
      const already: string[] = [];
      for (const userId of requested) {
        const member = members.includes(userId);
        // Held only while another active control's membership is still a control's: once an
        // admin claimed it, the user is a member on their own.
        const heldByControl = held.has(userId) && byControls.includes(userId);
        if (member && !heldByControl) already.push(userId);
        else {
          added.push(userId);
          if (!member) operations.push({ op: 'add-group-member', groupId: scope.groupId, userId });
        }
      }
      recorded = {
        kind: scope.kind,
        groupId: scope.groupId,
        requestedUserIds: requested,
        addedUserIds: added,
        alreadyMemberUserIds: already,
      };
      break;
    }
    case 'primary-only': {
      if (scope.proxy.trim() === '') errors.push('scope: a proxy is required');
      recorded = { kind: scope.kind, proxy: scope.proxy, section: scope.section };
      operations.push({
        op: 'start-primary-only',
        proxy: scope.proxy,
        section: scope.section,
        expiresAtMs,
      });
      break;
    }
  }
  if (errors.length > 0 || recorded === undefined) return { ok: false, errors };
  return {
    ok: true,
    control: {
      id: request.id,
      scope: recorded,
      reason: request.reason.trim(),
      actor: request.actor.trim(),
      createdAtMs: nowMs,
      expiresAtMs,
      state: 'active',
    },
    operations,
  };
}

/**
 * When a control would expire, and what is wrong with its requested expiry: both durations, a
 * non-positive duration, a past expiry, or more than `limits.maxDurationMs` (primary-only mode: at
 * most 4 hours too). The one check of the configured maximum, for every surface: the runner plans
 * with it, and the Admin API's preview refuses with it before anything is confirmed.
 */
export function planExpiry(
  request: Pick<EmergencyRequest, 'durationMs' | 'expiresAtMs'> & {
    scope: Pick<EmergencyScopeRequest, 'kind'>;
  },
  nowMs: number,
  limits: EmergencyLimits = EMERGENCY_DEFAULT_LIMITS,
): { expiresAtMs: number; errors: string[] } {
  const errors: string[] = [];
  const maxMs =
    request.scope.kind === 'primary-only'
      ? Math.min(limits.maxDurationMs, PRIMARY_ONLY_MAX_MS)
      : limits.maxDurationMs;
  let expiresAtMs = nowMs + Math.min(limits.defaultDurationMs, maxMs);
  if (request.durationMs !== undefined && request.expiresAtMs !== undefined) {
    errors.push('expiry: give a duration or an expiry time, not both');
  } else if (request.durationMs !== undefined) {
    if (!Number.isSafeInteger(request.durationMs) || request.durationMs <= 0) {
      errors.push(`duration: must be a positive whole number of milliseconds`);
    } else expiresAtMs = nowMs + request.durationMs;
  } else if (request.expiresAtMs !== undefined) {
    if (!Number.isSafeInteger(request.expiresAtMs) || request.expiresAtMs <= nowMs) {
      errors.push('expiry: must be in the future');
    } else expiresAtMs = request.expiresAtMs;
  }
  if (expiresAtMs - nowMs > maxMs) {
    errors.push(`expiry: must be at most ${formatDuration(maxMs)} from now`);
  }
  return { expiresAtMs, errors };
}

/** Whether the control still takes effect at `nowMs`: active and not past its expiry. */
export function isInEffect(control: EmergencyControl, nowMs: number): boolean {
  return control.state === 'active' && nowMs < control.expiresAtMs;
}

/**
 * Active controls whose expiry has passed: the ones to revert now. Run it at start-up too: it
 * needs nothing but the persisted records, so a restart loses no revert.
 */
export function dueForRevert(
  controls: readonly EmergencyControl[],
  nowMs: number,
): EmergencyControl[] {
  return controls.filter((c) => c.state === 'active' && nowMs >= c.expiresAtMs);
}

/**
 * The overlays policy evaluation should see. Derived from expiry, not from state, so an expired
 * bypass stops applying on time even before its revert has run.
 */
export function activeOverlays(
  controls: readonly EmergencyControl[],
  nowMs: number,
): EmergencyOverlay[] {
  const overlays: EmergencyOverlay[] = [];
  for (const c of controls) {
    if (c.scope.kind === 'app-bypass-groups' && isInEffect(c, nowMs)) {
      overlays.push({ controlId: c.id, appId: c.scope.appId, groupIds: c.scope.groupIds });
    }
  }
  return overlays;
}

export interface RevertEnding {
  nowMs: number;
  /** `system` when the expiry ended it. */
  by: string;
  why: string;
  state: Exclude<EmergencyState, 'active'>;
}

export type PlanRevertResult =
  | {
      ok: true;
      operations: EmergencyOperation[];
      kept: KeptInPlace[];
      /** The record to persist, once the operations are done. */
      control: EmergencyControl;
    }
  | { ok: false; errors: string[] };

/**
 * The exact operations that undo a control, given the current state. A user is removed from the
 * bypass group only if this control added them, they are still a member, their membership is
 * still a control's (an admin who added them by hand meanwhile made it theirs: kept, and listed
 * as kept), and no other active control holds them there. A primary-only switch is ended only if no other active control holds
 * the same proxy and section. Reverting twice is refused.
 */
export function planRevert(
  control: EmergencyControl,
  world: EmergencyWorld,
  ending: RevertEnding,
): PlanRevertResult {
  const errors: string[] = [];
  if (control.state !== 'active') errors.push(`control ${control.id} is already ${control.state}`);
  if (ending.by.trim() === '') errors.push('by: who is reverting is required');
  if (ending.why.trim() === '') errors.push('why: a reason is required');
  if (ending.state === 'expired' && ending.nowMs < control.expiresAtMs) {
    errors.push(`control ${control.id} does not expire until ${control.expiresAtMs}`);
  }
  const { scope } = control;
  const members =
    scope.kind === 'users-to-bypass-group' ? world.groupMembers[scope.groupId] : undefined;
  const byControls =
    scope.kind === 'users-to-bypass-group' ? world.controlMembers?.[scope.groupId] : undefined;
  if (
    scope.kind === 'users-to-bypass-group' &&
    (members === undefined || byControls === undefined)
  ) {
    errors.push(`the current members of group ${scope.groupId} are required`);
  }
  if (errors.length > 0) return { ok: false, errors };

  const operations: EmergencyOperation[] = [];
  const kept: KeptInPlace[] = [];
  switch (scope.kind) {
    case 'app-bypass-groups':
      operations.push({ op: 'end-app-bypass', appId: scope.appId, groupIds: scope.groupIds });
      break;
    case 'users-to-bypass-group': {
      const held = heldByActiveControls(world.controls, scope.groupId, control.id);
      for (const userId of scope.alreadyMemberUserIds) {
        kept.push({ what: `user ${userId}`, because: 'was a member before this control' });
      }
      for (const userId of scope.addedUserIds) {
        if (!(members ?? []).includes(userId)) {
          kept.push({ what: `user ${userId}`, because: 'is no longer a member' });
        } else if (!(byControls ?? []).includes(userId)) {
          kept.push({
            what: `user ${userId}`,
            because: 'was added by hand while this control was active',
          });
        } else if (held.has(userId)) {
          kept.push({
            what: `user ${userId}`,
            because: `is also held by active control ${held.get(userId) ?? ''}`,
          });
        } else operations.push({ op: 'remove-group-member', groupId: scope.groupId, userId });
      }
      break;
    }
    case 'primary-only': {
      const other = world.controls.find(
        (c) =>
          c.id !== control.id &&
          c.state === 'active' &&
          c.scope.kind === 'primary-only' &&
          c.scope.proxy === scope.proxy &&
          c.scope.section === scope.section,
      );
      if (other) {
        kept.push({
          what: `primary-only mode on ${scope.proxy}${scope.section ? ` [${scope.section}]` : ''}`,
          because: `is also held by active control ${other.id}`,
        });
      } else
        operations.push({ op: 'end-primary-only', proxy: scope.proxy, section: scope.section });
      break;
    }
  }
  return {
    ok: true,
    operations,
    kept,
    control: {
      ...control,
      state: ending.state,
      endedAtMs: ending.nowMs,
      endedBy: ending.by.trim(),
      endReason: ending.why.trim(),
    },
  };
}

/** Users held in `groupId` by active controls other than `exceptId`, with the holding control. */
function heldByActiveControls(
  controls: readonly EmergencyControl[],
  groupId: string,
  exceptId: string | undefined,
): Map<string, string> {
  const held = new Map<string, string>();
  for (const c of controls) {
    if (c.id === exceptId || c.state !== 'active') continue;
    if (c.scope.kind !== 'users-to-bypass-group' || c.scope.groupId !== groupId) continue;
    for (const userId of c.scope.addedUserIds) if (!held.has(userId)) held.set(userId, c.id);
  }
  return held;
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

function formatDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes % 60 === 0) return `${minutes / 60} hour${minutes === 60 ? '' : 's'}`;
  return `${minutes} minutes`;
}
