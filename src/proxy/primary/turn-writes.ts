// Gathers a socket's writes of one event-loop turn into one system call.
//
// A shared LDAP connection carries the searches of many logins at once. Each LDAP request is one
// socket write, and on loopback a TCP write also pays for the receiving side's work in the
// kernel: under load, logins whose Access-Requests arrived in the same turn send their searches
// as one `writev` instead of one `write` each (what `bench:radius` measures; docs/benchmarks.md).
import type { Duplex } from 'node:stream';

const gathering = new WeakSet<Duplex>();

/**
 * Holds `socket`'s writes until this turn's I/O callbacks have run (`setImmediate`), then sends
 * them at once, in order. Calling it again in the same turn adds nothing; a socket that closes
 * meanwhile just drops what it held, as it would have anyway.
 */
export function gatherWritesThisTurn(socket: Duplex): void {
  if (gathering.has(socket)) return;
  gathering.add(socket);
  socket.cork();
  setImmediate(() => {
    gathering.delete(socket);
    socket.uncork();
  });
}
