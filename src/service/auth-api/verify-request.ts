// The signed-request step every Auth API endpoint but ping runs first: credentials, date, signature.
import type { FastifyRequest } from 'fastify';
import { AirlockError } from '../../core/error-registry.ts';
import type { Application } from '../../core/model.ts';
import {
  parseAuthorization,
  parseDuoDate,
  verifySignature,
  verifySignatureV1,
} from '../../protocol/duo-signature.ts';
import { ProtocolError } from '../../protocol/protocol-error.ts';
import { isAllowedHost } from '../../protocol/request-host.ts';
import { isStoreError } from '../../store/store-error.ts';
import type { ApplicationCache } from './application-cache.ts';
import type { RequestParams } from './request-params.ts';

export interface VerifiedRequest {
  application: Application;
  signatureVersion: string;
}

export async function verifyRequest(
  req: FastifyRequest,
  params: RequestParams,
  deps: {
    applications: ApplicationCache;
    nowMs: number;
    dateWindowSeconds: number;
    /** Strict host mode; undefined = any Host. */
    allowedHosts: readonly string[] | undefined;
  },
): Promise<VerifiedRequest> {
  const credentials = readCredentials(req.headers.authorization);
  const application = await loadApplication(req, deps.applications, credentials.ikey);
  if (!application) throw new AirlockError('AUTH_UNKNOWN_IKEY');

  // X-Duo-Date takes precedence over Date (Duo Unix and duo_hmac send it).
  const dateHeader = header(req, 'x-duo-date') ?? header(req, 'date');
  const date = parseDuoDate(dateHeader, deps.nowMs, deps.dateWindowSeconds);
  if (!date.ok) throw new AirlockError('AUTH_BAD_DATE', date.reason);

  const result = verifySignature({
    skey: application.skey,
    signature: credentials.signature,
    method: req.method,
    host: header(req, 'host') ?? '',
    path: params.path,
    params: params.signed,
    body: params.rawBody,
    headers: req.headers,
    date: dateHeader ?? '',
  });
  if (!result.ok) throw new AirlockError('AUTH_BAD_SIGNATURE');
  // Checked after the signature, so only a good signature for another host is reported as such.
  checkRequestHost(req, deps.allowedHosts, 'AUTH_WRONG_HOST');
  // A v2 signature covers the query/form parameters only, never a JSON body: parameters read from
  // an unsigned body could be swapped in a replayed request. JSON bodies need v4/v5 (body hash).
  if (params.jsonBody && result.version.startsWith('v2')) {
    throw new AirlockError(
      'AUTH_BAD_SIGNATURE',
      'a JSON body must be signed with signature v4 or v5',
    );
  }
  return { application, signatureVersion: result.version };
}

/**
 * The signed-request step of /rest/v1 (Duo's Authentication Proxy and Auth API v1 clients).
 * Signature v1 (docs/design/auth-api.md §2.3) signs no date and can be replayed: only an
 * application that allows it accepts it, and only after the signature matched, so the refusal
 * tells a key holder what to change and anyone else nothing. A request that is not signed v1 but
 * carries a date header is verified as any Auth API request (v2, v4, v5 in the date window).
 */
export async function verifyRestV1Request(
  req: FastifyRequest,
  params: RequestParams,
  deps: Parameters<typeof verifyRequest>[2],
): Promise<VerifiedRequest> {
  const credentials = readCredentials(req.headers.authorization);
  const application = await loadApplication(req, deps.applications, credentials.ikey);
  if (!application) throw new AirlockError('AUTH_UNKNOWN_IKEY');
  const v1 = verifySignatureV1({
    skey: application.skey,
    signature: credentials.signature,
    method: req.method,
    host: header(req, 'host') ?? '',
    path: params.path,
    params: params.signed,
  });
  if (!v1.ok) {
    const dated = header(req, 'x-duo-date') !== undefined || header(req, 'date') !== undefined;
    if (dated) return verifyRequest(req, params, deps);
    throw new AirlockError('AUTH_BAD_SIGNATURE');
  }
  checkRequestHost(req, deps.allowedHosts, 'AUTH_WRONG_HOST');
  if (params.jsonBody) {
    throw new AirlockError(
      'AUTH_BAD_SIGNATURE',
      'a JSON body must be signed with signature v4 or v5',
    );
  }
  if (!application.allowV1Signature) {
    throw new AirlockError(
      'AUTH_LEGACY_SIGNATURE_NOT_ALLOWED',
      'signature v1 is not allowed for this application; allow it with ' +
        '`airlock app set <app> --allow-v1-signature` (or create it with --type authproxy)',
    );
  }
  return { application, signatureVersion: v1.version };
}

/**
 * Strict host mode: the signature covers the Host header, so a request signed for another
 * deployment or host name sharing these keys would verify here too; only the named hosts pass.
 * Throws `code` (detail `host`) for any other Host, after logging the host it refused (a name the
 * client sent, never a secret) for the operator. `allowedHosts` undefined: any Host passes.
 */
export function checkRequestHost(
  req: FastifyRequest,
  allowedHosts: readonly string[] | undefined,
  code: 'AUTH_WRONG_HOST' | 'ADMIN_WRONG_HOST',
): void {
  if (allowedHosts === undefined) return;
  const host = header(req, 'host') ?? '';
  if (isAllowedHost(host, allowedHosts)) return;
  req.log.warn({ code, host: host.slice(0, 255) }, 'request signed for a host not allowed');
  throw new AirlockError(code, 'host');
}

/**
 * The application an ikey names. One whose stored skey does not open (altered, or copied from
 * another row: finding 9 in docs/security.md) can verify no signature: the request is refused
 * as badly signed, never answered 500, which a proxy under failmode=safe would let through.
 */
async function loadApplication(
  req: FastifyRequest,
  applications: ApplicationCache,
  ikey: string,
): Promise<Application | undefined> {
  try {
    return await applications.getByIkey(ikey);
  } catch (err) {
    if (!isStoreError(err, 'STORE_SECRET_UNREADABLE')) throw err;
    req.log.error({ code: err.code, ikey }, `application refused: ${err.message}`);
    throw new AirlockError('AUTH_BAD_SIGNATURE', undefined, { cause: err });
  }
}

function readCredentials(authorization: string | undefined): { ikey: string; signature: string } {
  if (!authorization) throw new AirlockError('AUTH_MISSING_CREDENTIALS');
  try {
    return parseAuthorization(authorization);
  } catch (e) {
    if (e instanceof ProtocolError) throw new AirlockError('AUTH_MISSING_CREDENTIALS', e.message);
    throw e;
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
