// StoreError: the store's typed failures (conflict, not found, bad URL, unreadable sealed secret),
// the same on every dialect.

export const STORE_ERROR_CODES = [
  'STORE_CONFLICT',
  'STORE_NOT_FOUND',
  'STORE_INVALID_URL',
  'STORE_USERNAME_COLLISION',
  'STORE_AMBIGUOUS_USERNAME',
  'STORE_SECRET_UNREADABLE',
] as const;
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export const isStoreError = (err: unknown, code?: StoreErrorCode): err is StoreError =>
  err instanceof StoreError && (code === undefined || err.code === code);

/**
 * The column a unique/primary-key violation is about, from either driver; undefined when `err` is
 * not one. SQLite says "UNIQUE constraint failed: users.username"; PostgreSQL (23505) says
 * "Key (username)=(bob) already exists.".
 */
export function uniqueViolationColumn(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, message, detail } = err as { code?: unknown; message?: unknown; detail?: unknown };
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const match = /constraint failed: \w+\.(\w+)/.exec(String(message));
    return match?.[1] ?? '?';
  }
  if (code === '23505') {
    const match = /^Key \(([^)]+)\)=/.exec(String(detail));
    return match?.[1] ?? '?';
  }
  return undefined;
}

export function isForeignKeyViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code } = err as { code?: unknown };
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503';
}
