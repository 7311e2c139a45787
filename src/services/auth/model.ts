/**
 * Auth as stored: users, their sessions and the rotating refresh tokens of each session, the
 * one-time tokens mailed to them (links and codes), their TOTP factors and recovery codes, the
 * platform's signing keys, the development inbox, and the audit log. Secrets a user holds
 * (passwords, refresh tokens, links, codes) are stored only as hashes; what the platform must
 * read back (a TOTP secret, a private signing key) is stored as it is, in the private store.
 * Times are epoch ms.
 */

/** JSON values a user or an operator attaches to a user. */
export type Metadata = Readonly<Record<string, unknown>>;

export interface UserRecord {
  /** A UUID, never reused; an anonymous user keeps it when it links an email. */
  readonly id: string;
  /** Lower-cased; undefined for an anonymous user. Unique among users. */
  readonly email: string | undefined;
  readonly emailConfirmedAt: number | undefined;
  /** An address the user asked to move to, until they confirm it. */
  readonly newEmail: string | undefined;
  /** PHC string (`$scrypt$ln=17,r=8,p=1$<salt>$<hash>`); undefined: no password (links, anonymous). */
  readonly passwordHash: string | undefined;
  readonly isAnonymous: boolean;
  /** What the user may edit (`data` in the client API). */
  readonly userMetadata: Metadata;
  /** What only an operator edits: roles, plan, `provider`. */
  readonly appMetadata: Metadata;
  /** Until when sign-in and refresh are refused; undefined: not banned. */
  readonly bannedUntil: number | undefined;
  readonly lastSignInAt: number | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** How a session's holder proved who they are, in the order they did (`amr` in the token). */
export interface AuthMethod {
  /** `password`, `otp`, `magiclink`, `anonymous`, `totp`, `recovery`, `oauth`. */
  readonly method: string;
  /** Epoch seconds, as the `amr` claim carries it. */
  readonly timestamp: number;
}

export interface SessionRecord {
  readonly id: string;
  readonly userId: string;
  /** `aal2` once a verified TOTP factor (or a recovery code) was presented in this session. */
  readonly aal: "aal1" | "aal2";
  readonly amr: readonly AuthMethod[];
  /** The user agent and address that opened it, to tell devices apart in a list. */
  readonly userAgent: string | undefined;
  readonly ip: string | undefined;
  readonly createdAt: number;
  /** The last sign-in, refresh or step-up. */
  readonly refreshedAt: number;
}

/**
 * One refresh token of a session. Each refresh spends the session's live token and issues the
 * next; presenting a spent one again is reuse, which revokes the whole session (its family).
 */
export interface RefreshTokenRecord {
  /** SHA-256 of the token, hex. */
  readonly tokenHash: string;
  readonly sessionId: string;
  readonly userId: string;
  /** Set when it was exchanged for its successor. */
  readonly spentAt: number | undefined;
  readonly createdAt: number;
}

/** What a one-time token (a mailed link and its code) proves when it is used. */
export type OneTimePurpose =
  /** Confirms the address of a user who signed up with a password. */
  | "signup"
  /** Signs in (and creates the user, when allowed) without a password. */
  | "magiclink"
  /** Signs in to set a new password. */
  | "recovery"
  /** Confirms the move to `newEmail`. */
  | "email_change"
  /** An operator invited the address. */
  | "invite";

export interface OneTimeTokenRecord {
  readonly id: string;
  readonly userId: string;
  readonly purpose: OneTimePurpose;
  /** The address it was sent to (the new one, for an email change). */
  readonly email: string;
  /** SHA-256 hex of the link's token. */
  readonly linkHash: string;
  /** SHA-256 hex of `<email>:<6-digit code>`. */
  readonly codeHash: string;
  /** Wrong codes tried against it; locked at the policy's maximum. */
  readonly attempts: number;
  /** For a PKCE flow: the challenge the link's code exchange must answer. */
  readonly codeChallenge: string | undefined;
  readonly redirectTo: string | undefined;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface FactorRecord {
  readonly id: string;
  readonly userId: string;
  readonly type: "totp";
  readonly friendlyName: string | undefined;
  /** Base32 (RFC 4648) shared secret. */
  readonly secret: string;
  readonly status: "unverified" | "verified";
  /** The last 30-second step accepted, so that a code is not accepted twice. */
  readonly lastStep: number | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ChallengeRecord {
  readonly id: string;
  readonly factorId: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface RecoveryCodeRecord {
  readonly userId: string;
  /** SHA-256 hex of the code. */
  readonly codeHash: string;
  readonly usedAt: number | undefined;
}

export interface SigningKeyRecord {
  /** The JWK `kid`. */
  readonly kid: string;
  readonly alg: "ES256";
  /** JWK JSON of the private key. */
  readonly privateJwk: string;
  /** JWK JSON of the public key, as the JWKS publishes it. */
  readonly publicJwk: string;
  readonly createdAt: number;
  /** When a newer key took over signing; undefined for the key that signs now. */
  readonly retiredAt: number | undefined;
}

/** A mail the platform sent, kept in the development inbox (always, when no SMTP is configured). */
export interface MailRecord {
  readonly id: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string | undefined;
  /** What it carries: `signup`, `magiclink`, `recovery`, `email_change`, `invite`, `otp`. */
  readonly kind: string;
  readonly createdAt: number;
}

/** A security event, kept per user for the operator. */
export interface AuditRecord {
  readonly id: string;
  /** Undefined for events without a known user (a failed sign-in for an unknown address). */
  readonly userId: string | undefined;
  /** `user_signedup`, `login`, `login_failed`, `token_refreshed`, `token_reused`, `logout`, … */
  readonly action: string;
  readonly ip: string | undefined;
  readonly detail: Metadata;
  readonly at: number;
}

/** A third-party application registered with the OIDC provider. */
export interface OAuthClientRecord {
  readonly clientId: string;
  /** SHA-256 hex of the client secret; undefined for a public client (PKCE only). */
  readonly secretHash: string | undefined;
  readonly name: string;
  /** Exact URIs; a redirect to anything else is refused. */
  readonly redirectUris: readonly string[];
  /** First-party clients skip the consent screen. */
  readonly firstParty: boolean;
  readonly createdAt: number;
}

/** An authorization code of the OIDC provider, waiting to be exchanged at /token. */
export interface AuthorizationCodeRecord {
  /** SHA-256 hex of the code. */
  readonly codeHash: string;
  readonly clientId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly nonce: string | undefined;
  readonly codeChallenge: string;
  readonly codeChallengeMethod: "S256" | "plain";
  readonly createdAt: number;
  readonly expiresAt: number;
}
