/** An S3 client pointed at a test platform, and what S3 tests read back from it. */
import { createHash } from "node:crypto";
import { Agent } from "node:http";
import { S3Client, type S3ClientConfig, S3ServiceException } from "@aws-sdk/client-s3";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "../../src/shared/sha256.js";
import type { TestPlatform } from "./platform.js";

/** Path style at `<platform>/s3`, as docs/storage.md tells users to configure it; SDK defaults otherwise. */
export function s3Client(t: TestPlatform, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: `${t.url}/s3`,
    forcePathStyle: true,
    region: "us-east-1",
    credentials: t.platform.credentials,
    maxAttempts: 1,
    ...extra,
  });
}

/**
 * Virtual-host style: the SDK addresses `{bucket}.s3.localhost:<port>`, which browsers and curl
 * send to the loopback; Node resolves names itself, so the connection is pointed there.
 */
export function virtualHostClient(t: TestPlatform): S3Client {
  const port = new URL(t.url).port;
  const httpAgent = new Agent({
    // Every name this client looks up is one of the platform's `*.s3.localhost`.
    lookup: ((_host: string, opts: { all?: boolean }, cb: (err: null, ...answer: unknown[]) => void) =>
      opts.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)) as never,
  });
  return new S3Client({
    endpoint: `http://s3.localhost:${port}`,
    forcePathStyle: false,
    region: "us-east-1",
    credentials: t.platform.credentials,
    maxAttempts: 1,
    // The SDK builds its handler from these options.
    requestHandler: { httpAgent },
  });
}

/** What an S3 call that failed answered: the error's name (its Code) and HTTP status. */
export async function s3Failure(
  p: Promise<unknown>,
): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof S3ServiceException)
      return { name: err.name, status: err.$metadata.httpStatusCode, message: err.message };
    throw err;
  }
  throw new Error("the call succeeded; expected it to fail");
}

/** A body's bytes. */
export async function bytesOf(
  body: { transformToByteArray(): Promise<Uint8Array> } | undefined,
): Promise<Buffer> {
  if (body === undefined) throw new Error("no body");
  return Buffer.from(await body.transformToByteArray());
}

export const EMPTY_SHA256 = createHash("sha256").digest("hex");

interface RawRequest {
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
  readonly signingDate?: Date;
}

/**
 * A request's headers signed with the platform's key for "s3" (header auth), and its
 * signature. `headers` are signed as given; without an `x-amz-content-sha256` the body's own
 * hash is.
 */
export async function signRequest(
  t: TestPlatform,
  method: string,
  path: string,
  o: RawRequest = {},
): Promise<{ headers: Record<string, string>; signature: string }> {
  const url = new URL(`${t.url}${path}`);
  const signer = new SignatureV4({
    service: "s3",
    region: "us-east-1",
    credentials: t.platform.credentials,
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const signed = await signer.sign(
    new HttpRequest({
      method,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers: {
        host: url.host,
        "x-amz-content-sha256": createHash("sha256")
          .update(o.body ?? Buffer.alloc(0))
          .digest("hex"),
        ...o.headers,
      },
    }),
    { signingDate: o.signingDate ?? new Date() },
  );
  const signature = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization ?? "")?.[1] ?? "";
  return { headers: signed.headers, signature };
}

/** A request signed as `signRequest` signs it, sent with fetch: for what the SDK never sends. */
export async function signedFetch(
  t: TestPlatform,
  method: string,
  path: string,
  o: RawRequest = {},
): Promise<Response> {
  const { headers } = await signRequest(t, method, path, o);
  delete headers.host;
  const body = o.body ?? Buffer.alloc(0);
  return fetch(`${t.url}${path}`, { method, headers, ...(body.length > 0 ? { body } : {}) });
}

/** The S3 error code of an XML error body. */
export const errorCodeOf = (xml: string) => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
