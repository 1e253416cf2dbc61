// The proxy's two logs: authproxy.log (text request lines) and authevents.log (JSON lines for SIEM).
import { mkdirSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';

export const AUTH_STAGES = [
  'Primary authentication',
  'Secondary authentication',
  'Unknown',
] as const;
export type AuthStage = (typeof AUTH_STAGES)[number];
export const EVENT_STATUSES = ['Allow', 'Reject', 'Challenge', 'Error'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** One record of authevents.log: the fields of docs/design/auth-api.md §3.12 plus Airlock's two. */
export interface AuthEvent {
  msg: string;
  username: string | null;
  auth_stage: AuthStage;
  status: EventStatus;
  client_ip: string | null;
  server_section: string;
  server_section_ikey: string;
  factor: string | null;
  /** `safe` or `secure`: the section's failmode, on every record. */
  failmode: string;
  /** False whenever a login was allowed without a second factor. */
  second_factor_checked: boolean;
  /** Set when failmode decided this login. */
  failmode_invoked?: boolean;
  reason?: string;
  /** Set when a failmode group changed the section's failmode for this user (per-group failmode). */
  effective_failmode?: string;
  /** `group-failmode-secure` or `group-failmode-safe`, with `effective_failmode`. */
  effective_failmode_reason?: string;
  /** The configured group DN that changed the failmode, with `effective_failmode`. */
  failmode_group?: string;
  /** Names of the `fail_open_attributes` added to this Access-Accept (`["Class","Filter-Id"]`). */
  fail_open_attributes?: string[];
}

export const SYSTEM_EVENT_TYPES = ['breaker', 'health', 'primary-only'] as const;
export type SystemEventType = (typeof SYSTEM_EVENT_TYPES)[number];

/**
 * A record of authevents.log about the proxy itself, not a login: a breaker transition, an API
 * host's health change, primary-only mode switched. Told apart from login records by `event_type`.
 */
export interface SystemEvent {
  msg: string;
  event_type: SystemEventType;
  /** The server section; `main` for proxy-wide changes (primary-only mode). */
  server_section: string;
  /** `host:port` of the API host; null when not about one host. */
  host: string | null;
  from: string | null;
  to: string | null;
  reason: string;
}

/** Identifies one RADIUS request in authproxy.log, as Duo's proxy does: `(('ip', port), user, id)`. */
export interface RequestRef {
  section: string;
  ip: string;
  port: number;
  username: string;
  identifier: number;
}

export interface ProxyLogs {
  /** A line of authproxy.log about one request. */
  request(ref: RequestRef, message: string): void;
  /** A line of authproxy.log not tied to a request (start-up, primary-only changes). */
  line(message: string): void;
  event(event: AuthEvent): void;
  /** A record of authevents.log about the proxy itself (breaker, health, primary-only). */
  systemEvent(event: SystemEvent): void;
  close(): Promise<void>;
}

export interface ProxyLogOptions {
  logDir: string;
  maxSizeBytes: number;
  /** Rotated files kept; 0 = unlimited. */
  maxFiles: number;
  authEvents: boolean;
  /** Also echo authproxy.log lines to stdout. */
  stdout: boolean;
  nowIso: () => string;
  hostname?: string;
}

export function openProxyLogs(options: ProxyLogOptions): ProxyLogs {
  mkdirSync(options.logDir, { recursive: true });
  const streamOptions = {
    path: options.logDir,
    size: `${Math.max(1, Math.floor(options.maxSizeBytes / 1024))}K`,
    // Classical rotation: authproxy.log.1 … .N; "0 = unlimited" keeps a generous bound instead.
    rotate: options.maxFiles === 0 ? 10_000 : options.maxFiles,
  };
  const text: RotatingFileStream = createStream('authproxy.log', streamOptions);
  const events: RotatingFileStream | undefined = options.authEvents
    ? createStream('authevents.log', streamOptions)
    : undefined;
  // A failing log disk must not take logins down; report it once on stderr.
  let reported = false;
  const onError = (e: Error) => {
    if (!reported) process.stderr.write(`airlock proxy: log write failed: ${e.message}\n`);
    reported = true;
  };
  text.on('error', onError);
  events?.on('error', onError);
  const host = options.hostname ?? osHostname();

  const textLines = batchedWriter(text);
  const eventLines = events ? batchedWriter(events) : undefined;
  const writeLine = (line: string) => {
    textLines.write(`${line}\n`);
    if (options.stdout) process.stdout.write(`${line}\n`);
  };
  return {
    request(ref, message) {
      writeLine(
        `${options.nowIso()} [${ref.section}] (('${ref.ip}', ${ref.port}), ${ref.username}, ${ref.identifier}): ${message}`,
      );
    },
    line(message) {
      writeLine(`${options.nowIso()} ${message}`);
    },
    event(event) {
      eventLines?.write(
        `${JSON.stringify({ timestamp: options.nowIso(), ...event, hostname: host })}\n`,
      );
    },
    systemEvent(event) {
      eventLines?.write(
        `${JSON.stringify({ timestamp: options.nowIso(), ...event, hostname: host })}\n`,
      );
    },
    async close() {
      textLines.flush();
      eventLines?.flush();
      await Promise.all(
        [text, ...(events ? [events] : [])].map((s) => new Promise<void>((r) => s.end(() => r()))),
      );
    },
  };
}

/** What the batched writer needs of a log stream. */
export interface ChunkSink {
  write(chunk: string, written: () => void): unknown;
}

/**
 * Lines go to the file in as few writes as keep it current: the rotating stream writes each chunk
 * with its own file write (a thread-pool round trip and its promise jobs), and a login writes four
 * or five lines. The lines written until the event loop's check phase (setImmediate) are one
 * chunk: those of one event-loop task, or of every packet one poll delivered. Handing the chunk
 * over after the task's own process.nextTick callbacks lets the RADIUS answer go out first (dgram
 * sends on a tick) instead of waiting behind the stream's write work. While a chunk is being
 * written, later lines wait and go as the next chunk when it is done — under load one write
 * carries many logins' lines, when quiet each login's lines are written at once. Same lines, same
 * order. (A synchronous append was measured and rejected: it stalled the event loop whenever the
 * disk was busy; a log writer of our own instead of rotating-file-stream saved about 0.1 ms of CPU
 * per login and was not taken — docs/benchmarks.md, bench:outage.)
 */
export function batchedWriter(stream: ChunkSink): { write(line: string): void; flush(): void } {
  let pending = '';
  let scheduled: NodeJS.Immediate | undefined;
  let inFlight = false;
  const send = () => {
    const chunk = pending;
    pending = '';
    inFlight = true;
    stream.write(chunk, written);
  };
  // Called once the chunk is written (or failed: the stream reports the error): send what waited.
  const written = () => {
    inFlight = false;
    if (pending !== '' && scheduled === undefined) send();
  };
  const sendWhenIdle = () => {
    scheduled = undefined;
    if (pending !== '' && !inFlight) send();
  };
  return {
    write(line) {
      pending += line;
      if (scheduled === undefined && !inFlight) scheduled = setImmediate(sendWhenIdle);
    },
    /** Hands over every waiting line now (close): the stream queues it behind a chunk in flight. */
    flush() {
      if (scheduled !== undefined) clearImmediate(scheduled);
      scheduled = undefined;
      if (pending !== '') send();
    },
  };
}
