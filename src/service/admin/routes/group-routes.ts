// /admin/v1/groups: Duo Admin API-compatible groups, their status (bypass with the advisor's
// warning) and members.
import { GROUP_STATUSES, type GroupStatus } from '../../../core/model.ts';
import {
  addGroupMember,
  createGroup,
  deleteGroup,
  removeGroupMember,
  updateGroup,
} from '../../../operations/group-operations.ts';
import { requireGroup } from '../../../operations/record-lookups.ts';
import { operationContext, type AdminRoute, type ParamSpec } from '../admin-route.ts';
import { listOf, ref } from '../admin-schemas.ts';
import { findingView, groupView, userView } from '../admin-views.ts';

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
      const { params } = call;
      const group = await createGroup(operationContext(call), {
        name: params.str('name'),
        description: params.optStr('desc') || null,
        status: params.optStr('status') as GroupStatus | undefined,
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
      const { params } = call;
      const { group: updated, warnings } = await updateGroup(
        operationContext(call),
        params.str('group_id'),
        {
          ...(params.has('name') ? { name: params.str('name') } : {}),
          ...(params.has('desc') ? { description: params.optStr('desc') || null } : {}),
          ...(params.has('status') ? { status: params.optStr('status') as GroupStatus } : {}),
        },
      );
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
      const { params } = call;
      await deleteGroup(operationContext(call), params.str('group_id'));
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
      const { group, warnings } = await addGroupMember(
        operationContext(call),
        params.str('group_id'),
        params.str('user_id'),
      );
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
      const { params } = call;
      const { changed: removed } = await removeGroupMember(
        operationContext(call),
        params.str('group_id'),
        params.str('user_id'),
        { mustBeMember: true },
      );
      return { response: { deleted: removed } };
    },
  },
];
