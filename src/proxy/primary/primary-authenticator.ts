// Primary authentication: the password check against a directory or an upstream RADIUS server.
export type PrimaryResult =
  | {
      kind: 'accept';
      /**
       * The name the directory knows the user by (the entry's username attribute): what the
       * proxy asks the service about, so that `Alice`, `EXAMPLE\alice` and `alice@corp` are the
       * user the directory authenticated. Absent where the primary names no one (upstream RADIUS).
       */
      username?: string;
      /** The directory's email attribute, when the primary was asked for one (the gateway). */
      email?: string;
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
