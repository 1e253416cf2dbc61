// Closed sets are `as const` arrays with a derived type; this is the one membership check their
// `isX` guards and validators share.

/** Whether `value` is a member of `list`; narrows `value` to the list's element type. */
export function isOneOf<T extends string>(list: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (list as readonly string[]).includes(value);
}
