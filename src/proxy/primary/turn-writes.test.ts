import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import { gatherWritesThisTurn } from './turn-writes.ts';

test('the writes of one turn are held until its I/O callbacks ran, then sent together in order', async () => {
  const expected = 'one,two,three';
  let received = '';
  let allReceived!: () => void;
  const arrived = new Promise<void>((resolve) => (allReceived = resolve));
  const server = net.createServer((peer) =>
    peer.on('data', (d: Buffer) => {
      received += d.toString();
      if (received.length >= expected.length) allReceived();
    }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  try {
    const writev = socket._writev!.bind(socket);
    let writevCalls = 0;
    socket._writev = (chunks, cb) => {
      writevCalls += 1;
      writev(chunks, cb);
    };

    gatherWritesThisTurn(socket);
    gatherWritesThisTurn(socket); // the same turn: still one uncork to come
    socket.write('one,');
    socket.write('two,');
    gatherWritesThisTurn(socket);
    socket.write('three');
    assert.equal(socket.writableCorked, 1);
    assert.equal(socket.writableLength, expected.length, 'nothing sent yet');

    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(socket.writableCorked, 0);
    assert.equal(writevCalls, 1, 'the three writes went out as one writev');
    await arrived;
    assert.equal(received, expected);

    // A later turn gathers again.
    gatherWritesThisTurn(socket);
    assert.equal(socket.writableCorked, 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(socket.writableCorked, 0);
  } finally {
    socket.destroy();
    server.close();
  }
});
