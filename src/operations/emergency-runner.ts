// Starts emergency controls and reverts them: on demand, at expiry on a timer, and at start-up.
// The pure plans come from core/emergency-control.ts; this file does the writes and audits them.
import {
  dueForRevert,
  EMERGENCY_DEFAULT_LIMITS,
  planEmergency,
  planRevert,
  type EmergencyControl,
  type EmergencyLimits,
  type EmergencyOperation,
  type EmergencyRequest,
  type EmergencyWorld,
  type KeptInPlace,
} from '../core/emergency-control.ts';
import { AirlockError, isAirlockError } from '../core/error-registry.ts';
import type { NewAuditEvent } from '../core/model.ts';
import type { PrimaryOnlyRecord } from '../core/primary-only.ts';
import type { Clock } from '../runtime/clock.ts';
import {
  disablePrimaryOnly,
  readPrimaryOnly,
  writePrimaryOnly,
} from '../runtime/primary-only-state-file.ts';
import { generateId, type Random } from '../runtime/random.ts';
import type { Store } from '../store/store.ts';

export interface EmergencyRunnerDeps {
  store: Store;
  clock: Clock;
  random: Random;
  limits?: EmergencyLimits;
  /** Called after a control started or ended here (the service drops its policy cache). */
  onChange?: () => void;
  /** Where sweep failures go; the CLI has none. */
  logger?: { error(obj: object, msg: string): void };
}

export interface StartedControl {
  control: EmergencyControl;
  operations: EmergencyOperation[];
}

export interface RevertedControl {
  control: EmergencyControl;
  /** What the revert changed. */
  operations: EmergencyOperation[];
  /** What it left in place on purpose, and why. */
  kept: KeptInPlace[];
}

export class EmergencyRunner {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #random: Random;
  /** The configured maximum and default duration: one limit for every surface. */
  readonly limits: EmergencyLimits;
  readonly #onChange: () => void;
  readonly #logger: EmergencyRunnerDeps['logger'];
  #sweeping: Promise<RevertedControl[]> | undefined;

  constructor(deps: EmergencyRunnerDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.limits = deps.limits ?? EMERGENCY_DEFAULT_LIMITS;
    this.#onChange = deps.onChange ?? (() => undefined);
    this.#logger = deps.logger;
  }

  /**
   * Validates, records and applies a control in one transaction, audited as `emergency.start`.
   * Refuses (EMERGENCY_INVALID) with every problem listed. Users come resolved to ids.
   */
  async start(request: Omit<EmergencyRequest, 'id'>): Promise<StartedControl> {
    const started = await this.#store.transaction(async (tx) => {
      const nowMs = this.#clock.nowMs();
      const problems = await this.#checkReferences(tx, request.scope);
      const world = await this.#world(tx, request.scope);
      const plan = planEmergency(
        { ...request, id: generateId(this.#random, 'EC') },
        nowMs,
        this.limits,
        world,
      );
      if (!plan.ok || problems.length > 0) {
        throw invalid([...problems, ...(plan.ok ? [] : plan.errors)]);
      }
      const { control, operations } = plan;
      if (control.scope.kind === 'primary-only') {
        const current = readPrimaryOnly(control.scope.proxy);
        if (current && current.expiresAtMs > nowMs) {
          throw invalid([
            `primary-only mode is already on in ${control.scope.proxy} until ` +
              `${new Date(current.expiresAtMs).toISOString()} (${current.actor}: ${current.reason}); ` +
              'turn it off first (airlock proxy primary-only disable) or let it end',
          ]);
        }
      }
      await tx.createEmergencyControl(control);
      for (const op of operations) {
        // Recorded as this control's membership: its revert removes only what is still that.
        if (op.op === 'add-group-member')
          await tx.addGroupMember(op.groupId, op.userId, control.id);
      }
      await tx.appendAudit(
        this.#audit(control.actor, 'emergency.start', control, {
          kind: control.scope.kind,
          scope: control.scope,
          reason: control.reason,
          expiresAtMs: control.expiresAtMs,
          operations,
        }),
      );
      // Last, so a failure before it leaves no file behind; a failure of it rolls the rest back.
      for (const op of operations) {
        if (op.op === 'start-primary-only') {
          writePrimaryOnly(op.proxy, primaryOnlyRecordOf(control));
        }
      }
      return { control, operations };
    });
    this.#onChange();
    return started;
  }

  /**
   * Reverts a control now, exactly (see planRevert), audited as `emergency.revert`, or
   * `emergency.expire` when `state` is `expired` (the sweeper). A control already ended, or ended
   * by someone else meanwhile, is refused (EMERGENCY_INVALID, EMERGENCY_CONFLICT).
   */
  async revert(
    id: string,
    ending: { by: string; why: string; state?: 'reverted' | 'expired' },
  ): Promise<RevertedControl> {
    const reverted = await this.#store.transaction(async (tx) => {
      const nowMs = this.#clock.nowMs();
      const control = await tx.getEmergencyControl(id);
      if (!control) {
        throw new AirlockError('STORE_NOT_FOUND', undefined, {
          message: `no emergency control "${id}" (try: airlock emergency list --all)`,
        });
      }
      const state = ending.state ?? 'reverted';
      const plan = planRevert(control, await this.#world(tx, control.scope), {
        nowMs,
        by: ending.by,
        why: ending.why,
        state,
      });
      if (!plan.ok) throw invalid(plan.errors);
      if (!(await tx.updateEmergencyControl(plan.control, 'active'))) {
        throw new AirlockError('EMERGENCY_CONFLICT', undefined, {
          message: `emergency control ${id} was ended by someone else meanwhile`,
        });
      }
      const kept = [...plan.kept];
      const done: EmergencyOperation[] = [];
      for (const op of plan.operations) {
        if (op.op === 'remove-group-member') {
          const removed = await tx.removeGroupMember(op.groupId, op.userId, {
            onlyAddedByControl: true,
          });
          if (removed) done.push(op);
          else kept.push({ what: `user ${op.userId}`, because: 'was added by hand meanwhile' });
        } else if (op.op === 'end-primary-only') {
          const current = readPrimaryOnly(op.proxy);
          if (!current) {
            kept.push({ what: `primary-only mode in ${op.proxy}`, because: 'was already off' });
          } else if (!sameRecord(current, primaryOnlyRecordOf(control))) {
            kept.push({
              what: `primary-only mode in ${op.proxy}`,
              because: `was switched on again by ${current.actor} (${current.reason})`,
            });
          } else {
            disablePrimaryOnly(op.proxy, {
              nowMs,
              actor: ending.by,
              reason: `emergency control ${control.id}: ${ending.why}`,
            });
            done.push(op);
          }
        } else done.push(op);
      }
      await tx.appendAudit(
        this.#audit(
          ending.by,
          state === 'expired' ? 'emergency.expire' : 'emergency.revert',
          control,
          {
            kind: control.scope.kind,
            scope: control.scope,
            reason: control.reason,
            startedBy: control.actor,
            endReason: ending.why,
            operations: done,
            kept,
          },
        ),
      );
      return { control: plan.control, operations: done, kept };
    });
    this.#onChange();
    return reverted;
  }

  /**
   * Reverts every active control past its expiry; run on a timer and at start-up (a restart loses
   * no revert: it needs only the persisted records). Failures are logged and retried next time.
   */
  async sweep(): Promise<RevertedControl[]> {
    // One sweep at a time: a slow one must not race the next tick over the same controls.
    this.#sweeping ??= this.#sweepOnce().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweepOnce(): Promise<RevertedControl[]> {
    const nowMs = this.#clock.nowMs();
    const due = dueForRevert(await this.#store.listEmergencyControls({ state: 'active' }), nowMs);
    const reverted: RevertedControl[] = [];
    for (const control of due) {
      try {
        reverted.push(
          await this.revert(control.id, {
            by: 'system',
            why: `expired at ${new Date(control.expiresAtMs).toISOString()}`,
            state: 'expired',
          }),
        );
      } catch (err) {
        // Another process (a second service node, the CLI) ended it first: nothing left to do.
        if (isAirlockError(err) && err.code === 'EMERGENCY_CONFLICT') continue;
        this.#logger?.error({ err, controlId: control.id }, 'emergency control revert failed');
      }
    }
    return reverted;
  }

  /** Unknown applications and groups, each named; users are checked by the membership write. */
  async #checkReferences(tx: Store, scope: EmergencyRequest['scope']): Promise<string[]> {
    const problems: string[] = [];
    if (scope.kind === 'app-bypass-groups') {
      if (scope.appId !== '' && !(await tx.getApplication(scope.appId))) {
        problems.push(`scope: no application "${scope.appId}"`);
      }
      for (const g of scope.groupIds) {
        if (!(await tx.getGroup(g))) problems.push(`scope: no group "${g}"`);
      }
    } else if (scope.kind === 'users-to-bypass-group') {
      if (scope.groupId !== '' && !(await tx.getGroup(scope.groupId))) {
        problems.push(`scope: no group "${scope.groupId}"`);
      }
      for (const u of scope.userIds) {
        if (!(await tx.getUser(u))) problems.push(`scope: no user "${u}"`);
      }
    }
    return problems;
  }

  async #world(tx: Store, scope: { kind: string; groupId?: string }): Promise<EmergencyWorld> {
    const controls = await tx.listEmergencyControls({ state: 'active' });
    const groupMembers: Record<string, string[]> = {};
    const controlMembers: Record<string, string[]> = {};
    if (scope.kind === 'users-to-bypass-group' && scope.groupId !== undefined) {
      const members = await tx.listGroupMemberOrigins(scope.groupId);
      groupMembers[scope.groupId] = members.map((m) => m.userId);
      controlMembers[scope.groupId] = members
        .filter((m) => m.addedByControl !== null)
        .map((m) => m.userId);
    }
    return { groupMembers, controlMembers, controls };
  }

  #audit(
    actor: string,
    action: string,
    control: EmergencyControl,
    detail: Record<string, unknown>,
  ): NewAuditEvent {
    return {
      tsMs: this.#clock.nowMs(),
      actor,
      action,
      targetType: 'emergency-control',
      targetId: control.id,
      appId: control.scope.kind === 'app-bypass-groups' ? control.scope.appId : null,
      username: null,
      result: 'ok',
      ip: null,
      detail,
    };
  }
}

/** The proxy's primary-only record for a control: what the control writes, and recognises later. */
function primaryOnlyRecordOf(control: EmergencyControl): PrimaryOnlyRecord {
  return {
    enabledAtMs: control.createdAtMs,
    expiresAtMs: control.expiresAtMs,
    actor: control.actor,
    reason: `emergency control ${control.id}: ${control.reason}`,
  };
}

function sameRecord(a: PrimaryOnlyRecord, b: PrimaryOnlyRecord): boolean {
  return (
    a.enabledAtMs === b.enabledAtMs &&
    a.expiresAtMs === b.expiresAtMs &&
    a.actor === b.actor &&
    a.reason === b.reason
  );
}

function invalid(errors: readonly string[]): AirlockError {
  return new AirlockError('EMERGENCY_INVALID', undefined, {
    message: `emergency control refused:\n${errors.map((e) => `  ${e}`).join('\n')}`,
  });
}
