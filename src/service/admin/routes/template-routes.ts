// /admin/v1/message_templates: the outage guide's user messages (`notify draft|send`), each kind
// in each language; the edited text over the default, reset to the default (docs/outage-playbook.md).
import {
  MESSAGE_KINDS,
  MESSAGE_LANGUAGES,
  type MessageTemplate,
} from '../../../core/user-messages.ts';
import {
  loadMessageTemplates,
  resetMessageTemplate,
  setMessageTemplate,
} from '../../../operations/outage-operations.ts';
import { operationContext, type JsonSchema, type ParamSpec } from '../admin-route.ts';
import { mapped } from './outage-routes.ts';

const TEMPLATE_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['kind', 'language', 'subject', 'body', 'edited'],
  properties: {
    kind: { type: 'string', enum: [...MESSAGE_KINDS] },
    language: { type: 'string', enum: [...MESSAGE_LANGUAGES] },
    subject: { type: 'string' },
    body: { type: 'string' },
    edited: { type: 'boolean', description: 'false: the default text' },
  },
};

const KEY_PARAMS: ParamSpec[] = [
  {
    name: 'kind',
    in: 'path',
    type: 'string',
    required: true,
    enum: MESSAGE_KINDS,
    description: 'failmode-safe, failmode-secure or factor-outage',
  },
  {
    name: 'language',
    in: 'path',
    type: 'string',
    required: true,
    enum: MESSAGE_LANGUAGES,
    description: 'en or de',
  },
];

function templateView(t: MessageTemplate & { edited: boolean }) {
  return { kind: t.kind, language: t.language, subject: t.subject, body: t.body, edited: t.edited };
}

export const TEMPLATE_ROUTES = mapped([
  {
    method: 'GET',
    path: '/admin/v1/message_templates',
    tag: 'status',
    summary: 'The user-message templates in use, edited or default (Airlock)',
    params: [],
    response: { type: 'array', items: TEMPLATE_SCHEMA },
    async handler({ ctx }) {
      return { response: (await loadMessageTemplates(ctx.store)).map(templateView) };
    },
  },
  {
    method: 'POST',
    path: '/admin/v1/message_templates/:kind/:language',
    tag: 'status',
    summary: 'Edit a user-message template; unknown {variables} are refused (Airlock)',
    params: [
      ...KEY_PARAMS,
      {
        name: 'subject',
        in: 'body',
        type: 'string',
        required: true,
        max: 200,
        description: 'subject line, with {variables}',
      },
      {
        name: 'body',
        in: 'body',
        type: 'string',
        required: true,
        max: 4000,
        description: 'text, with {variables}',
      },
    ],
    response: TEMPLATE_SCHEMA,
    async handler(call) {
      const t = await setMessageTemplate(operationContext(call), {
        kind: call.params.str('kind'),
        language: call.params.str('language'),
        subject: call.params.str('subject'),
        body: call.params.str('body'),
      });
      return { response: templateView({ ...t, edited: true }) };
    },
  },
  {
    method: 'DELETE',
    path: '/admin/v1/message_templates/:kind/:language',
    tag: 'status',
    summary: 'Back to the default text of a user-message template (Airlock)',
    params: KEY_PARAMS,
    response: {
      type: 'object',
      required: ['reset'],
      properties: { reset: { type: 'boolean', description: 'false: it was not edited' } },
    },
    async handler(call) {
      return {
        response: {
          reset: await resetMessageTemplate(operationContext(call), {
            kind: call.params.str('kind'),
            language: call.params.str('language'),
          }),
        },
      };
    },
  },
]);
