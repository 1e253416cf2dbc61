// TypeBox building blocks every layer's API schemas share: a closed set of this folder as a string
// enum, a nullable value, a map with open keys. Pure: schemas are data, TypeBox builds them.
import Type, { type Static, type TSchema, type TUnsafe } from 'typebox';

/**
 * One of a closed set (an `as const` list), as a typed string enum: the list stays declared once
 * and the schema, the type and an OpenAPI enum come from it.
 */
export function closedSet<T extends string>(
  list: readonly T[],
  options: { description?: string } = {},
): TUnsafe<T> {
  return Type.Unsafe<T>({ type: 'string', enum: [...list], ...options });
}

/**
 * `schema` or null, as `type: [T, "null"]` rather than `anyOf`: fast-json-stringify serializes a
 * type list directly, while `anyOf` makes it validate each branch for every value it writes.
 */
export function nullable<T extends TSchema>(
  schema: T,
  options: { description?: string } = {},
): TUnsafe<Static<T> | null> {
  const { type, ...rest } = schema as unknown as { type: string } & Record<string, unknown>;
  return Type.Unsafe<Static<T> | null>({ ...rest, type: [type, 'null'], ...options });
}

/** An object whose keys are open (Duo returns such maps: `detail`, `metadata`, a policy). */
export const OpenObject = Type.Unsafe<Record<string, unknown>>({
  type: 'object',
  // Without it fast-json-stringify would write `{}`: it drops properties it was not told about.
  additionalProperties: true,
});
