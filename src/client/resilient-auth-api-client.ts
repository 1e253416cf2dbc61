// Auth API client over several API hosts: failover in order, a circuit breaker per host, a health monitor.
//
// The rules (docs/outage-engine.md): hosts are tried in order; a host whose breaker is open for
// failures is skipped without a network call; one open for latency is tried last; an unreachable
// outcome moves on to the next host, except for `/auth` once the request may have reached the
// service; when no host could be tried the answer is immediate (`breakerOpen: true`).
import {
  createAuthApiClient,
  type AuthApiClient,
  type AuthApiClientOptions,
  type AuthParams,
  type PreauthAuthParams,
  type PreauthParams,
  type ResultStream,
  type ResultStreamHandlers,
} from './auth-api-client.ts';
import type {
  ApiOutcome,
  AuthResponse,
  AuthStatusResponse,
  AuthTxidResponse,
  PreauthAuthResponse,
  PreauthResponse,
  TimeResponse,
} from './auth-api-response.ts';
import {
  breakerAllows,
  breakerOnFailure,
  breakerOnSuccess,
  createBreakerState,
  type BreakerOptions,
  type BreakerState,
  type BreakerStatus,
  type BreakerStep,
  type BreakerTransition,
} from '../core/circuit-breaker.ts';
import {
  classifyHostHealth,
  DEFAULT_HEALTH_CHECK_INTERVAL_MS,
  HOST_HEALTH_DEFAULTS,
  type HostHealthOptions,
  type HostHealthReport,
  type HostHealthStatus,
  type HostObservation,
  type ProbeOutcome,
} from '../core/host-health.ts';
import type { Clock } from '../runtime/clock.ts';

export interface ApiHostAddress {
  apiHost: string;
  /** Default 443. */
  apiPort?: number;
}

export interface ResilientAuthApiClientOptions {
  /** `api_host`, `api_host_2`, … in the order they are tried. */
  hosts: readonly ApiHostAddress[];
  ikey: string;
  skey: string;
  caPem?: string;
  /** The deadline of one call to one host. */
  timeoutMs: number;
  clock: Clock;
  userAgent?: string;
  /** Over `BREAKER_DEFAULTS`. */
  breaker?: Partial<BreakerOptions>;
  /** Default true. False = no breaker: every call tries every host and pays each deadline (Duo's behaviour). */
  breakerEnabled?: boolean;
  /** Over the breaker's latency threshold, sample count and failure threshold, and a 20 % error rate. */
  health?: Partial<HostHealthOptions>;
  /** Every breaker transition and health change; a listener that throws is ignored. */
  onEvent?: (event: ResilienceEvent) => void;
  /** Makes the client of one host; tests inject fakes. Default `createAuthApiClient`. */
  createClient?: (options: AuthApiClientOptions) => AuthApiClient;
}

/** An outcome, plus the host that gave it. */
export type ResilientOutcome<T> = ApiOutcome<T> & {
  /** `host:port` of the host that gave this outcome; absent when no host was tried. */
  host?: string;
  /** No host could be tried (every breaker open): nothing was sent, the answer is immediate. */
  breakerOpen?: true;
};

/**
 * The answer when every host's breaker is open: `unreachable` with reason `connect` (so
 * `decideSecondFactor` applies failmode at preauth and denies at auth, as for a refused
 * connection, where likewise nothing was sent), `breakerOpen: true` and `latencyMs` ≈ 0.
 */
export type BreakerOpenOutcome = Extract<ApiOutcome<never>, { kind: 'unreachable' }> & {
  breakerOpen: true;
  /** The earliest moment a host's breaker lets a probe through. */
  retryAtMs: number;
};

export interface BreakerEvent extends BreakerTransition {
  readonly type: 'breaker';
  /** `host:port`. */
  readonly host: string;
}

export interface HealthEvent {
  readonly type: 'health';
  readonly host: string;
  readonly from: HostHealthStatus;
  readonly to: HostHealthStatus;
  readonly reason: string;
  readonly atMs: number;
}

export type ResilienceEvent = BreakerEvent | HealthEvent;

export interface HostHealth extends HostHealthReport {
  /** `host:port`. */
  readonly host: string;
  readonly apiHost: string;
  readonly apiPort: number;
  readonly breaker: BreakerStatus | 'disabled';
  /** Open: when the next probe may go. */
  readonly breakerRetryAtMs: number | undefined;
  readonly lastPing: ProbeOutcome | undefined;
  readonly lastCheck: ProbeOutcome | undefined;
}

/**
 * `AuthApiClient` over several hosts, with the same methods and outcomes, plus health and a
 * monitor.
 *
 * @example
 * const api = createResilientAuthApiClient({
 *   hosts: [{ apiHost: 'api-1.example.com' }, { apiHost: 'api-2.example.com' }],
 *   ikey, skey, timeoutMs: 10_000, clock: new SystemClock(),
 *   onEvent: (e) => logger.warn(e),
 * });
 * api.startMonitor(10_000);
 * const pre = await api.preauth({ username: 'alice' });
 * if (pre.breakerOpen) { // every host is known to be down: failmode, without waiting
 * }
 */
export interface ResilientAuthApiClient extends AuthApiClient {
  ping(): Promise<ResilientOutcome<TimeResponse>>;
  check(): Promise<ResilientOutcome<TimeResponse>>;
  preauth(params: PreauthParams): Promise<ResilientOutcome<PreauthResponse>>;
  auth(params: AuthParams & { async?: false }): Promise<ResilientOutcome<AuthResponse>>;
  auth(params: AuthParams & { async: true }): Promise<ResilientOutcome<AuthTxidResponse>>;
  authStatus(txid: string): Promise<ResilientOutcome<AuthStatusResponse>>;
  /** Present when every host's client has it (each host is Airlock's own service). */
  preauthAuth?(params: PreauthAuthParams): Promise<ResilientOutcome<PreauthAuthResponse>>;
  /** The result stream of one API host (`host` as in an outcome); undefined if it has none. */
  streamResultsFrom(host: string, handlers: ResultStreamHandlers): ResultStream | undefined;
  /** Each host's health, in host order. */
  health(): HostHealth[];
  /**
   * `ping` then `check` every host every `intervalMs` (default 10 000; 0 = stop), starting now.
   * Open hosts are left alone until their probe is due. While the monitor runs, probes are its
   * job and no login waits for one. The timer is `unref()`ed.
   */
  startMonitor(intervalMs?: number): void;
  stopMonitor(): void;
  /** One monitor round, awaited (what each tick runs); for tests and `test_connectivity_on_startup`. */
  runHealthCheckOnce(): Promise<HostHealth[]>;
  /** Stops the monitor and closes every host's sockets. */
  close(): void;
}

/** Creates the client. Throws `RangeError` for no hosts, a host listed twice, or bad breaker options. */
export function createResilientAuthApiClient(
  options: ResilientAuthApiClientOptions,
): ResilientAuthApiClient {
  return new MultiHostAuthApiClient(options);
}

/** How one kind of call treats an unreachable outcome and its latency. */
interface CallPolicy {
  /** May the next host be tried after this outcome? */
  mayFailOver(outcome: UnreachableOutcome): boolean;
  /** The latency measures the host (not a user approving a push). */
  measured: boolean;
  /** A timeout is the user's (a push or call not yet answered, a long poll), not the host's. */
  userTimeout: boolean;
}

type UnreachableOutcome = Extract<ApiOutcome<unknown>, { kind: 'unreachable' }>;

const ANY_FAILOVER: CallPolicy = { mayFailOver: () => true, measured: true, userTimeout: false };

interface HostSlot {
  readonly authority: string;
  readonly apiHost: string;
  readonly apiPort: number;
  readonly client: AuthApiClient;
  breaker: BreakerState;
  /** The latest `latencyWindow` calls, oldest first. */
  observations: HostObservation[];
  lastPing: ProbeOutcome | undefined;
  lastCheck: ProbeOutcome | undefined;
  health: HostHealthReport;
}

class MultiHostAuthApiClient implements ResilientAuthApiClient {
  readonly #slots: HostSlot[];
  readonly #clock: Clock;
  readonly #breakerEnabled: boolean;
  readonly #healthOptions: HostHealthOptions;
  readonly #windowSize: number;
  readonly #onEvent: ((event: ResilienceEvent) => void) | undefined;
  #monitor: NodeJS.Timeout | undefined;
  #round: Promise<HostHealth[]> | undefined;
  readonly preauthAuth?: (
    params: PreauthAuthParams,
  ) => Promise<ResilientOutcome<PreauthAuthResponse>>;

  constructor(options: ResilientAuthApiClientOptions) {
    if (options.hosts.length === 0) throw new RangeError('hosts must list at least one API host');
    this.#clock = options.clock;
    this.#breakerEnabled = options.breakerEnabled ?? true;
    this.#onEvent = options.onEvent;
    const breaker = createBreakerState(options.breaker);
    const b = breaker.options;
    this.#windowSize = b.latencyWindow;
    this.#healthOptions = {
      degradedLatencyMs: b.degradedLatencyMs,
      minSamples: b.minSamples,
      failureThreshold: b.failureThreshold,
      errorRateThreshold: HOST_HEALTH_DEFAULTS.errorRateThreshold,
      ...definedOnly(options.health ?? {}),
    };
    const create = options.createClient ?? createAuthApiClient;
    const seen = new Set<string>();
    this.#slots = options.hosts.map(({ apiHost, apiPort = 443 }) => {
      const authority = `${apiHost.includes(':') ? `[${apiHost}]` : apiHost}:${apiPort}`;
      if (seen.has(authority)) throw new RangeError(`API host ${authority} is listed twice`);
      seen.add(authority);
      const client = create({
        apiHost,
        apiPort,
        ikey: options.ikey,
        skey: options.skey,
        timeoutMs: options.timeoutMs,
        clock: options.clock,
        ...(options.caPem === undefined ? {} : { caPem: options.caPem }),
        ...(options.userAgent === undefined ? {} : { userAgent: options.userAgent }),
      });
      const slot: HostSlot = {
        authority,
        apiHost,
        apiPort,
        client,
        breaker,
        observations: [],
        lastPing: undefined,
        lastCheck: undefined,
        health: classifyHostHealth(
          { observations: [], breaker: undefined, lastPing: undefined, lastCheck: undefined },
          this.#healthOptions,
        ),
      };
      return slot;
    });
    if (this.#slots.every((slot) => slot.client.preauthAuth !== undefined)) {
      // A passcode /auth's rules: no failover once the request may have reached a service.
      const policy = authPolicy({ username: '', factor: 'passcode', passcode: '' });
      this.preauthAuth = (params) =>
        this.#call(policy, (c) =>
          c.preauthAuth ? c.preauthAuth(params) : Promise.reject(new Error('no preauthAuth')),
        );
    }
  }

  ping(): Promise<ResilientOutcome<TimeResponse>> {
    return this.#call(ANY_FAILOVER, (c) => c.ping());
  }

  check(): Promise<ResilientOutcome<TimeResponse>> {
    return this.#call(ANY_FAILOVER, (c) => c.check());
  }

  preauth(params: PreauthParams): Promise<ResilientOutcome<PreauthResponse>> {
    return this.#call(ANY_FAILOVER, (c) => c.preauth(params));
  }

  auth(params: AuthParams & { async?: false }): Promise<ResilientOutcome<AuthResponse>>;
  auth(params: AuthParams & { async: true }): Promise<ResilientOutcome<AuthTxidResponse>>;
  auth(
    params: AuthParams & { async?: boolean },
  ): Promise<ResilientOutcome<AuthResponse> | ResilientOutcome<AuthTxidResponse>> {
    const policy = authPolicy(params);
    if (params.async === true) {
      const asyncParams = { ...params, async: true } as AuthParams & { async: true };
      return this.#call(policy, (c) => c.auth(asyncParams));
    }
    const syncParams = { ...params, async: false } as AuthParams & { async: false };
    return this.#call(policy, (c) => c.auth(syncParams));
  }

  authStatus(txid: string): Promise<ResilientOutcome<AuthStatusResponse>> {
    // Read-only, so any host may be asked; Duo long-polls it, so its time is the user's.
    return this.#call({ mayFailOver: () => true, measured: false, userTimeout: true }, (c) =>
      c.authStatus(txid),
    );
  }

  streamResultsFrom(host: string, handlers: ResultStreamHandlers): ResultStream | undefined {
    const slot = this.#slots.find((s) => s.authority === host);
    return slot?.client.streamResults?.(handlers);
  }

  health(): HostHealth[] {
    return this.#slots.map((slot) => ({
      host: slot.authority,
      apiHost: slot.apiHost,
      apiPort: slot.apiPort,
      breaker: this.#breakerEnabled ? slot.breaker.status : 'disabled',
      breakerRetryAtMs:
        this.#breakerEnabled && slot.breaker.status === 'open' ? slot.breaker.retryAtMs : undefined,
      lastPing: slot.lastPing,
      lastCheck: slot.lastCheck,
      ...slot.health,
    }));
  }

  startMonitor(intervalMs: number = DEFAULT_HEALTH_CHECK_INTERVAL_MS): void {
    this.stopMonitor();
    if (intervalMs === 0) return;
    if (!Number.isFinite(intervalMs) || intervalMs < 0) {
      throw new RangeError(`intervalMs must be 0 (off) or positive, got ${intervalMs}`);
    }
    // The host clients return every network and HTTP failure as an outcome; a throw here would
    // be a bug in an injected client, and must not become an unhandled rejection in a timer.
    const tick = () => void this.runHealthCheckOnce().catch(() => undefined);
    this.#monitor = setInterval(tick, intervalMs);
    this.#monitor.unref();
    tick();
  }

  stopMonitor(): void {
    if (this.#monitor !== undefined) clearInterval(this.#monitor);
    this.#monitor = undefined;
  }

  runHealthCheckOnce(): Promise<HostHealth[]> {
    // A round still running (a slow host) is joined, not doubled.
    this.#round ??= Promise.all(this.#slots.map((slot) => this.#checkHost(slot))).then(
      () => {
        this.#round = undefined;
        return this.health();
      },
      (error: unknown) => {
        this.#round = undefined;
        throw error;
      },
    );
    return this.#round;
  }

  close(): void {
    this.stopMonitor();
    for (const slot of this.#slots) slot.client.close();
  }

  // -------------------------------------------------------------------------------------------
  // Calls
  // -------------------------------------------------------------------------------------------

  async #call<T>(
    policy: CallPolicy,
    send: (client: AuthApiClient) => Promise<ApiOutcome<T>>,
  ): Promise<ResilientOutcome<T>> {
    const startMs = this.#clock.nowMs();
    const elapsed = () => Math.max(0, this.#clock.nowMs() - startMs);
    let last: { outcome: UnreachableOutcome; host: string } | undefined;
    // First the hosts whose breaker is closed, in order; then those open only for latency
    // (degraded: slow, but answering), in order; never those open for failures.
    const lastResort: HostSlot[] = [];
    for (const pass of [this.#slots, lastResort]) {
      for (const slot of pass) {
        if (pass === this.#slots) {
          const gate = await this.#gate(slot);
          if (gate === 'skip') continue;
          if (gate === 'last-resort') {
            lastResort.push(slot);
            continue;
          }
        }
        const outcome = await send(slot.client);
        this.#record(slot, outcome, policy);
        if (outcome.kind !== 'unreachable') return withTiming(outcome, elapsed(), slot.authority);
        last = { outcome, host: slot.authority };
        if (!policy.mayFailOver(outcome)) return withTiming(outcome, elapsed(), last.host);
      }
    }
    if (last) return withTiming(last.outcome, elapsed(), last.host);
    return this.#breakerOpenOutcome(elapsed());
  }

  /** Whether a request may go to `slot` now; runs the due half-open probe when no monitor does. */
  async #gate(slot: HostSlot): Promise<'go' | 'last-resort' | 'skip'> {
    if (!this.#breakerEnabled || slot.breaker.status === 'closed') return 'go';
    // With a monitor running, probes are its job: no login waits for one.
    if (this.#monitor === undefined) {
      const decision = this.#step(slot, breakerAllows(slot.breaker, this.#clock.nowMs()));
      if (decision.allowed && decision.probe) await this.#probe(slot);
    }
    const b = slot.breaker;
    if (b.status === 'closed') return 'go';
    return b.openCause === 'latency' ? 'last-resort' : 'skip';
  }

  #breakerOpenOutcome(latencyMs: number): BreakerOpenOutcome {
    const open = this.#slots.map((s) => s.breaker);
    const since = Math.min(...open.map((b) => b.openedAtMs ?? Infinity));
    const retryAtMs = Math.min(...open.map((b) => b.retryAtMs ?? b.probeStartedAtMs ?? Infinity));
    const first = this.#slots[0];
    const why = first?.breaker.openReason ?? 'failures';
    const hostsText = this.#slots.map((s) => s.authority).join(', ');
    return {
      kind: 'unreachable',
      reason: 'connect',
      detail:
        `circuit open since ${isoTime(since)} for ${hostsText} (${why}); nothing sent; ` +
        `next probe at ${isoTime(retryAtMs)}`,
      latencyMs,
      breakerOpen: true,
      retryAtMs: Number.isFinite(retryAtMs) ? retryAtMs : this.#clock.nowMs(),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Probes and the monitor
  // -------------------------------------------------------------------------------------------

  /** The half-open probe: `ping` (liveness), then `check` (credentials); one result for the breaker. */
  async #probe(slot: HostSlot): Promise<void> {
    const ping = await slot.client.ping();
    this.#recordProbe(slot, 'ping', ping);
    if (ping.kind === 'unreachable') {
      this.#step(
        slot,
        breakerOnFailure(slot.breaker, {
          nowMs: this.#clock.nowMs(),
          reason: ping.reason,
          probe: true,
        }),
      );
      this.#refreshHealth(slot);
      return;
    }
    const check = await slot.client.check();
    this.#recordProbe(slot, 'check', check);
    const nowMs = this.#clock.nowMs();
    this.#step(
      slot,
      check.kind === 'unreachable'
        ? breakerOnFailure(slot.breaker, { nowMs, reason: check.reason, probe: true })
        : breakerOnSuccess(slot.breaker, {
            nowMs,
            latencyMs: Math.max(ping.latencyMs, check.latencyMs),
            probe: true,
          }),
    );
    this.#refreshHealth(slot);
  }

  /** One monitor round for one host: the probe when due, nothing while open, else ping + check. */
  async #checkHost(slot: HostSlot): Promise<void> {
    if (this.#breakerEnabled && slot.breaker.status !== 'closed') {
      const decision = this.#step(slot, breakerAllows(slot.breaker, this.#clock.nowMs()));
      if (decision.allowed && decision.probe) await this.#probe(slot);
      return;
    }
    // Health is judged once per round, on ping and check together, so it does not flap between.
    const ping = await slot.client.ping();
    this.#recordProbe(slot, 'ping', ping);
    this.#record(slot, ping, ANY_FAILOVER, { refreshHealth: false });
    if (ping.kind !== 'unreachable') {
      const check = await slot.client.check();
      this.#recordProbe(slot, 'check', check);
      this.#record(slot, check, ANY_FAILOVER, { refreshHealth: false });
    }
    this.#refreshHealth(slot);
  }

  // -------------------------------------------------------------------------------------------
  // Bookkeeping
  // -------------------------------------------------------------------------------------------

  /** Feeds one request's outcome to the breaker and the observation window. */
  #record(
    slot: HostSlot,
    outcome: ApiOutcome<unknown>,
    policy: CallPolicy,
    { refreshHealth = true }: { refreshHealth?: boolean } = {},
  ): void {
    const nowMs = this.#clock.nowMs();
    if (outcome.kind === 'unreachable') {
      // A push nobody approved yet says nothing about the host.
      if (policy.userTimeout && outcome.reason === 'timeout') return;
      this.#observe(slot, { atMs: nowMs, answered: false, reason: outcome.reason });
      if (this.#breakerEnabled) {
        this.#step(slot, breakerOnFailure(slot.breaker, { nowMs, reason: outcome.reason }));
      }
    } else {
      // `rejected` and `invalid` are answers too: the host is up (a 4xx never opens the breaker).
      const latencyMs = policy.measured ? outcome.latencyMs : undefined;
      this.#observe(slot, { atMs: nowMs, answered: true, latencyMs });
      if (this.#breakerEnabled)
        this.#step(slot, breakerOnSuccess(slot.breaker, { nowMs, latencyMs }));
    }
    if (refreshHealth) this.#refreshHealth(slot);
  }

  #recordProbe(slot: HostSlot, which: 'ping' | 'check', outcome: ApiOutcome<unknown>): void {
    const probe = toProbeOutcome(outcome, this.#clock.nowMs());
    if (which === 'ping') slot.lastPing = probe;
    else slot.lastCheck = probe;
  }

  #observe(slot: HostSlot, observation: HostObservation): void {
    slot.observations.push(observation);
    if (slot.observations.length > this.#windowSize) slot.observations.shift();
  }

  /** Keeps a breaker step's state and reports its transition. */
  #step<S extends BreakerStep>(slot: HostSlot, step: S): S {
    slot.breaker = step.state;
    const { transition } = step;
    if (transition === undefined) return step;
    // A recovered host is judged afresh, like the breaker's own latency window: the outage's
    // failures would otherwise keep it "degraded" until the window turned over.
    if (transition.to === 'closed') slot.observations = [];
    this.#emit({ type: 'breaker', host: slot.authority, ...transition });
    return step;
  }

  #refreshHealth(slot: HostSlot): void {
    const before = slot.health;
    slot.health = this.#classify(slot);
    if (before.status !== slot.health.status) {
      this.#emit({
        type: 'health',
        host: slot.authority,
        from: before.status,
        to: slot.health.status,
        reason: slot.health.reason,
        atMs: this.#clock.nowMs(),
      });
    }
  }

  #classify(slot: HostSlot): HostHealthReport {
    return classifyHostHealth(
      {
        observations: slot.observations,
        breaker: this.#breakerEnabled
          ? {
              status: slot.breaker.status,
              openCause: slot.breaker.openCause,
              openReason: slot.breaker.openReason,
            }
          : undefined,
        lastPing: slot.lastPing,
        lastCheck: slot.lastCheck,
      },
      this.#healthOptions,
    );
  }

  #emit(event: ResilienceEvent): void {
    try {
      this.#onEvent?.(event);
    } catch {
      // A listener's bug must not fail a login; the listener owns its own error reporting.
    }
  }
}

/**
 * The failover rule for `/auth` (docs/outage-engine.md): the next host is tried only when the
 * request cannot have reached the service — DNS failed, the TCP connection was refused or never
 * made, or TLS failed before the request was written. After a timeout, a connection lost while
 * waiting, a 5xx or a malformed answer, a push may already be on the user's phone: a second one
 * from another host would teach users to approve pushes they did not ask for, and a passcode
 * might be spent twice. Those outcomes are returned as they are (a network failure at `/auth`
 * always denies, docs/design/auth-api.md §3.9).
 */
export function mayFailOverAuth(outcome: UnreachableOutcome): boolean {
  if (outcome.reason === 'dns') return true;
  if (outcome.reason !== 'connect' && outcome.reason !== 'tls') return false;
  // The client ends every network-failure detail with the phase it failed in, e.g.
  // "connect ECONNREFUSED 127.0.0.1:8443 (connect)"; before `response`, nothing was written.
  return /\((?:dns|connect|tls)\)$/.test(outcome.detail);
}

function authPolicy(params: AuthParams & { async?: boolean }): CallPolicy {
  // Synchronous push, phone call, `auto` or a prompt choice: the call lasts as long as the user
  // takes to answer, so neither its time nor its timeout describes the host.
  const interactive =
    params.async !== true && params.factor !== 'passcode' && params.factor !== 'sms';
  return { mayFailOver: mayFailOverAuth, measured: !interactive, userTimeout: interactive };
}

/** The outcome with the whole call's latency and the host that answered. */
function withTiming<O extends object>(
  outcome: O,
  latencyMs: number,
  host: string,
): O & { latencyMs: number; host: string } {
  // Object.assign, not `{ ...x, key }`: on Node 20's V8 a literal that starts with a spread pays
  // about 0.4 µs for each key it adds (docs/benchmarks.md, fifth session).
  return Object.assign({}, outcome, { latencyMs, host });
}

function toProbeOutcome(outcome: ApiOutcome<unknown>, atMs: number): ProbeOutcome {
  switch (outcome.kind) {
    case 'ok':
      return { kind: 'ok', atMs, latencyMs: outcome.latencyMs };
    case 'unreachable':
      return { kind: 'unreachable', atMs, reason: outcome.reason };
    case 'rejected':
      return { kind: 'rejected', atMs, code: outcome.code, message: outcome.message };
    case 'invalid':
      return { kind: 'invalid', atMs, httpStatus: outcome.httpStatus };
  }
}

function isoTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : 'unknown';
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
