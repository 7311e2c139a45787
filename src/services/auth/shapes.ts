/**
 * Users and sessions as the auth API answers with them: Supabase's auth server's shapes, which
 * `@supabase/auth-js` reads (`User`, `Session`). Times are ISO 8601 strings there.
 */
import type { FactorRecord, SessionRecord, UserRecord } from "./model.js";

export interface UserJson {
  readonly id: string;
  readonly aud: string;
  readonly role: string;
  readonly email: string;
  readonly email_confirmed_at?: string;
  readonly confirmed_at?: string;
  readonly new_email?: string;
  readonly phone: string;
  readonly last_sign_in_at?: string;
  readonly app_metadata: Record<string, unknown>;
  readonly user_metadata: Record<string, unknown>;
  readonly identities: Record<string, unknown>[];
  readonly factors?: Record<string, unknown>[];
  readonly banned_until?: string;
  readonly is_anonymous: boolean;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface SessionJson {
  readonly access_token: string;
  readonly token_type: "bearer";
  readonly expires_in: number;
  readonly expires_at: number;
  readonly refresh_token: string;
  readonly user: UserJson;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The sign-in methods a user has, as `app_metadata.provider(s)` shows them. */
export function providersOf(user: UserRecord): string[] {
  return user.isAnonymous && user.email === undefined ? ["anonymous"] : ["email"];
}

/** `app_metadata` as tokens and answers carry it: the provider fields first, then the operator's. */
export function appMetadataOf(user: UserRecord): Record<string, unknown> {
  const providers = providersOf(user);
  return { provider: providers[0], providers, ...user.appMetadata };
}

export function userJson(user: UserRecord, factors: readonly FactorRecord[] = []): UserJson {
  const email = user.email ?? "";
  const identities =
    user.email === undefined
      ? []
      : [
          {
            identity_id: user.id,
            id: user.id,
            user_id: user.id,
            identity_data: { email, email_verified: user.emailConfirmedAt !== undefined, sub: user.id },
            provider: "email",
            email,
            last_sign_in_at: iso(user.lastSignInAt),
            created_at: iso(user.createdAt),
            updated_at: iso(user.updatedAt),
          },
        ];
  return {
    id: user.id,
    aud: "authenticated",
    role: "authenticated",
    email,
    ...(user.emailConfirmedAt === undefined
      ? {}
      : { email_confirmed_at: iso(user.emailConfirmedAt), confirmed_at: iso(user.emailConfirmedAt) }),
    ...(user.newEmail === undefined ? {} : { new_email: user.newEmail }),
    phone: "",
    ...(user.lastSignInAt === undefined ? {} : { last_sign_in_at: iso(user.lastSignInAt) }),
    app_metadata: appMetadataOf(user),
    user_metadata: { ...user.userMetadata },
    identities,
    ...(factors.length === 0 ? {} : { factors: factors.map(factorJson) }),
    ...(user.bannedUntil === undefined ? {} : { banned_until: iso(user.bannedUntil) }),
    is_anonymous: user.isAnonymous,
    created_at: iso(user.createdAt) ?? "",
    updated_at: iso(user.updatedAt) ?? "",
  };
}

export function factorJson(f: FactorRecord): Record<string, unknown> {
  return {
    id: f.id,
    friendly_name: f.friendlyName ?? "",
    factor_type: f.type,
    status: f.status,
    created_at: iso(f.createdAt),
    updated_at: iso(f.updatedAt),
  };
}

/** A session as an operator lists it (per device). */
export function sessionJson(s: SessionRecord): Record<string, unknown> {
  return {
    id: s.id,
    user_id: s.userId,
    aal: s.aal,
    amr: s.amr,
    user_agent: s.userAgent ?? null,
    ip: s.ip ?? null,
    created_at: iso(s.createdAt),
    refreshed_at: iso(s.refreshedAt),
  };
}
