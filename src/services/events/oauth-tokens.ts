/**
 * Access tokens of OAuth connections (the client credentials grant, RFC 6749 §4.4): asked of
 * the connection's authorization endpoint with its method, the client's id and secret as HTTP
 * Basic, `grant_type=client_credentials` and the connection's OAuthHttpParameters (body
 * parameters in the form body, or in the query for a GET). A token is kept until a minute
 * before its `expires_in` runs out (an hour when the answer gives none), one request at a time
 * per connection, and forgotten when an endpoint answers 401 or 407 with it, or when the
 * connection changes.
 */
import type { Clock } from "../../shared/clock.js";
import type { ConnectionRecord } from "./model.js";

/** A token is asked for again this long before it expires. */
export const REFRESH_BEFORE_MS = 60_000;
const DEFAULT_LIFETIME_S = 3600;
const TIMEOUT_MS = 5000;

/** Why no token came: `retry` false when the endpoint refused the client (the connection is then deauthorized). */
export class AuthorizationFailure extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

interface Held {
  /** The connection's version the token belongs to. */
  readonly version: string;
  readonly token: Promise<{ value: string; expiresAt: number }>;
}

export class OAuthTokens {
  readonly #clock: Clock;
  readonly #held = new Map<string, Held>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** A token for the connection's requests (the one held, while it has more than a minute left). */
  async token(conn: ConnectionRecord): Promise<string> {
    const version = `${conn.uuid}@${conn.modifiedAt}`;
    const held = this.#held.get(conn.name);
    if (held?.version === version) {
      const t = await held.token.catch(() => undefined);
      if (t && t.expiresAt - REFRESH_BEFORE_MS > this.#clock.now()) return t.value;
      if (this.#held.get(conn.name) !== held) return this.token(conn); // another caller asked meanwhile
    }
    const token = this.#ask(conn);
    this.#held.set(conn.name, { version, token });
    token.catch(() => {
      if (this.#held.get(conn.name)?.token === token) this.#held.delete(conn.name);
    });
    return (await token).value;
  }

  /** The endpoint refused the token: the next request asks for another. */
  forget(connectionName: string): void {
    this.#held.delete(connectionName);
  }

  async #ask(conn: ConnectionRecord): Promise<{ value: string; expiresAt: number }> {
    const o = conn.auth.oauth!;
    const url = new URL(o.authorizationEndpoint);
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    for (const p of o.body) form.set(p.key, p.value);
    for (const p of o.queryString) url.searchParams.set(p.key, p.value);
    const headers: Record<string, string> = {
      accept: "application/json",
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(o.clientId)}:${encodeURIComponent(o.clientSecret)}`).toString("base64")}`,
    };
    for (const p of o.headers) headers[p.key.toLowerCase()] = p.value;
    let body: string | undefined;
    if (o.httpMethod === "GET") for (const [k, v] of form) url.searchParams.set(k, v);
    else {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = form.toString();
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method: o.httpMethod,
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      throw new AuthorizationFailure(
        `the authorization endpoint ${o.authorizationEndpoint} could not be reached: ${cause?.code ?? (err as Error).message}`,
        true,
      );
    }
    const text = (await res.text()).slice(0, 1024);
    if (!res.ok)
      throw new AuthorizationFailure(
        `the authorization endpoint answered ${res.status}${text ? `: ${text.trim()}` : ""}`,
        res.status === 429 || res.status >= 500,
      );
    let answer: { access_token?: unknown; expires_in?: unknown };
    try {
      answer = JSON.parse(text);
    } catch {
      throw new AuthorizationFailure(
        "the authorization endpoint's answer is not JSON with an access_token",
        false,
      );
    }
    if (typeof answer.access_token !== "string" || answer.access_token === "")
      throw new AuthorizationFailure("the authorization endpoint's answer has no access_token", false);
    const lifetime = Number(answer.expires_in);
    const seconds = Number.isFinite(lifetime) && lifetime > 0 ? lifetime : DEFAULT_LIFETIME_S;
    return { value: answer.access_token, expiresAt: this.#clock.now() + seconds * 1000 };
  }
}
