// Adapts a pg Pool for Kysely so that repeated queries run as named prepared statements.
import { createHash } from 'node:crypto';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

const DEFAULT_MAX_NAMED_STATEMENTS = 256;
// Only plain DML and queries; transaction control and DDL stay unnamed.
const PREPARABLE = /^\s*(select|insert|update|delete|with)\s/i;
// SQLSTATE 0A000 "cached plan must not change result type": a migration on another node changed
// a table under a `SELECT *` this connection had prepared.
const CACHED_PLAN_CHANGED = '0A000';

/**
 * pg sends every query as an unnamed statement, which PostgreSQL parses and plans each time;
 * for the store's short lookups that is about half the server's work. Named statements are parsed
 * once per connection. The set of names is bounded (queries with IN lists of varying length make
 * new texts), beyond it queries simply go unnamed.
 */
export function createPreparingPool(
  pool: pg.Pool,
  maxNamedStatements = DEFAULT_MAX_NAMED_STATEMENTS,
): PostgresPool {
  // SQL text -> statement name; null once a text must no longer be named.
  const names = new Map<string, string | null>();
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();

  const nameFor = (text: string): string | null => {
    const known = names.get(text);
    if (known !== undefined) return known;
    if (names.size >= maxNamedStatements || !PREPARABLE.test(text)) return null;
    const name = `airlock_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    names.set(text, name);
    return name;
  };

  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    async function query(text: unknown, parameters?: readonly unknown[]) {
      if (typeof text !== 'string') throw new Error('query streaming (cursors) is not supported');
      const values = parameters === undefined ? [] : [...parameters];
      const name = nameFor(text);
      if (name === null) return client.query(text, values);
      try {
        return await client.query({ name, text, values });
      } catch (err) {
        if ((err as { code?: unknown }).code !== CACHED_PLAN_CHANGED) throw err;
        names.set(text, null);
        return client.query(text, values);
      }
    }
    return {
      query: query as unknown as PostgresPoolClient['query'],
      release: (destroy?: boolean) => client.release(destroy),
    };
  };

  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      // Kysely keys its per-connection state on this object: hand out the same one each time.
      let wrapper = wrappers.get(client);
      if (wrapper === undefined) {
        wrapper = wrap(client);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}
