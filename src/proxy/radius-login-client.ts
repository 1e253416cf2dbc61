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
}

export type RadiusLoginAnswer =
  | {
      kind: 'answer';
      code: AccessResponseCode;
      replyMessage: string | undefined;
      state: Buffer | undefined;
    }
  | { kind: 'timeout' };

/** Sends the request from a fresh socket and waits for the one verified answer. */
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
  const socket = dgram.createSocket(isIP(request.host) === 6 ? 'udp6' : 'udp4');
  try {
    return await new Promise<RadiusLoginAnswer>((resolve, reject) => {
      const timer = setTimeout(() => resolve({ kind: 'timeout' }), request.timeoutMs);
      socket.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.on('message', (msg) => {
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
      });
      socket.send(packet, request.port, request.host);
    });
  } finally {
    socket.close();
  }
}
