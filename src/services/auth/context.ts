/**
 * What every part of the auth service shares: its store, keys, clock, settings, mail, limits,
 * hooks and the bus it publishes on. Built once by `AuthService`; the parts take it whole.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Clock } from "../../shared/clock.js";
import type { CaptchaVerifier } from "./captcha.js";
import type { AuthSettings } from "./config.js";
import type { AuthHooks } from "./hooks.js";
import type { SigningKeys } from "./keys.js";
import type { Mailer } from "./mail.js";
import type { AuditRecord, Metadata } from "./model.js";
import type { AuthRateAction, RateLimiter } from "./rate-limits.js";
import type { AuthRepo } from "./repo.js";

/** Who sent a request, for limits, sessions and the audit log. */
export interface Caller {
  readonly ip: string | undefined;
  readonly userAgent: string | undefined;
}

/** An event the service publishes on the bus (`source: nimbus.auth`). */
export interface AuthEvent {
  /** `User Created`, `User Signed In`, `User Deleted`, `MFA Factor Enrolled`, … */
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
}

export interface AuthContext {
  readonly repo: AuthRepo;
  /** Security events of this turn of the event loop, written together after it. */
  readonly auditLog: AuditBuffer;
  readonly keys: SigningKeys;
  readonly clock: Clock;
  readonly settings: AuthSettings;
  readonly mailer: Mailer;
  readonly limits: RateLimiter<AuthRateAction>;
  readonly hooks: AuthHooks;
  /** Checks the CAPTCHA token of sign-ups, sign-ins and mail requests; undefined: no CAPTCHA. */
  readonly captcha: CaptchaVerifier | undefined;
  readonly publish: (event: AuthEvent) => void;
  readonly log: (message: string, fields: Record<string, unknown>) => void;
}

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** A secret for a link or a refresh token: 32 random bytes, URL-safe. */
export const newSecret = () => randomBytes(32).toString("base64url");

/** A 6-digit code, uniformly drawn. */
export function newCode(): string {
  // Rejection sampling over 20 bits keeps the digits uniform.
  for (;;) {
    const n = randomBytes(3).readUIntBE(0, 3) & 0xfffff;
    if (n < 1_000_000) return String(n).padStart(6, "0");
  }
}

export const newId = () => randomUUID();

/**
 * Security events, written in one transaction per turn of the event loop instead of one each:
 * a sign-in's or a refresh's own writes stay its only transaction. An entry may be lost if the
 * platform dies in the turn it was made; a failure to write is logged, never thrown into a request.
 */
export class AuditBuffer {
  readonly #repo: Pick<AuthRepo, "putAudits">;
  readonly #log: (message: string, fields: Record<string, unknown>) => void;
  #pending: AuditRecord[] = [];
  #flushing: Promise<void> | undefined;

  constructor(
    repo: Pick<AuthRepo, "putAudits">,
    log: (message: string, fields: Record<string, unknown>) => void,
  ) {
    this.#repo = repo;
    this.#log = log;
  }

  add(entry: AuditRecord): void {
    this.#pending.push(entry);
    if (this.#pending.length === 1) setImmediate(() => void this.flush());
  }

  /** Writes what is pending now (and waits for a write in progress). */
  async flush(): Promise<void> {
    await this.#flushing;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#flushing = this.#repo
      .putAudits(batch)
      .catch((err: unknown) =>
        this.#log("auth audit write failed", { entries: batch.length, err: String(err) }),
      )
      .finally(() => {
        this.#flushing = undefined;
      });
    await this.#flushing;
  }
}

/** Records a security event (written with the others of this turn). */
export async function audit(
  ctx: AuthContext,
  action: string,
  o: { userId?: string | undefined; caller?: Caller; detail?: Metadata },
): Promise<void> {
  ctx.auditLog.add({
    id: newId(),
    userId: o.userId,
    action,
    ip: o.caller?.ip,
    detail: o.detail ?? {},
    at: ctx.clock.now(),
  });
}

/** Emails as stored: trimmed and lower-cased. */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/**
 * Whether `email` is an address mail can be sent to: one `@`, a local part and a domain with a
 * dot, no spaces or control characters, at most 254 characters (RFC 5321's path limit).
 */
export function isEmail(email: string): boolean {
  if (email.length > 254) return false;
  return /^[^\s@\p{Cc}]{1,64}@[^\s@\p{Cc}.]+(\.[^\s@\p{Cc}.]+)+$/u.test(email);
}
