// A browser's side of the gateway portal without a browser: one HTTP(S) request at a time, a cookie
// jar, and the portal's forms posted as a browser posts them (gateway-portal and gateway-caddy tests).
import http from 'node:http';
import https from 'node:https';

/** The portal's origin a form is posted from, unless the browser is told another. */
const DEFAULT_PORTAL_ORIGIN = 'https://auth.example.org';

export interface Answer {
  status: number;
  location: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** The loopback source address (default 127.0.0.1). */
  from?: string;
  /** For https: the CA to trust (the URL's host name is checked against its certificate). */
  ca?: string;
  /** Connect here instead of resolving the URL's host (which stays the Host and TLS name). */
  connectTo?: string;
}

/** One HTTP or HTTPS request from a chosen loopback source address. */
export function request(url: string, init: RequestInit): Promise<Answer> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const options: https.RequestOptions = {
    method: init.method,
    headers: { host: target.host, ...init.headers },
    localAddress: init.from ?? '127.0.0.1',
    ...(init.connectTo ? { hostname: init.connectTo } : {}),
    // Its own agent for https: the service harness routes https.globalAgent to the service
    // (duo-client.ts).
    ...(secure
      ? {
          agent: new https.Agent(),
          servername: target.hostname,
          ...(init.ca ? { ca: init.ca } : {}),
        }
      : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(target, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          location: res.headers.location,
          headers: res.headers,
          body,
        }),
      );
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** How a PortalBrowser reaches the portal. */
export interface PortalVia {
  /** The source address (a trusted proxy's or not). */
  from?: string;
  /** An X-Forwarded-For the browser sends itself. */
  forwardedFor?: string;
  /** The Origin of its form posts (default https://auth.example.org). */
  origin?: string;
  /** As in RequestInit: for a portal behind a reverse proxy with its own certificate. */
  ca?: string;
  connectTo?: string;
}

/** A browser's cookie jar and form posts; paths are resolved against `base`, full URLs kept. */
export class PortalBrowser {
  readonly #cookies = new Map<string, string>();
  constructor(
    readonly base: string,
    readonly via: PortalVia = {},
  ) {}

  /** A `name=value` pair, as a browser keeps it. */
  setCookie(pair: string): void {
    this.#cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
  }

  /** The value of one cookie, if the browser holds it. */
  cookie(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  get cookieHeader(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string, headers: Record<string, string> = {}) {
    return this.#send(path, { method: 'GET', headers });
  }

  async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    return this.#send(path, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: this.via.origin ?? DEFAULT_PORTAL_ORIGIN,
        ...headers,
      },
      body: new URLSearchParams(form).toString(),
    });
  }

  async #send(
    path: string,
    init: { method: string; headers: Record<string, string>; body?: string },
  ) {
    const res = await request(new URL(path, this.base).href, {
      ...init,
      headers: {
        ...init.headers,
        cookie: this.cookieHeader,
        ...(this.via.forwardedFor ? { 'x-forwarded-for': this.via.forwardedFor } : {}),
      },
      ...(this.via.from ? { from: this.via.from } : {}),
      ...(this.via.ca ? { ca: this.via.ca } : {}),
      ...(this.via.connectTo ? { connectTo: this.via.connectTo } : {}),
    });
    for (const line of res.headers['set-cookie'] ?? []) {
      const [pair = ''] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      if (/Max-Age=0/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, pair.slice(pair.indexOf('=') + 1));
    }
    return res;
  }
}

/** The CSRF token of a portal form. */
export const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';
