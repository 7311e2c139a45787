/**
 * The auth service: users, sessions and tokens that functions, HTTP APIs and the other
 * services trust. This file builds its shared context and keeps it tidy (keys past their
 * tokens' lifetime, expired codes, old inbox mail); the work is in the files beside it, one
 * concern each, and the gateway's `auth` surface speaks Supabase's auth API over them.
 */
import { createHmac } from "node:crypto";
import type { Clock, TimerHandle } from "../../shared/clock.js";
import type { CaptchaVerifier } from "./captcha.js";
import type { AuthSettings } from "./config.js";
import { AuditBuffer, type AuthContext, type AuthEvent } from "./context.js";
import type { AuthHooks } from "./hooks.js";
import { SigningKeys } from "./keys.js";
import { INBOX_RETENTION_MS, type Mailer } from "./mail.js";
import type { AuthRateAction, RateLimiter } from "./rate-limits.js";
import type { AuthRepo } from "./repo.js";
import { type AccessClaims, verifyAccess } from "./sessions.js";

const HOUSEKEEPING_MS = 10 * 60_000;

export interface AuthServiceDeps {
  readonly repo: AuthRepo;
  readonly clock: Clock;
  readonly settings: AuthSettings;
  readonly mailer: Mailer;
  readonly limits: RateLimiter<AuthRateAction>;
  readonly hooks: AuthHooks;
  readonly captcha: CaptchaVerifier | undefined;
  readonly publish: (event: AuthEvent) => void;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
  /** The platform's secret: the service and publishable keys are derived from it. */
  readonly platformSecret: string;
}

export class AuthService {
  readonly ctx: AuthContext;
  /** For a server or a function acting for the operator: `/auth/v1/admin/*` and nothing else. */
  readonly serviceKey: string;
  /** For apps (Supabase's anon key): identifies the project; grants nothing by itself. */
  readonly publishableKey: string;
  #timer: TimerHandle | undefined;

  constructor(d: AuthServiceDeps) {
    const keys = new SigningKeys({
      repo: d.repo,
      clock: d.clock,
      tokenTtlSeconds: d.settings.accessTokenTtlSeconds,
    });
    this.ctx = { ...d, keys, auditLog: new AuditBuffer(d.repo, d.log) };
    this.serviceKey = `nimbus_secret_${derive(d.platformSecret, "auth service key")}`;
    this.publishableKey = `nimbus_publishable_${derive(d.platformSecret, "auth publishable key")}`;
  }

  async start(): Promise<void> {
    await this.ctx.keys.start();
    await this.housekeeping();
    this.#timer = this.ctx.clock.setInterval(() => this.housekeeping(), HOUSEKEEPING_MS);
  }

  /** Stops housekeeping and writes the audit entries still pending. */
  async stop(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.ctx.auditLog.flush();
  }

  /** Drops what can no longer be used; failures are logged and tried again next time. */
  async housekeeping(): Promise<void> {
    const now = this.ctx.clock.now();
    try {
      await this.ctx.keys.prune();
      await this.ctx.repo.deleteExpiredOneTimeTokens(now);
      await this.ctx.repo.deleteMailBefore(now - INBOX_RETENTION_MS);
    } catch (err) {
      this.ctx.log("auth housekeeping failed", { err: String(err) });
    }
  }

  /** The issuer's discovery document (OpenID Connect Discovery 1.0). */
  discovery(): Record<string, unknown> {
    const iss = this.ctx.settings.issuer();
    return {
      issuer: iss,
      authorization_endpoint: `${iss}/oauth/authorize`,
      token_endpoint: `${iss}/oauth/token`,
      userinfo_endpoint: `${iss}/oauth/userinfo`,
      jwks_uri: `${iss}/.well-known/jwks.json`,
      response_types_supported: ["code"],
      response_modes_supported: ["query"],
      // RFC 9207: redirects carry `iss`, so a client talking to several issuers can tell them apart.
      authorization_response_iss_parameter_supported: true,
      grant_types_supported: ["authorization_code", "refresh_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["ES256"],
      scopes_supported: ["openid", "email", "profile"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
      code_challenge_methods_supported: ["S256"],
      claims_supported: [
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "sid",
        "at_hash",
        "email",
        "email_verified",
        "name",
        "given_name",
        "family_name",
        "nickname",
        "preferred_username",
        "picture",
        "website",
        "locale",
        "zoneinfo",
        "updated_at",
      ],
    };
  }

  /**
   * A user's verified claims, for the gateway (an HTTP API's JWT authorizer, a function URL,
   * storage); the session is not looked up (a token is good until it expires).
   */
  verifyAccessToken(token: string): Promise<AccessClaims> {
    return verifyAccess(this.ctx, token, { checkSession: false });
  }
}

function derive(secret: string, purpose: string): string {
  return createHmac("sha256", secret).update(purpose).digest("base64url");
}
