/**
 * Raw S3 calls for the storage figures: SigV4 header auth for the service "s3" with
 * `x-amz-content-sha256: UNSIGNED-PAYLOAD` (the body is not hashed, so a 64 MB PUT costs the
 * client no SHA-256 and the platform none either), signed apart from sending as `Signer` is,
 * and sent with node:http over the caller's keep-alive agent. A large answer is counted, not kept.
 */
import http from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { Credentials } from "../../src/gateway/auth/principal.js";
import { Sha256 } from "../../src/shared/sha256.js";
import { REGION } from "./functions.js";
import type { Headers } from "./http-client.js";

/** Answers up to this size are kept (a listing, an error); larger ones only counted. */
const KEPT_BODY_BYTES = 4 * 1024 * 1024;

export interface S3Reply {
  readonly status: number;
  readonly bytes: number;
  /** The body when it was at most `KEPT_BODY_BYTES`, else empty. */
  readonly body: Buffer;
}

export class S3Http {
  readonly #signer: SignatureV4;

  constructor(
    readonly base: URL,
    credentials: Credentials,
  ) {
    this.#signer = new SignatureV4({
      service: "s3",
      region: REGION,
      credentials,
      sha256: Sha256,
      // Paths are sent as given (the figures' keys need no escaping), and signed as sent.
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  /** Headers for `method` on `path` (`/s3/<bucket>/<key>?<query>`, the query already encoded). */
  async sign(method: string, path: string, extra: Headers = {}): Promise<Headers> {
    const url = new URL(path, this.base);
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const signed = await this.#signer.sign(
      new HttpRequest({
        method,
        protocol: this.base.protocol,
        hostname: this.base.hostname,
        port: Number(this.base.port),
        path: url.pathname,
        query,
        headers: { host: this.base.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", ...extra },
      }),
    );
    return signed.headers as Headers;
  }

  /** One request, `body` a Buffer or a stream of `contentLength` bytes; resolves once the answer has ended. */
  send(
    agent: http.Agent,
    method: string,
    path: string,
    headers: Headers,
    body?: { data: Buffer } | { stream: Readable; contentLength: number },
  ): Promise<S3Reply> {
    const length = body === undefined ? 0 : "data" in body ? body.data.length : body.contentLength;
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.base.hostname,
          port: this.base.port,
          method,
          path,
          agent,
          headers: body === undefined ? headers : { ...headers, "content-length": String(length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let bytes = 0;
          res.on("data", (c: Buffer) => {
            bytes += c.length;
            if (bytes <= KEPT_BODY_BYTES) chunks.push(c);
          });
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              bytes,
              body: bytes <= KEPT_BODY_BYTES ? Buffer.concat(chunks) : Buffer.alloc(0),
            }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      if (body === undefined) req.end();
      else if ("data" in body) req.end(body.data);
      else pipeline(body.stream, req).catch(reject);
    });
  }

  /** Signs and sends; throws with the answer unless its status is `expected`. */
  async call(
    agent: http.Agent,
    method: string,
    path: string,
    expected: number,
    body?: { data: Buffer } | { stream: Readable; contentLength: number },
  ): Promise<S3Reply> {
    const reply = await this.send(agent, method, path, await this.sign(method, path), body);
    if (reply.status !== expected)
      throw new Error(
        `${method} ${path}: HTTP ${reply.status}, expected ${expected}: ${reply.body.toString("utf8").slice(0, 300)}`,
      );
    return reply;
  }
}

/** `count` pieces of `piece`, one after another: a large body that is never held whole. */
export function repeated(piece: Buffer, count: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < count; i++) yield piece;
    })(),
    { objectMode: false },
  );
}
