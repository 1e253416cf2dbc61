// [ldap_server_auto] resource bounds with a stand-in directory. Back-pressure: a directory answering one search with 64 MiB of
// entries, a client that does not read for a while. The proxy must stop reading the directory
// (the directory's writes back up) instead of holding the result in memory, then deliver every
// entry in order once the client reads. max_connections: one connection beyond is closed at once.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BER_TAG, berConstructed, berString, berUnsigned } from '../../src/protocol/ldap/ber.ts';
import {
  LDAP_OP,
  decodeLdapMessage,
  encodeResultMessage,
  splitLdapFrames,
} from '../../src/protocol/ldap/ldap-message.ts';
import { closedPort, testTlsMaterial } from './fault-servers.ts';
import { adClientSection, startTestProxy, type TestProxy } from './proxy-harness.ts';

const ENTRIES = 1000;
const VALUE = Buffer.alloc(64 * 1024, 0x61);
/** SearchRequest, messageID 2: base "dc=x", subtree, (objectClass=*). */
const SEARCH = Buffer.from(
  '30290201026324040464633d780a01020a010002010002010001010087 0b6f626a656374436c6173733000'.replace(
    / /g,
    '',
  ),
  'hex',
);

function entry(messageId: number, i: number): Buffer {
  return berConstructed(BER_TAG.sequence, [
    berUnsigned(BER_TAG.integer, messageId),
    berConstructed(LDAP_OP.searchResultEntry, [
      berString(BER_TAG.octetString, `cn=entry${i},dc=x`),
      berConstructed(BER_TAG.sequence, [
        berConstructed(BER_TAG.sequence, [
          berString(BER_TAG.octetString, 'description'),
          berConstructed(0x31, [berString(BER_TAG.octetString, VALUE)]),
        ]),
      ]),
    ]),
  ]);
}

/** A directory that answers any SearchRequest with ENTRIES big entries, honouring back-pressure. */
function startFloodingDirectory(): Promise<{
  port: number;
  written: () => number;
  close: () => Promise<void>;
}> {
  let written = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    const onData = async (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const { frames, rest } = splitLdapFrames(buffered);
      buffered = Buffer.from(rest);
      for (const frame of frames) {
        const m = decodeLdapMessage(frame);
        if (m.operation.type !== 'searchRequest') continue;
        for (let i = 0; i < ENTRIES && !socket.destroyed; i++) {
          written += 1;
          if (!socket.write(entry(m.messageId, i))) {
            await new Promise((resolve) => socket.once('drain', resolve));
          }
        }
        socket.write(
          encodeResultMessage({
            messageId: m.messageId,
            protocolOp: LDAP_OP.searchResultDone,
            resultCode: 0,
            matchedDn: '',
            diagnosticMessage: '',
          }),
        );
      }
    };
    socket.on('data', (chunk: Buffer) => void onData(chunk));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        written: () => written,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

let directory: Awaited<ReturnType<typeof startFloodingDirectory>>;
let proxy: TestProxy;

before(async () => {
  directory = await startFloodingDirectory();
  proxy = await startTestProxy({
    clientSection: adClientSection(directory.port),
    clientName: 'ad_client',
    serverKind: 'ldap_server_auto',
    ikey: 'DIXXXXXXXXXXXXXXXXXX',
    skey: 'x'.repeat(40),
    apiPort: await closedPort(),
    caPem: (await testTlsMaterial()).caPem,
    failmode: 'secure',
    extra: ['max_connections=3'],
  });
});
after(async () => {
  await proxy?.close();
  await directory?.close();
});

describe('[ldap_server_auto] back-pressure', () => {
  it('stops reading the directory while the client does not read, then delivers every entry in order', async () => {
    const client = net.connect(proxy.port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    client.pause();
    client.write(SEARCH);
    // Three seconds without reading: a proxy without back-pressure takes all 64 MiB (measured:
    // every entry on a quiet machine, 600 in 2 s on a loaded one); with it, the socket buffers
    // on the way hold about 150 entries.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const whilePaused = directory.written();
    assert.ok(
      whilePaused < 300,
      `the directory wrote ${whilePaused} of ${ENTRIES} entries (64 KiB each) to a client that read nothing`,
    );
    let received = Buffer.alloc(0);
    const ids: string[] = [];
    let done = false;
    await new Promise<void>((resolve, reject) => {
      client.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        const { frames, rest } = splitLdapFrames(received, 1024 * 1024);
        received = Buffer.from(rest);
        for (const frame of frames) {
          const m = decodeLdapMessage(frame, { maxMessageBytes: 1024 * 1024 });
          if (m.protocolOp === LDAP_OP.searchResultEntry) {
            // The DN: the first element of the entry, read from the raw bytes.
            ids.push(/cn=entry(\d+),dc=x/.exec(frame.toString('latin1'))?.[1] ?? '?');
          } else if (m.protocolOp === LDAP_OP.searchResultDone) {
            done = true;
            resolve();
          }
        }
      });
      client.on('error', reject);
      client.resume();
    });
    client.destroy();
    assert.ok(done);
    assert.equal(ids.length, ENTRIES);
    assert.deepEqual(
      ids,
      Array.from({ length: ENTRIES }, (_, i) => String(i)),
    );
  });

  it('closes a connection beyond max_connections at once and counts it', async () => {
    const open = async () => {
      const socket = net.connect(proxy.port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      return socket;
    };
    const held = [await open(), await open(), await open()];
    const extra = await open();
    const closed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      extra.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    assert.ok(closed, 'the fourth connection stayed open');
    assert.ok(held.every((s) => !s.destroyed));
    const metrics = await proxy.proxy.metrics.metrics();
    assert.match(
      metrics,
      /airlock_proxy_ldap_connections_total\{section="ldap_server_auto",result="refused-limit"\} 1/,
    );
    for (const s of held) s.destroy();
  });
});
