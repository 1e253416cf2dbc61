// Primary authentication: the password check against a directory or an upstream RADIUS server.
export type PrimaryResult =
  | {
      kind: 'accept';
      groups: string[];
      attributes: { type: number; value: Buffer }[];
      message?: string;
    }
  | { kind: 'reject'; reason: string; message?: string }
  | { kind: 'error'; reason: string }; // upstream unreachable/timeouts/misconfigured: the login is rejected (primary auth is always required)
export interface PrimaryAuthenticator {
  authenticate(input: {
    username: string;
    password: string;
    clientIp?: string | undefined;
  }): Promise<PrimaryResult>;
  close(): Promise<void>;
}
