// The LDAP proxy's connection to the directory of its [ad_client]: one per client connection,
// hosts tried in order (a host that failed recently goes last), clear, LDAPS or StartTLS as the
// [ad_client] says, connect and TLS within the client's `timeout`.
import net from 'node:net';
import tls from 'node:tls';
import type { AdClientConfig } from '../config/authproxy-config.ts';
import {
  STARTTLS_OID,
  decodeLdapMessage,
  encodeExtendedRequest,
  splitLdapFrames,
} from '../protocol/ldap/ldap-message.ts';
import type { Clock } from '../runtime/clock.ts';
import { openSocket, parseHost, type HostTarget } from './primary/ldap-hosts.ts';

/** A host that failed is tried after the others for this long. */
const HOST_RETRY_MS = 30_000;
/** The StartTLS request's messageID: it is answered before any client message is forwarded. */
const STARTTLS_MESSAGE_ID = 0x7fffffff;

export interface LdapUpstream {
  socket: net.Socket;
  /** `host:port` of the directory server it reached. */
  label: string;
}

export type OpenLdapUpstream = () => Promise<LdapUpstream>;

/** Opens connections to the [ad_client]'s directory; throws when no host can be reached. */
export function createLdapUpstreamOpener(client: AdClientConfig, clock: Clock): OpenLdapUpstream {
  const targets = client.hosts.flatMap((h) => {
    const t = parseHost(h, client.port);
    return typeof t === 'string' ? [] : [t];
  });
  const failedAtMs = new Map<string, number>();
  const tlsOptions: tls.ConnectionOptions | undefined =
    client.transport === 'clear'
      ? undefined
      : {
          ...(client.sslCaPem ? { ca: client.sslCaPem } : {}),
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
          checkServerIdentity: client.sslVerifyHostname ? tls.checkServerIdentity : () => undefined,
        };
  const order = (): HostTarget[] => {
    const now = clock.nowMs();
    const recent = (t: HostTarget) => now - (failedAtMs.get(t.label) ?? -Infinity) < HOST_RETRY_MS;
    return [...targets.filter((t) => !recent(t)), ...targets.filter(recent)];
  };
  return async () => {
    const failures: string[] = [];
    for (const target of order()) {
      const hostTls = tlsOptions && {
        ...tlsOptions,
        ...(net.isIP(target.host) ? {} : { servername: target.host }),
      };
      try {
        let socket = await openSocket(
          target,
          client.transport === 'ldaps' ? hostTls : undefined,
          client.timeoutMs,
        );
        if (client.transport === 'starttls' && hostTls) {
          socket = await startTls(socket, target, hostTls, client.timeoutMs);
        }
        failedAtMs.delete(target.label);
        return { socket, label: target.label };
      } catch (err) {
        failedAtMs.set(target.label, clock.nowMs());
        failures.push(`${target.label}: ${(err as Error).message}`);
      }
    }
    throw new Error(`no directory host reachable (${failures.join('; ')})`);
  };
}

/** RFC 4511 §4.14: ask for StartTLS, wait for success, then the TLS handshake on the socket. */
function startTls(
  socket: net.Socket,
  target: HostTarget,
  options: tls.ConnectionOptions,
  timeoutMs: number,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new Error(`StartTLS timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      let frames: Buffer[];
      try {
        ({ frames } = splitLdapFrames(buffered));
      } catch (err) {
        fail(err as Error);
        return;
      }
      const frame = frames[0];
      if (frame === undefined) return;
      socket.off('data', onData);
      socket.pause();
      let ok: boolean;
      try {
        const m = decodeLdapMessage(frame);
        ok =
          m.messageId === STARTTLS_MESSAGE_ID &&
          m.operation.type === 'extendedResponse' &&
          m.operation.result.resultCode === 0;
      } catch {
        ok = false;
      }
      if (!ok) {
        fail(new Error(`${target.label} refused StartTLS`));
        return;
      }
      const secure = tls.connect({ ...options, socket });
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        secure.removeAllListeners('error');
        secure.on('error', () => {});
        resolve(secure);
      });
      secure.once('error', (err: Error) => fail(err));
    };
    socket.on('data', onData);
    socket.write(
      encodeExtendedRequest({ messageId: STARTTLS_MESSAGE_ID, requestName: STARTTLS_OID }),
    );
  });
}
