// LDAP/AD primary authentication: find the user with a service account, check the password by binding as the user.
//
// Per login: (1) search under `searchDn` for the user on a pooled connection bound as the service
// account; (2) simple bind as the found DN with the password on a *separate* pooled connection that is
// only ever used for user binds; (3) read the groups (`memberOf`, else a group search on the service
// connection); (4) check `securityGroupDn`. The group read goes out with the bind, and for a username
// whose DN a recent search found, the bind with the search (early-bind.ts); the search decides.
//
// Connections persist across logins in two pools: a few service-account connections that each carry
// many searches at once, and up to 16 user-bind connections used one bind at a time. A connection is opened on the first reachable host (hosts tried in order; a host that
// failed recently goes last), its socket opened by us so that connect and TLS both obey `timeoutMs`.
// ldapts reconnects a closed connection by itself, without StartTLS and (for the service account)
// without a bind; we refuse that: a pooled client owns one socket for life, and a client whose socket
// closed is unbound and replaced. An operation that fails because a reused connection died is retried
// once on a new connection. Every client is unbound when it leaves the pool, and `close()` unbinds all
// (ldapts keeps a socket open after a failed bind, which keeps node alive).
import {
  Client,
  FilterParser,
  InvalidCredentialsError,
  NoSuchObjectError,
  ResultCodeError,
  type Entry,
} from 'ldapts';
import net from 'node:net';
import tls from 'node:tls';
import { SystemClock, type Clock } from '../../runtime/clock.ts';
import { isOneOf } from '../../core/closed-set.ts';
import { normalizeDn, splitDn } from '../../core/distinguished-name.ts';
import { simpleUsername } from '../../core/username.ts';
import { findAndBind, KnownDns } from './early-bind.ts';
import { openSocket, parseHost, refusedSocket, type HostTarget } from './ldap-hosts.ts';
import type { PrimaryAuthenticator, PrimaryResult } from './primary-authenticator.ts';
import { gatherWritesThisTurn } from './turn-writes.ts';

export const LDAP_TRANSPORTS = ['clear', 'ldaps', 'starttls'] as const;
export type LdapTransport = (typeof LDAP_TRANSPORTS)[number];

/** Why a login was rejected: the user or the password is wrong, or policy says no. */
export const LDAP_PRIMARY_REJECT_REASONS = [
  'invalid-username',
  'empty-password',
  'unknown-user',
  'ambiguous-user',
  'bad-password',
  'account-locked',
  'account-disabled',
  'account-expired',
  'password-expired',
  'password-must-change',
  'not-in-security-group',
] as const;
export type LdapPrimaryRejectReason = (typeof LDAP_PRIMARY_REJECT_REASONS)[number];

/** Why a login could not be decided: the directory or our configuration failed. */
export const LDAP_PRIMARY_ERROR_REASONS = [
  'ldap-unreachable',
  'service-account-bind-failed',
  'ldap-timeout',
  'ldap-search-failed',
  'user-bind-failed',
  'ldap-closed',
  'ldap-error',
] as const;
export type LdapPrimaryErrorReason = (typeof LDAP_PRIMARY_ERROR_REASONS)[number];

/** The subset of a pino logger this module uses. */
export interface LdapPrimaryLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface LdapPrimaryOptions {
  /** `host`, `host:port` or `[v6]:port`, tried in order (authproxy.cfg `host`, `host_2`, …). */
  hosts: readonly string[];
  /** Port for hosts given without one (389, or 636 for ldaps). */
  port: number;
  transport: LdapTransport;
  /** PEM CA bundle that signs the server certificate; the system CAs when absent. */
  caPem?: string | undefined;
  /** Check that the certificate names the host (`ssl_verify_hostname`); the chain is always checked. */
  verifyHostname: boolean;
  /**
   * Name the service account binds with, sent as is: a DN (OpenLDAP and AD), or for AD a UPN
   * (`svc@example.org`) or `EXAMPLE\svc`. See {@link resolveServiceAccountBindName}.
   */
  serviceAccountDn: string;
  serviceAccountPassword: string;
  /** Base of the user search (subtree). */
  searchDn: string;
  /** Attribute matched against the username: `uid`, `sAMAccountName`, … */
  usernameAttribute: string;
  /** Read this attribute too and return its first value as `email` (the gateway's `mail`). */
  emailAttribute?: string | undefined;
  /** When the username contains '@', it is also matched against this attribute (`userPrincipalName`). */
  atAttribute?: string | undefined;
  /** Extra filter ANDed with the username match (`ldap_filter`); parentheses optional. */
  ldapFilter?: string | undefined;
  /** DN of the group the user must be a direct member of (`security_group_dn`). */
  securityGroupDn?: string | undefined;
  /** Base of the group search; default: the `dc=` suffix of `searchDn` (its naming context). */
  groupSearchDn?: string | undefined;
  /**
   * Read group memberships on accept (default true). When false and no `securityGroupDn` is set,
   * `groups` holds `memberOf` if the entry has it and no group search is made.
   */
  fetchGroups?: boolean | undefined;
  /** Limit for the connect (TCP and TLS) and for each LDAP operation (`timeout`, 10 s in authproxy.cfg). */
  timeoutMs: number;
  /** Connections bound as the service account, each carrying many searches at once; default 2. */
  maxServiceConnections?: number | undefined;
  /** Connections for user binds, one bind at a time each; default 16. Logins beyond wait up to timeoutMs. */
  maxBindConnections?: number | undefined;
  /** A pooled connection idle longer than this is closed instead of reused; default 60 s. */
  idleTimeoutMs?: number | undefined;
  /**
   * How long the DN a search found for a username is remembered, so that the next login's bind goes
   * out with its search (early-bind.ts); `dn_cache_seconds`, default 600 s; 0 turns it off.
   */
  knownDnTtlMs?: number | undefined;
  /** A host that failed is tried after the others for this long; default 30 s. */
  hostRetryMs?: number | undefined;
  logger?: LdapPrimaryLogger | undefined;
  clock?: Clock | undefined;
}

/**
 * The simple-bind name of the service account from authproxy.cfg: `bind_dn` when set, else
 * `service_account_username` as given. AD accepts a DN, a UPN or `DOMAIN\user` as a simple-bind
 * name; OpenLDAP needs a DN, so there `bind_dn` (or a DN in `service_account_username`) is required.
 */
export function resolveServiceAccountBindName(input: {
  serviceAccountUsername: string;
  bindDn?: string | undefined;
}): string {
  const bindDn = input.bindDn?.trim();
  return bindDn !== undefined && bindDn !== '' ? bindDn : input.serviceAccountUsername.trim();
}

/** RFC 4515 §3: escapes the characters that are special in a filter value (`*`, `(`, `)`, `\`, NUL). */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const MAX_USERNAME_LENGTH = 256;

/** A username we are willing to search for: non-empty, bounded, no control characters or lone surrogates. */
export function isValidUsername(username: string): boolean {
  return (
    username.length > 0 &&
    username.length <= MAX_USERNAME_LENGTH &&
    !/[\p{Cc}\p{Cs}]/u.test(username) && // Cc: C0, DEL, C1; Cs: a lone surrogate would not survive UTF-8
    username.trim() !== ''
  );
}

// DN equality lives in core (the failmode groups use it too); re-exported for this module's callers.
export { normalizeDn };

/** The naming context a DN lives in, taken as its trailing run of `dc=` RDNs; the DN itself if none. */
export function namingContextOf(dn: string): string {
  const rdns = splitDn(dn).map((rdn) => rdn.trim());
  let start = rdns.length;
  while (start > 0 && /^dc\s*=/i.test(rdns[start - 1] ?? '')) start -= 1;
  return start < rdns.length ? rdns.slice(start).join(',') : dn.trim();
}

const ATTRIBUTE_NAME = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$/;

interface ValidatedOptions {
  targets: HostTarget[];
  ldapFilter: string | undefined;
}

function validateOptions(o: LdapPrimaryOptions): ValidatedOptions {
  const errors: string[] = [];
  const targets: HostTarget[] = [];
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) errors.push('port: out of range');
  if (o.hosts.length === 0) errors.push('hosts: at least one host is required');
  for (const spec of o.hosts) {
    const t = parseHost(spec, o.port);
    if (typeof t === 'string') errors.push(t);
    else targets.push(t);
  }
  if (!isOneOf(LDAP_TRANSPORTS, o.transport)) {
    errors.push(`transport: must be one of ${LDAP_TRANSPORTS.join(', ')}`);
  }
  if (o.serviceAccountDn.trim() === '') errors.push('serviceAccountDn: required');
  // An empty password makes the service bind an unauthenticated bind (RFC 4513 §5.1.2).
  if (o.serviceAccountPassword === '') errors.push('serviceAccountPassword: required');
  if (o.searchDn.trim() === '') errors.push('searchDn: required');
  if (!ATTRIBUTE_NAME.test(o.usernameAttribute))
    errors.push('usernameAttribute: not an attribute name');
  if (o.atAttribute !== undefined && o.atAttribute !== '' && !ATTRIBUTE_NAME.test(o.atAttribute)) {
    errors.push('atAttribute: not an attribute name');
  }
  if (!(o.timeoutMs > 0)) errors.push('timeoutMs: must be positive');
  if (o.knownDnTtlMs !== undefined && !(o.knownDnTtlMs >= 0)) {
    errors.push('knownDnTtlMs: must be 0 or more');
  }
  for (const key of ['maxServiceConnections', 'maxBindConnections'] as const) {
    const n = o[key];
    if (n !== undefined && !(Number.isInteger(n) && n > 0))
      errors.push(`${key}: must be a positive integer`);
  }
  let ldapFilter: string | undefined;
  const rawFilter = o.ldapFilter?.trim();
  if (rawFilter !== undefined && rawFilter !== '') {
    ldapFilter = rawFilter.startsWith('(') ? rawFilter : `(${rawFilter})`;
    try {
      FilterParser.parseString(ldapFilter);
    } catch (err) {
      errors.push(`ldapFilter: ${errorText(err)}`);
    }
  }
  if (errors.length > 0) throw new Error(`invalid LDAP primary options: ${errors.join('; ')}`);
  return { targets, ldapFilter };
}

/** A failure that already carries the result reason. */
class LdapPrimaryError extends Error {
  constructor(
    readonly reason: LdapPrimaryErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'LdapPrimaryError';
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && /timed out|timeout/i.test(err.message);
}

// A server answer (any result code) leaves the connection usable; anything else killed it.
function isConnectionFailure(err: unknown): boolean {
  return !(err instanceof ResultCodeError) && !(err instanceof LdapPrimaryError);
}

/** Why a directory call failed: its own reason, a timeout, or another error. */
function failureReason(err: unknown): LdapPrimaryErrorReason | 'ldap-timeout' | 'ldap-error' {
  return err instanceof LdapPrimaryError
    ? err.reason
    : isTimeout(err)
      ? 'ldap-timeout'
      : 'ldap-error';
}

// AD puts the reason for a failed bind (result 49) in the diagnostic message: "... data 775, v4563".
const AD_BIND_DATA_CODES: Record<string, LdapPrimaryRejectReason> = {
  '52e': 'bad-password',
  '525': 'bad-password', // no such user: not disclosed differently from a bad password
  '530': 'account-disabled', // not permitted to log on at this time
  '531': 'account-disabled', // not permitted to log on at this workstation
  '532': 'password-expired',
  '533': 'account-disabled',
  '701': 'account-expired',
  '773': 'password-must-change',
  '775': 'account-locked',
};

function bindRejectReason(err: InvalidCredentialsError): LdapPrimaryRejectReason {
  const data = /\bdata ([0-9a-f]{3,4})\b/i.exec(err.message)?.[1]?.toLowerCase();
  return (data !== undefined ? AD_BIND_DATA_CODES[data] : undefined) ?? 'bad-password';
}

function attributeValues(entry: Entry, name: string): string[] {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(entry)) {
    if (key.toLowerCase() !== wanted || key === 'dn') continue;
    const values = Array.isArray(value) ? value : [value];
    return values.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
  }
  return [];
}

const NOOP_LOGGER: LdapPrimaryLogger = { debug() {}, warn() {} };

/** A client and the socket we opened for it, which ldapts adopts on its first operation. */
interface OpenedConnection {
  client: Client;
  socket: net.Socket;
  /** What ldapts writes to: `socket`, or the TLS socket over it after StartTLS. */
  wire: net.Socket;
  target: HostTarget;
}

interface PooledConnection extends OpenedConnection {
  /** Operations running on it (at most one in an exclusive pool). */
  inFlight: number;
  /** Operations it has completed: a connection that served before may have died while idle. */
  served: number;
  lastUsedMs: number;
  /** No longer handed out; unbound once its last operation ends. */
  retired: boolean;
}

interface Lease {
  conn: PooledConnection;
  reused: boolean;
}

interface Waiter {
  resolve: (lease: Lease) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

// Unbind (RFC 4511 §4.3) when ldapts holds the socket; destroy it anyway, in case ldapts never adopted it.
async function destroyConnection(conn: { client: Client; socket: net.Socket }): Promise<void> {
  await conn.client.unbind().catch(() => undefined);
  conn.socket.destroy();
}

/**
 * Open connections to the directory, reused across logins. A shared pool multiplexes operations on
 * few connections (LDAP matches responses by message ID, RFC 4511 §4.1.1); measured here, searches
 * cost node about 60 µs each on 1–2 connections against about 100 µs on 16. An exclusive pool gives
 * each lease a connection of its own, as a bind requires (RFC 4511 §4.2.1: nothing else may be sent
 * on the connection until the BindResponse).
 */
class ConnectionPool {
  readonly #open: () => Promise<OpenedConnection>;
  readonly #shared: boolean;
  readonly #max: number;
  readonly #waitMs: number;
  readonly #idleTimeoutMs: number;
  readonly #clock: Clock;
  #conns: PooledConnection[] = [];
  #opening = 0;
  #sharedOpening: Promise<PooledConnection> | undefined;
  #waiters: Waiter[] = [];
  #closed = false;
  #destroys = new Set<Promise<void>>();
  #onEmpty: (() => void) | undefined;

  constructor(options: {
    open: () => Promise<OpenedConnection>;
    shared: boolean;
    max: number;
    waitMs: number;
    idleTimeoutMs: number;
    clock: Clock;
  }) {
    this.#open = options.open;
    this.#shared = options.shared;
    this.#max = options.max;
    this.#waitMs = options.waitMs;
    this.#idleTimeoutMs = options.idleTimeoutMs;
    this.#clock = options.clock;
  }

  /** Whether leases share connections (many operations at once on one connection). */
  get shared(): boolean {
    return this.#shared;
  }

  get #size(): number {
    return this.#conns.length + this.#opening;
  }

  async acquire(): Promise<Lease> {
    if (this.#closed) throw new LdapPrimaryError('ldap-closed', 'the LDAP primary is closed');
    this.#prune();
    const conn = this.#pick();
    if (conn) return this.#lease(conn);
    if (this.#shared && this.#sharedOpening) return this.#lease(await this.#sharedOpening);
    if (this.#size < this.#max) {
      if (!this.#shared) return { conn: await this.#create(1), reused: false };
      return this.#lease(await this.#openShared());
    }
    return new Promise<Lease>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          reject(
            new LdapPrimaryError(
              'ldap-timeout',
              `no free LDAP connection within ${this.#waitMs} ms`,
            ),
          );
        }, this.#waitMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Ends a lease; `healthy` false (or a closed socket) retires its connection. */
  release(lease: Lease, healthy: boolean): void {
    const conn = lease.conn;
    conn.served += 1;
    conn.lastUsedMs = this.#clock.nowMs();
    if (!healthy || this.#closed || !conn.client.isConnected) conn.retired = true;
    const waiter = !conn.retired && !this.#shared ? this.#waiters.shift() : undefined;
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve({ conn, reused: true }); // handed over: stays in flight
      return;
    }
    conn.inFlight -= 1;
    if (conn.retired && conn.inFlight === 0) this.#remove(conn);
  }

  /** Closes the connections not in use: after one died, the others (same server) likely did too. */
  flushIdle(): void {
    for (const conn of [...this.#conns]) if (conn.inFlight === 0) this.#remove(conn);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new LdapPrimaryError('ldap-closed', 'the LDAP primary is closed'));
    }
    for (const conn of this.#conns) conn.retired = true; // unbound as their operations end
    this.flushIdle();
    if (this.#size > 0) await new Promise<void>((resolve) => (this.#onEmpty = resolve));
    await Promise.all(this.#destroys);
  }

  #lease(conn: PooledConnection): Lease {
    if (this.#closed) throw new LdapPrimaryError('ldap-closed', 'the LDAP primary is closed');
    conn.inFlight += 1;
    return { conn, reused: conn.served > 0 };
  }

  // Shared: the least busy connection; when all are busy and there is room, another one is opened
  // meanwhile. Exclusive: the most recently used free one (the others can idle out).
  #pick(): PooledConnection | undefined {
    let best: PooledConnection | undefined;
    for (const c of this.#conns) {
      if (c.retired || (!this.#shared && c.inFlight > 0)) continue;
      if (
        !best ||
        c.inFlight < best.inFlight ||
        (c.inFlight === best.inFlight && c.lastUsedMs > best.lastUsedMs)
      ) {
        best = c;
      }
    }
    if (
      this.#shared &&
      best &&
      best.inFlight > 0 &&
      this.#size < this.#max &&
      !this.#sharedOpening
    ) {
      this.#openShared().catch(() => undefined); // a failure is logged by open and retried later
    }
    return best;
  }

  // One shared connection opens at a time; everyone who needs it waits for the same attempt.
  #openShared(): Promise<PooledConnection> {
    const opening = this.#create(0).finally(() => {
      if (this.#sharedOpening === opening) this.#sharedOpening = undefined;
    });
    this.#sharedOpening = opening;
    return opening;
  }

  async #create(inFlight: number): Promise<PooledConnection> {
    this.#opening += 1;
    let opened: OpenedConnection;
    try {
      opened = await this.#open();
    } catch (err) {
      this.#opening -= 1;
      this.#shrunk();
      throw err;
    }
    this.#opening -= 1;
    const conn: PooledConnection = {
      ...opened,
      inFlight,
      served: 0,
      lastUsedMs: this.#clock.nowMs(),
      retired: false,
    };
    this.#conns.push(conn);
    if (this.#closed) {
      this.#remove(conn);
      throw new LdapPrimaryError('ldap-closed', 'the LDAP primary is closed');
    }
    return conn;
  }

  #prune(): void {
    const now = this.#clock.nowMs();
    for (const conn of [...this.#conns]) {
      if (conn.inFlight > 0) continue;
      if (
        conn.retired ||
        !conn.client.isConnected ||
        now - conn.lastUsedMs >= this.#idleTimeoutMs
      ) {
        this.#remove(conn);
      }
    }
  }

  #remove(conn: PooledConnection): void {
    conn.retired = true;
    this.#conns = this.#conns.filter((c) => c !== conn);
    const done: Promise<void> = destroyConnection(conn).finally(() => this.#destroys.delete(done));
    this.#destroys.add(done);
    this.#shrunk();
  }

  // A slot freed: open a connection for the longest waiter, if any.
  #shrunk(): void {
    if (this.#closed) {
      if (this.#size === 0) this.#onEmpty?.();
      return;
    }
    if (this.#waiters.length === 0 || this.#size >= this.#max) return;
    const waiter = this.#waiters.shift();
    if (!waiter) return;
    clearTimeout(waiter.timer);
    this.#create(1).then(
      (conn) => waiter.resolve({ conn, reused: false }),
      (err: unknown) => waiter.reject(err instanceof Error ? err : new Error(String(err))),
    );
  }
}

/** What the directory says about a DN that bound through the LDAP proxy ([ldap_server_auto]). */
export type BoundDnResult =
  | { kind: 'found'; username: string; groups: string[] }
  | { kind: 'not-found' }
  | { kind: 'error'; reason: LdapPrimaryErrorReason };

/** The LDAP primary, which also looks up the entry of a DN for the LDAP proxy. */
export interface LdapDirectory extends PrimaryAuthenticator {
  /**
   * Reads the entry of `dn` with the service account: its `usernameAttribute` (the name the
   * service knows the user by) and, when groups are needed, its groups.
   */
  describeBoundDn(dn: string, usernameAttribute: string): Promise<BoundDnResult>;
}

const GROUP_CLASSES = ['groupOfNames', 'groupOfUniqueNames', 'posixGroup', 'group'];

interface UserEntry {
  dn: string;
  /** The entry's username attribute (its own spelling of the name). */
  name: string | undefined;
  uid: string | undefined;
  email: string | undefined;
  memberOf: string[] | undefined;
}

class LdapPrimary implements LdapDirectory {
  readonly #o: LdapPrimaryOptions;
  readonly #targets: HostTarget[];
  readonly #ldapFilter: string | undefined;
  readonly #groupBase: string;
  readonly #securityGroup: string | undefined;
  readonly #logger: LdapPrimaryLogger;
  readonly #clock: Clock;
  readonly #tlsOptions: tls.ConnectionOptions | undefined;
  readonly #hostRetryMs: number;
  readonly #hostFailedAtMs = new Map<string, number>();
  readonly #servicePool: ConnectionPool;
  readonly #bindPool: ConnectionPool;
  readonly #knownDns: KnownDns;
  #closed = false;

  constructor(options: LdapPrimaryOptions) {
    const { targets, ldapFilter } = validateOptions(options);
    this.#o = options;
    this.#targets = targets;
    this.#ldapFilter = ldapFilter;
    this.#groupBase = options.groupSearchDn?.trim() || namingContextOf(options.searchDn);
    this.#securityGroup = options.securityGroupDn?.trim()
      ? normalizeDn(options.securityGroupDn)
      : undefined;
    this.#logger = options.logger ?? NOOP_LOGGER;
    this.#clock = options.clock ?? new SystemClock();
    this.#hostRetryMs = options.hostRetryMs ?? 30_000;
    this.#knownDns = new KnownDns({ ttlMs: options.knownDnTtlMs ?? 600_000, clock: this.#clock });
    this.#tlsOptions =
      options.transport === 'clear'
        ? undefined
        : {
            ca: options.caPem,
            rejectUnauthorized: true,
            minVersion: 'TLSv1.2',
            // The chain is always verified; ssl_verify_hostname only controls the name check.
            checkServerIdentity: options.verifyHostname ? tls.checkServerIdentity : () => undefined,
          };
    const poolOptions = {
      waitMs: options.timeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      clock: this.#clock,
    };
    this.#servicePool = new ConnectionPool({
      ...poolOptions,
      shared: true,
      max: options.maxServiceConnections ?? 2,
      open: () => this.#openConnection(true),
    });
    this.#bindPool = new ConnectionPool({
      ...poolOptions,
      shared: false,
      max: options.maxBindConnections ?? 16,
      open: () => this.#openConnection(false),
    });
  }

  async authenticate(input: {
    username: string;
    password: string;
    clientIp?: string | undefined;
  }): Promise<PrimaryResult> {
    const { username, password } = input;
    if (this.#closed) return { kind: 'error', reason: 'ldap-closed' };
    if (!isValidUsername(username)) return this.#reject('invalid-username', username);
    // RFC 4513 §5.1.2: a simple bind with a DN and an empty password is an unauthenticated bind,
    // which many servers answer with success. Never send one.
    if (password === '') return this.#reject('empty-password', username);
    try {
      const login = await findAndBind<UserEntry, LdapPrimaryRejectReason>(
        this.#knownDns,
        username,
        {
          find: () => this.#withConnection(this.#servicePool, (c) => this.#findUser(c, username)),
          bind: (dn) =>
            this.#withConnection(this.#bindPool, (c) => this.#bindAsUser(c, dn, password)),
          groups: (user) => this.#groupsOf(user),
        },
      );
      if (login.kind === 'refused') return this.#reject(login.reason, username);
      const { user: found, groups } = login;
      if (
        this.#securityGroup !== undefined &&
        !groups.some((g) => normalizeDn(g) === this.#securityGroup)
      ) {
        return this.#reject('not-in-security-group', username);
      }
      return {
        kind: 'accept',
        ...(found.name !== undefined ? { username: found.name } : {}),
        ...(found.email !== undefined ? { email: found.email } : {}),
        groups,
        attributes: [],
      };
    } catch (err) {
      const reason = failureReason(err);
      this.#logger.warn(
        { username, reason, cause: errorText(err) },
        'ldap primary authentication failed',
      );
      return { kind: 'error', reason };
    }
  }

  async describeBoundDn(dn: string, usernameAttribute: string): Promise<BoundDnResult> {
    if (this.#closed) return { kind: 'error', reason: 'ldap-closed' };
    try {
      const entry = await this.#withConnection(this.#servicePool, async (client) => {
        try {
          const { searchEntries } = await client.search(dn, {
            scope: 'base',
            filter: '(objectClass=*)',
            attributes: [...new Set([usernameAttribute, 'uid', 'memberOf'])],
            timeLimit: Math.ceil(this.#o.timeoutMs / 1000),
          });
          return searchEntries[0];
        } catch (err) {
          if (err instanceof NoSuchObjectError) return undefined;
          throw err instanceof ResultCodeError
            ? new LdapPrimaryError('ldap-search-failed', errorText(err))
            : err;
        }
      });
      const username = entry ? attributeValues(entry, usernameAttribute)[0] : undefined;
      if (!entry || username === undefined || username === '') return { kind: 'not-found' };
      const memberOf = attributeValues(entry, 'memberOf');
      const groups = await this.#groupsOf({
        dn: entry.dn,
        name: username,
        uid: attributeValues(entry, 'uid')[0],
        memberOf: memberOf.length > 0 ? memberOf : undefined,
        email: undefined, // the LDAP proxy names users; it needs no address
      });
      return { kind: 'found', username, groups };
    } catch (err) {
      const reason = failureReason(err);
      this.#logger.warn({ dn, reason, cause: errorText(err) }, 'ldap entry lookup failed');
      return { kind: 'error', reason };
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([this.#servicePool.close(), this.#bindPool.close()]);
  }

  #reject(reason: LdapPrimaryRejectReason, username: string): PrimaryResult {
    this.#logger.debug(
      { username: username.slice(0, MAX_USERNAME_LENGTH), reason },
      'ldap primary reject',
    );
    return { kind: 'reject', reason };
  }

  // Runs fn on a leased connection; a reused connection that turns out dead is replaced once.
  async #withConnection<T>(pool: ConnectionPool, fn: (client: Client) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      const lease = await pool.acquire();
      // The searches of one turn go out in one write (turn-writes.ts); a bind is alone anyway.
      if (pool.shared) gatherWritesThisTurn(lease.conn.wire);
      let healthy = true;
      try {
        return await fn(lease.conn.client);
      } catch (err) {
        healthy = !isConnectionFailure(err);
        // A timeout is this operation's (ldapts dropped the socket); other errors mean the socket died.
        if (!healthy && !isTimeout(err)) {
          pool.flushIdle();
          if (lease.reused && attempt === 0) {
            this.#logger.debug(
              { host: lease.conn.target.label, cause: errorText(err) },
              'ldap connection lost, retrying',
            );
            continue;
          }
        }
        throw err;
      } finally {
        pool.release(lease, healthy);
      }
    }
  }

  async #findUser(client: Client, username: string): Promise<UserEntry | LdapPrimaryRejectReason> {
    const value = escapeFilterValue(username);
    const { usernameAttribute, atAttribute } = this.#o;
    let match = `(${usernameAttribute}=${value})`;
    // `EXAMPLE\alice` and `alice@example.org` name alice too, as AD accepts them at a bind; the
    // service is then asked about the entry's own name (see PrimaryResult.username), so no
    // spelling of a name can reach it as an unknown user. Two matching entries stay ambiguous.
    const bare = simpleUsername(username);
    if (bare !== '' && bare !== username.trim()) {
      match = `(|${match}(${usernameAttribute}=${escapeFilterValue(bare)}))`;
    }
    if (atAttribute && username.includes('@')) match = `(|${match}(${atAttribute}=${value}))`;
    const filter = this.#ldapFilter ? `(&${match}${this.#ldapFilter})` : match;
    let entries: Entry[];
    try {
      ({ searchEntries: entries } = await client.search(this.#o.searchDn, {
        scope: 'sub',
        filter,
        attributes: [
          ...new Set([
            usernameAttribute,
            'uid',
            'memberOf',
            ...(this.#o.emailAttribute ? [this.#o.emailAttribute] : []),
          ]),
        ],
        sizeLimit: 2, // two are enough to know the username is ambiguous
        timeLimit: Math.ceil(this.#o.timeoutMs / 1000),
      }));
    } catch (err) {
      throw err instanceof ResultCodeError
        ? new LdapPrimaryError('ldap-search-failed', errorText(err))
        : err;
    }
    const [entry, second] = entries;
    // An empty DN would make the user bind anonymous (RFC 4513 §5.1.1).
    if (!entry || entry.dn === '') return 'unknown-user';
    if (second) return 'ambiguous-user';
    const memberOf = attributeValues(entry, 'memberOf');
    return {
      dn: entry.dn,
      name: attributeValues(entry, usernameAttribute)[0],
      uid: attributeValues(entry, 'uid')[0],
      email: this.#o.emailAttribute ? attributeValues(entry, this.#o.emailAttribute)[0] : undefined,
      memberOf: memberOf.length > 0 ? memberOf : undefined,
    };
  }

  async #bindAsUser(
    client: Client,
    dn: string,
    password: string,
  ): Promise<LdapPrimaryRejectReason | undefined> {
    try {
      await client.bind(dn, password);
      return undefined;
    } catch (err) {
      if (err instanceof InvalidCredentialsError) {
        const reason = bindRejectReason(err);
        if (reason !== 'bad-password') {
          this.#logger.debug({ dn, cause: err.message }, 'ldap bind refused');
        }
        return reason;
      }
      if (err instanceof ResultCodeError) {
        throw new LdapPrimaryError('user-bind-failed', errorText(err));
      }
      throw err;
    }
  }

  // Direct memberships only: memberOf of the entry (AD, OpenLDAP memberof overlay), else the groups
  // naming the user in member/uniqueMember (DN) or memberUid (uid). Nested groups are not followed.
  async #groupsOf(user: UserEntry): Promise<string[]> {
    if (user.memberOf) return user.memberOf;
    if (this.#o.fetchGroups === false && this.#securityGroup === undefined) return [];
    const dn = escapeFilterValue(user.dn);
    const byMember = `(member=${dn})(uniqueMember=${dn})${user.uid ? `(memberUid=${escapeFilterValue(user.uid)})` : ''}`;
    const classes = GROUP_CLASSES.map((c) => `(objectClass=${c})`).join('');
    const filter = `(&(|${classes})(|${byMember}))`;
    return this.#withConnection(this.#servicePool, async (client) => {
      try {
        const { searchEntries } = await client.search(this.#groupBase, {
          scope: 'sub',
          filter,
          attributes: ['1.1'], // RFC 4511 §4.5.1.8: no attributes, the DN is all we need
          timeLimit: Math.ceil(this.#o.timeoutMs / 1000),
        });
        return searchEntries.map((e) => e.dn);
      } catch (err) {
        throw err instanceof ResultCodeError
          ? new LdapPrimaryError('ldap-search-failed', errorText(err))
          : err;
      }
    });
  }

  // Hosts in configured order, those that failed within hostRetryMs last.
  #hostOrder(): HostTarget[] {
    const now = this.#clock.nowMs();
    const recentlyFailed = (t: HostTarget): boolean =>
      now - (this.#hostFailedAtMs.get(t.label) ?? -Infinity) < this.#hostRetryMs;
    return [
      ...this.#targets.filter((t) => !recentlyFailed(t)),
      ...this.#targets.filter(recentlyFailed),
    ];
  }

  async #openConnection(asServiceAccount: boolean): Promise<OpenedConnection> {
    const failures: string[] = [];
    for (const target of this.#hostOrder()) {
      let opened: OpenedConnection | undefined;
      try {
        opened = await this.#connect(target);
        const { client } = opened;
        if (asServiceAccount) {
          try {
            await client.bind(this.#o.serviceAccountDn, this.#o.serviceAccountPassword);
          } catch (err) {
            // The server answered: our configuration is wrong, another host will not fix that.
            if (err instanceof ResultCodeError) {
              throw new LdapPrimaryError(
                'service-account-bind-failed',
                `${target.label}: ${errorText(err)}`,
              );
            }
            throw err;
          }
        }
        this.#hostFailedAtMs.delete(target.label);
        return opened;
      } catch (err) {
        if (opened) await destroyConnection(opened);
        if (err instanceof LdapPrimaryError) throw err;
        this.#hostFailedAtMs.set(target.label, this.#clock.nowMs());
        failures.push(`${target.label}: ${errorText(err)}`);
        this.#logger.warn({ host: target.label, cause: errorText(err) }, 'ldap host failed');
      }
    }
    throw new LdapPrimaryError('ldap-unreachable', failures.join('; '));
  }

  async #connect(target: HostTarget): Promise<OpenedConnection> {
    const { transport, timeoutMs } = this.#o;
    const tlsOptions = this.#tlsOptions && {
      ...this.#tlsOptions,
      host: target.host,
      ...(net.isIP(target.host) ? {} : { servername: target.host }), // RFC 6066 §3: no IP in SNI
    };
    const socket = await openSocket(
      target,
      transport === 'ldaps' ? tlsOptions : undefined,
      timeoutMs,
    );
    let handedOut = false;
    const once = (): net.Socket => {
      if (handedOut) return refusedSocket();
      handedOut = true;
      return socket;
    };
    let upgraded: tls.TLSSocket | undefined;
    const client = new Client({
      url: `${transport === 'ldaps' ? 'ldaps' : 'ldap'}://${target.label}`,
      timeout: timeoutMs,
      connectTimeout: timeoutMs,
      createConnection: once,
      createSecureConnection: ((arg: unknown) => {
        if (transport === 'ldaps') return once();
        // StartTLS upgrade of our socket; ldapts has no deadline for this handshake, so we add one.
        if (upgraded || typeof arg !== 'object' || arg === null) return refusedSocket();
        const secure = tls.connect({ ...(arg as tls.ConnectionOptions), ...tlsOptions, socket });
        upgraded = secure;
        const timer = setTimeout(
          () => secure.destroy(new Error(`TLS handshake timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
        secure.once('secureConnect', () => clearTimeout(timer));
        secure.once('close', () => clearTimeout(timer));
        return secure;
      }) as typeof tls.connect,
    });
    if (transport === 'starttls') {
      try {
        await client.startTLS(tlsOptions);
      } catch (err) {
        await destroyConnection({ client, socket });
        throw err;
      }
    }
    return { client, socket, wire: upgraded ?? socket, target };
  }
}

/** LDAP/AD primary authentication (authproxy.cfg `[ad_client]`). Call `close()` when done. */
export function createLdapPrimary(options: LdapPrimaryOptions): LdapDirectory {
  return new LdapPrimary(options);
}
