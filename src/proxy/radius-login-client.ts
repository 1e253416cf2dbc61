// A NAS in a function: sends one PAP Access-Request over UDP with our codec and returns the
// verified answer; the drill, the outage benchmark and `airlock radius-test` log in through it.
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { createAttribute, getAttribute } from '../protocol/radius/radius-attributes.ts';
import { encodeAccessRequest } from '../protocol/radius/radius-request.ts';
import { verifyResponse, type AccessResponseCode } from '../protocol/radius/radius-response.ts';
import type { Random } from '../runtime/random.ts';

export interface RadiusLoginRequest {
  host: string;
  port: number;
  secret: string;
  username: string;
  password: string;
  /** The State of an Access-Challenge being answered. */
  state?: Buffer;
  /** No retransmits: a request unanswered after this is reported as `timeout`. */
  timeoutMs: number;
  random: Random;
  /**
   * The NAS's own socket, kept across its logins (one login at a time on it); by default a fresh
   * socket per login, closed after it.
   */
  socket?: dgram.Socket;
}

export type RadiusLoginAnswer =
  | {
      kind: 'answer';
      code: AccessResponseCode;
      replyMessage: string | undefined;
      state: Buffer | undefined;
    }
  | { kind: 'timeout' };

/** A socket for `socket` of several logins in a row (a NAS keeps its socket); close it after. */
export function createNasSocket(host: string): dgram.Socket {
  return dgram.createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
}

/** Sends the request (from a fresh socket unless given one) and waits for the one verified answer. */
export async function sendRadiusLogin(request: RadiusLoginRequest): Promise<RadiusLoginAnswer> {
  const identifier = request.random.int(256);
  const authenticator = request.random.bytes(16);
  const packet = encodeAccessRequest({
    identifier,
    authenticator,
    secret: request.secret,
    password: request.password,
    attributes: [
      createAttribute('User-Name', request.username),
      createAttribute('NAS-IP-Address', '127.0.0.1'),
      ...(request.state ? [createAttribute('State', request.state)] : []),
    ],
  });
  const socket = request.socket ?? createNasSocket(request.host);
  let onError: ((e: Error) => void) | undefined;
  let onMessage: ((msg: Buffer) => void) | undefined;
  try {
    return await new Promise<RadiusLoginAnswer>((resolve, reject) => {
      const timer = setTimeout(() => resolve({ kind: 'timeout' }), request.timeoutMs);
      onError = (e) => {
        clearTimeout(timer);
        reject(e);
      };
      onMessage = (msg) => {
        try {
          const response = verifyResponse({
            request: { identifier, authenticator },
            response: msg,
            secret: request.secret,
            requireMessageAuthenticator: false,
          });
          clearTimeout(timer);
          resolve({
            kind: 'answer',
            code: response.code,
            replyMessage: getAttribute(response.attributes, 'Reply-Message'),
            state: getAttribute(response.attributes, 'State'),
          });
        } catch {
          // Not our answer (or forged): keep waiting for the real one until the deadline.
        }
      };
      socket.on('error', onError);
      socket.on('message', onMessage);
      socket.send(packet, request.port, request.host);
    });
  } finally {
    if (request.socket === undefined) socket.close();
    else {
      if (onError) socket.off('error', onError);
      if (onMessage) socket.off('message', onMessage);
    }
  }
}
