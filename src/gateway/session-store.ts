// The gateway's sessions and pending logins, in memory: idle and absolute timeouts against the
// injected clock, logout by deletion (a copied cookie dies with its session).
import type { Clock } from '../runtime/clock.ts';
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

/** Sessions and pending logins by id; every read checks expiry against the clock. */
export class SessionStore {
  readonly #sessions = new Map<string, GatewaySession>();
  readonly #logins = new Map<string, PendingLogin>();
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #timeouts: SessionTimeouts;

  constructor(deps: { clock: Clock; random: Random }, timeouts: SessionTimeouts) {
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.#timeouts = timeouts;
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
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session (and marks it seen, for the idle timeout); undefined once expired. */
  useSession(id: string): GatewaySession | undefined {
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    const now = this.#clock.nowMs();
    if (now >= session.expiresAtMs || now - session.lastSeenAtMs >= this.#timeouts.idleMs) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.lastSeenAtMs = now;
    return session;
  }

  deleteSession(id: string): void {
    this.#sessions.delete(id);
  }

  get sessionCount(): number {
    return this.#sessions.size;
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
    for (const id of this.#sessions.keys()) this.#expireIfDue(id);
    for (const id of this.#logins.keys()) this.getLogin(id);
  }

  #expireIfDue(id: string): void {
    const s = this.#sessions.get(id);
    const now = this.#clock.nowMs();
    if (s && (now >= s.expiresAtMs || now - s.lastSeenAtMs >= this.#timeouts.idleMs)) {
      this.#sessions.delete(id);
    }
  }
}
