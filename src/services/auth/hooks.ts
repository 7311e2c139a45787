/**
 * Blocking hooks: functions the auth service calls, and waits for, before a user is created
 * (to refuse the sign-up) and before an access token is issued (to add claims). The payloads
 * are Supabase's auth hooks' (`before-user-created`, `custom-access-token`), so a hook written
 * for Supabase runs unchanged as a function.
 *
 * Failure mode: a hook that fails, answers something unreadable or does not answer within its
 * timeout refuses the request (fail closed): a sign-up or sign-in is never let through
 * unchecked because a hook was down. The caller gets 500 `hook_timeout` /
 * `hook_payload_invalid`; the platform's log says which function and why.
 */
import { AuthError } from "./errors.js";

export interface HookTarget {
  /** The function (name, or name:qualifier) to call. */
  readonly functionName: string;
  readonly timeoutMs: number;
}

export interface HookSettings {
  readonly beforeUserCreated: HookTarget | undefined;
  readonly customAccessToken: HookTarget | undefined;
}

/** Calls a function synchronously; what it returned (parsed JSON), or throws why it could not. */
export type HookInvoke = (target: HookTarget, payload: unknown) => Promise<unknown>;

export interface AuthHooks {
  /** Throws `AuthError` when the hook refuses the user (its status and message) or fails. */
  beforeUserCreated(payload: {
    metadata: Record<string, unknown>;
    user: Record<string, unknown>;
  }): Promise<void>;
  /** The claims to sign: the hook's, checked to keep what every token must carry. */
  customAccessToken(payload: {
    user_id: string;
    claims: Record<string, unknown>;
    authentication_method: string;
  }): Promise<Record<string, unknown>>;
}

export const DEFAULT_HOOK_TIMEOUT_MS = 2_000;

/** Claims a hook may not drop or change: the token would no longer be the platform's. */
const FIXED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "session_id", "aal", "is_anonymous"] as const;

export function createHooks(settings: HookSettings, invoke: HookInvoke): AuthHooks {
  const call = async (name: string, target: HookTarget, payload: unknown): Promise<unknown> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new AuthError(
              "hook_timeout",
              500,
              `the ${name} hook (function ${target.functionName}) did not answer within ${target.timeoutMs} ms`,
            ),
          ),
        target.timeoutMs,
      );
    });
    try {
      return await Promise.race([invoke(target, payload), timeout]);
    } catch (err) {
      if (err instanceof AuthError) throw err;
      throw new AuthError(
        "hook_timeout",
        500,
        `the ${name} hook (function ${target.functionName}) failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    async beforeUserCreated(payload) {
      const target = settings.beforeUserCreated;
      if (target === undefined) return;
      const answer = await call("before-user-created", target, payload);
      const error = (answer as { error?: { http_code?: unknown; message?: unknown } } | null)?.error;
      if (error === undefined) {
        if (answer !== null && typeof answer === "object") return;
        throw invalidAnswer("before-user-created", target, "an object ({} to allow, {error} to refuse)");
      }
      const status =
        typeof error.http_code === "number" && error.http_code >= 400 && error.http_code < 600
          ? error.http_code
          : 403;
      throw new AuthError(
        "validation_failed",
        status,
        typeof error.message === "string" ? error.message : "the sign-up was refused",
      );
    },
    async customAccessToken(payload) {
      const target = settings.customAccessToken;
      if (target === undefined) return payload.claims;
      const answer = (await call("custom-access-token", target, payload)) as { claims?: unknown } | null;
      const claims = answer?.claims;
      if (claims === null || typeof claims !== "object" || Array.isArray(claims))
        throw invalidAnswer("custom-access-token", target, "an object with claims");
      const out = { ...(claims as Record<string, unknown>) };
      for (const k of FIXED_CLAIMS) {
        if (k in payload.claims) out[k] = payload.claims[k];
      }
      return out;
    },
  };
}

function invalidAnswer(name: string, target: HookTarget, expected: string): AuthError {
  return new AuthError(
    "hook_payload_invalid",
    500,
    `the ${name} hook (function ${target.functionName}) answered something other than ${expected}`,
  );
}
