/**
 * Who may do what in a bucket. The platform's key (SigV4, or a URL it presigned) is the
 * operator: everything is allowed, nothing is evaluated. A user of the platform's auth service
 * (`Authorization: Bearer <access token>`) and a caller without credentials are evaluated
 * against the bucket's policy (`services/policy`), to which a public-read bucket adds one
 * statement: anyone may GetObject (HeadObject included) its objects. Operations that change a
 * bucket itself stay the operator's. DeleteObjects names its keys in its body: the request is
 * admitted, and each key is decided on its own as DeleteObject would be (`deleteKeyAccess`).
 *
 * A denial answers S3's plain AccessDenied; its reason goes to the platform's log with the
 * request id, and `POST /nimbus/v1/policy/explain` answers the same reason on demand.
 */
import { describeCaller, evaluate } from "../../../services/policy/evaluate.js";
import type { Caller, Decision, Policy } from "../../../services/policy/model.js";
import { POLICY_VERSION, type PolicyRules, parsePolicy } from "../../../services/policy/parse.js";
import { accessDenied, S3Error } from "../../../services/storage/errors.js";
import type { BucketRecord } from "../../../services/storage/model.js";
import type { StorageService } from "../../../services/storage/storage.js";
import { NimbusError } from "../../../shared/errors.js";
import type { Logger } from "../../../shared/logger.js";
import type { AuthMode, AuthPolicy, Principal } from "../../auth/principal.js";
import type { Operation } from "./operations.js";
import { parseCopySource, type S3Call, versionIdOf } from "./request.js";

/** What deciding access needs. */
export interface AccessDeps {
  readonly storage: Pick<StorageService, "bucket">;
  /** A user's access token verified by the platform's auth service: its claims (throws when it is not one). */
  readonly userClaims?: (token: string) => Promise<Readonly<Record<string, unknown>> | undefined>;
  /** `off`: every request is the operator's, as the platform key's are (a local playground). */
  readonly authMode?: AuthMode;
  readonly logger: Logger;
}

type On = "object" | "bucket";

/** What each operation asks of a policy; an operation not here is the operator's only. */
const NEEDS: Partial<Readonly<Record<Operation, { readonly action: string; readonly on: On }>>> = {
  GetObject: { action: "s3:GetObject", on: "object" },
  HeadObject: { action: "s3:GetObject", on: "object" },
  PutObject: { action: "s3:PutObject", on: "object" },
  // A browser form upload of a key its form names: decided once the form is read (post-object.ts).
  PostObject: { action: "s3:PutObject", on: "object" },
  // And s3:GetObject on the source, by the source bucket's policy (`decide`).
  CopyObject: { action: "s3:PutObject", on: "object" },
  CreateMultipartUpload: { action: "s3:PutObject", on: "object" },
  UploadPart: { action: "s3:PutObject", on: "object" },
  // As CopyObject: and s3:GetObject on the source.
  UploadPartCopy: { action: "s3:PutObject", on: "object" },
  CompleteMultipartUpload: { action: "s3:PutObject", on: "object" },
  AbortMultipartUpload: { action: "s3:AbortMultipartUpload", on: "object" },
  ListParts: { action: "s3:ListMultipartUploadParts", on: "object" },
  DeleteObject: { action: "s3:DeleteObject", on: "object" },
  GetObjectTagging: { action: "s3:GetObjectTagging", on: "object" },
  PutObjectTagging: { action: "s3:PutObjectTagging", on: "object" },
  DeleteObjectTagging: { action: "s3:DeleteObjectTagging", on: "object" },
  ListObjects: { action: "s3:ListBucket", on: "bucket" },
  ListObjectsV2: { action: "s3:ListBucket", on: "bucket" },
  HeadBucket: { action: "s3:ListBucket", on: "bucket" },
  ListObjectVersions: { action: "s3:ListBucketVersions", on: "bucket" },
  ListMultipartUploads: { action: "s3:ListBucketMultipartUploads", on: "bucket" },
  GetBucketLocation: { action: "s3:GetBucketLocation", on: "bucket" },
};

/** Every action a bucket policy may name (a version named in the request reads or deletes that version). */
export const S3_POLICY_ACTIONS: readonly string[] = [
  ...new Set([
    ...Object.values(NEEDS).flatMap((n) => (n === undefined ? [] : [n.action])),
    "s3:GetObjectVersion",
    "s3:DeleteObjectVersion",
  ]),
];

/** The condition keys a bucket policy may test besides the caller's (`auth:…`). */
export const S3_CONDITION_KEYS = ["s3:prefix", "s3:delimiter", "s3:max-keys"] as const;

/** A bucket policy's rules: S3's actions, and resources of this bucket only. */
export function s3PolicyRules(bucket: string): PolicyRules {
  const arn = bucketArn(bucket);
  return {
    actions: S3_POLICY_ACTIONS,
    conditionKeys: S3_CONDITION_KEYS,
    resource: (r) =>
      r === arn || r.startsWith(`${arn}/`)
        ? undefined
        : `${JSON.stringify(r)} is not in bucket ${bucket}: write ${arn} (the bucket: listing) or ${arn}/<key pattern> (its objects)`,
  };
}

const bucketArn = (bucket: string) => `arn:aws:s3:::${bucket}`;

const SIGNED: AuthPolicy = { kind: "platform-key", service: "s3" };
const ANONYMOUS: AuthPolicy = { kind: "anonymous" };
/** A query that signs the request (SigV4 presigned, or SigV2's, which is refused by name). */
const SIGNING_QUERY = /[?&](X-Amz-(Algorithm|Credential|Signature)|AWSAccessKeyId|Signature)=/i;

/** How a request to S3 proves who it is: a user's bearer token, the platform's key, or nothing. */
export function s3AuthPolicy(request: Request, d: AccessDeps): AuthPolicy {
  if (d.authMode === "off") return SIGNED;
  const authorization = request.headers.get("authorization");
  if (authorization !== null) return /^bearer\s/i.test(authorization) ? bearer(d) : SIGNED;
  const query = request.url.indexOf("?");
  return query !== -1 && SIGNING_QUERY.test(request.url.slice(query)) ? SIGNED : ANONYMOUS;
}

function bearer(d: AccessDeps): AuthPolicy {
  return { kind: "jwt", verify: (token) => userOf(token, d) };
}

/** The user whose access token this is, verified by the platform's auth service; throws when it is not one. */
export async function userOf(
  token: string,
  d: Pick<AccessDeps, "userClaims">,
): Promise<Extract<Principal, { kind: "user" }>> {
  if (d.userClaims === undefined) throw invalidToken("the auth service is not enabled on this platform");
  let claims: Readonly<Record<string, unknown>> | undefined;
  try {
    claims = await d.userClaims(token);
  } catch (err) {
    throw invalidToken(err instanceof Error ? err.message : String(err));
  }
  if (claims === undefined || typeof claims.sub !== "string") throw invalidToken("it is not a user's");
  return { kind: "user", userId: claims.sub, claims };
}

// Rendered as S3's AccessDenied (errors.ts): the caller learns its token is refused, and why.
const invalidToken = (why: string) =>
  new NimbusError(
    "MissingAuthenticationToken",
    `The bearer token is not a valid access token of this platform's auth service (${why}): sign in again, or refresh the session.`,
  );

/** The caller a policy is evaluated for; undefined for the operator, whom no policy binds. */
export function callerOf(p: Principal): Caller | undefined {
  switch (p.kind) {
    case "platform":
      return undefined;
    case "user":
      return { kind: "user", id: p.userId, claims: p.claims };
    default:
      return { kind: "anonymous" };
  }
}

/** Throws AccessDenied unless the call's caller may make it; the reason goes to the log. */
export async function authorize(call: S3Call, op: Operation, d: AccessDeps): Promise<void> {
  const caller = callerOf(call.principal);
  if (caller === undefined) return;
  // A form upload's key (and its signature, if any) is in its body: post-object.ts authorizes it then.
  if (op === "PostObject" && call.key === undefined) return;
  const decision = await decide(call, op, caller, d);
  if (decision.decision === "allow") return;
  logDenial(call, op, call.key, caller, decision, d);
  throw accessDenied();
}

/**
 * DeleteObjects' keys, each decided on its own for the request's caller as DeleteObject would
 * be (`s3:DeleteObject`, or `s3:DeleteObjectVersion` naming a version), by the bucket's policy
 * read once: whether a key may be deleted. A denial is logged as `authorize` logs one.
 */
export async function deleteKeyAccess(
  call: S3Call,
  d: Pick<AccessDeps, "storage" | "logger">,
): Promise<(key: string, versionId: string | undefined) => boolean> {
  const caller = callerOf(call.principal);
  if (caller === undefined) return () => true;
  const bucket = call.bucket ?? "";
  const loaded = await loadPolicy(bucket, d);
  return (key, versionId) => {
    const action = versionId === undefined ? "s3:DeleteObject" : "s3:DeleteObjectVersion";
    const decision = decideWith(loaded, objectAsk(bucket, key, action), caller);
    if (decision.decision === "allow") return true;
    logDenial(call, "DeleteObjects", key, caller, decision, d);
    return false;
  };
}

/**
 * DeleteObjects' keys decided one by one for `caller`, with the reasons: what `deleteKeyAccess`
 * enforces, for the explain endpoint.
 */
export async function decideDeleteKeys(
  bucket: string,
  keys: readonly { readonly key: string; readonly versionId?: string | undefined }[],
  caller: Caller,
  d: Pick<AccessDeps, "storage">,
): Promise<(Decision & { readonly key: string; readonly versionId?: string | undefined })[]> {
  const loaded = await loadPolicy(bucket, d);
  return keys.map(({ key, versionId }) => {
    const action = versionId === undefined ? "s3:DeleteObject" : "s3:DeleteObjectVersion";
    return {
      key,
      ...(versionId === undefined ? {} : { versionId }),
      ...decideWith(loaded, objectAsk(bucket, key, action), caller),
    };
  });
}

function logDenial(
  call: S3Call,
  op: Operation,
  key: string | undefined,
  caller: Caller,
  decision: Decision,
  d: Pick<AccessDeps, "logger">,
): void {
  d.logger.warn("s3: access denied", {
    requestId: call.requestId,
    operation: op,
    bucket: call.bucket,
    key,
    caller: describeCaller(caller),
    reason: decision.reason,
    ...(decision.statement === undefined ? {} : { statement: decision.statement }),
  });
}

interface Ask {
  readonly bucket: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | undefined>>;
}

/** Whether `caller` may make the call, and why: what `authorize` enforces and the explain endpoint answers. */
export async function decide(
  call: S3Call,
  op: Operation,
  caller: Caller,
  d: Pick<AccessDeps, "storage">,
): Promise<Decision> {
  if (op === "DeleteObjects" && call.bucket !== undefined) {
    // Its keys are in its body: each is decided on its own (`deleteKeyAccess`) once it is read.
    if ((await bucketOf(call.bucket, d)) === undefined)
      return {
        decision: "deny",
        reason: `no statement allows DeleteObjects for ${describeCaller(caller)}: bucket ${call.bucket} does not exist`,
      };
    return {
      decision: "allow",
      reason: `DeleteObjects is admitted for ${describeCaller(caller)}; each of its keys is allowed or denied on its own, as DeleteObject would be`,
    };
  }
  const need = NEEDS[op];
  if (need === undefined || call.bucket === undefined)
    return {
      decision: "deny",
      reason: `${op} is the operator's only (signed with the platform's key); no bucket policy grants it to ${describeCaller(caller)}`,
    };
  const asks: Ask[] = [];
  if (op === "CopyObject" || op === "UploadPartCopy") {
    // Read on the source, write on the destination: each by its own bucket's policy.
    const src = parseCopySource(call.headers.get("x-amz-copy-source") ?? "");
    asks.push(
      objectAsk(src.bucket, src.key, src.versionId === undefined ? "s3:GetObject" : "s3:GetObjectVersion"),
    );
  }
  if (need.on === "bucket") {
    const q = call.query;
    // A listing's parameters; HeadBucket and GetBucketLocation list nothing and set none.
    const listing = op !== "HeadBucket" && op !== "GetBucketLocation";
    asks.push({
      bucket: call.bucket,
      action: need.action,
      resource: bucketArn(call.bucket),
      ...(listing && {
        context: {
          "s3:prefix": q.get("prefix") ?? "",
          "s3:delimiter": q.get("delimiter"),
          "s3:max-keys": q.get("max-keys"),
        },
      }),
    });
  } else {
    const versioned = versionIdOf(call) !== undefined;
    const action =
      versioned && need.action === "s3:GetObject"
        ? "s3:GetObjectVersion"
        : versioned && need.action === "s3:DeleteObject"
          ? "s3:DeleteObjectVersion"
          : need.action;
    asks.push(objectAsk(call.bucket, call.key ?? "", action));
  }
  let last: Decision | undefined;
  for (const ask of asks) {
    last = await decideOne(ask, caller, d);
    if (last.decision === "deny") return last;
  }
  return last!;
}

const objectAsk = (bucket: string, key: string, action: string): Ask => ({
  bucket,
  action,
  resource: `${bucketArn(bucket)}/${key}`,
});

async function decideOne(ask: Ask, caller: Caller, d: Pick<AccessDeps, "storage">): Promise<Decision> {
  return decideWith(await loadPolicy(ask.bucket, d), ask, caller);
}

/** A bucket's policy as evaluated, or why nothing in the bucket can be allowed. */
type Loaded = { readonly policy: Policy } | { readonly nothing: string };

async function bucketOf(name: string, d: Pick<AccessDeps, "storage">): Promise<BucketRecord | undefined> {
  return d.storage.bucket(name).catch((err: unknown) => {
    if (err instanceof S3Error && err.code === "NoSuchBucket") return undefined;
    throw err;
  });
}

async function loadPolicy(bucket: string, d: Pick<AccessDeps, "storage">): Promise<Loaded> {
  const b = await bucketOf(bucket, d);
  if (b === undefined) return { nothing: `bucket ${bucket} does not exist` };
  const policy = effectivePolicy(b);
  if ("problems" in policy)
    return { nothing: `the policy of bucket ${b.name} no longer parses (${policy.problems.join("; ")})` };
  if (policy.statements.length === 0)
    return { nothing: `bucket ${b.name} has no policy and is not public-read` };
  return { policy };
}

function decideWith(loaded: Loaded, ask: Ask, caller: Caller): Decision {
  if ("nothing" in loaded)
    return {
      decision: "deny",
      reason: `no statement allows ${ask.action} on ${ask.resource} for ${describeCaller(caller)}: ${loaded.nothing}`,
    };
  return evaluate(loaded.policy, {
    caller,
    action: ask.action,
    resource: ask.resource,
    ...(ask.context ? { context: ask.context } : {}),
  });
}

/** The Sid of the statement a public-read bucket adds to its policy. */
export const PUBLIC_READ_SID = "public-read (the bucket's ACL)";

/**
 * The bucket's policy as evaluated: its statements, and the public-read one when the bucket is.
 * Parsed per request, as the bucket's record is read per request: a policy is at most 20 KB,
 * and only callers other than the operator are evaluated.
 */
export function effectivePolicy(b: BucketRecord): Policy | { problems: readonly string[] } {
  let statements: Policy["statements"] = [];
  const text = b.settings.policy;
  if (text !== undefined) {
    const parsed = parsePolicy(text, s3PolicyRules(b.name));
    if (!parsed.ok) return { problems: parsed.problems };
    statements = parsed.policy.statements;
  }
  if (!b.publicRead) return { statements };
  const acl = parsePolicy({
    Version: POLICY_VERSION,
    Statement: {
      Sid: PUBLIC_READ_SID,
      Effect: "Allow",
      Principal: "*",
      Action: "s3:GetObject",
      Resource: `${bucketArn(b.name)}/*`,
    },
  });
  if (!acl.ok) throw new Error(`the public-read statement does not parse: ${acl.problems.join("; ")}`);
  return {
    statements: [...statements, ...acl.policy.statements.map((s) => ({ ...s, index: statements.length }))],
  };
}

/** Whether anyone, signed in or not, is allowed something: the bucket is public-read, or an Allow names everyone or anonymous callers. */
export function isPublic(b: BucketRecord): boolean {
  const policy = effectivePolicy(b);
  if ("problems" in policy) return false;
  return policy.statements.some(
    (s) =>
      s.effect === "Allow" &&
      (s.principals.everyone || s.principals.names.some((n) => n.kind === "anonymous")),
  );
}
