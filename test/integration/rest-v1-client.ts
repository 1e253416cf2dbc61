// A client of /rest/v1 as Duo's Authentication Proxy speaks it, written for the tests from the
// signature spec (docs/design/auth-api.md §2.2, §2.3 v1) rather than with Airlock's own signing
// code: HTTP/1.0, a form body, `Authorization: Basic base64(ikey:hex(HMAC-SHA1(skey,
// METHOD\nhost\npath\nparams)))`, no Date header, the host without its port.
import { createHmac } from 'node:crypto';
import tls from 'node:tls';

export interface V1Credentials {
  ikey: string;
  skey: string;
}

export interface V1Response {
  status: number;
  httpVersion: string;
  body: {
    stat: 'OK' | 'FAIL';
    response?: unknown;
    code?: number;
    message?: string;
    message_detail?: string;
  };
}

/** RFC 3986 unreserved characters stay; every other UTF-8 byte is %XX (upper-case hex). */
function encode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Keys and values encoded, sorted by encoded key, joined `k=v` with `&`. */
export function v1Params(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** The Authorization header of a v1 request. */
export function v1Authorization(
  credentials: V1Credentials,
  method: string,
  host: string,
  path: string,
  params: Record<string, string>,
): string {
  const canonical = [method.toUpperCase(), host.toLowerCase(), path, v1Params(params)].join('\n');
  const signature = createHmac('sha1', credentials.skey).update(canonical, 'utf8').digest('hex');
  return `Basic ${Buffer.from(`${credentials.ikey}:${signature}`).toString('base64')}`;
}

/**
 * One HTTP/1.0 request over TLS to 127.0.0.1:`port` (certificate checked for `host`), as the
 * proxy sends it; the connection closes after the answer. `authorization` overrides the header.
 */
export function restV1Call(
  target: { port: number; caPem: string; host: string },
  credentials: V1Credentials,
  method: 'GET' | 'POST',
  path: string,
  params: Record<string, string>,
  options: { authorization?: string; extraHeaders?: Record<string, string> } = {},
): Promise<V1Response> {
  const form = v1Params(params);
  const authorization =
    options.authorization ?? v1Authorization(credentials, method, target.host, path, params);
  const headers: Record<string, string> = {
    Host: target.host,
    Authorization: authorization,
    ...options.extraHeaders,
  };
  let target_path = path;
  let body = '';
  if (method === 'POST') {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = form;
  } else if (form !== '') {
    target_path += `?${form}`;
  }
  headers['Content-Length'] = String(Buffer.byteLength(body));
  const head = [
    `${method} ${target_path} HTTP/1.0`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: target.port,
      servername: target.host,
      ca: target.caPem,
    });
    const chunks: Buffer[] = [];
    socket.on('secureConnect', () => socket.write(`${head}\r\n\r\n${body}`));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const statusLine = /^(HTTP\/1\.[01]) ([0-9]{3})/.exec(text);
      if (split < 0 || !statusLine) {
        reject(new Error(`not an HTTP answer: ${text.slice(0, 200)}`));
        return;
      }
      try {
        resolve({
          httpVersion: statusLine[1]!,
          status: Number(statusLine[2]),
          body: JSON.parse(text.slice(split + 4)) as V1Response['body'],
        });
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}
