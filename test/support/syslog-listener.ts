// A local syslog collector for tests: UDP, TCP or TLS on 127.0.0.1, every message parsed as RFC 5424.
import { createSocket } from 'node:dgram';
import {
  createServer as createTcpServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import {
  parseSyslogMessage,
  splitOctetCounted,
  type SyslogMessage,
} from '../../src/protocol/syslog-message.ts';
import type { SyslogTransport } from '../../src/runtime/syslog-sender.ts';

export interface SyslogListener {
  port: number;
  /** Every message received so far, parsed (a message that does not parse fails the test). */
  messages: SyslogMessage[];
  /** Raw text of each message, as received. */
  raw: string[];
  /** Resolves when `predicate` holds for some message; rejects after `timeoutMs`. */
  waitFor(predicate: (m: SyslogMessage) => boolean, timeoutMs?: number): Promise<SyslogMessage>;
  close(): Promise<void>;
}

export async function startSyslogListener(
  transport: SyslogTransport,
  tls?: { certPem: string; keyPem: string },
): Promise<SyslogListener> {
  const messages: SyslogMessage[] = [];
  const raw: string[] = [];
  const errors: Error[] = [];
  let notify: () => void = () => undefined;
  const accept = (text: string) => {
    raw.push(text);
    try {
      messages.push(parseSyslogMessage(text));
    } catch (e) {
      errors.push(e as Error);
    }
    notify();
  };
  let port: number;
  let close: () => Promise<void>;
  if (transport === 'udp') {
    const socket = createSocket('udp4');
    socket.on('message', (datagram) => accept(datagram.toString('utf8')));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    port = socket.address().port;
    close = () => new Promise<void>((resolve) => socket.close(() => resolve()));
  } else {
    const connections = new Set<Socket>();
    const onConnection = (conn: Socket) => {
      connections.add(conn);
      conn.on('close', () => connections.delete(conn));
      let buffer: Buffer = Buffer.alloc(0);
      conn.on('data', (chunk: Buffer) => {
        try {
          const split = splitOctetCounted(Buffer.concat([buffer, chunk]));
          buffer = split.rest;
          for (const m of split.messages) accept(m);
        } catch (e) {
          errors.push(e as Error);
          notify();
          conn.destroy();
        }
      });
      conn.on('error', () => undefined);
    };
    if (transport === 'tls' && !tls) throw new Error('a TLS listener needs a certificate');
    const server: Server =
      transport === 'tls' && tls
        ? createTlsServer({ cert: tls.certPem, key: tls.keyPem }, onConnection)
        : createTcpServer(onConnection);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    close = () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Connections the sender still holds open would keep close() waiting.
        for (const c of connections) c.destroy();
      });
  }
  return {
    port,
    messages,
    raw,
    waitFor(predicate, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (errors.length > 0) {
            reject(new Error(`not RFC 5424: ${errors.map((e) => e.message).join('; ')}`));
            return true;
          }
          const found = messages.find(predicate);
          if (found) resolve(found);
          return found !== undefined;
        };
        if (check()) return;
        const timer = setTimeout(() => {
          notify = () => undefined;
          reject(
            new Error(`no matching syslog message in ${timeoutMs} ms; got ${raw.join(' | ')}`),
          );
        }, timeoutMs);
        const previous = notify;
        notify = () => {
          previous();
          if (check()) clearTimeout(timer);
        };
      });
    },
    close,
  };
}
