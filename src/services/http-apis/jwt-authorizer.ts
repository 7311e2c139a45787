/**
 * An HTTP API's JWT authorizer: reads the token from its identity source (the token alone or
 * after `Bearer `), checks the signature against the issuer's published keys, then `iss`,
 * `aud` (or `client_id` when the token has no `aud`), `exp` and `nbf` on the injected clock,
 * then the route's authorization scopes. It answers with the claims as API Gateway hands them
 * to a function (`requestContext.authorizer.jwt`), or with the 401 / 403 API Gateway sends.
 *
 * Keys: the issuer's `/.well-known/openid-configuration` names its `jwks_uri` (or the
 * configuration gives it); jose's remote key set caches the keys and fetches them again for a
 * token signed by a key it does not know (a rotation), at most once per cooldown. A discovery
 * or key fetch that fails, or times out, is a 401 for that request and is tried again on the
 * next: an issuer being down never throws out of `authorize`.
 *
 * Only asymmetric algorithms: a key set is public, so an HMAC token could be forged by anyone
 * who reads it.
 */
import { createRemoteJWKSet, customFetch, type JWTPayload, jwtVerify } from "jose";
import type { Clock } from "../../shared/clock.js";
import { FORBIDDEN_BODY, UNAUTHORIZED_BODY } from "./answers.js";
import {
  evaluateIdentitySource,
  type IdentityRequest,
  type IdentitySource,
  parseIdentitySource,
} from "./identity-source.js";

export interface JwtAuthorizerConfig {
  /** Compared exactly with the token's `iss`; its discovery document is under it. */
  readonly issuer: string;
  /** The token's `aud` (or, without one, its `client_id`) must be one of these. */
  readonly audience: readonly string[];
  /** Default `$request.header.Authorization`. */
  readonly identitySource?: string;
  /** The key set's address, when the issuer publishes no discovery document. */
  readonly jwksUri?: string;
}

export interface JwtAuthorizerDeps {
  readonly clock: Clock;
  /** For the discovery document and the key set; default the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** Default DEFAULT_FETCH_TIMEOUT_MS. */
  readonly fetchTimeoutMs?: number;
  /** The least time between two key-set fetches for unknown keys; default DEFAULT_JWKS_COOLDOWN_MS. */
  readonly jwksCooldownMs?: number;
  /** How long fetched keys are trusted before they are fetched again; default DEFAULT_JWKS_MAX_AGE_MS. */
  readonly jwksMaxAgeMs?: number;
}

/** What a function sees in `requestContext.authorizer`. */
export interface JwtAuthorizerContext {
  readonly jwt: {
    readonly claims: Readonly<Record<string, string>>;
    /** The token's scopes when the route asks for scopes; null otherwise. */
    readonly scopes: readonly string[] | null;
  };
}

export type JwtDecision =
  | { readonly kind: "allow"; readonly authorizer: JwtAuthorizerContext }
  | {
      readonly kind: "deny";
      readonly status: 401 | 403;
      /** The body API Gateway sends: `{"message":"Unauthorized"}` or `{"message":"Forbidden"}`. */
      readonly body: string;
      /** Why, for the access log and the platform's log; never sent to the caller. */
      readonly reason: string;
    };

export const DEFAULT_JWT_IDENTITY_SOURCE = "$request.header.Authorization";
export const DEFAULT_FETCH_TIMEOUT_MS = 5_000;
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
export const DEFAULT_JWKS_MAX_AGE_MS = 600_000;

const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/**
 * Tokens whose signature, issuer and audience were checked, kept so that a client sending the
 * same token again costs a map read instead of a signature check (an RS256 verification was
 * most of a JWT route's extra cost per request). `exp` and `nbf` are checked again on every
 * request against the clock; an entry lives at most VERIFIED_TTL_MS, after which the token is
 * verified again against the key set as it is then (so a withdrawn key stops being honoured
 * once the key set is refreshed).
 */
const VERIFIED_TTL_MS = 60_000;
const MAX_VERIFIED = 10_000;

export class JwtAuthorizer {
  readonly #config: JwtAuthorizerConfig;
  readonly #source: IdentitySource;
  readonly #clock: Clock;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #cooldownMs: number;
  readonly #maxAgeMs: number;
  #keys: Promise<KeySet> | undefined;
  readonly #verified = new Map<string, { readonly payload: JWTPayload; readonly until: number }>();

  /** Throws `InvalidParameter` for a malformed identity source. */
  constructor(config: JwtAuthorizerConfig, deps: JwtAuthorizerDeps) {
    this.#config = config;
    this.#source = parseIdentitySource(config.identitySource ?? DEFAULT_JWT_IDENTITY_SOURCE);
    this.#clock = deps.clock;
    this.#fetch = deps.fetch ?? fetch;
    this.#timeoutMs = deps.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
    this.#cooldownMs = deps.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS;
    this.#maxAgeMs = deps.jwksMaxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS;
  }

  /** Whether `req` may reach a route that requires `routeScopes` (any one of them; none: no scope check). */
  async authorize(req: IdentityRequest, routeScopes: readonly string[] = []): Promise<JwtDecision> {
    const raw = evaluateIdentitySource(this.#source, req);
    if (raw === undefined) return unauthorized(`no token in ${this.#source.expression}`);
    const token = /^bearer\s+/i.test(raw) ? raw.replace(/^bearer\s+/i, "") : raw;

    const now = this.#clock.now();
    let payload: JWTPayload;
    const known = this.#verified.get(token);
    if (known && known.until > now && timeProblem(known.payload, now) === undefined) {
      payload = known.payload;
    } else {
      if (known) this.#verified.delete(token);
      try {
        const keys = await this.#keySet();
        ({ payload } = await jwtVerify(token, keys, {
          issuer: this.#config.issuer,
          algorithms: ALGORITHMS,
          currentDate: new Date(now),
          requiredClaims: ["exp"],
        }));
      } catch (err) {
        return unauthorized(describe(err));
      }
      const audience = audienceProblem(payload, this.#config.audience);
      if (audience !== undefined) return unauthorized(audience);
      if (this.#verified.size >= MAX_VERIFIED) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(token, { payload, until: now + VERIFIED_TTL_MS });
    }

    const tokenScopes = scopesOf(payload);
    if (routeScopes.length > 0 && !routeScopes.some((s) => tokenScopes.includes(s)))
      return {
        kind: "deny",
        status: 403,
        body: FORBIDDEN_BODY,
        reason: `the token has none of the route's scopes (${routeScopes.join(", ")})`,
      };
    return {
      kind: "allow",
      authorizer: {
        jwt: { claims: stringifyClaims(payload), scopes: routeScopes.length > 0 ? tokenScopes : null },
      },
    };
  }

  /** The remote key set, found once; forgotten after a failed discovery so the next request tries again. */
  #keySet(): Promise<KeySet> {
    this.#keys ??= this.#discover().catch((err: unknown) => {
      this.#keys = undefined;
      throw err;
    });
    return this.#keys;
  }

  async #discover(): Promise<KeySet> {
    let uri = this.#config.jwksUri;
    if (uri === undefined) {
      const where = `${this.#config.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
      const res = await this.#fetch(where, { signal: AbortSignal.timeout(this.#timeoutMs) });
      if (!res.ok) throw new Error(`the issuer's discovery document ${where} answered ${res.status}`);
      const doc = (await res.json()) as { jwks_uri?: unknown };
      if (typeof doc.jwks_uri !== "string")
        throw new Error(`the discovery document ${where} has no jwks_uri`);
      uri = doc.jwks_uri;
    }
    return createRemoteJWKSet(new URL(uri), {
      timeoutDuration: this.#timeoutMs,
      cooldownDuration: this.#cooldownMs,
      cacheMaxAge: this.#maxAgeMs,
      [customFetch]: this.#fetch,
    });
  }
}

/** Why a verified token no longer holds at `now` (expired, or not yet valid), as jose would say. */
function timeProblem(payload: JWTPayload, now: number): string | undefined {
  const seconds = Math.floor(now / 1000);
  if (typeof payload.exp === "number" && payload.exp <= seconds) return "the token has expired";
  if (typeof payload.nbf === "number" && payload.nbf > seconds) return "the token is not valid yet";
  return undefined;
}

function unauthorized(reason: string): JwtDecision {
  return { kind: "deny", status: 401, body: UNAUTHORIZED_BODY, reason };
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** Undefined when `aud` (or, without it, `client_id`) names a configured audience. */
function audienceProblem(payload: JWTPayload, audience: readonly string[]): string | undefined {
  const aud = payload.aud;
  if (aud !== undefined) {
    const given = Array.isArray(aud) ? aud : [aud];
    return given.some((a) => audience.includes(a))
      ? undefined
      : `the token's aud ${JSON.stringify(aud)} is not one of the authorizer's audiences`;
  }
  const clientId = payload.client_id;
  if (typeof clientId === "string" && audience.includes(clientId)) return undefined;
  return clientId === undefined
    ? "the token has neither aud nor client_id"
    : `the token's client_id ${JSON.stringify(clientId)} is not one of the authorizer's audiences`;
}

/** The token's scopes: `scope` (space-separated) or `scp` (a list, or space-separated). */
function scopesOf(payload: JWTPayload): string[] {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === "string") return raw.split(" ").filter((s) => s !== "");
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === "string");
  return [];
}

/**
 * Claims as API Gateway puts them in the 2.0 event: every value a string. Numbers and booleans
 * as written (`"exp": "1612061676"`); a list as `[a b c]`, its items space-separated inside
 * brackets (what API Gateway sends for `cognito:groups`); an object as `map[k:v]`, keys
 * sorted, the same notation for nested values.
 */
export function stringifyClaims(payload: JWTPayload): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(payload)) {
    const value = stringifyClaim(payload[key]);
    if (key === "__proto__")
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}

function stringifyClaim(v: unknown): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return `[${v.map(stringifyClaim).join(" ")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o)
      .sort()
      .map((k) => `${k}:${stringifyClaim(o[k])}`)
      .join(" ")}]`;
  }
  return String(v);
}
