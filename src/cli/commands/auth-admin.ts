/**
 * What `nimbus auth` speaks: Nimbus's operator routes (`/nimbus/v1/auth/…`, signed with the
 * platform's key) and the auth API's admin routes (`/auth/v1/admin/…`, Supabase's, which take
 * the service key the operator routes hand out). The wire shapes are the members shown.
 */
import type { NimbusClient } from "../client.js";

/** A user as the admin API answers it (Supabase's `User`). */
export interface AuthUser {
  id: string;
  email: string;
  email_confirmed_at?: string;
  last_sign_in_at?: string;
  banned_until?: string;
  is_anonymous: boolean;
  created_at: string;
  [member: string]: unknown;
}

/** A session as `GET /auth/v1/admin/users/:id/sessions` lists it. */
export interface AuthSession {
  id: string;
  aal: string;
  ip: string | null;
  user_agent: string | null;
  created_at: string;
  refreshed_at: string;
}

/** `GET /nimbus/v1/auth/keys`. */
export interface AuthKeys {
  issuer: string;
  publishableKey: string;
  serviceKey: string;
  signingKeys: Array<{ kid: string; createdAt: string; retiredAt: string | null }>;
}

/** A mail of the development inbox, `GET /nimbus/v1/auth/inbox`. */
export interface InboxMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  kind: string;
  createdAt: string;
}

/** An audit entry, `GET /nimbus/v1/auth/audit`. */
export interface AuditEntry {
  id: string;
  userId?: string;
  action: string;
  ip?: string;
  detail: Record<string, unknown>;
  at: string;
}

/** Users asked for a page at a time when an email is looked up: the admin API's maximum. */
export const LOOKUP_PAGE_SIZE = 1000;

type AdminOptions = { query?: Record<string, string>; body?: unknown };

/** The admin API, called with the service key. */
export interface AdminApi {
  /** The answer's JSON body (and its headers); an `{code, msg}` error answer is thrown as `msg (code)`. */
  call<T>(method: string, path: string, o?: AdminOptions): Promise<{ body: T; headers: Headers }>;
}

/** The admin API on the client's platform, with the service key asked of Nimbus's API first. */
export async function adminApi(client: NimbusClient): Promise<AdminApi> {
  const { serviceKey } = await client.json<AuthKeys>("GET", "/nimbus/v1/auth/keys");
  return {
    async call<T>(method: string, path: string, o: AdminOptions = {}) {
      const res = await client.request(method, `/auth/v1/admin${path}`, {
        // The auth API checks its own key, not a SigV4 signature.
        unsigned: true,
        headers: { apikey: serviceKey, authorization: `Bearer ${serviceKey}` },
        ...(o.query ? { query: o.query } : {}),
        ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(authErrorMessage(res.status, text));
      return { body: (text === "" ? {} : JSON.parse(text)) as T, headers: res.headers };
    },
  };
}

/** An error answer of the auth API as the CLI reports it: `msg (code)`, else the status and the body. */
export function authErrorMessage(status: number, text: string): string {
  try {
    const j = JSON.parse(text) as { code?: unknown; msg?: unknown };
    if (typeof j.msg === "string") return typeof j.code === "string" ? `${j.msg} (${j.code})` : j.msg;
  } catch {}
  return `the auth API answered HTTP ${status}${text ? `: ${text.slice(0, 300)}` : ""}`;
}

/** How a user is named on the command line: an email (it has an @) or an id. */
export function userRef(arg: string): { email: string } | { id: string } {
  const v = arg.trim();
  return v.includes("@") ? { email: v.toLowerCase() } : { id: v };
}

/**
 * The user an id or an email names. An email is looked up page by page (the admin API has no
 * filter by email); an id is fetched. Either way a user that does not exist is an error.
 */
export async function findUser(admin: AdminApi, arg: string): Promise<AuthUser> {
  const ref = userRef(arg);
  if ("id" in ref) return (await admin.call<AuthUser>("GET", `/users/${encodeURIComponent(ref.id)}`)).body;
  for (let page = 1; ; page++) {
    const { body } = await admin.call<{ users: AuthUser[] }>("GET", "/users", {
      query: { page: String(page), per_page: String(LOOKUP_PAGE_SIZE) },
    });
    const found = body.users.find((u) => u.email.toLowerCase() === ref.email);
    if (found) return found;
    if (body.users.length < LOOKUP_PAGE_SIZE) break;
  }
  throw new Error(`no user has the email ${ref.email} (user_not_found)`);
}

/** A user as messages name it: its email, else (anonymous) its id. */
export const userName = (u: AuthUser): string => (u.email === "" ? u.id : u.email);
