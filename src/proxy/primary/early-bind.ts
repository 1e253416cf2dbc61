// The order of an LDAP login's directory operations: the user search, the bind as the user, the
// group read. Without a guess they run one after another, as Duo's proxy does. For a username whose
// DN a search found within the last `dn_cache_seconds`, the bind goes out with the search instead
// of after its result: one directory round trip less per login (docs/proxy-config.md, [ad_client]).
// The group read, which needs only what the search found (DN, uid), goes out with the bind.
//
// The remembered DN is only a guess about where the bind goes; it never replaces the search. A login
// is accepted only when the search of this login finds exactly one entry, the bind as *that* DN
// succeeded, and the groups of that entry pass: an early bind made as another DN (the entry moved or
// was renamed) is dropped and the bind goes again as the DN found; a user the search no longer
// finds (deleted, excluded by ldap_filter, now ambiguous) is refused whatever the early bind
// answered. What changes for the directory: such a user's password is still checked by one bind,
// and a login with a wrong password makes its group read too (docs/proxy-config.md).
//
// Ours rather than a library's: this is the login's own sequence over ldapts operations.
import type { Clock } from '../../runtime/clock.ts';

/** Usernames held at most; the oldest goes first (about 200 bytes each). */
const MAX_KNOWN = 10_000;

/** The DNs recent searches found, by username as typed; entries end after `ttlMs`. */
export class KnownDns {
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #max: number;
  readonly #entries = new Map<string, { dn: string; untilMs: number }>();

  constructor(options: { ttlMs: number; clock: Clock; max?: number }) {
    this.#ttlMs = options.ttlMs;
    this.#clock = options.clock;
    this.#max = options.max ?? MAX_KNOWN;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(username: string): string | undefined {
    const entry = this.#entries.get(username);
    if (entry === undefined) return undefined;
    if (this.#clock.nowMs() < entry.untilMs) return entry.dn;
    this.#entries.delete(username);
    return undefined;
  }

  remember(username: string, dn: string): void {
    // An empty DN would make the early bind an anonymous one (RFC 4513 §5.1.1): never a guess.
    if (this.#ttlMs <= 0 || dn === '') return;
    this.#entries.delete(username); // re-inserted last: the Map's order is the eviction order
    this.#entries.set(username, { dn, untilMs: this.#clock.nowMs() + this.#ttlMs });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#max) break;
      this.#entries.delete(oldest);
    }
  }

  forget(username: string): void {
    this.#entries.delete(username);
  }
}

/** A login's directory operations, as ldap-primary.ts runs them on its pooled connections. */
export interface DirectorySteps<U extends { dn: string }, R extends string> {
  /** The user's entry, or why there is none to bind as (unknown, ambiguous). */
  find(): Promise<U | R>;
  /** Undefined when the password is right, else why the directory refused it. */
  bind(dn: string): Promise<R | undefined>;
  groups(user: U): Promise<string[]>;
}

export type FoundAndBound<U, R> =
  { kind: 'bound'; user: U; groups: string[] } | { kind: 'refused'; reason: R };

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Never rejects: an operation whose result may be dropped must not become an unhandled rejection. */
function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

function unwrap<T>(settled: Settled<T>): T {
  if (!settled.ok) throw settled.error;
  return settled.value;
}

/**
 * Search, bind and group read of one login; a directory failure throws. Every operation started
 * has ended when this settles, so no lease outlives the login.
 */
export async function findAndBind<U extends { dn: string }, R extends string>(
  known: KnownDns,
  username: string,
  steps: DirectorySteps<U, R>,
): Promise<FoundAndBound<U, R>> {
  const guess = known.get(username);
  const early = guess === undefined ? undefined : settle(steps.bind(guess));
  const found = await settle(steps.find());
  if (!found.ok || typeof found.value === 'string') {
    if (found.ok) known.forget(username);
    await early;
    return { kind: 'refused', reason: unwrap(found) as R };
  }
  const user = found.value;
  known.remember(username, user.dn);
  const groups = settle(steps.groups(user));
  let bound: Promise<Settled<R | undefined>>;
  if (early !== undefined && guess === user.dn) {
    bound = early;
  } else {
    // A bind as another DN says nothing about this entry. Waiting for it first keeps a login to one
    // bind connection at a time (the pool's limit counts logins), whatever the early bind waits for.
    await early;
    bound = settle(steps.bind(user.dn));
  }
  const [bindOutcome, groupOutcome] = await Promise.all([bound, groups]);
  const failure = unwrap(bindOutcome);
  if (failure !== undefined) return { kind: 'refused', reason: failure };
  return { kind: 'bound', user, groups: unwrap(groupOutcome) };
}
