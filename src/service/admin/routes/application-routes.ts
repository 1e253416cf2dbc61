// /admin/v1/applications: integrations with an ikey/skey, their policy settings and secrets.
import { USERNAME_NORMALIZATIONS } from '../../../core/username.ts';
import {
  APPLICATION_TYPES,
  NEW_USER_POLICIES,
  RESTRICTION_LEVELS,
  type Application,
} from '../../../core/model.ts';
import type { ApplicationPatch } from '../../../store/store.ts';
import {
  createApplication,
  deleteApplication,
  rotateApplicationSecret,
  updateApplication,
} from '../../../operations/application-operations.ts';
import { requireApplication } from '../../../operations/record-lookups.ts';
import { operationContext, type AdminRoute, type Params, type ParamSpec } from '../admin-route.ts';
import { listOf, ref } from '../admin-schemas.ts';
import { applicationView } from '../admin-views.ts';

const APP_ID: ParamSpec = {
  name: 'app_id',
  in: 'path',
  type: 'string',
  required: true,
  description: 'application id (its ikey or name are accepted too)',
};

const SETTINGS: readonly ParamSpec[] = [
  {
    name: 'new_user_policy',
    in: 'body',
    type: 'string',
    enum: NEW_USER_POLICIES,
    description: 'users without a second factor: enroll (default), allow or deny',
  },
  {
    name: 'restriction_level',
    in: 'body',
    type: 'string',
    enum: RESTRICTION_LEVELS,
    description: 'data classification (default restrictive)',
  },
  {
    name: 'rate_limit',
    in: 'body',
    type: 'integer',
    min: 0,
    max: 100_000,
    description: 'Auth API requests per second, 0 = unlimited (default 50)',
  },
  {
    name: 'groups',
    in: 'body',
    type: 'string[]',
    max: 100,
    description: 'group ids or names allowed to use it; "" = everyone',
  },
  {
    name: 'verified_push',
    in: 'body',
    type: 'boolean',
    description: 'pushes carry a code the user types',
  },
  {
    name: 'username_normalization',
    in: 'body',
    type: 'string',
    enum: USERNAME_NORMALIZATIONS,
    description:
      'simple (default): DOMAIN\\alice and alice@example.org mean alice; none: only case and ' +
      'surrounding spaces are ignored',
  },
  {
    name: 'allow_v1_signature',
    in: 'body',
    type: 'boolean',
    description:
      'accept signature v1 on /rest/v1 (Duo Authentication Proxy; no date is signed, so a ' +
      'captured request can be replayed); default true for type authproxy, else false',
  },
  {
    name: 'redirect_uris',
    in: 'body',
    type: 'string[]',
    max: 20,
    description: 'web-sdk: the redirect URIs an authorize request may name (replaces the list)',
  },
  {
    name: 'remember_device_hours',
    in: 'body',
    type: 'integer',
    min: 0,
    max: 720,
    description: 'web-sdk: hours the prompt may remember a device; 0 = never (default)',
  },
];

export const APPLICATION_ROUTES: readonly AdminRoute[] = [
  {
    method: 'GET',
    path: '/admin/v1/applications',
    tag: 'applications',
    summary: 'List applications (never their secret keys)',
    params: [],
    response: listOf('Application'),
    async handler({ ctx }) {
      return { response: (await ctx.store.listApplications()).map(applicationView) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/applications',
    tag: 'applications',
    summary: 'Create an application; its skey is in this answer only',
    params: [
      {
        name: 'name',
        in: 'body',
        type: 'string',
        required: true,
        max: 200,
        description: 'application name',
      },
      {
        name: 'type',
        in: 'body',
        type: 'string',
        enum: APPLICATION_TYPES,
        description: 'integration type (default auth-api)',
      },
      ...SETTINGS,
    ],
    response: ref('ApplicationWithSecret'),
    async handler(call) {
      const { params } = call;
      const groups = params.optList('groups');
      const created = await createApplication(operationContext(call), {
        ...readSettings(params),
        name: params.str('name'),
        type: params.optStr('type') as Application['type'] | undefined,
        ...(groups !== undefined ? { groups } : {}),
      });
      return { response: { ...applicationView(created), skey: created.skey } };
    },
  },
  {
    method: 'GET',
    path: '/admin/v1/applications/:app_id',
    tag: 'applications',
    summary: 'One application',
    params: [APP_ID],
    response: ref('Application'),
    async handler({ ctx, params }) {
      return {
        response: applicationView(await requireApplication(ctx.store, params.str('app_id'))),
      };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/applications/:app_id',
    tag: 'applications',
    summary: "Change an application's name or policy settings",
    params: [
      APP_ID,
      { name: 'name', in: 'body', type: 'string', max: 200, description: 'new name' },
      ...SETTINGS,
    ],
    response: ref('Application'),
    async handler(call) {
      const { params } = call;
      const groups = params.optList('groups');
      const updated = await updateApplication(operationContext(call), params.str('app_id'), {
        ...readSettings(params),
        ...(params.has('name') ? { name: params.str('name') } : {}),
        ...(groups !== undefined ? { groups } : {}),
      });
      return { response: applicationView(updated) };
    },
  },
  {
    method: 'DELETE',
    path: '/admin/v1/applications/:app_id',
    tag: 'applications',
    summary: 'Delete an application (its ikey stops working within a second)',
    params: [APP_ID],
    response: ref('Deleted'),
    async handler(call) {
      const { params } = call;
      await deleteApplication(operationContext(call), params.str('app_id'));
      return { response: { deleted: true } };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/applications/:app_id/rotate_secret',
    tag: 'applications',
    summary: 'Replace the secret key; the new skey is in this answer only',
    params: [APP_ID],
    response: ref('ApplicationWithSecret'),
    async handler(call) {
      const { params } = call;
      const updated = await rotateApplicationSecret(operationContext(call), params.str('app_id'));
      return { response: { ...applicationView(updated), skey: updated.skey } };
    },
  },
];

function readSettings(params: Params): Partial<ApplicationPatch> {
  const out: Partial<ApplicationPatch> = {};
  const policy = params.optStr('new_user_policy');
  if (policy !== undefined) out.newUserPolicy = policy as ApplicationPatch['newUserPolicy'];
  const level = params.optStr('restriction_level');
  if (level !== undefined) out.restrictionLevel = level as ApplicationPatch['restrictionLevel'];
  const rate = params.optInt('rate_limit');
  if (rate !== undefined) out.rateLimitPerSecond = rate;
  const verified = params.optBool('verified_push');
  if (verified !== undefined) out.verifiedPush = verified;
  const normalization = params.optStr('username_normalization');
  if (normalization !== undefined) {
    out.usernameNormalization = normalization as ApplicationPatch['usernameNormalization'];
  }
  const v1 = params.optBool('allow_v1_signature');
  if (v1 !== undefined) out.allowV1Signature = v1;
  const redirectUris = params.optList('redirect_uris');
  if (redirectUris !== undefined) out.redirectUris = redirectUris;
  const rememberHours = params.optInt('remember_device_hours');
  if (rememberHours !== undefined) out.rememberDeviceHours = rememberHours;
  return out;
}
