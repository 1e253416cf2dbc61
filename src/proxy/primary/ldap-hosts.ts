// Where an LDAP connection goes and how its socket opens: `host[:port]` as authproxy.cfg writes it,
// and a socket whose TCP connect and TLS handshake both obey one timeout. Used by the LDAP primary
// (ldap-primary.ts) and the LDAP proxy's upstream (ldap-upstream.ts).
import net from 'node:net';
import tls from 'node:tls';

export interface HostTarget {
  host: string;
  port: number;
  label: string;
}

/** `host`, `host:port` or `[v6]:port` with `defaultPort`; a message when it is none of these. */
export function parseHost(spec: string, defaultPort: number): HostTarget | string {
  const s = spec.trim();
  let host = s;
  let port = defaultPort;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracketed) {
    host = bracketed[1] ?? '';
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (s.split(':').length === 2) {
    const [h, p] = s.split(':');
    host = h ?? '';
    if (!/^\d+$/.test(p ?? '')) return `host "${spec}": port must be a number`;
    port = Number(p);
  }
  if (host === '' || /[\s/]/.test(host)) return `host "${spec}": not a host name or address`;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    return `host "${spec}": port out of range`;
  return { host, port, label: net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}` };
}

/** Opens the socket ourselves so that TCP connect and the TLS handshake both obey the timeout. */
export function openSocket(
  target: HostTarget,
  tlsOptions: tls.ConnectionOptions | undefined,
  timeoutMs: number,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket: net.Socket = tlsOptions
      ? tls.connect({ ...tlsOptions, host: target.host, port: target.port })
      : net.connect({ host: target.host, port: target.port });
    const ready = tlsOptions ? 'secureConnect' : 'connect';
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new Error(`connect timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('error', fail);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      // Until ldapts takes the socket over (it replaces the error listeners), an error must not crash us.
      socket.on('error', () => {});
      resolve(socket);
    });
  });
}

// What ldapts gets instead of a new socket when it tries to reconnect on its own.
export function refusedSocket(): net.Socket {
  const socket = new net.Socket();
  socket.destroy(new Error('ldap: a pooled connection is never reconnected'));
  return socket;
}
