// /admin/v1/groups: Duo Admin API-compatible groups, their status (bypass with the advisor's
// warning) and members.
import { AirlockError } from '../../../core/error-registry.ts';
import { GROUP_STATUSES, type GroupStatus } from '../../../core/model.ts';
import { generateId } from '../../../runtime/random.ts';
import { requireGroup, requireUser } from '../admin-lookups.ts';
import { adminAuditEvent, type AdminRoute, type ParamSpec } from '../admin-route.ts';
import { listOf, ref } from '../admin-schemas.ts';
import { groupView, userView } from '../admin-views.ts';
import { adviseBypass, findingView } from '../group-advice.ts';

const GROUP_ID: ParamSpec = {
  name: 'group_id',
  in: 'path',
  type: 'string',
  required: true,
  description: 'group id (a name is accepted too)',
};

export const GROUP_ROUTES: readonly AdminRoute[] = [
  {
    method: 'GET',
    path: '/admin/v1/groups',
    tag: 'groups',
    summary: 'List groups (Duo: GET /admin/v1/groups)',
    params: [],
    response: listOf('Group'),
    async handler({ ctx }) {
      return { response: (await ctx.store.listGroups()).map(groupView) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/groups',
    tag: 'groups',
    summary: 'Create a group (Duo: POST /admin/v1/groups)',
    params: [
      {
        name: 'name',
        in: 'body',
        type: 'string',
        required: true,
        max: 200,
        description: 'group name',
      },
      { name: 'desc', in: 'body', type: 'string', description: 'what the group is for' },
      {
        name: 'status',
        in: 'body',
        type: 'string',
        enum: GROUP_STATUSES,
        description: 'default active',
      },
    ],
    response: ref('Group'),
    async handler(call) {
      const { ctx, params } = call;
      const group = await ctx.store.transaction(async (tx) => {
        const g = await tx.createGroup({
          id: generateId(ctx.random, 'DG'),
          name: params.str('name'),
          description: params.optStr('desc') || null,
          status: (params.optStr('status') as GroupStatus | undefined) ?? 'active',
        });
        await tx.appendAudit(
          adminAuditEvent(
            call,
            'group.create',
            { type: 'group', id: g.id },
            { name: g.name, status: g.status },
          ),
        );
        return g;
      });
      return { response: groupView(group) };
    },
  },
  {
    method: 'GET',
    path: '/admin/v1/groups/:group_id',
    tag: 'groups',
    summary: 'One group (Duo: GET /admin/v2/groups/[group_id])',
    params: [GROUP_ID],
    response: ref('Group'),
    async handler({ ctx, params }) {
      return { response: groupView(await requireGroup(ctx.store, params.str('group_id'))) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/groups/:group_id',
    tag: 'groups',
    summary:
      "Change a group's name, description or status (Duo: POST /admin/v1/groups/[group_id]). " +
      'Bypass skips 2FA in every application the group reaches: metadata.warnings has the advisor findings',
    params: [
      GROUP_ID,
      { name: 'name', in: 'body', type: 'string', max: 200, description: 'new name' },
      { name: 'desc', in: 'body', type: 'string', description: 'new description ("" clears it)' },
      {
        name: 'status',
        in: 'body',
        type: 'string',
        enum: GROUP_STATUSES,
        description: 'new status',
      },
    ],
    response: ref('Group'),
    async handler(call) {
      const { ctx, params } = call;
      const status = params.optStr('status') as GroupStatus | undefined;
      const before = await requireGroup(ctx.store, params.str('group_id'));
      const warnings =
        status === 'bypass' && before.status !== 'bypass' ? await adviseBypass(ctx, before.id) : [];
      const updated = await ctx.store.transaction(async (tx) => {
        const group = await requireGroup(tx, before.id);
        const patch = {
          ...(params.has('name') ? { name: params.str('name') } : {}),
          ...(params.has('desc') ? { description: params.optStr('desc') || null } : {}),
        };
        let next = group;
        if (Object.keys(patch).length > 0) next = await tx.updateGroup(group.id, patch);
        if (status !== undefined && status !== group.status) {
          next = await tx.setGroupStatus(group.id, status);
          await tx.appendAudit(
            adminAuditEvent(
              call,
              'group.set-status',
              { type: 'group', id: group.id },
              {
                from: group.status,
                to: status,
                warnings: warnings.map((w) => w.message),
              },
            ),
          );
        }
        if (Object.keys(patch).length > 0) {
          await tx.appendAudit(
            adminAuditEvent(call, 'group.update', { type: 'group', id: group.id }, patch),
          );
        }
        return next;
      });
      return { response: groupView(updated), metadata: { warnings: warnings.map(findingView) } };
    },
  },
  {
    method: 'DELETE',
    path: '/admin/v1/groups/:group_id',
    tag: 'groups',
    summary: 'Delete a group (refused while an application is restricted to it)',
    params: [GROUP_ID],
    response: ref('Deleted'),
    async handler(call) {
      const { ctx, params } = call;
      await ctx.store.transaction(async (tx) => {
        const group = await requireGroup(tx, params.str('group_id'));
        await tx.deleteGroup(group.id);
        await tx.appendAudit(
          adminAuditEvent(
            call,
            'group.delete',
            { type: 'group', id: group.id },
            { name: group.name },
          ),
        );
      });
      return { response: { deleted: true } };
    },
  },
  {
    method: 'GET',
    path: '/admin/v1/groups/:group_id/members',
    tag: 'groups',
    summary: "A group's members (Duo: GET /admin/v2/groups/[group_id]/users)",
    params: [GROUP_ID],
    response: listOf('User'),
    async handler({ ctx, params }) {
      const group = await requireGroup(ctx.store, params.str('group_id'));
      return { response: (await ctx.store.listGroupMembers(group.id)).map((u) => userView(u)) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/groups/:group_id/members',
    tag: 'groups',
    summary:
      'Add a user to the group; into a bypass group, metadata.warnings has the advisor findings',
    params: [
      GROUP_ID,
      {
        name: 'user_id',
        in: 'body',
        type: 'string',
        required: true,
        description: 'user id or username',
      },
    ],
    response: listOf('User'),
    async handler(call) {
      const { ctx, params } = call;
      const group = await requireGroup(ctx.store, params.str('group_id'));
      const warnings = group.status === 'bypass' ? await adviseBypass(ctx, group.id) : [];
      await ctx.store.transaction(async (tx) => {
        const user = await requireUser(tx, params.str('user_id'));
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
      });
      return {
        response: (await ctx.store.listGroupMembers(group.id)).map((u) => userView(u)),
        metadata: { warnings: warnings.map(findingView) },
      };
    },
  },
  {
    method: 'DELETE',
    path: '/admin/v1/groups/:group_id/members/:user_id',
    tag: 'groups',
    summary: 'Remove a user from the group',
    params: [
      GROUP_ID,
      {
        name: 'user_id',
        in: 'path',
        type: 'string',
        required: true,
        description: 'user id or username',
      },
    ],
    response: ref('Deleted'),
    async handler(call) {
      const { ctx, params } = call;
      const removed = await ctx.store.transaction(async (tx) => {
        const group = await requireGroup(tx, params.str('group_id'));
        const user = await requireUser(tx, params.str('user_id'));
        const removed = await tx.removeGroupMember(group.id, user.id);
        if (!removed)
          throw new AirlockError('ADMIN_NOT_FOUND', `${user.username} is not in ${group.name}`);
        await tx.appendAudit(
          adminAuditEvent(
            call,
            'group.remove-member',
            { type: 'group', id: group.id },
            { user_id: user.id },
            user.username,
          ),
        );
        return removed;
      });
      return { response: { deleted: removed } };
    },
  },
];
