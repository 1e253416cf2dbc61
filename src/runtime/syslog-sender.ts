// SIEM output: RFC 5424 syslog over UDP (RFC 5426), TCP (RFC 6587 octet counting) or TLS (RFC 5425).
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  AIRLOCK_SD_ID,
  formatSyslogMessage,
  frameOctetCounted,
  type SyslogFacility,
  type SyslogSeverity,
} from '../protocol/syslog-message.ts';
import type { Clock } from './clock.ts';

export const SYSLOG_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export type SyslogTransport = (typeof SYSLOG_TRANSPORTS)[number];

/** Where the records go: `udp://host:514`, `tcp://host:601`, `tls://host:6514`. */
export interface SyslogTarget {
  transport: SyslogTransport;
  host: string;
  port: number;
}

/** The default port of each transport (RFC 5426 §3.3, RFC 6587 (IANA 601), RFC 5425 §4.1). */
export const SYSLOG_DEFAULT_PORTS: Readonly<Record<SyslogTransport, number>> = {
  udp: 514,
  tcp: 601,
  tls: 6514,
};

/** Parses `udp|tcp|tls://host[:port]`; a string is the error. */
export function parseSyslogTarget(text: string): SyslogTarget | string {
  const match = /^(udp|tcp|tls):\/\/(\[[0-9a-fA-F:.]+\]|[^\s/:[\]@]+)(?::([0-9]{1,5}))?\/?$/.exec(
    text.trim(),
  );
  if (!match) return `must be udp://HOST[:PORT], tcp://HOST[:PORT] or tls://HOST[:PORT]`;
  const transport = match[1] as SyslogTransport;
  const port = match[3] === undefined ? SYSLOG_DEFAULT_PORTS[transport] : Number(match[3]);
  if (port < 1 || port > 65_535) return `port must be 1-65535, got ${port}`;
  const host = (match[2] ?? '').replace(/^\[|\]$/g, '');
  return { transport, host, port };
}

/** One record: its severity, MSGID, the fields worth indexing (structured data) and the JSON. */
export interface SyslogRecord {
  severity: SyslogSeverity;
  /** Short kind of event, e.g. `authevent`, `failmode`, `audit`. */
  msgId: string;
  /** Written as `[airlock@32473 key="value" …]`; keep it to a few short fields. */
  params: Readonly<Record<string, string>>;
  /** The whole record, as JSON in MSG. */
  json: Readonly<Record<string, unknown>>;
}

export interface SyslogSenderOptions {
  target: SyslogTarget;
  facility: SyslogFacility;
  appName: string;
  hostname: string;
  clock: Clock;
  /** PEM CAs trusted for `tls://` (default: the system store). */
  caPem?: string | undefined;
  /** Records held while TCP/TLS is down; the oldest are dropped beyond it. */
  maxQueue?: number;
  /** Told once per outage of the target, never per record. */
  onProblem?: (message: string) => void;
}

export interface SyslogSender {
  /** Never throws and never waits: a SIEM outage must not slow a login. */
  send(record: SyslogRecord): void;
  /** Resolves when every record sent so far has been written to the socket (for tests, shutdown). */
  flush(timeoutMs?: number): Promise<void>;
  stats(): { sent: number; dropped: number };
  close(): Promise<void>;
}

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;
const DEFAULT_MAX_QUEUE = 10_000;

export function createSyslogSender(options: SyslogSenderOptions): SyslogSender {
  const format = (record: SyslogRecord) =>
    formatSyslogMessage({
      facility: options.facility,
      severity: record.severity,
      timestampMs: options.clock.nowMs(),
      hostname: options.hostname,
      appName: options.appName,
      procId: String(process.pid),
      msgId: record.msgId,
      structuredData: { [AIRLOCK_SD_ID]: record.params },
      message: JSON.stringify(record.json),
    });
  return options.target.transport === 'udp'
    ? createUdpSender(options, format)
    : createStreamSender(options, format);
}

function createUdpSender(
  options: SyslogSenderOptions,
  format: (record: SyslogRecord) => string,
): SyslogSender {
  const socket: UdpSocket = createSocket(options.target.host.includes(':') ? 'udp6' : 'udp4');
  socket.unref();
  socket.on('error', (e) =>
    options.onProblem?.(`syslog ${describe(options.target)}: ${e.message}`),
  );
  let sent = 0;
  let dropped = 0;
  let pending = 0;
  let waiters: (() => void)[] = [];
  let reported = false;
  const settle = () => {
    if (pending > 0) return;
    for (const w of waiters) w();
    waiters = [];
  };
  return {
    send(record) {
      pending += 1;
      // RFC 5426 §3.1: one message per datagram, no framing.
      socket.send(format(record), options.target.port, options.target.host, (err) => {
        pending -= 1;
        if (err) {
          dropped += 1;
          if (!reported) options.onProblem?.(`syslog ${describe(options.target)}: ${err.message}`);
          reported = true;
        } else {
          sent += 1;
          reported = false;
        }
        settle();
      });
    },
    flush: (timeoutMs = 5_000) =>
      waitFor(
        () => pending === 0,
        (w) => waiters.push(w),
        timeoutMs,
      ),
    stats: () => ({ sent, dropped }),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** TCP or TLS: one connection, reconnected with backoff, records queued (bounded) while down. */
function createStreamSender(
  options: SyslogSenderOptions,
  format: (record: SyslogRecord) => string,
): SyslogSender {
  const { target } = options;
  const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
  const queue: Buffer[] = [];
  let socket: Socket | undefined;
  let connected = false;
  let closed = false;
  let sent = 0;
  let dropped = 0;
  let inFlight = 0;
  let backoffMs = RECONNECT_MIN_MS;
  let timer: NodeJS.Timeout | undefined;
  let reported = false;
  let waiters: (() => void)[] = [];
  const idle = () => queue.length === 0 && inFlight === 0;
  const settle = () => {
    if (!idle()) return;
    for (const w of waiters) w();
    waiters = [];
  };

  const problem = (message: string) => {
    if (!reported) options.onProblem?.(`syslog ${describe(target)}: ${message}`);
    reported = true;
  };
  const drain = () => {
    while (connected && socket && queue.length > 0) {
      const frame = queue.shift() as Buffer;
      inFlight += 1;
      socket.write(frame, (err) => {
        inFlight -= 1;
        if (err) dropped += 1;
        else sent += 1;
        settle();
      });
    }
    settle();
  };
  const scheduleReconnect = () => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      open();
    }, backoffMs);
    timer.unref();
    backoffMs = Math.min(backoffMs * 2, RECONNECT_MAX_MS);
  };
  const open = () => {
    const s =
      target.transport === 'tls'
        ? tlsConnect({
            host: target.host,
            port: target.port,
            servername: /^[0-9.]+$|:/.test(target.host) ? undefined : target.host,
            ...(options.caPem ? { ca: options.caPem } : {}),
          })
        : netConnect({ host: target.host, port: target.port });
    socket = s;
    s.unref();
    s.setKeepAlive(true);
    s.once(target.transport === 'tls' ? 'secureConnect' : 'connect', () => {
      connected = true;
      backoffMs = RECONNECT_MIN_MS;
      if (reported) options.onProblem?.(`syslog ${describe(target)}: connected again`);
      reported = false;
      drain();
    });
    s.on('error', (e: Error) => problem(e.message));
    // The collector never speaks (RFC 5425 §4.3); anything it sends is ignored.
    s.on('data', () => undefined);
    s.on('close', () => {
      connected = false;
      if (socket === s) socket = undefined;
      scheduleReconnect();
    });
  };

  open();
  return {
    send(record) {
      if (closed) return;
      queue.push(frameOctetCounted(format(record)));
      if (queue.length > maxQueue) {
        queue.shift();
        dropped += 1;
        problem(`queue full (${maxQueue}): dropping the oldest records`);
      }
      drain();
    },
    flush: (timeoutMs = 5_000) => waitFor(idle, (w) => waiters.push(w), timeoutMs),
    stats: () => ({ sent, dropped }),
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const s = socket;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.end();
        s.setTimeout(1_000, () => s.destroy());
      });
    },
  };
}

function waitFor(
  done: () => boolean,
  register: (waiter: () => void) => void,
  timeoutMs: number,
): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`syslog: not flushed in ${timeoutMs} ms`)),
      timeoutMs,
    );
    t.unref();
    register(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

function describe(target: SyslogTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${target.transport}://${host}:${target.port}`;
}

/** `[main] syslog_*` of `authproxy.cfg` and `gateway.cfg`, as their readers return them. */
export interface SyslogOutputSettings {
  target: SyslogTarget;
  facility: SyslogFacility;
  appName: string;
  caPem?: string | undefined;
}

/**
 * The SIEM output the proxy and the gateway open from their `[main]` section: the sender for this
 * host, announced on the process's own log (`line`), where its problems are reported too.
 */
export function openSyslogOutput(
  settings: SyslogOutputSettings,
  clock: Clock,
  hostname: string,
  line: (text: string) => void,
): SyslogSender {
  const sender = createSyslogSender({
    target: settings.target,
    facility: settings.facility,
    appName: settings.appName,
    hostname,
    clock,
    caPem: settings.caPem,
    onProblem: (message) => line(`WARNING: ${message}`),
  });
  const { transport, host, port } = settings.target;
  line(
    `SIEM output: RFC 5424 syslog to ${transport}://${host}:${port}, facility ${settings.facility}, app name ${settings.appName}`,
  );
  return sender;
}
