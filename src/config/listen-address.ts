// Where a server listens: `HOST:PORT` or `[IPv6]:PORT`, for `airlock serve --listen` and the
// proxy's `admin_listen`.

export interface ListenAddress {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
}

/** Splits `HOST:PORT` or `[v6]:PORT` (port 0-65535); undefined when the text is neither. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):([0-9]{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (host === undefined || !(port >= 0 && port <= 65_535)) return undefined;
  return { host, port };
}
