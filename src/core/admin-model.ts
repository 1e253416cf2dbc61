// Administrators of the console and the Admin API: the records the store returns for them.

export interface Admin {
  id: string;
  username: string;
  /** argon2id PHC string (`$argon2id$v=19$m=…`). */
  passwordHash: string;
  /** Plaintext base32 TOTP secret (decrypted by the store; encrypted at rest). */
  totpSecret: string;
  /** The last TOTP time step accepted at login (one use per step); null before the first login. */
  totpLastStep: number | null;
  disabled: boolean;
  createdAtMs: number;
  updatedAtMs: number;
}

/** A key for the Admin API, signed like the Auth API (ikey + HMAC with the skey). */
export interface AdminApiKey {
  ikey: string;
  /** Plaintext secret key (decrypted by the store; encrypted at rest). */
  skey: string;
  name: string;
  createdAtMs: number;
  lastUsedAtMs: number | null;
}

/** A console login. Only hashes of the session token and the CSRF token are stored. */
export interface AdminSession {
  /** SHA-256 (hex) of the random session token in the cookie. */
  idHash: string;
  adminId: string;
  /** SHA-256 (hex) of the session's CSRF token. */
  csrfTokenHash: string;
  createdAtMs: number;
  /** Absolute expiry; the idle expiry is computed from lastSeenAtMs. */
  expiresAtMs: number;
  lastSeenAtMs: number;
}
