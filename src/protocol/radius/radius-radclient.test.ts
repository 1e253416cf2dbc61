// Interop with a real RADIUS client: FreeRADIUS's radclient against a UDP socket answered by this codec.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { createAttribute } from './radius-attributes.ts';
import { decodePacket } from './radius-packet.ts';
import { decodeAccessRequest, decodePasswordText } from './radius-request.ts';
import { encodeResponse } from './radius-response.ts';
import { assertProtocolError } from './radius-vectors.test.ts';

const SECRET = 'testing123';

interface RadclientRun {
  exitCode: number;
  output: string;
}

/** Runs radclient once (one try, 1 s timeout) with `input` as its attribute list. */
function radclient(port: number, input: string, secret = SECRET): Promise<RadclientRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'radclient',
      ['-x', '-r', '1', '-t', '1', `127.0.0.1:${port}`, 'auth', secret],
      { timeout: 10_000 },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new Error('radclient not found; install with: apt-get install freeradius-utils'));
          return;
        }
        resolve({
          exitCode: typeof error?.code === 'number' ? error.code : 0,
          output: stdout + stderr,
        });
      },
    );
    child.stdin!.end(input);
  });
}

describe('interop with FreeRADIUS radclient', () => {
  let socket: dgram.Socket;
  let port: number;
  /** What to do with each datagram; replaced by each test. */
  let onDatagram: (datagram: Buffer, rinfo: dgram.RemoteInfo) => void = () => {};

  before(async () => {
    socket = dgram.createSocket('udp4');
    socket.on('message', (datagram, rinfo) => onDatagram(datagram, rinfo));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    port = socket.address().port;
  });
  after(() => socket.close());

  it('verifies the Message-Authenticator radclient computes, with the right secret only', async () => {
    const captured: Buffer[] = [];
    onDatagram = (datagram, rinfo) => {
      captured.push(datagram);
      // Answer so that radclient exits at once instead of waiting for its timeout.
      const request = decodeAccessRequest(datagram, SECRET, { requireMessageAuthenticator: true });
      const reject = encodeResponse({
        request,
        code: 'Access-Reject',
        attributes: [],
        secret: SECRET,
      });
      socket.send(reject, rinfo.port, rinfo.address);
    };
    await radclient(
      port,
      'User-Name = "alice", User-Password = "pass word", Message-Authenticator = 0x00\n',
    );
    assert.ok(captured.length >= 1, 'radclient sent nothing');
    const request = decodeAccessRequest(captured[0]!, SECRET, {
      requireMessageAuthenticator: true,
    });
    assert.equal(request.hasMessageAuthenticator, true);
    assert.equal(request.userName, 'alice');
    assert.equal(decodePasswordText(request.password!), 'pass word');
    assertProtocolError(
      () => decodeAccessRequest(captured[0]!, 'testing124', { requireMessageAuthenticator: false }),
      'RADIUS_BAD_MESSAGE_AUTHENTICATOR',
    );
  });

  it('answers with a Message-Authenticator-first Access-Accept that radclient accepts, Proxy-State echoed', async () => {
    const requests: Buffer[] = [];
    onDatagram = (datagram, rinfo) => {
      requests.push(datagram);
      const request = decodeAccessRequest(datagram, SECRET, { requireMessageAuthenticator: true });
      const response = encodeResponse({
        request,
        code: 'Access-Accept',
        attributes: [createAttribute('Reply-Message', 'welcome alice')],
        secret: SECRET,
      });
      assert.equal(decodePacket(response).attributes[0]!.type, 80);
      socket.send(response, rinfo.port, rinfo.address);
    };
    const run = await radclient(
      port,
      'User-Name = "alice", User-Password = "pw", Proxy-State = 0x0102, Proxy-State = 0x0304, Message-Authenticator = 0x00\n',
    );
    assert.equal(run.exitCode, 0, run.output);
    assert.match(run.output, /Received Access-Accept/);
    assert.match(run.output, /Reply-Message = "welcome alice"/);
    assert.match(run.output, /Proxy-State = 0x0102\s+Proxy-State = 0x0304/);
    assert.equal(requests.length, 1);
  });

  it('is refused by radclient when the reply is signed with another secret', async () => {
    onDatagram = (datagram, rinfo) => {
      const request = decodeAccessRequest(datagram, SECRET, { requireMessageAuthenticator: true });
      const forged = encodeResponse({
        request,
        code: 'Access-Accept',
        attributes: [],
        secret: 'not-the-secret',
      });
      socket.send(forged, rinfo.port, rinfo.address);
    };
    const run = await radclient(
      port,
      'User-Name = "alice", User-Password = "pw", Message-Authenticator = 0x00\n',
    );
    assert.notEqual(run.exitCode, 0, run.output);
    assert.doesNotMatch(run.output, /Received Access-Accept/);
    assert.match(run.output, /invalid Message-Authenticator|invalid Response Authenticator/);
  });
});
