// The StoreErrors every repository's writes raise.
import { StoreError, isForeignKeyViolation, uniqueViolationColumn } from '../store-error.ts';

export function notFound(entity: string, id: string): StoreError {
  return new StoreError('STORE_NOT_FOUND', `${entity} "${id}" not found`);
}

/**
 * Turns a driver's constraint error into a StoreError that names what clashed. `labels` maps a
 * unique column to how to describe its value; `missing` describes a foreign-key miss.
 */
export function translateWriteError(
  err: unknown,
  entity: string,
  labels: Record<string, string>,
  missing?: string,
): unknown {
  const column = uniqueViolationColumn(err);
  if (column !== undefined) {
    const label = labels[column] ?? `this ${column}`;
    return new StoreError('STORE_CONFLICT', `${entity} with ${label} already exists`, {
      cause: err,
    });
  }
  if (missing !== undefined && isForeignKeyViolation(err)) {
    return new StoreError('STORE_NOT_FOUND', missing, { cause: err });
  }
  return err;
}
