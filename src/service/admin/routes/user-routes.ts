// /admin/v1/users: Duo Admin API-compatible users, their aliases, groups, tokens, bypass codes
// and devices.
import {
  OTP_ALGORITHMS,
  USER_STATUSES,
  type OtpAlgorithm,
  type UserStatus,
} from '../../../core/model.ts';
import { replaceBypassCodes } from '../../../operations/bypass-code-operations.ts';
import { enrollDevice, removeDevice } from '../../../operations/device-operations.ts';
import { addGroupMember, removeGroupMember } from '../../../operations/group-operations.ts';
import { requireUser } from '../../../operations/record-lookups.ts';
import {
  addHotpToken,
  addTotpToken,
  deleteOtpToken,
} from '../../../operations/token-operations.ts';
import {
  createUser,
  deleteUser,
  setUserAliases,
  updateUser,
} from '../../../operations/user-operations.ts';
import { operationContext, type AdminRoute, type ParamSpec } from '../admin-route.ts';
import { listOf, ref } from '../admin-schemas.ts';
import { bypassCodeView, deviceView, groupView, tokenView, userView } from '../admin-views.ts';

const USER_ID: ParamSpec = {
  name: 'user_id',
  in: 'path',
  type: 'string',
  required: true,
  description: 'user id (a username or alias is accepted too)',
};
const USERS_MAX_LIMIT = 300;
export const USER_ROUTES: readonly AdminRoute[] = [
  {
    method: 'GET',
    path: '/admin/v1/users',
    tag: 'users',
    summary: 'List users (Duo: GET /admin/v1/users), by username, paged by offset',
    params: [
      { name: 'username', in: 'query', type: 'string', description: 'only this user (Duo)' },
      {
        name: 'search',
        in: 'query',
        type: 'string',
        description: 'username, alias, name or e-mail contains this',
      },
      {
        name: 'limit',
        in: 'query',
        type: 'integer',
        min: 1,
        max: USERS_MAX_LIMIT,
        description: 'page size (default 100)',
      },
      { name: 'offset', in: 'query', type: 'integer', min: 0, description: 'skip this many' },
    ],
    response: listOf('User'),
    async handler({ ctx, params }) {
      const username = params.optStr('username') || undefined;
      if (username !== undefined) {
        const user = await ctx.store.findUser(username);
        return {
          response: user ? [userView(user, await ctx.store.listUserGroups(user.id))] : [],
        };
      }
      const limit = params.optInt('limit') ?? 100;
      const offset = params.optInt('offset') ?? 0;
      // One more than asked tells whether there is a next page.
      const users = await ctx.store.listUsers({
        limit: limit + 1,
        offset,
        search: params.optStr('search') || undefined,
      });
      const page = users.slice(0, limit);
      const withGroups = await Promise.all(
        page.map(async (u) => userView(u, await ctx.store.listUserGroups(u.id))),
      );
      return {
        response: withGroups,
        metadata: users.length > limit ? { next_offset: offset + limit } : {},
      };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/users',
    tag: 'users',
    summary: 'Create a user (Duo: POST /admin/v1/users)',
    params: [
      {
        name: 'username',
        in: 'body',
        type: 'string',
        required: true,
        max: 200,
        description: 'login name',
      },
      { name: 'realname', in: 'body', type: 'string', description: 'full name' },
      { name: 'email', in: 'body', type: 'string', description: 'e-mail address' },
      {
        name: 'status',
        in: 'body',
        type: 'string',
        enum: USER_STATUSES,
        description: 'default active',
      },
      { name: 'aliases', in: 'body', type: 'string[]', max: 8, description: 'other login names' },
      ...[1, 2, 3, 4].map((n): ParamSpec => ({
        name: `alias${n}`,
        in: 'body',
        type: 'string',
        description: `alias (Duo's alias${n})`,
      })),
    ],
    response: ref('User'),
    async handler(call) {
      const { params } = call;
      const aliases = [
        ...(params.optList('aliases') ?? []),
        ...[1, 2, 3, 4].flatMap((n) => params.optStr(`alias${n}`) ?? []),
      ];
      const user = await createUser(operationContext(call), {
        username: params.str('username'),
        realName: params.optStr('realname') || null,
        email: params.optStr('email') || null,
        status: params.optStr('status') as UserStatus | undefined,
        aliases,
      });
      return { response: userView(user, []) };
    },
  },
  {
    method: 'GET',
    path: '/admin/v1/users/:user_id',
    tag: 'users',
    summary: 'One user with its groups (Duo: GET /admin/v1/users/[user_id])',
    params: [USER_ID],
    response: ref('User'),
    async handler({ ctx, params }) {
      const user = await requireUser(ctx.store, params.str('user_id'));
      return { response: userView(user, await ctx.store.listUserGroups(user.id)) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/users/:user_id',
    tag: 'users',
    summary: "Change a user's name, e-mail or status (Duo: POST /admin/v1/users/[user_id])",
    params: [
      USER_ID,
      { name: 'realname', in: 'body', type: 'string', description: 'full name ("" clears it)' },
      { name: 'email', in: 'body', type: 'string', description: 'e-mail address ("" clears it)' },
      {
        name: 'status',
        in: 'body',
        type: 'string',
        enum: USER_STATUSES,
        description: 'new status; anything but "locked out" clears the failure count',
      },
    ],
    response: ref('User'),
    async handler(call) {
      const { ctx, params } = call;
      const updated = await updateUser(operationContext(call), params.str('user_id'), {
        ...(params.has('realname') ? { realName: params.optStr('realname') || null } : {}),
        ...(params.has('email') ? { email: params.optStr('email') || null } : {}),
        ...(params.has('status') ? { status: params.optStr('status') as UserStatus } : {}),
      });
      return { response: userView(updated, await ctx.store.listUserGroups(updated.id)) };
    },
  },
  {
    method: 'DELETE',
    path: '/admin/v1/users/:user_id',
    tag: 'users',
    summary: 'Delete a user with its tokens, codes, devices and memberships',
    params: [USER_ID],
    response: ref('Deleted'),
    async handler(call) {
      const { params } = call;
      await deleteUser(operationContext(call), params.str('user_id'));
      return { response: { deleted: true } };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/users/:user_id/aliases',
    tag: 'users',
    summary: "Replace a user's aliases",
    params: [
      USER_ID,
      {
        name: 'aliases',
        in: 'body',
        type: 'string[]',
        required: true,
        max: 8,
        description: 'every alias the user keeps ("" = none)',
      },
    ],
    response: ref('User'),
    async handler(call) {
      const { params } = call;
      const updated = await setUserAliases(
        operationContext(call),
        params.str('user_id'),
        params.optList('aliases') ?? [],
      );
      return { response: userView(updated) };
    },
  },
  {
    method: 'GET',
    path: '/admin/v1/users/:user_id/groups',
    tag: 'users',
    summary: "A user's groups (Duo: GET /admin/v1/users/[user_id]/groups)",
    params: [USER_ID],
    response: listOf('Group'),
    async handler({ ctx, params }) {
      const user = await requireUser(ctx.store, params.str('user_id'));
      return { response: (await ctx.store.listUserGroups(user.id)).map(groupView) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/users/:user_id/groups',
    tag: 'users',
    summary: 'Add a user to a group (Duo: POST /admin/v1/users/[user_id]/groups)',
    params: [
      USER_ID,
      {
        name: 'group_id',
        in: 'body',
        type: 'string',
        required: true,
        description: 'group id or name',
      },
    ],
    response: listOf('Group'),
    async handler(call) {
      const { ctx, params } = call;
      const { user } = await addGroupMember(
        operationContext(call),
        params.str('group_id'),
        params.str('user_id'),
      );
      return { response: (await ctx.store.listUserGroups(user.id)).map(groupView) };
    },
  },
  {
    method: 'DELETE',
    path: '/admin/v1/users/:user_id/groups/:group_id',
    tag: 'users',
    summary: 'Remove a user from a group (Duo: DELETE /admin/v1/users/[user_id]/groups/[group_id])',
    params: [
      USER_ID,
      {
        name: 'group_id',
        in: 'path',
        type: 'string',
        required: true,
        description: 'group id or name',
      },
    ],
    response: ref('Deleted'),
    async handler(call) {
      const { params } = call;
      const { changed: removed } = await removeGroupMember(
        operationContext(call),
        params.str('group_id'),
        params.str('user_id'),
      );
      return { response: { deleted: removed } };
    },
  },
  {
    method: 'GET',
    path: '/admin/v1/users/:user_id/tokens',
    tag: 'tokens',
    summary: "A user's OTP tokens (never their secrets)",
    params: [USER_ID],
    response: listOf('Token'),
    async handler({ ctx, params }) {
      const user = await requireUser(ctx.store, params.str('user_id'));
      return { response: (await ctx.store.listOtpTokens(user.id)).map(tokenView) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/users/:user_id/tokens/totp',
    tag: 'tokens',
    summary: 'Make a TOTP secret for a user; the secret and otpauth URI are in this answer only',
    params: [
      USER_ID,
      { name: 'name', in: 'body', type: 'string', max: 100, description: 'label' },
      {
        name: 'algorithm',
        in: 'body',
        type: 'string',
        enum: OTP_ALGORITHMS,
        description: 'default SHA1',
      },
      {
        name: 'digits',
        in: 'body',
        type: 'integer',
        min: 6,
        max: 8,
        description: '6 (default) or 8',
      },
      {
        name: 'period',
        in: 'body',
        type: 'integer',
        min: 15,
        max: 120,
        description: 'seconds (default 30)',
      },
      {
        name: 'issuer',
        in: 'body',
        type: 'string',
        max: 100,
        description: 'shown in the authenticator app',
      },
    ],
    response: ref('NewTotpToken'),
    async handler(call) {
      const { params } = call;
      const { token, secret, uri } = await addTotpToken(
        operationContext(call),
        params.str('user_id'),
        {
          name: params.optStr('name') || null,
          algorithm: params.optStr('algorithm') as OtpAlgorithm | undefined,
          digits: params.optInt('digits'),
          periodSeconds: params.optInt('period'),
          issuer: params.optStr('issuer'),
        },
      );
      return { response: { ...tokenView(token), secret, uri } };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/users/:user_id/tokens/hotp',
    tag: 'tokens',
    summary: 'Register an HOTP hardware token by its seed',
    params: [
      USER_ID,
      {
        name: 'secret',
        in: 'body',
        type: 'string',
        required: true,
        max: 200,
        description: "the token's seed, base32",
      },
      {
        name: 'counter',
        in: 'body',
        type: 'integer',
        min: 0,
        description: 'current counter (default 0)',
      },
      {
        name: 'name',
        in: 'body',
        type: 'string',
        max: 100,
        description: 'label, e.g. the serial number',
      },
      {
        name: 'algorithm',
        in: 'body',
        type: 'string',
        enum: OTP_ALGORITHMS,
        description: 'default SHA1',
      },
      {
        name: 'digits',
        in: 'body',
        type: 'integer',
        min: 6,
        max: 8,
        description: '6 (default) or 8',
      },
    ],
    response: ref('Token'),
    async handler(call) {
      const { params } = call;
      const { token } = await addHotpToken(operationContext(call), params.str('user_id'), {
        secret: params.str('secret'),
        counter: params.optInt('counter'),
        name: params.optStr('name') || null,
        algorithm: params.optStr('algorithm') as OtpAlgorithm | undefined,
        digits: params.optInt('digits'),
      });
      return { response: tokenView(token) };
    },
  },
  {
    method: 'DELETE',
    path: '/admin/v1/users/:user_id/tokens/:token_id',
    tag: 'tokens',
    summary: "Delete one of a user's OTP tokens",
    params: [
      USER_ID,
      { name: 'token_id', in: 'path', type: 'string', required: true, description: 'token id' },
    ],
    response: ref('Deleted'),
    async handler(call) {
      const { params } = call;
      await deleteOtpToken(operationContext(call), params.str('user_id'), params.str('token_id'));
      return { response: { deleted: true } };
    },
  },
  {
    method: 'GET',
    path: '/admin/v1/users/:user_id/bypass_codes',
    tag: 'bypass codes',
    summary: "A user's bypass codes (never the codes themselves)",
    params: [USER_ID],
    response: listOf('BypassCode'),
    async handler({ ctx, params }) {
      const user = await requireUser(ctx.store, params.str('user_id'));
      return { response: (await ctx.store.listBypassCodes(user.id)).map(bypassCodeView) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/users/:user_id/bypass_codes',
    tag: 'bypass codes',
    summary:
      'Generate bypass codes, replacing earlier ones (Duo: POST /admin/v1/users/[user_id]/bypass_codes); the codes are in this answer only',
    params: [
      USER_ID,
      {
        name: 'count',
        in: 'body',
        type: 'integer',
        min: 1,
        max: 100,
        description: 'how many (default 10)',
      },
      {
        name: 'reuse_count',
        in: 'body',
        type: 'integer',
        min: 0,
        max: 1000,
        description: 'uses per code, 0 = unlimited until expiry (default 1)',
      },
      {
        name: 'valid_secs',
        in: 'body',
        type: 'integer',
        min: 60,
        max: 365 * 86_400,
        description: 'lifetime (default: no expiry)',
      },
    ],
    response: { type: 'array', items: { type: 'string' } },
    async handler(call) {
      const { params } = call;
      const validSecs = params.optInt('valid_secs');
      const { codes } = await replaceBypassCodes(operationContext(call), params.str('user_id'), {
        count: params.optInt('count'),
        uses: params.optInt('reuse_count'),
        ...(validSecs !== undefined ? { validForMs: validSecs * 1000 } : {}),
      });
      return { response: codes };
    },
  },
  {
    method: 'GET',
    path: '/admin/v1/users/:user_id/devices',
    tag: 'devices',
    summary: "A user's authenticators and phone numbers",
    params: [USER_ID],
    response: listOf('Device'),
    async handler({ ctx, params }) {
      const user = await requireUser(ctx.store, params.str('user_id'));
      return { response: (await ctx.store.listDevices(user.id)).map(deviceView) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/users/:user_id/devices/activation',
    tag: 'devices',
    summary: 'Make an activation code for an authenticator of this user',
    params: [
      USER_ID,
      {
        name: 'valid_secs',
        in: 'body',
        type: 'integer',
        min: 60,
        max: 30 * 86_400,
        description: 'how long the code works (default 86400)',
      },
    ],
    response: ref('Activation'),
    async handler(call) {
      const { ctx, params } = call;
      const a = await enrollDevice(operationContext(call), params.str('user_id'), {
        validSeconds: params.optInt('valid_secs'),
        apiHost: ctx.apiHost(),
      });
      return {
        response: {
          activation_code: a.activationCode,
          activation_url: a.activationUrl,
          activation_barcode: a.activationBarcode,
          expiration: Math.floor(a.expiresAtMs / 1000),
        },
      };
    },
  },
  {
    method: 'DELETE',
    path: '/admin/v1/users/:user_id/devices/:device_id',
    tag: 'devices',
    summary: "Remove a user's device (its passcodes stop working)",
    params: [
      USER_ID,
      { name: 'device_id', in: 'path', type: 'string', required: true, description: 'device id' },
    ],
    response: ref('Deleted'),
    async handler(call) {
      const { params } = call;
      await removeDevice(operationContext(call), params.str('device_id'), {
        userRef: params.str('user_id'),
      });
      return { response: { deleted: true } };
    },
  },
];
