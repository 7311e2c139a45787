// The `nimbus` global a function may use: `nimbus.caller(event)` reads who called it. An HTTP
// API's JWT authorizer, or a function URL given a token of the platform's auth service, has
// verified the token before the function runs and put its claims in the event
// (`requestContext.authorizer.jwt.claims`, every value a string, as API Gateway hands them);
// this reads them back with their types. API Gateway flattens nested claims into strings
// (`map[roles:[editor]]`); the typed values come from the token itself in the request's
// Authorization header, used only when it is the token whose claims were verified (same
// subject, same issue time).

/** The signed-in user behind an invocation. */
export interface Caller {
  /** The user's id (`sub`). */
  readonly userId: string;
  readonly email: string | undefined;
  readonly role: string | undefined;
  /** `aal2` once the user passed a second factor in this session. */
  readonly aal: string | undefined;
  readonly sessionId: string | undefined;
  readonly isAnonymous: boolean;
  /** What the operator set on the user (roles, plan), parsed back from the claim. */
  readonly appMetadata: Record<string, unknown>;
  readonly userMetadata: Record<string, unknown>;
  /** Every claim as the event carries it. */
  readonly claims: Readonly<Record<string, string>>;
}

/** The caller of an HTTP-triggered invocation; undefined when no verified token came with it. */
export function caller(event: unknown): Caller | undefined {
  const claims = (event as { requestContext?: { authorizer?: { jwt?: { claims?: unknown } } } } | null)
    ?.requestContext?.authorizer?.jwt?.claims;
  if (claims === null || typeof claims !== "object") return undefined;
  const c = claims as Record<string, string>;
  if (typeof c.sub !== "string") return undefined;
  const typed = verifiedPayload(event, c);
  return {
    userId: c.sub,
    email: c.email || undefined,
    role: c.role,
    aal: c.aal,
    sessionId: c.session_id,
    isAnonymous: c.is_anonymous === "true",
    appMetadata: objectOf(typed?.app_metadata),
    userMetadata: objectOf(typed?.user_metadata),
    claims: c,
  };
}

/** The payload of the bearer token in the event's headers, if it is the one whose claims were verified. */
function verifiedPayload(
  event: unknown,
  claims: Record<string, string>,
): Record<string, unknown> | undefined {
  const headers = (event as { headers?: Record<string, string> }).headers ?? {};
  const token = /^bearer\s+(\S+)$/i.exec(headers.authorization ?? "")?.[1];
  const part = token?.split(".")[1];
  if (part === undefined) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
    return payload.sub === claims.sub && String(payload.iat) === claims.iat ? payload : undefined;
  } catch {
    return undefined;
  }
}

function objectOf(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Defines `globalThis.nimbus` before the function loads. */
export function installNimbusGlobal(): void {
  const g = globalThis as { nimbus?: object };
  g.nimbus = { ...g.nimbus, caller };
}
