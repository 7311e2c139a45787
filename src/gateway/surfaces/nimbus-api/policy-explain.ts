/**
 * Why a request to a bucket is allowed or denied (`POST /nimbus/v1/policy/explain`, signed
 * with the platform's key): the operator's side of a denial the caller saw only as S3's plain
 * AccessDenied. The body names the request as S3 would receive it (`bucket`, `method`, `key`,
 * a listing's `prefix`, a DeleteObjects' `keys`) and its caller (a user's access `token`, or
 * none: an anonymous caller); the answer is the decision the S3 surface makes for it, from the
 * same rules (`s3/access.ts`), and for a DeleteObjects each key's as well.
 */
import { Hono } from "hono";
import type { Caller } from "../../../services/policy/model.js";
import { NimbusError } from "../../../shared/errors.js";
import { newRequestId } from "../../../shared/ids.js";
import { parseJsonObject } from "../../body.js";
import { type BodyLimitRule, bodyOf, type SurfaceEnv } from "../../surface.js";
import { type AccessDeps, decide, decideDeleteKeys, userOf } from "../s3/access.js";
import { resolveOperation } from "../s3/operations.js";
import { parseCall, S3_PATH_PREFIX } from "../s3/request.js";

/** A token (a few KB with its metadata) and a key of at most 1,024 bytes, JSON-escaped. */
const MAX_EXPLAIN_BODY_BYTES = 32 * 1024;
const METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"];
const FIELDS = ["bucket", "method", "key", "prefix", "token", "keys"];
/** DeleteObjects' own limit. */
const MAX_DELETE_KEYS = 1000;

/** The limit of an explain request's body, which the gateway reads before authenticating it. */
export const POLICY_EXPLAIN_BODY_LIMIT: BodyLimitRule = {
  method: "POST",
  path: /^\/nimbus\/v1\/policy\/explain$/,
  limit: {
    bytes: MAX_EXPLAIN_BODY_BYTES,
    tooLarge: `a policy explain request is at most ${MAX_EXPLAIN_BODY_BYTES} bytes`,
  },
};

interface ExplainInput {
  readonly bucket: string;
  readonly method: string;
  readonly key: string | undefined;
  readonly prefix: string | undefined;
  readonly token: string | undefined;
  /** A DeleteObjects' keys (`POST` to the bucket). */
  readonly keys: readonly DeleteKey[] | undefined;
}

interface DeleteKey {
  readonly key: string;
  readonly versionId?: string;
}

export function policyExplainApi(d: Pick<AccessDeps, "storage" | "userClaims">): Hono<SurfaceEnv> {
  const app = new Hono<SurfaceEnv>();
  app.post("/nimbus/v1/policy/explain", async (c) => {
    const input = decodeExplain(parseJsonObject(bodyOf(c)));
    const call = parseCall(
      new Request(s3Url(input), { method: input.method }),
      { via: "path", params: {} },
      {
        incoming: undefined,
        requestId: newRequestId(),
        principal: { kind: "anonymous" },
      },
    );
    const resolved = resolveOperation(call);
    if ("unsupported" in resolved)
      throw new NimbusError(
        "InvalidParameter",
        `Nimbus does not implement ${resolved.unsupported}: nothing to explain`,
      );
    const operation = resolved.op;
    let caller: Caller = { kind: "anonymous" };
    if (input.token !== undefined) {
      try {
        const user = await userOf(input.token, d);
        caller = { kind: "user", id: user.userId, claims: user.claims };
      } catch (err) {
        if (!(err instanceof NimbusError)) throw err;
        // Refused before any policy is read, as the S3 surface refuses it.
        return c.json({ operation, decision: "deny", reason: err.message, statement: null });
      }
    }
    const decision = await decide(call, operation, caller, d);
    const answer = { operation, ...decision, statement: decision.statement ?? null };
    if (input.keys === undefined) return c.json(answer);
    const keys = await decideDeleteKeys(input.bucket, input.keys, caller, d);
    return c.json({ ...answer, keys: keys.map((k) => ({ ...k, statement: k.statement ?? null })) });
  });
  return app;
}

function decodeExplain(body: Record<string, unknown>): ExplainInput {
  for (const field of Object.keys(body))
    if (!FIELDS.includes(field))
      throw bad(`unknown field ${JSON.stringify(field)}: the fields are ${FIELDS.join(", ")}`);
  const text = (name: string, required: boolean): string | undefined => {
    const v = body[name];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string" || v === "")
      throw bad(`${name} must be a non-empty string; got ${JSON.stringify(v)}`);
    return v;
  };
  const method = text("method", true)!.toUpperCase();
  if (!METHODS.includes(method))
    throw bad(`method must be one of ${METHODS.join(", ")}; got ${JSON.stringify(body.method)}`);
  const key = text("key", false);
  const keys = body.keys === undefined ? undefined : deleteKeys(body.keys);
  if (keys !== undefined && (method !== "POST" || key !== undefined))
    throw bad("keys name a DeleteObjects: a POST to the bucket, without key");
  if (method === "POST" && key === undefined && keys === undefined)
    throw bad(
      "a POST to the bucket is a form upload or a DeleteObjects: name the key the form writes as key (it is decided as s3:PutObject), or the DeleteObjects' keys as keys",
    );
  return {
    bucket: text("bucket", true)!,
    method,
    key,
    prefix: typeof body.prefix === "string" ? body.prefix : text("prefix", false),
    token: text("token", false),
    keys,
  };
}

/** `["a.png", {"key": "b.png", "versionId": "…"}]`: as DeleteObjects' `<Object>` entries name them. */
function deleteKeys(value: unknown): DeleteKey[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_DELETE_KEYS)
    throw bad(`keys must be a list of 1 to ${MAX_DELETE_KEYS} keys, as a DeleteObjects names them`);
  return value.map((entry: unknown, i) => {
    if (typeof entry === "string" && entry !== "") return { key: entry };
    const o = entry as { key?: unknown; versionId?: unknown } | null;
    if (
      typeof o === "object" &&
      o !== null &&
      typeof o.key === "string" &&
      o.key !== "" &&
      Object.keys(o).every((k) => k === "key" || k === "versionId") &&
      (o.versionId === undefined || (typeof o.versionId === "string" && o.versionId !== ""))
    )
      return o.versionId === undefined ? { key: o.key } : { key: o.key, versionId: o.versionId };
    throw bad(
      `keys[${i}] must be a key or {"key": …, "versionId": …} with non-empty strings; got ${JSON.stringify(entry)}`,
    );
  });
}

/**
 * The request as an S3 client would send it: a POST to a key starts a multipart upload, a GET
 * of the bucket is a ListObjectsV2 (with its prefix), a POST of keys to it a DeleteObjects.
 */
function s3Url(input: ExplainInput): string {
  const path = `${S3_PATH_PREFIX}/${encodeURIComponent(input.bucket)}`;
  if (input.key === undefined) {
    const query =
      input.method === "GET"
        ? `?list-type=2&prefix=${encodeURIComponent(input.prefix ?? "")}`
        : input.keys !== undefined
          ? "?delete"
          : "";
    return `http://explain${path}${query}`;
  }
  const key = input.key
    .split("/")
    .map((s) => encodeURIComponent(s))
    .join("/");
  return `http://explain${path}/${key}${input.method === "POST" ? "?uploads" : ""}`;
}

const bad = (message: string) => new NimbusError("InvalidParameter", message);
