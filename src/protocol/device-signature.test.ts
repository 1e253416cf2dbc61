import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  canonicalDeviceRequest,
  importDevicePublicKey,
  signDeviceRequest,
  verifyDeviceRequest,
  type DeviceRequestParts,
} from './device-signature.ts';

const parts: DeviceRequestParts = {
  method: 'post',
  pathAndQuery: '/device/v1/requests/tx-1',
  date: '1700000000',
  deviceId: 'DV123',
  body: '{"answer":"approve"}',
};

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { publicKey, privateKey, jwk: publicKey.export({ format: 'jwk' }) };
}

describe('device request signatures', () => {
  it('puts each signed part on its own line, method upper-cased and the body hashed', () => {
    const bodyHash = createHash('sha256').update('{"answer":"approve"}').digest('hex');
    assert.equal(
      canonicalDeviceRequest(parts),
      `AirlockDevice-v1\nPOST\n/device/v1/requests/tx-1\n1700000000\nDV123\n${bodyHash}`,
    );
    // An empty body (GET) hashes the empty string.
    assert.ok(
      canonicalDeviceRequest({ ...parts, body: '' }).endsWith(
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ),
    );
  });

  it('verifies its own signature and refuses any changed part', () => {
    const { publicKey, privateKey } = keyPair();
    const header = signDeviceRequest(parts, privateKey);
    assert.equal(verifyDeviceRequest(parts, header, publicKey), true);
    const changes: Partial<DeviceRequestParts>[] = [
      { method: 'GET' },
      { pathAndQuery: '/device/v1/requests/tx-2' },
      { date: '1700000001' },
      { deviceId: 'DV124' },
      { body: '{"answer":"deny"}' },
    ];
    for (const change of changes) {
      assert.equal(verifyDeviceRequest({ ...parts, ...change }, header, publicKey), false);
    }
  });

  it('refuses another key, a malformed header and a missing one', () => {
    const a = keyPair();
    const b = keyPair();
    const header = signDeviceRequest(parts, a.privateKey);
    assert.equal(verifyDeviceRequest(parts, header, b.publicKey), false);
    assert.equal(verifyDeviceRequest(parts, undefined, a.publicKey), false);
    assert.equal(verifyDeviceRequest(parts, header.replace('v1', 'v2'), a.publicKey), false);
    assert.equal(verifyDeviceRequest(parts, `${header}AA`, a.publicKey), false);
    assert.equal(
      verifyDeviceRequest(parts, 'AirlockDevice-v1 ' + 'A'.repeat(86), a.publicKey),
      false,
    );
  });

  it('accepts a signature made by WebCrypto, as the web authenticator makes it', async () => {
    const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ]);
    const jwk = await webcrypto.subtle.exportKey('jwk', pair.publicKey);
    const signature = await webcrypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      pair.privateKey,
      new TextEncoder().encode(canonicalDeviceRequest(parts)),
    );
    const { key } = importDevicePublicKey(jwk);
    const header = `AirlockDevice-v1 ${Buffer.from(signature).toString('base64url')}`;
    assert.equal(verifyDeviceRequest(parts, header, key), true);
  });

  it('imports only P-256 public keys given as JWK', () => {
    const { jwk } = keyPair();
    assert.equal(importDevicePublicKey(jwk).jwk.crv, 'P-256');
    assert.throws(() => importDevicePublicKey(null), /JWK object/);
    assert.throws(() => importDevicePublicKey({ ...jwk, crv: 'P-384' }), /EC P-256/);
    assert.throws(() => importDevicePublicKey({ ...jwk, x: 'short' }), /32-byte/);
    // A well-formed coordinate pair that is not on the curve.
    assert.throws(() => importDevicePublicKey({ ...jwk, y: jwk.x }), /valid P-256 point/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      format: 'jwk',
    });
    assert.throws(() => importDevicePublicKey(rsa), /EC P-256/);
  });
});
