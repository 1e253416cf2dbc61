// /admin/v1/users: Duo Admin API-compatible users, their aliases, groups, tokens, bypass codes
// and devices.
import { Secret } from 'otpauth';
import { hashBypassCode } from '../../../core/bypass-code.ts';
import { AirlockError } from '../../../core/error-registry.ts';
import {
  OTP_ALGORITHMS,
  USER_STATUSES,
  type OtpAlgorithm,
  type UserStatus,
} from '../../../core/model.ts';
import { newTotpUri } from '../../../core/otp-verify.ts';
import { generateDigits, generateId } from '../../../runtime/random.ts';
import { renderActivationCode } from '../../auth-api/activation-code.ts';
import { requireGroup, requireUser } from '../admin-lookups.ts';
import { adminAuditEvent, type AdminRoute, type ParamSpec } from '../admin-route.ts';
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
const BASE32 = /^[A-Z2-7]+=*$/;
/** 160-bit secrets, the size RFC 4226 §4 recommends for HMAC-SHA1. */
const TOTP_SECRET_BYTES = 20;

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
      const { ctx, params } = call;
      const aliases = [
        ...(params.optList('aliases') ?? []),
        ...[1, 2, 3, 4].flatMap((n) => params.optStr(`alias${n}`) ?? []),
      ];
      const user = await ctx.store.transaction(async (tx) => {
        const u = await tx.createUser({
          id: generateId(ctx.random, 'DU'),
          username: params.str('username'),
          realName: params.optStr('realname') || null,
          email: params.optStr('email') || null,
          status: (params.optStr('status') as UserStatus | undefined) ?? 'active',
          aliases,
        });
        await tx.appendAudit(
          adminAuditEvent(
            call,
            'user.create',
            { type: 'user', id: u.id },
            { status: u.status, aliases: u.aliases },
            u.username,
          ),
        );
        return u;
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
      const updated = await ctx.store.transaction(async (tx) => {
        const user = await requireUser(tx, params.str('user_id'));
        const patch = {
          ...(params.has('realname') ? { realName: params.optStr('realname') || null } : {}),
          ...(params.has('email') ? { email: params.optStr('email') || null } : {}),
        };
        let next = user;
        if (Object.keys(patch).length > 0) next = await tx.updateUser(user.id, patch);
        const status = params.optStr('status') as UserStatus | undefined;
        if (status !== undefined && status !== user.status) {
          next = await tx.setUserStatus(user.id, status);
          if (status !== 'locked out') await tx.resetSecondFactorFailures(user.id);
        }
        await tx.appendAudit(
          adminAuditEvent(
            call,
            status !== undefined && status !== user.status ? 'user.set-status' : 'user.update',
            { type: 'user', id: user.id },
            { ...patch, ...(status !== undefined ? { from: user.status, to: status } : {}) },
            user.username,
          ),
        );
        return next;
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
      const { ctx, params } = call;
      await ctx.store.transaction(async (tx) => {
        const user = await requireUser(tx, params.str('user_id'));
        await tx.deleteUser(user.id);
        await tx.appendAudit(
          adminAuditEvent(call, 'user.delete', { type: 'user', id: user.id }, {}, user.username),
        );
      });
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
      const { ctx, params } = call;
      const updated = await ctx.store.transaction(async (tx) => {
        const user = await requireUser(tx, params.str('user_id'));
        const next = await tx.setUserAliases(user.id, params.optList('aliases') ?? []);
        await tx.appendAudit(
          adminAuditEvent(
            call,
            'user.set-aliases',
            { type: 'user', id: user.id },
            { from: user.aliases, to: next.aliases },
            user.username,
          ),
        );
        return next;
      });
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
      const user = await ctx.store.transaction(async (tx) => {
        const user = await requireUser(tx, params.str('user_id'));
        const group = await requireGroup(tx, params.str('group_id'));
        if (await tx.addGroupMember(group.id, user.id)) {
          await tx.appendAudit(
            adminAuditEvent(
              call,
              'group.add-member',
              { type: 'group', id: group.id },
              { user_id: user.id },
              user.username,
            ),
          );
        }
        return user;
      });
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
      const { ctx, params } = call;
      const removed = await ctx.store.transaction(async (tx) => {
        const user = await requireUser(tx, params.str('user_id'));
        const group = await requireGroup(tx, params.str('group_id'));
        const removed = await tx.removeGroupMember(group.id, user.id);
        if (removed) {
          await tx.appendAudit(
            adminAuditEvent(
              call,
              'group.remove-member',
              { type: 'group', id: group.id },
              { user_id: user.id },
              user.username,
            ),
          );
        }
        return removed;
      });
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
      const { ctx, params } = call;
      const digits = params.optInt('digits') ?? 6;
      if (digits === 7)
        throw new AirlockError('ADMIN_INVALID_PARAMETERS', 'digits: must be 6 or 8');
      const algorithm = (params.optStr('algorithm') as OtpAlgorithm | undefined) ?? 'SHA1';
      const period = params.optInt('period') ?? 30;
      const secret = new Secret({ buffer: toArrayBuffer(ctx.random.bytes(TOTP_SECRET_BYTES)) })
        .base32;
      const { user, token } = await ctx.store.transaction(async (tx) => {
        const user = await requireUser(tx, params.str('user_id'));
        const token = await tx.addOtpToken({
          id: generateId(ctx.random, 'DT'),
          userId: user.id,
          type: 'totp',
          secret,
          algorithm,
          digits,
          periodSeconds: period,
          counter: 0,
          name: params.optStr('name') || null,
        });
        await tx.appendAudit(
          adminAuditEvent(
            call,
            'token.add',
            { type: 'token', id: token.id },
            { type: 'totp', algorithm },
            user.username,
          ),
        );
        return { user, token };
      });
      const uri = newTotpUri({
        issuer: params.optStr('issuer') ?? 'Airlock',
        label: user.username,
        secret,
        algorithm,
        digits,
        periodSeconds: period,
      });
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
      const { ctx, params } = call;
      const secret = params.str('secret').replace(/\s+/g, '').toUpperCase();
      if (!BASE32.test(secret))
        throw new AirlockError('ADMIN_INVALID_PARAMETERS', 'secret: must be base32');
      const digits = params.optInt('digits') ?? 6;
      if (digits === 7)
        throw new AirlockError('ADMIN_INVALID_PARAMETERS', 'digits: must be 6 or 8');
      const algorithm = (params.optStr('algorithm') as OtpAlgorithm | undefined) ?? 'SHA1';
      const token = await ctx.store.transaction(async (tx) => {
        const user = await requireUser(tx, params.str('user_id'));
        const token = await tx.addOtpToken({
          id: generateId(ctx.random, 'DT'),
          userId: user.id,
          type: 'hotp',
          secret,
          algorithm,
          digits,
          periodSeconds: 30,
          counter: params.optInt('counter') ?? 0,
          name: params.optStr('name') || null,
        });
        await tx.appendAudit(
          adminAuditEvent(
            call,
            'token.add',
            { type: 'token', id: token.id },
            { type: 'hotp', algorithm },
            user.username,
          ),
        );
        return token;
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
      const { ctx, params } = call;
      await ctx.store.transaction(async (tx) => {
        const user = await requireUser(tx, params.str('user_id'));
        const tokenId = params.str('token_id');
        if (!(await tx.deleteOtpToken(user.id, tokenId))) {
          throw new AirlockError('ADMIN_NOT_FOUND', `token ${tokenId}`);
        }
        await tx.appendAudit(
          adminAuditEvent(call, 'token.delete', { type: 'token', id: tokenId }, {}, user.username),
        );
      });
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
      const { ctx, params } = call;
      const count = params.optInt('count') ?? 10;
      const uses = params.optInt('reuse_count') ?? 1;
      const validSecs = params.optInt('valid_secs');
      const expiresAtMs = validSecs === undefined ? null : ctx.clock.nowMs() + validSecs * 1000;
      const codes = Array.from({ length: count }, () => generateDigits(ctx.random, 9));
      await ctx.store.transaction(async (tx) => {
        const user = await requireUser(tx, params.str('user_id'));
        await tx.replaceBypassCodes(
          user.id,
          codes.map((code) => ({
            id: generateId(ctx.random, 'BC'),
            codeHash: hashBypassCode(ctx.bypassPepper, code),
            remainingUses: uses === 0 ? null : uses,
            expiresAtMs,
          })),
        );
        await tx.appendAudit(
          adminAuditEvent(
            call,
            'bypass-codes.replace',
            { type: 'user', id: user.id },
            { count, uses, expiresAtMs },
            user.username,
          ),
        );
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
      const code = generateId(ctx.random, '', 20);
      const expiresAtMs = ctx.clock.nowMs() + (params.optInt('valid_secs') ?? 86_400) * 1000;
      await ctx.store.transaction(async (tx) => {
        const user = await requireUser(tx, params.str('user_id'));
        await tx.createDeviceActivation({ activationCode: code, userId: user.id, expiresAtMs });
        await tx.appendAudit(
          adminAuditEvent(
            call,
            'device.enroll',
            { type: 'user', id: user.id },
            { expiresAtMs },
            user.username,
          ),
        );
      });
      const apiHost = ctx.apiHost();
      const activationCode = renderActivationCode(code, apiHost);
      return {
        response: {
          activation_code: activationCode,
          activation_url: `https://${apiHost}/authenticator/?code=${code}`,
          activation_barcode: `https://${apiHost}/frame/qr?value=${encodeURIComponent(activationCode)}`,
          expiration: Math.floor(expiresAtMs / 1000),
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
      const { ctx, params } = call;
      await ctx.store.transaction(async (tx) => {
        const user = await requireUser(tx, params.str('user_id'));
        const deviceId = params.str('device_id');
        const device = await tx.getDevice(deviceId);
        if (!device || device.userId !== user.id || !(await tx.deleteDevice(deviceId))) {
          throw new AirlockError('ADMIN_NOT_FOUND', `device ${deviceId}`);
        }
        await tx.appendAudit(
          adminAuditEvent(
            call,
            'device.remove',
            { type: 'device', id: deviceId },
            {},
            user.username,
          ),
        );
      });
      return { response: { deleted: true } };
    },
  },
];

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
