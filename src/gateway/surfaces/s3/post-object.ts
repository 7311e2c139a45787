/**
 * S3's POST Object: a browser uploads straight into a bucket with an HTML form (`POST /{bucket}`,
 * `multipart/form-data`), as `createPresignedPost` of `@aws-sdk/s3-presigned-post` prepares it.
 * The request carries no signature of its own: the form does. A form signed with the platform's
 * key (`policy`, `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-signature`: an HMAC
 * of the policy with the SigV4 signing key of the credential's day and region) may do what its
 * policy allows (`post-policy.ts`), whatever the bucket's policy; a form without them is its
 * caller's, held to the bucket's policy as a PutObject of the key would be (`access.ts`). The file
 * part streams to the blob store through the storage service's put, as a PUT's body does, and
 * reports `ObjectCreated:Post`.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { invalidArgument, S3Error } from "../../../services/storage/errors.js";
import { requireKey } from "../../../services/storage/names.js";
import type { PutResult } from "../../../services/storage/storage.js";
import { signingKey } from "../../auth/sigv4.js";
import { authorize } from "./access.js";
import type { Handler, S3Deps } from "./deps.js";
import { eventOrigin } from "./notification-routes.js";
import { checksumEcho } from "./objects.js";
import { objectSettingsOf } from "./post-fields.js";
import { malformedPost, type PostForm, readPostForm } from "./post-form.js";
import { evaluatePostPolicy, type LengthRange, parsePostPolicy } from "./post-policy.js";
import { objectUrl, type S3Call } from "./request.js";
import { el, node } from "./xml.js";

const ALGORITHM = "AWS4-HMAC-SHA256";
/** The fields that make a form signed: with any of them, all of them are needed. */
const SIGNING_FIELDS = ["policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"];
const CREDENTIAL = /^([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request$/;
const AMZ_DATE = /^\d{8}T\d{6}Z$/;
const SUCCESS_STATUSES = ["200", "201", "204"];
// biome-ignore lint/suspicious/noTemplateCurlyInString: S3's variable, written so in a form's key
const FILENAME_VARIABLE = "${filename}";

/** A field's value by lower-case name, undefined when the form does not have it. */
type Fields = (name: string) => string | undefined;

export const postObject: Handler = async (call, d) => {
  const form = await readPostForm(bodyOf(call), call.headers.get("content-type"));
  try {
    return await store(call, d, form);
  } catch (err) {
    form.abandon();
    throw err instanceof OutOfRange ? err.s3 : err;
  }
};

/** The request's bytes as a stream: Node's request when served by Node, else the Web body. */
function bodyOf(call: S3Call): Readable {
  if (call.incoming) return call.incoming;
  const body = call.raw.body;
  return body === null ? Readable.from([]) : Readable.fromWeb(body as WebReadableStream);
}

async function store(call: S3Call, d: S3Deps, form: PostForm): Promise<Response> {
  const bucket = call.bucket ?? "";
  const f: Fields = (name) => form.fields.get(name)?.value;
  if (f("awsaccesskeyid") !== undefined || f("signature") !== undefined)
    throw new S3Error(
      "InvalidRequest",
      400,
      "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256 (x-amz-algorithm, x-amz-credential, x-amz-date, x-amz-signature).",
    );
  const key = need(f, "key").replaceAll(FILENAME_VARIABLE, form.file.filename);
  requireKey(key);
  const range = await admit(call, d, form, key);
  const settings = objectSettingsOf(form.fields);
  const result = await d.storage.putObject(
    bucket,
    key,
    { body: withinRange(form.file.body, range), size: undefined, ...settings, origin: eventOrigin(call) },
    "ObjectCreated:Post",
  );
  return answer(call, f, key, result);
}

/** A field the form must have, else S3's InvalidArgument naming it. */
function need(f: Fields, name: string): string {
  const value = f(name);
  if (value === undefined)
    throw invalidArgument(
      `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
      name,
      "",
    );
  return value;
}

/**
 * Whether the form may write `key`: a signed form by its signature and policy (what it bounds
 * the file's size to), an unsigned one by its caller, as PutObject of the key would be.
 */
async function admit(call: S3Call, d: S3Deps, form: PostForm, key: string): Promise<LengthRange | undefined> {
  const f: Fields = (name) => form.fields.get(name)?.value;
  if (!SIGNING_FIELDS.some((name) => form.fields.has(name))) {
    await authorize({ ...call, key }, "PostObject", d);
    return undefined;
  }
  const [policy, algorithm, credential, date, signature] = SIGNING_FIELDS.map((name) => need(f, name)) as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (algorithm !== ALGORITHM)
    throw invalidArgument(
      `x-amz-algorithm must be ${ALGORITHM}, got "${algorithm}".`,
      "x-amz-algorithm",
      algorithm,
    );
  const scope = CREDENTIAL.exec(credential);
  if (scope === null)
    throw invalidArgument(
      `x-amz-credential "${credential}" must be {access key id}/{yyyymmdd}/{region}/s3/aws4_request.`,
      "x-amz-credential",
      credential,
    );
  const [, accessKeyId = "", day = "", region = ""] = scope;
  if (!AMZ_DATE.test(date) || date.slice(0, 8) !== day)
    throw invalidArgument(
      `x-amz-date "${date}" must be like 20261124T120000Z, on the day of x-amz-credential (${day}).`,
      "x-amz-date",
      date,
    );
  // With auth off every request is the operator's: the signature is not checked, as a header's is not.
  const p = call.principal;
  if (!(p.kind === "platform" && p.via === "auth-off")) {
    const secret = d.s3Secret?.(accessKeyId);
    if (secret === undefined)
      throw new S3Error(
        "InvalidAccessKeyId",
        403,
        "The AWS Access Key Id you provided does not exist in our records.",
        {
          AWSAccessKeyId: accessKeyId,
        },
      );
    const expected = createHmac("sha256", signingKey(secret, day, region, "s3"))
      .update(policy)
      .digest();
    const given = Buffer.from(/^[0-9a-f]{64}$/i.test(signature) ? signature : "", "hex");
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new S3Error(
        "SignatureDoesNotMatch",
        403,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        { AWSAccessKeyId: accessKeyId, StringToSign: policy, SignatureProvided: signature },
      );
  }
  const parsed = parsePostPolicy(policy);
  return evaluatePostPolicy(
    parsed,
    { fields: form.fields, bucket: call.bucket ?? "", key },
    d.storage.deps.clock.now(),
  );
}

/** A size out of the policy's content-length-range, thrown through the blob store's write as it is. */
class OutOfRange extends Error {
  readonly s3: S3Error;
  constructor(s3: S3Error) {
    super(s3.message);
    this.s3 = s3;
  }
}

/** The file's bytes as they arrive, refused once past the range's maximum or, at the end, short of its minimum. */
async function* withinRange(body: Readable, range: LengthRange | undefined): AsyncGenerator<Uint8Array> {
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (range !== undefined && size > range.max)
        throw new OutOfRange(
          new S3Error(
            "EntityTooLarge",
            400,
            `Your proposed upload exceeds the maximum allowed size: the policy's content-length-range allows at most ${range.max} bytes.`,
            { MaxSizeAllowed: String(range.max) },
          ),
        );
      yield chunk;
    }
  } catch (err) {
    if (err instanceof OutOfRange || err instanceof S3Error) throw err;
    throw malformedPost(err instanceof Error ? err.message : String(err));
  }
  if (range !== undefined && size < range.min)
    throw new OutOfRange(
      new S3Error(
        "EntityTooSmall",
        400,
        `Your proposed upload is smaller than the minimum allowed size: it is ${size} bytes, the policy's content-length-range asks for at least ${range.min}.`,
        { ProposedSize: String(size), MinSizeAllowed: String(range.min) },
      ),
    );
}

/**
 * S3's answer: a redirect (303) to `success_action_redirect` (or `redirect`) with the bucket,
 * key and ETag in its query; else `success_action_status` 200, 201 with a PostResponse
 * document, or 204 (the default, and for any other value).
 */
function answer(call: S3Call, f: Fields, key: string, r: PutResult): Response {
  const bucket = call.bucket ?? "";
  const location = objectUrl(call, bucket, key);
  const headers: Record<string, string> = { etag: r.etag, location, ...checksumEcho(r.checksum) };
  if (r.versionId !== undefined) headers["x-amz-version-id"] = r.versionId;
  const redirect = redirectTo(f("success_action_redirect") ?? f("redirect"));
  if (redirect !== undefined) {
    const q = new URLSearchParams({ bucket, key, etag: r.etag });
    redirect.search = redirect.search === "" ? q.toString() : `${redirect.search.slice(1)}&${q.toString()}`;
    return new Response(null, { status: 303, headers: { ...headers, location: redirect.toString() } });
  }
  const status = f("success_action_status");
  if (status === "201") {
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      node(
        "PostResponse",
        el("Location", location) + el("Bucket", bucket) + el("Key", key) + el("ETag", r.etag),
      );
    return new Response(body, { status: 201, headers: { ...headers, "content-type": "application/xml" } });
  }
  return new Response(null, {
    status: status !== undefined && SUCCESS_STATUSES.includes(status) ? Number(status) : 204,
    headers,
  });
}

/** An http(s) URL to redirect to; anything else is ignored, as S3 ignores it. */
function redirectTo(value: string | undefined): URL | undefined {
  if (value === undefined || value === "") return undefined;
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url : undefined;
  } catch {
    return undefined;
  }
}
