// One Admin API route as data: method, path, parameters and response schema, read by the
// router, the parameter validator and the OpenAPI document alike, so the three cannot drift.
import Type, { type TSchema } from 'typebox';
import { AirlockError } from '../../core/error-registry.ts';
import type { OperationContext } from '../../operations/operation-context.ts';
import type { ParamMap } from '../auth-api/request-params.ts';
import type { AdminActor } from './admin-auth.ts';
import type { AdminContext } from './admin-context.ts';
import { FAIL_CLASSES, FailEnvelope, OpenObject, type RouteResponses } from '../api-schema.ts';

export const PARAM_TYPES = ['string', 'integer', 'boolean', 'string[]'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export interface ParamSpec {
  name: string;
  /** `path` segments; `query` for GET/DELETE; `body` (form or JSON) for POST. */
  in: 'path' | 'query' | 'body';
  type: ParamType;
  required?: boolean;
  enum?: readonly string[];
  min?: number;
  max?: number;
  description: string;
}

/** A JSON Schema fragment (OpenAPI 3.1 uses JSON Schema 2020-12). */
export type JsonSchema = Record<string, unknown>;

export type ParamValue = string | number | boolean | string[];

export interface AdminCall {
  ctx: AdminContext;
  actor: AdminActor;
  params: Params;
  ip: string;
}

export interface AdminResult {
  response: unknown;
  metadata?: Record<string, unknown>;
}

export interface AdminRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** Fastify syntax: `/admin/v1/users/:user_id`. */
  path: string;
  tag: string;
  summary: string;
  params: readonly ParamSpec[];
  /**
   * Schema of `response` in the `{stat:"OK", response}` envelope: a TypeBox declaration
   * (admin-schemas.ts). Fastify serializes the answer with it, and it drops any field the schema
   * does not name: every field the handler returns must be declared.
   */
  response: TSchema;
  handler(call: AdminCall): Promise<AdminResult>;
}

/** The error statuses every Admin API route documents (the 4xx/5xx classes cover the rest). */
const ADMIN_ERRORS = {
  '400': 'Missing or invalid parameters (ADMIN_MISSING_PARAMETERS, ADMIN_INVALID_PARAMETERS)',
  '401': 'No, unknown or badly signed credentials, or an expired console session',
  '403': 'A console session without its CSRF token (ADMIN_CSRF)',
  '404': 'No such resource (ADMIN_NOT_FOUND)',
  '409': 'Conflicts with an existing record (ADMIN_CONFLICT)',
} as const;

/** Routes answered by a module that may not be plugged in (ADMIN_NOT_AVAILABLE, 501). */
const PLUGGABLE_TAGS = ['policies', 'emergency controls'];

const responsesOf = new WeakMap<AdminRoute, RouteResponses>();

/**
 * A route's answers by status: `{stat:"OK", response, metadata?}` with the route's `response`
 * schema, and Duo's FAIL envelope for every error. The router serializes with these and the
 * OpenAPI document lists them (one object per route, built once).
 */
export function adminResponses(route: AdminRoute): RouteResponses {
  let responses = responsesOf.get(route);
  if (!responses) {
    const errors: Record<string, string> = { ...ADMIN_ERRORS };
    if (PLUGGABLE_TAGS.includes(route.tag)) {
      errors['501'] = 'The module is not plugged in (ADMIN_NOT_AVAILABLE)';
    }
    responses = {
      '200': {
        description: 'OK',
        schema: Type.Object({
          stat: Type.Literal('OK'),
          response: route.response,
          metadata: Type.Optional(OpenObject),
        }),
      },
      ...Object.fromEntries(
        Object.entries(errors).map(([status, description]) => [
          status,
          { description, schema: FailEnvelope },
        ]),
      ),
      ...FAIL_CLASSES,
    };
    responsesOf.set(route, responses);
  }
  return responses;
}

/** Parameters checked against the route's specs: typed getters that never see a bad value. */
export class Params {
  readonly #values: ReadonlyMap<string, ParamValue>;

  constructor(values: ReadonlyMap<string, ParamValue>) {
    this.#values = values;
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  str(name: string): string {
    const v = this.#values.get(name);
    if (typeof v !== 'string') throw new AirlockError('ADMIN_MISSING_PARAMETERS', name);
    return v;
  }

  optStr(name: string): string | undefined {
    const v = this.#values.get(name);
    return typeof v === 'string' ? v : undefined;
  }

  optInt(name: string): number | undefined {
    const v = this.#values.get(name);
    return typeof v === 'number' ? v : undefined;
  }

  optBool(name: string): boolean | undefined {
    const v = this.#values.get(name);
    return typeof v === 'boolean' ? v : undefined;
  }

  optList(name: string): string[] | undefined {
    const v = this.#values.get(name);
    return Array.isArray(v) ? v : undefined;
  }
}

/** Fields a console form or session client may add to any request; never a route parameter. */
const TRANSPORT_FIELDS = new Set(['csrf_token']);

/**
 * Checks `values` (query and body) and `pathParams` against `specs`: every required parameter
 * present, every value of its type, unknown names refused (a typo must not be ignored silently).
 */
export function parseParams(
  specs: readonly ParamSpec[],
  values: ParamMap,
  pathParams: Record<string, string>,
): Params {
  const out = new Map<string, ParamValue>();
  const known = new Set(specs.map((s) => s.name));
  for (const name of Object.keys(values)) {
    if (!known.has(name) && !TRANSPORT_FIELDS.has(name)) {
      throw new AirlockError('ADMIN_INVALID_PARAMETERS', `unknown parameter ${name}`);
    }
  }
  for (const spec of specs) {
    const raw = spec.in === 'path' ? [pathParams[spec.name] ?? ''] : values[spec.name];
    // "" is a value for an optional string (it clears a field) and the empty list for a list;
    // for anything else it is absent.
    const empty = raw !== undefined && raw.length === 1 && raw[0] === '';
    const emptyIsValue = spec.type === 'string[]' || (spec.type === 'string' && !spec.required);
    if (raw === undefined || (empty && !emptyIsValue)) {
      if (spec.required) throw new AirlockError('ADMIN_MISSING_PARAMETERS', spec.name);
      continue;
    }
    out.set(spec.name, convert(spec, raw));
  }
  return new Params(out);
}

function convert(spec: ParamSpec, raw: string[]): ParamValue {
  const invalid = (why: string) =>
    new AirlockError('ADMIN_INVALID_PARAMETERS', `${spec.name}: ${why}`);
  if (spec.type === 'string[]') {
    // A form sends repeated fields; a JSON body an array; "" alone means the empty list.
    const list = raw.length === 1 && raw[0] === '' ? [] : raw;
    if (spec.max !== undefined && list.length > spec.max) throw invalid(`at most ${spec.max}`);
    return list;
  }
  if (raw.length !== 1) throw invalid('given more than once');
  const value = raw[0]!;
  switch (spec.type) {
    case 'string':
      if (spec.enum && !spec.enum.includes(value)) {
        throw invalid(`must be one of ${spec.enum.join(', ')}`);
      }
      if (value.length > (spec.max ?? 1000)) throw invalid('too long');
      return value;
    case 'integer': {
      if (!/^-?[0-9]{1,16}$/.test(value)) throw invalid('must be a whole number');
      const n = Number(value);
      if (spec.min !== undefined && n < spec.min) throw invalid(`must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) throw invalid(`must be at most ${spec.max}`);
      return n;
    }
    case 'boolean':
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      throw invalid('must be true or false');
  }
}

/** The operations' context for a call: `actor` is `admin:<name>` or `adminkey:<ikey>`. */
export function operationContext(call: AdminCall): OperationContext {
  const { store, clock, random, bypassPepper } = call.ctx;
  return { store, clock, random, bypassPepper, actor: call.actor.actor, ip: call.ip };
}
