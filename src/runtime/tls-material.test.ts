// Tests for the TLS bootstrap: files and modes, real HTTPS verification, reuse and re-issue rules.
// node:test's describe/it return promises its runner awaits itself.
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  TlsMaterialError,
  ensureTlsMaterial,
  loadOwnTlsMaterial,
  type TlsMaterial,
  type TlsMaterialErrorCode,
} from './tls-material.ts';

const DAY_MS = 86_400_000;
const HOSTNAME = 'airlock-test-host';

const tempDirs: string[] = [];
after(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-tls-'));
  tempDirs.push(dir);
  return dir;
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

function ensure(
  dataDir: string,
  extraSans: string[] = [],
  nowMs = Date.now(),
): Promise<TlsMaterial> {
  return ensureTlsMaterial({ dataDir, hostname: HOSTNAME, extraSans, nowMs });
}

function rejectsWithCode(promise: Promise<unknown>, code: TlsMaterialErrorCode): Promise<void> {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(
      error instanceof TlsMaterialError,
      `expected a TlsMaterialError, got ${String(error)}`,
    );
    assert.equal(error.code, code, error.message);
    return true;
  });
}

/** Binds an HTTPS server on `host` port 0; fails with a clear message when the address is missing. */
async function listenHttps(material: TlsMaterial, host: string): Promise<Server> {
  const server = createServer({ cert: material.certPem, key: material.keyPem }, (_req, res) => {
    res.end('ok');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          `cannot bind an HTTPS test server on ${host} (${error.code ?? error.message}); ` +
            `this test needs the ${host} loopback address on this machine`,
          { cause: error },
        ),
      );
    });
    server.listen(0, host, resolve);
  });
  return server;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** GET with full verification (Node's default): resolves with the body or rejects with the TLS error. */
function httpsGet(
  url: string,
  options: { ca?: string; servername?: string; family?: 4 | 6 } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get(url, { ...options, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    request.on('error', reject);
  });
}

describe('ensureTlsMaterial', () => {
  it('creates the CA and server certificate in DIR/tls with private modes on first start', async () => {
    const dataDir = await tempDir();
    const material = await ensure(dataDir);
    const tls = join(dataDir, 'tls');

    assert.equal(material.createdCa, true);
    assert.equal(material.issuedCert, true);
    assert.equal(material.caCertPath, join(tls, 'ca.pem'));
    assert.equal(material.certPath, join(tls, 'server.pem'));
    assert.equal(material.keyPath, join(tls, 'server-key.pem'));
    assert.equal(await readFile(join(tls, 'ca.pem'), 'utf8'), material.caCertPem);
    assert.equal(await readFile(join(tls, 'server.pem'), 'utf8'), material.certPem);
    assert.equal(await readFile(join(tls, 'server-key.pem'), 'utf8'), material.keyPem);
    assert.equal(await modeOf(tls), 0o700);
    assert.equal(await modeOf(join(tls, 'ca-key.pem')), 0o600);
    assert.equal(await modeOf(join(tls, 'server-key.pem')), 0o600);
    assert.deepEqual(material.sans, ['localhost', HOSTNAME, '127.0.0.1', '::1']);
  });

  it('issues a CA that can only sign certificates and a serverAuth leaf with PKCS#8 P-256 keys', async () => {
    const nowMs = Date.now();
    const material = await ensure(await tempDir(), [], nowMs);
    // Imported only after ensureTlsMaterial: the module installs the Reflect shim x509 needs.
    const x509 = await import('@peculiar/x509');

    const ca = new x509.X509Certificate(material.caCertPem);
    assert.equal(ca.subject, `CN=Airlock local CA (${HOSTNAME})`);
    assert.equal(ca.issuer, ca.subject);
    const basic = ca.getExtension(x509.BasicConstraintsExtension);
    assert.equal(basic?.ca, true);
    assert.equal(basic?.pathLength, 0);
    assert.equal(basic?.critical, true);
    const caUsage = ca.getExtension(x509.KeyUsagesExtension);
    assert.equal(caUsage?.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    assert.equal(ca.notBefore.getTime(), Math.floor(nowMs / 1000) * 1000);
    assert.equal(ca.notAfter.getUTCFullYear() - ca.notBefore.getUTCFullYear(), 10);
    assert.match(ca.serialNumber, /^[4-7][0-9a-f]{31}$/, 'a positive 16-byte serial');

    const leaf = new x509.X509Certificate(material.certPem);
    assert.equal(leaf.subject, 'CN=localhost');
    assert.equal(leaf.issuer, ca.subject);
    assert.equal(leaf.notAfter.getTime() - leaf.notBefore.getTime(), 397 * DAY_MS);
    assert.deepEqual(
      [...(leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])],
      [x509.ExtendedKeyUsage.serverAuth],
    );
    assert.equal(
      leaf.getExtension(x509.KeyUsagesExtension)?.usages,
      x509.KeyUsageFlags.digitalSignature,
    );
    assert.equal(new X509Certificate(material.certPem).ca, false);
    assert.notEqual(ca.serialNumber, leaf.serialNumber);

    assert.match(material.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    const key = createPrivateKey(material.keyPem);
    assert.equal(key.asymmetricKeyType, 'ec');
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  it('serves HTTPS that a client trusting only the CA verifies for localhost, 127.0.0.1 and [::1]', async () => {
    const material = await ensure(await tempDir());
    const v4 = await listenHttps(material, '127.0.0.1');
    const v6 = await listenHttps(material, '::1');
    try {
      const ca = material.caCertPem;
      // family 4: "localhost" must reach the 127.0.0.1 listener, not ::1.
      assert.equal(await httpsGet(`https://localhost:${portOf(v4)}/`, { ca, family: 4 }), 'ok');
      assert.equal(await httpsGet(`https://127.0.0.1:${portOf(v4)}/`, { ca }), 'ok');
      assert.equal(await httpsGet(`https://[::1]:${portOf(v6)}/`, { ca }), 'ok');
    } finally {
      await closeServer(v4);
      await closeServer(v6);
    }
  });

  it('is rejected by a client that does not trust the CA or asks for a name not in the certificate', async () => {
    const material = await ensure(await tempDir());
    const server = await listenHttps(material, '127.0.0.1');
    try {
      const url = `https://127.0.0.1:${portOf(server)}/`;
      await assert.rejects(httpsGet(url), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
      await assert.rejects(
        httpsGet(url, { ca: material.caCertPem, servername: 'not-in-cert.example' }),
        { code: 'ERR_TLS_CERT_ALTNAME_INVALID' },
      );
      const other = await ensure(await tempDir());
      await assert.rejects(httpsGet(url, { ca: other.caCertPem }), {
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      });
    } finally {
      await closeServer(server);
    }
  });

  it('reuses the CA and the server certificate on the next start', async () => {
    const dataDir = await tempDir();
    const first = await ensure(dataDir);
    const second = await ensure(dataDir);

    assert.equal(second.createdCa, false);
    assert.equal(second.issuedCert, false);
    assert.equal(second.caCertPem, first.caCertPem);
    assert.equal(second.certPem, first.certPem);
    assert.equal(second.keyPem, first.keyPem);
    assert.deepEqual(second.sans, first.sans);
  });

  it('re-issues the server certificate, keeping the CA, when a --tls-san is added', async () => {
    const dataDir = await tempDir();
    const first = await ensure(dataDir);
    const extras = ['Airlock.Example.TEST', '10.1.2.3', '[2001:DB8:0:0:0:0:0:1]'];
    const second = await ensure(dataDir, extras);

    assert.equal(second.createdCa, false);
    assert.equal(second.issuedCert, true);
    assert.equal(second.caCertPem, first.caCertPem);
    assert.notEqual(second.certPem, first.certPem);
    assert.notEqual(second.keyPem, first.keyPem);
    assert.deepEqual(second.sans, [
      'localhost',
      HOSTNAME,
      'airlock.example.test',
      '127.0.0.1',
      '::1',
      '10.1.2.3',
      '2001:db8::1',
    ]);
    assert.equal(await modeOf(join(dataDir, 'tls', 'server-key.pem')), 0o600);

    const server = await listenHttps(second, '127.0.0.1');
    try {
      const url = `https://127.0.0.1:${portOf(server)}/`;
      const ca = second.caCertPem;
      assert.equal(await httpsGet(url, { ca, servername: 'airlock.example.test' }), 'ok');
    } finally {
      await closeServer(server);
    }

    const same = await ensure(dataDir, ['airlock.example.test', '2001:db8::1']);
    assert.equal(same.issuedCert, false, 'equal names in another spelling are already covered');
    const fewer = await ensure(dataDir);
    assert.equal(fewer.issuedCert, false, 'dropping a --tls-san keeps the wider certificate');
  });

  it('re-issues the server certificate when it expires within 30 days', async () => {
    const dataDir = await tempDir();
    const nowMs = Date.now();
    const first = await ensure(dataDir, [], nowMs);

    const early = await ensure(dataDir, [], nowMs + 366 * DAY_MS);
    assert.equal(early.issuedCert, false, '31 days left: kept');
    const late = await ensure(dataDir, [], nowMs + 368 * DAY_MS);
    assert.equal(late.issuedCert, true, '29 days left: renewed');
    assert.equal(late.createdCa, false);
    assert.equal(late.caCertPem, first.caCertPem);
    const renewed = new X509Certificate(late.certPem);
    assert.ok(renewed.verify(new X509Certificate(first.caCertPem).publicKey));
  });

  it('re-issues a server certificate whose key file belongs to another key', async () => {
    const dataDir = await tempDir();
    await ensure(dataDir);
    const stray = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await writeFile(
      join(dataDir, 'tls', 'server-key.pem'),
      stray.export({ type: 'pkcs8', format: 'pem' }),
    );
    const material = await ensure(dataDir);
    assert.equal(material.issuedCert, true);
    assert.ok(
      new X509Certificate(material.certPem).checkPrivateKey(createPrivateKey(material.keyPem)),
    );
  });

  it('creates a new CA and re-issues the server certificate when the CA files were deleted', async () => {
    const dataDir = await tempDir();
    const first = await ensure(dataDir);
    await unlink(join(dataDir, 'tls', 'ca.pem'));
    await unlink(join(dataDir, 'tls', 'ca-key.pem'));
    const second = await ensure(dataDir);

    assert.equal(second.createdCa, true);
    assert.equal(second.issuedCert, true, 'the old certificate does not chain to the new CA');
    assert.notEqual(second.caCertPem, first.caCertPem);
  });

  it('refuses to replace a CA whose key is missing', async () => {
    const dataDir = await tempDir();
    await ensure(dataDir);
    await unlink(join(dataDir, 'tls', 'ca-key.pem'));
    await rejectsWithCode(ensure(dataDir), 'TLS_CA_INCOMPLETE');
  });

  it('puts a host name that is an IP address in an IP SAN', async () => {
    const material = await ensureTlsMaterial({
      dataDir: await tempDir(),
      hostname: '192.0.2.10',
      extraSans: [],
      nowMs: Date.now(),
    });
    assert.deepEqual(material.sans, ['localhost', '127.0.0.1', '::1', '192.0.2.10']);
    assert.equal(new X509Certificate(material.certPem).checkIP('192.0.2.10'), '192.0.2.10');
  });

  it('rejects a --tls-san that is neither a DNS name nor an IP address', async () => {
    for (const bad of ['bad name', 'under/slash', '10.1.2', 'fe80::1%eth0', '', '-x.example']) {
      await rejectsWithCode(ensure(await tempDir(), [bad]), 'TLS_SAN_INVALID');
    }
  });
});

describe('loadOwnTlsMaterial', () => {
  async function ownPair(): Promise<{ dir: string; material: TlsMaterial }> {
    const dir = await tempDir();
    return { dir, material: await ensure(dir) };
  }

  it('returns the certificate and key when the key belongs to the certificate', async () => {
    const { material } = await ownPair();
    const own = await loadOwnTlsMaterial({
      certPath: material.certPath,
      keyPath: material.keyPath,
    });
    assert.deepEqual(own, { certPem: material.certPem, keyPem: material.keyPem });
  });

  it('rejects a key that does not belong to the certificate', async () => {
    const { dir, material } = await ownPair();
    const strayPath = join(dir, 'stray-key.pem');
    const stray = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await writeFile(strayPath, stray.export({ type: 'pkcs8', format: 'pem' }));
    await rejectsWithCode(
      loadOwnTlsMaterial({ certPath: material.certPath, keyPath: strayPath }),
      'TLS_KEY_MISMATCH',
    );
  });

  it('names the file that is missing', async () => {
    const { dir, material } = await ownPair();
    const missing = join(dir, 'nope.pem');
    await assert.rejects(loadOwnTlsMaterial({ certPath: missing, keyPath: material.keyPath }), {
      code: 'TLS_FILE_UNREADABLE',
      message: new RegExp(`--tls-cert\\) ${missing} cannot be read \\(ENOENT\\)`),
    });
    await rejectsWithCode(
      loadOwnTlsMaterial({ certPath: material.certPath, keyPath: missing }),
      'TLS_FILE_UNREADABLE',
    );
  });

  it('rejects files that are not a PEM certificate or key', async () => {
    const { dir, material } = await ownPair();
    const junk = join(dir, 'junk.pem');
    await writeFile(junk, 'not a pem\n');
    await rejectsWithCode(
      loadOwnTlsMaterial({ certPath: junk, keyPath: material.keyPath }),
      'TLS_CERT_INVALID',
    );
    await rejectsWithCode(
      loadOwnTlsMaterial({ certPath: material.certPath, keyPath: junk }),
      'TLS_KEY_INVALID',
    );
  });
});
