// The gateway's sessions, in its state file (a restart keeps them), and pending logins, in memory
// (a restart asks for the password again): idle and absolute timeouts against the injected clock,
// logout by deletion (a copied cookie dies with its session, across restarts too).
import type { Clock } from '../runtime/clock.ts';
import { stateKey, type GatewayStateDb } from '../runtime/gateway-state-db.ts';
import type { Random } from '../runtime/random.ts';
import type { SecondFactorKind } from './access-rules.ts';

export interface DirectoryUser {
  /** The directory's own spelling of the name (what the service is asked about). */
  readonly username: string;
  readonly groups: readonly string[];
  readonly email: string | undefined;
}

export interface GatewaySession {
  readonly id: string;
  readonly user: DirectoryUser;
  readonly secondFactor: SecondFactorKind;
  /** RFC 8176 values: `pwd`, plus `otp`/`swk` and `mfa` when a second factor was checked. */
  readonly amr: readonly string[];
  /** The logout form's token. */
  readonly csrf: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  lastSeenAtMs: number;
}

export interface PendingDevice {
  readonly device: string;
  readonly name: string;
  readonly capabilities: readonly string[];
}

/** A login between the portal's first page and its session. */
export interface PendingLogin {
  readonly id: string;
  readonly csrf: string;
  /** The validated return address; undefined when the portal was opened directly. */
  readonly returnTo: string | undefined;
  /** `[app:NAME]` of the return address; undefined: the strictest rules apply. */
  readonly appName: string | undefined;
  /** An OpenID Connect authorization waiting for this login: its interaction and client. */
  readonly oidc: { uid: string; clientId: string } | undefined;
  readonly expiresAtMs: number;
  /** Set once the directory accepted the password. */
  user: DirectoryUser | undefined;
  devices: readonly PendingDevice[];
  /** Preauth's `status_msg`: it names the factors the service reports degraded. */
  preauthStatus: string | undefined;
  passcodeFailures: number;
  /** An async push or phone call in flight: its txid, factor and the device's name. */
  outOfBand: { txid: string; factor: 'push' | 'phone'; deviceName: string } | undefined;
}

export interface SessionTimeouts {
  idleMs: number;
  lifetimeMs: number;
  loginTimeoutMs: number;
}

const SESSION = 'session';
/** At most this often a session's last use is written (its idle clock may run this much early). */
const MAX_TOUCH_INTERVAL_MS = 60_000;

type StoredSession = Omit<GatewaySession, 'id'>;

/**
 * Sessions by id in the state file, pending logins by id in memory; every read checks expiry
 * against the clock. The file holds a hash of each session id, never the id the cookie seals.
 */
export class SessionStore {
  readonly #logins = new Map<string, PendingLogin>();
  readonly #db: GatewayStateDb;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #timeouts: SessionTimeouts;
  readonly #touchIntervalMs: number;
  #sessionCount: number;

  constructor(
    deps: { clock: Clock; random: Random; db: GatewayStateDb },
    timeouts: SessionTimeouts,
  ) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.#timeouts = timeouts;
    this.#touchIntervalMs = Math.min(MAX_TOUCH_INTERVAL_MS, Math.floor(timeouts.idleMs / 10));
    this.#sessionCount = this.#db.count(SESSION, this.#clock.nowMs());
  }

  newToken(): string {
    return this.#random.bytes(32).toString('base64url');
  }

  createSession(input: {
    user: DirectoryUser;
    secondFactor: SecondFactorKind;
    amr: readonly string[];
    /** Shorter than the configured lifetime for a failmode session. */
    lifetimeMs?: number;
  }): GatewaySession {
    const now = this.#clock.nowMs();
    const session: GatewaySession = {
      id: this.newToken(),
      user: input.user,
      secondFactor: input.secondFactor,
      amr: input.amr,
      csrf: this.newToken(),
      createdAtMs: now,
      expiresAtMs: now + Math.min(input.lifetimeMs ?? Infinity, this.#timeouts.lifetimeMs),
      lastSeenAtMs: now,
    };
    const { id, ...stored } = session;
    this.#db.put(SESSION, stateKey(id), stored, this.#rowExpiry(stored));
    this.#sessionCount += 1;
    return session;
  }

  /** The live session (and marks it seen, for the idle timeout); undefined once expired. */
  useSession(id: string): GatewaySession | undefined {
    const key = stateKey(id);
    const now = this.#clock.nowMs();
    const stored = this.#db.get(SESSION, key, now) as StoredSession | undefined;
    if (stored === undefined) {
      // Expired (idle or absolute), ended or never stored: gone for good, even if a clock stepped
      // back later. Only sealed cookies reach this, so it is never an attacker's write.
      this.#db.delete(SESSION, key);
      return undefined;
    }
    if (now - stored.lastSeenAtMs >= this.#timeouts.idleMs) {
      this.#db.delete(SESSION, key);
      return undefined;
    }
    if (now - stored.lastSeenAtMs >= this.#touchIntervalMs) {
      stored.lastSeenAtMs = now;
      this.#db.update(SESSION, key, stored, this.#rowExpiry(stored));
    }
    return { id, ...stored };
  }

  /** The row's expiry: the idle timeout or the absolute lifetime, whichever comes first. */
  #rowExpiry(stored: StoredSession): number {
    return Math.min(stored.expiresAtMs, stored.lastSeenAtMs + this.#timeouts.idleMs);
  }

  deleteSession(id: string): void {
    this.#db.delete(SESSION, stateKey(id));
    this.#sessionCount = Math.max(0, this.#sessionCount - 1);
  }

  /** Live sessions as of the last sweep, plus those created since (for the gauge). */
  get sessionCount(): number {
    return this.#sessionCount;
  }

  createLogin(input: {
    returnTo: string | undefined;
    appName: string | undefined;
    oidc?: { uid: string; clientId: string };
  }): PendingLogin {
    const login: PendingLogin = {
      id: this.newToken(),
      csrf: this.newToken(),
      returnTo: input.returnTo,
      appName: input.appName,
      oidc: input.oidc,
      expiresAtMs: this.#clock.nowMs() + this.#timeouts.loginTimeoutMs,
      user: undefined,
      devices: [],
      preauthStatus: undefined,
      passcodeFailures: 0,
      outOfBand: undefined,
    };
    this.#logins.set(login.id, login);
    return login;
  }

  getLogin(id: string): PendingLogin | undefined {
    const login = this.#logins.get(id);
    if (login !== undefined && this.#clock.nowMs() >= login.expiresAtMs) {
      this.#logins.delete(id);
      return undefined;
    }
    return login;
  }

  endLogin(id: string): void {
    this.#logins.delete(id);
  }

  /** Drops everything expired; run now and then so abandoned logins do not pile up. */
  sweep(): void {
    const now = this.#clock.nowMs();
    this.#db.sweep(now);
    this.#sessionCount = this.#db.count(SESSION, now);
    for (const id of this.#logins.keys()) this.getLogin(id);
  }
}
