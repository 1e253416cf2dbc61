// TLS bootstrap: a local CA and a server certificate kept in DATA_DIR/tls, or the operator's own pair.
import type * as X509 from '@peculiar/x509';
import {
  X509Certificate as NodeX509Certificate,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  type KeyObject,
  type webcrypto,
} from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';

export const TLS_MATERIAL_ERROR_CODES = [
  'TLS_FILE_UNREADABLE',
  'TLS_CERT_INVALID',
  'TLS_KEY_INVALID',
  'TLS_KEY_MISMATCH',
  'TLS_CA_INCOMPLETE',
  'TLS_CA_EXPIRED',
  'TLS_SAN_INVALID',
] as const;
export type TlsMaterialErrorCode = (typeof TLS_MATERIAL_ERROR_CODES)[number];

export class TlsMaterialError extends Error {
  override readonly name = 'TlsMaterialError';
  readonly code: TlsMaterialErrorCode;

  constructor(code: TlsMaterialErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export interface EnsureTlsMaterialOptions {
  dataDir: string;
  /** The machine's host name (os.hostname()); skipped when it is not a valid DNS name. */
  hostname: string;
  /** `--tls-san` values: DNS names (a leading `*.` is allowed), IPv4 or IPv6 addresses. */
  extraSans: readonly string[];
  /** Validity start of anything issued now, and the reference for expiry checks. */
  nowMs: number;
}

export interface TlsMaterial {
  caCertPath: string;
  caCertPem: string;
  certPath: string;
  certPem: string;
  keyPath: string;
  /** PKCS#8 PEM. */
  keyPem: string;
  createdCa: boolean;
  issuedCert: boolean;
  /** The server certificate's subject alternative names (DNS names, then IP addresses). */
  sans: string[];
}

export interface OwnTlsMaterial {
  certPem: string;
  keyPem: string;
}

const CA_VALIDITY_YEARS = 10;
const SERVER_VALIDITY_MS = 397 * 86_400_000; // the CA/Browser Forum maximum for server certs
const RENEW_BEFORE_MS = 30 * 86_400_000;
const EC_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DIR_MODE = 0o700;
const KEY_MODE = 0o600;
const CERT_MODE = 0o644;

type San = { type: 'dns' | 'ip'; value: string };

/**
 * Loads the local CA and server certificate from `dataDir/tls`, creating the CA on first start and
 * (re)issuing the server certificate when it is missing, expires within 30 days, was not issued by
 * this CA, or does not name every requested host.
 */
export async function ensureTlsMaterial(options: EnsureTlsMaterialOptions): Promise<TlsMaterial> {
  const x509 = await loadX509();
  const requested = requestedSans(options.hostname, options.extraSans);
  const dir = join(options.dataDir, 'tls');
  const paths = {
    caCert: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server-key.pem'),
  };
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  // mkdir's mode is filtered by the umask and ignored for an existing directory; the CA key lives here.
  await chmod(dir, DIR_MODE);

  let ca = await loadCa(x509, paths.caCert, paths.caKey, options.nowMs);
  const createdCa = ca === undefined;
  if (ca === undefined) {
    ca = await createCa(x509, options.hostname, options.nowMs);
    // Key first: a crash between the writes leaves an orphan key, which the next start replaces.
    await writeFileAtomic(paths.caKey, ca.keyPem, KEY_MODE);
    await writeFileAtomic(paths.caCert, ca.certPem, CERT_MODE);
  }

  const existing = await loadServer(x509, paths.cert, paths.key);
  const issuedCert =
    existing === undefined || !isServerCertUsable(existing, ca, requested, options.nowMs);
  const server = issuedCert ? await issueServerCert(x509, ca, requested, options.nowMs) : existing;
  if (issuedCert) {
    // Key first: a crash between the writes leaves a mismatched pair, which the next start re-issues.
    await writeFileAtomic(paths.key, server.keyPem, KEY_MODE);
    await writeFileAtomic(paths.cert, server.certPem, CERT_MODE);
  }

  return {
    caCertPath: paths.caCert,
    caCertPem: ca.certPem,
    certPath: paths.cert,
    certPem: server.certPem,
    keyPath: paths.key,
    keyPem: server.keyPem,
    createdCa,
    issuedCert,
    sans: server.sans.map((san) => san.value),
  };
}

/** Reads the operator's `--tls-cert`/`--tls-key` pair and checks that the key belongs to the cert. */
export async function loadOwnTlsMaterial(options: {
  certPath: string;
  keyPath: string;
}): Promise<OwnTlsMaterial> {
  const certPem = await readRequired(options.certPath, 'TLS certificate (--tls-cert)');
  const keyPem = await readRequired(options.keyPath, 'TLS private key (--tls-key)');
  const cert = parseCert(certPem, options.certPath, 'TLS certificate (--tls-cert)');
  const key = parseKey(keyPem, options.keyPath, 'TLS private key (--tls-key)');
  if (!cert.checkPrivateKey(key)) {
    throw new TlsMaterialError(
      'TLS_KEY_MISMATCH',
      `TLS private key ${options.keyPath} does not belong to the certificate ${options.certPath}`,
    );
  }
  return { certPem, keyPem };
}

type X509Module = typeof X509;

interface LoadedCa {
  certPem: string;
  keyPem: string;
  cert: NodeX509Certificate;
  /** The parsed CA certificate, so the issuer name is copied byte for byte. */
  x509Cert: X509.X509Certificate;
  signingKey: webcrypto.CryptoKey;
  notAfterMs: number;
}

interface LoadedServer {
  certPem: string;
  keyPem: string;
  cert: NodeX509Certificate;
  key: KeyObject;
  sans: San[];
  notBeforeMs: number;
  notAfterMs: number;
}

async function loadX509(): Promise<X509Module> {
  // @peculiar/x509 2.x loads tsyringe, which refuses to start without the Reflect metadata
  // polyfill; load it first, then x509.
  await import('reflect-metadata');
  return import('@peculiar/x509');
}

// --- subject alternative names ---

function requestedSans(hostname: string, extraSans: readonly string[]): San[] {
  const sans: San[] = [
    { type: 'dns', value: 'localhost' },
    { type: 'ip', value: '127.0.0.1' },
    { type: 'ip', value: '::1' },
  ];
  const host = classifyName(hostname);
  // An unusual host name must not stop the service from starting; it is left out of the cert.
  if (host !== undefined && (host.type === 'ip' || isDnsName(host.value, false))) sans.push(host);
  for (const extra of extraSans) {
    const san = classifyName(extra);
    if (san === undefined || (san.type === 'dns' && !isDnsName(san.value, true))) {
      throw new TlsMaterialError(
        'TLS_SAN_INVALID',
        `--tls-san ${JSON.stringify(extra)}: must be a DNS name (optionally *.name), an IPv4 or an IPv6 address`,
      );
    }
    sans.push(san);
  }
  const unique = new Map(sans.map((san) => [`${san.type}:${san.value}`, san]));
  // A stable sort: DNS names first (the first is the subject CN), each group in request order.
  return [...unique.values()].sort((a, b) => (a.type === b.type ? 0 : a.type === 'dns' ? -1 : 1));
}

function classifyName(raw: string): San | undefined {
  let name = raw.trim().toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  if (name === '') return undefined;
  const ip = normalizeIp(name);
  if (ip !== undefined) return { type: 'ip', value: ip };
  if (isIP(name) !== 0) return undefined; // an IPv6 zone id (fe80::1%eth0) cannot be in a certificate
  return { type: 'dns', value: name.endsWith('.') ? name.slice(0, -1) : name };
}

function normalizeIp(value: string): string | undefined {
  if (value.includes('%')) return undefined;
  const family = isIP(value);
  if (family === 4) return value;
  // The WHATWG URL parser gives the RFC 5952 form, so ::1 and 0:0:0:0:0:0:0:1 compare equal.
  if (family === 6) return new URL(`http://[${value}]/`).hostname.slice(1, -1);
  return undefined;
}

function isDnsName(name: string, allowWildcard: boolean): boolean {
  if (name.length > 253) return false;
  const labels = name.split('.');
  if (allowWildcard && labels.length > 2 && labels[0] === '*') labels.shift();
  const label = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;
  if (!labels.every((l) => label.test(l))) return false;
  // An all-numeric last label is a mistyped IP address (10.1.2), not a host name.
  return !/^[0-9]+$/.test(labels[labels.length - 1] ?? '');
}

function sansOf(x509: X509Module, cert: X509.X509Certificate): San[] {
  const extension = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const sans: San[] = [];
  for (const name of extension?.names.toJSON() ?? []) {
    if (name.type === 'dns') sans.push({ type: 'dns', value: name.value.toLowerCase() });
    if (name.type === 'ip') {
      const ip = normalizeIp(name.value);
      if (ip !== undefined) sans.push({ type: 'ip', value: ip });
    }
  }
  return sans;
}

// --- CA ---

async function loadCa(
  x509: X509Module,
  certPath: string,
  keyPath: string,
  nowMs: number,
): Promise<LoadedCa | undefined> {
  const certPem = await readOptional(certPath);
  if (certPem === undefined) return undefined;
  const keyPem = await readOptional(keyPath);
  if (keyPem === undefined) {
    // Replacing the CA would silently break every client that already trusts it.
    throw new TlsMaterialError(
      'TLS_CA_INCOMPLETE',
      `CA certificate ${certPath} exists but its key ${keyPath} is missing; restore the key, or delete ${certPath} to create a new CA (clients must then trust the new one)`,
    );
  }
  const cert = parseCert(certPem, certPath, 'CA certificate');
  const key = parseKey(keyPem, keyPath, 'CA private key');
  if (!cert.ca || !cert.checkPrivateKey(key)) {
    throw new TlsMaterialError(
      cert.ca ? 'TLS_KEY_MISMATCH' : 'TLS_CERT_INVALID',
      cert.ca
        ? `CA private key ${keyPath} does not belong to the CA certificate ${certPath}`
        : `${certPath} is not a CA certificate (basicConstraints CA:true is missing)`,
    );
  }
  const x509Cert = new x509.X509Certificate(certPem);
  const notAfterMs = x509Cert.notAfter.getTime();
  if (notAfterMs - nowMs < RENEW_BEFORE_MS) {
    throw new TlsMaterialError(
      'TLS_CA_EXPIRED',
      `local CA ${certPath} expires ${x509Cert.notAfter.toISOString()}; delete ${certPath} and ${keyPath} to create a new CA (clients must then trust the new one)`,
    );
  }
  const signingKey = await importSigningKey(key, keyPath);
  return { certPem, keyPem, cert, x509Cert, signingKey, notAfterMs };
}

async function createCa(x509: X509Module, hostname: string, nowMs: number): Promise<LoadedCa> {
  const keys = await crypto.subtle.generateKey(EC_KEY_ALGORITHM, true, ['sign', 'verify']);
  const notBefore = new Date(floorToSecond(nowMs));
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const x509Cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialNumber(),
      // The JSON form, not a DN string: a host name may contain characters DN syntax escapes.
      name: [{ CN: [`Airlock local CA (${hostname})`] }],
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const certPem = x509Cert.toString('pem');
  return {
    certPem,
    keyPem: await exportPkcs8Pem(keys.privateKey),
    cert: new NodeX509Certificate(certPem),
    x509Cert,
    signingKey: keys.privateKey,
    notAfterMs: notAfter.getTime(),
  };
}

// --- server certificate ---

async function loadServer(
  x509: X509Module,
  certPath: string,
  keyPath: string,
): Promise<LoadedServer | undefined> {
  const certPem = await readOptional(certPath);
  const keyPem = await readOptional(keyPath);
  if (certPem === undefined || keyPem === undefined) return undefined;
  try {
    return describeServer(x509, certPem, keyPem);
  } catch {
    return undefined; // derived material: a damaged file is simply re-issued
  }
}

function describeServer(x509: X509Module, certPem: string, keyPem: string): LoadedServer {
  const parsed = new x509.X509Certificate(certPem);
  return {
    certPem,
    keyPem,
    cert: new NodeX509Certificate(certPem),
    key: createPrivateKey(keyPem),
    sans: sansOf(x509, parsed),
    notBeforeMs: parsed.notBefore.getTime(),
    notAfterMs: parsed.notAfter.getTime(),
  };
}

function isServerCertUsable(
  server: LoadedServer,
  ca: LoadedCa,
  requested: readonly San[],
  nowMs: number,
): boolean {
  const { cert } = server;
  if (!cert.checkPrivateKey(server.key)) return false;
  // A CA re-created after its files were deleted: the old server cert no longer chains to it.
  if (!cert.checkIssued(ca.cert) || !cert.verify(ca.cert.publicKey)) return false;
  if (server.notBeforeMs > nowMs || server.notAfterMs - nowMs < RENEW_BEFORE_MS) return false;
  // A superset is fine: dropping a --tls-san later does not force a new certificate.
  const present = new Set(server.sans.map((san) => `${san.type}:${san.value}`));
  return requested.every((san) => present.has(`${san.type}:${san.value}`));
}

async function issueServerCert(
  x509: X509Module,
  ca: LoadedCa,
  sans: readonly San[],
  nowMs: number,
): Promise<LoadedServer> {
  const keys = await crypto.subtle.generateKey(EC_KEY_ALGORITHM, true, ['sign', 'verify']);
  const notBeforeMs = floorToSecond(nowMs);
  // A certificate must not outlive its issuer.
  const notAfterMs = Math.min(notBeforeMs + SERVER_VALIDITY_MS, ca.notAfterMs);
  const commonName = sans.find((san) => san.type === 'dns')?.value ?? 'localhost';
  const x509Cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerialNumber(),
      subject: [{ CN: [commonName] }],
      issuer: ca.x509Cert.subjectName,
      notBefore: new Date(notBeforeMs),
      notAfter: new Date(notAfterMs),
      publicKey: keys.publicKey,
      signingKey: ca.signingKey,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(
          sans.map((san) => ({ type: san.type, value: san.value })),
          false,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(
          await ca.x509Cert.publicKey.export(crypto),
          false,
          crypto,
        ),
      ],
    },
    crypto,
  );
  return describeServer(x509, x509Cert.toString('pem'), await exportPkcs8Pem(keys.privateKey));
}

// --- keys, serials, files ---

/** 16 random bytes with the top bit clear (a positive INTEGER) and the next set (no leading zero). */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function floorToSecond(ms: number): number {
  // X.509 times have one-second resolution; never let a cert start after the moment it was asked for.
  return Math.floor(ms / 1000) * 1000;
}

async function exportPkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

async function importSigningKey(key: KeyObject, keyPath: string): Promise<webcrypto.CryptoKey> {
  try {
    const der = key.export({ type: 'pkcs8', format: 'der' });
    return await crypto.subtle.importKey('pkcs8', der, EC_KEY_ALGORITHM, false, ['sign']);
  } catch (cause) {
    throw new TlsMaterialError(
      'TLS_KEY_INVALID',
      `CA private key ${keyPath} is not an ECDSA P-256 key`,
      {
        cause,
      },
    );
  }
}

function parseCert(pem: string, path: string, what: string): NodeX509Certificate {
  try {
    return new NodeX509Certificate(pem);
  } catch (cause) {
    throw new TlsMaterialError('TLS_CERT_INVALID', `${what} ${path} is not a PEM certificate`, {
      cause,
    });
  }
}

function parseKey(pem: string, path: string, what: string): KeyObject {
  try {
    const key = createPrivateKey(pem);
    createPublicKey(key); // fails early on a key Node can load but not use
    return key;
  } catch (cause) {
    throw new TlsMaterialError(
      'TLS_KEY_INVALID',
      `${what} ${path} is not an unencrypted PEM private key`,
      {
        cause,
      },
    );
  }
}

async function readRequired(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? 'read error';
    throw new TlsMaterialError(
      'TLS_FILE_UNREADABLE',
      `${what} ${path} cannot be read (${reason})`,
      {
        cause,
      },
    );
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    const reason = (cause as NodeJS.ErrnoException).code ?? 'read error';
    throw new TlsMaterialError('TLS_FILE_UNREADABLE', `${path} cannot be read (${reason})`, {
      cause,
    });
  }
}

/** Writes via a temporary file and rename, so a reader never sees a half-written PEM. */
async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.chmod(mode); // open's mode is filtered by the umask
    await handle.writeFile(data, 'utf8');
    await handle.sync();
    await handle.close();
    await rename(temporary, path);
  } catch (error) {
    await handle.close().catch(() => undefined); // already closed on the rename path
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
