import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { describe, it } from 'node:test';
import { ipv4Hex, parseProcNetUdp, udpReceiveDrops } from './udp-socket-stats.ts';

const SAMPLE = [
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
  ' 1234: 0100007F:0714 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 98765 2 0000000000000000 17',
  ' 1235: 00000000:0715 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 98766 2 0000000000000000 0',
  'garbage line',
].join('\n');

describe('udp socket stats', () => {
  it('parses /proc/net/udp rows: address, port, inode, drops', () => {
    assert.deepEqual(parseProcNetUdp(SAMPLE), [
      { localHex: '0100007F', localPort: 1812, inode: 98765, drops: 17 },
      { localHex: '00000000', localPort: 1813, inode: 98766, drops: 0 },
    ]);
  });

  it('writes IPv4 addresses in the kernel byte order', () => {
    assert.equal(ipv4Hex('127.0.0.1'), '0100007F');
    assert.equal(ipv4Hex('10.1.2.254'), 'FE02010A');
  });

  it('reads a live socket (0 drops) and answers undefined for a port nobody bound', async () => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    try {
      assert.equal(udpReceiveDrops('127.0.0.1', s.address().port), 0);
      assert.equal(udpReceiveDrops('127.0.0.2', s.address().port), undefined);
    } finally {
      s.close();
    }
  });
});
