// Applications (integrations with an ikey/skey): create, edit, rotate the secret, delete.
import { AirlockError } from '../core/error-registry.ts';
import type { Application, ApplicationType } from '../core/model.ts';
import { MAX_REDIRECT_URIS, redirectUriProblem } from '../core/web-sdk.ts';
import { generateId, generateSecretKey } from '../runtime/random.ts';
import type { ApplicationPatch, Store } from '../store/store.ts';
import { auditEvent, type OperationContext } from './operation-context.ts';
import { requireApplication, requireGroupIds } from './record-lookups.ts';

/** Policy settings of an application; a field left out keeps its value (or default). */
export type ApplicationSettings = Pick<
  ApplicationPatch,
  | 'newUserPolicy'
  | 'restrictionLevel'
  | 'rateLimitPerSecond'
  | 'verifiedPush'
  | 'usernameNormalization'
  | 'allowV1Signature'
  | 'redirectUris'
  | 'rememberDeviceHours'
>;

/** Longest "remember this device" window an application may set: 30 days. */
export const MAX_REMEMBER_DEVICE_HOURS = 720;

export interface CreateApplicationInput extends ApplicationSettings {
  name: string;
  type?: ApplicationType;
  /** Group ids or names allowed to use it; undefined or [] = everyone. */
  groups?: readonly string[];
}

export interface ApplicationEdit extends ApplicationSettings {
  name?: string;
  /** Group ids or names allowed to use it; [] = everyone; undefined = unchanged. */
  groups?: readonly string[];
}

/** Creates an application with a new ikey and skey; audited as `application.create`. */
export async function createApplication(
  ctx: OperationContext,
  input: CreateApplicationInput,
): Promise<Application> {
  const type = input.type ?? 'auth-api';
  checkWebSdkSettings(type, input);
  return ctx.store.transaction(async (tx) => {
    const app = await tx.createApplication({
      name: input.name,
      type,
      newUserPolicy: input.newUserPolicy ?? 'enroll',
      restrictionLevel: input.restrictionLevel ?? 'restrictive',
      rateLimitPerSecond: input.rateLimitPerSecond ?? 50,
      verifiedPush: input.verifiedPush ?? false,
      ...(input.usernameNormalization !== undefined
        ? { usernameNormalization: input.usernameNormalization }
        : {}),
      // Duo's Authentication Proxy signs with v1 only: an `authproxy` application accepts it
      // unless told otherwise; any other type only when asked to.
      allowV1Signature: input.allowV1Signature ?? type === 'authproxy',
      ...(input.redirectUris !== undefined ? { redirectUris: [...input.redirectUris] } : {}),
      ...(input.rememberDeviceHours !== undefined
        ? { rememberDeviceHours: input.rememberDeviceHours }
        : {}),
      ikey: generateId(ctx.random, 'DI'),
      skey: generateSecretKey(ctx.random),
    });
    if (input.groups !== undefined) await setGroups(tx, app.id, input.groups);
    await tx.appendAudit(
      auditEvent(
        ctx,
        'application.create',
        { type: 'application', id: app.id },
        {
          name: app.name,
          type: app.type,
          allowV1Signature: app.allowV1Signature,
          ...(app.type === 'web-sdk' ? { redirectUris: app.redirectUris } : {}),
        },
      ),
    );
    return (await tx.getApplication(app.id)) ?? app;
  });
}

/** Changes an application's name, settings or groups; audited as `application.update`. */
export async function updateApplication(
  ctx: OperationContext,
  ref: string,
  edit: ApplicationEdit,
): Promise<Application> {
  return ctx.store.transaction(async (tx) => {
    const app = await requireApplication(tx, ref);
    const { groups, ...patch } = edit;
    checkWebSdkSettings(app.type, patch);
    await tx.updateApplication(app.id, patch);
    if (groups !== undefined) await setGroups(tx, app.id, groups);
    await tx.appendAudit(
      auditEvent(
        ctx,
        'application.update',
        { type: 'application', id: app.id },
        { ...patch, groups },
      ),
    );
    return (await tx.getApplication(app.id))!;
  });
}

/** Replaces the secret key; audited as `application.rotate-secret`. The answer has the new skey. */
export async function rotateApplicationSecret(
  ctx: OperationContext,
  ref: string,
): Promise<Application> {
  return ctx.store.transaction(async (tx) => {
    const app = await requireApplication(tx, ref);
    const updated = await tx.updateApplication(app.id, { skey: generateSecretKey(ctx.random) });
    await tx.appendAudit(
      auditEvent(
        ctx,
        'application.rotate-secret',
        { type: 'application', id: app.id },
        { name: app.name },
      ),
    );
    return updated;
  });
}

/** Deletes an application (its ikey stops working); audited as `application.delete`. */
export async function deleteApplication(ctx: OperationContext, ref: string): Promise<Application> {
  return ctx.store.transaction(async (tx) => {
    const app = await requireApplication(tx, ref);
    await tx.deleteApplication(app.id);
    await tx.appendAudit(
      auditEvent(
        ctx,
        'application.delete',
        { type: 'application', id: app.id },
        { name: app.name },
      ),
    );
    return app;
  });
}

async function setGroups(tx: Store, appId: string, refs: readonly string[]): Promise<void> {
  await tx.setApplicationGroups(appId, await requireGroupIds(tx, refs));
}

/**
 * Redirect URIs and the remember-device window belong to web-sdk applications: each URI must be
 * registrable (core/web-sdk.ts), and no other type takes them (they would be ignored silently).
 */
function checkWebSdkSettings(type: ApplicationType, settings: ApplicationSettings): void {
  const invalid = (detail: string) => new AirlockError('ADMIN_INVALID_PARAMETERS', detail);
  const uris = settings.redirectUris;
  if (type !== 'web-sdk') {
    if ((uris !== undefined && uris.length > 0) || (settings.rememberDeviceHours ?? 0) > 0) {
      throw invalid('redirect_uris and remember_device_hours are for web-sdk applications');
    }
    return;
  }
  // None registered (yet) is allowed: every authorize request is then refused.
  if (uris !== undefined) {
    if (uris.length > MAX_REDIRECT_URIS) {
      throw invalid(`redirect_uris: at most ${MAX_REDIRECT_URIS}`);
    }
    const problems = uris.flatMap((u) => {
      const problem = redirectUriProblem(u);
      return problem ? [`redirect_uri "${u}": ${problem}`] : [];
    });
    if (problems.length > 0) throw invalid(problems.join('; '));
  }
  const hours = settings.rememberDeviceHours;
  if (
    hours !== undefined &&
    (!Number.isInteger(hours) || hours < 0 || hours > MAX_REMEMBER_DEVICE_HOURS)
  ) {
    throw invalid(`remember_device_hours: 0 to ${MAX_REMEMBER_DEVICE_HOURS}`);
  }
}
