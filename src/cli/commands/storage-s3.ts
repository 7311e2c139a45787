/**
 * The S3 API the platform serves under `<endpoint>/s3`, spoken over node:http: path style,
 * signed with SigV4 for `s3` (the path signed as sent), small bodies signed by their hash and
 * streamed ones as `UNSIGNED-PAYLOAD` with their Content-Length; answers' XML parsed with
 * fast-xml-parser. An S3 error is thrown as `S3CallError`, worded `<Message> (<Code>)`.
 */
import { createHash } from "node:crypto";
import {
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  STATUS_CODES,
} from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { XMLParser } from "fast-xml-parser";
import { Sha256 } from "../../shared/sha256.js";
import type { ClientOptions } from "../client.js";
import { queryString } from "./storage-paths.js";

export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
const EMPTY_SHA256 = createHash("sha256").digest("hex");
/** An error answer is a short XML document; more than this is not one. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** The longest a presigned URL may live: SigV4's week. */
export const MAX_PRESIGN_EXPIRES_S = 7 * 24 * 3600;

/** A request's body: small bytes (signed by their hash), or a stream of `length` bytes (not hashed). */
export type S3Body = Buffer | { readonly stream: Readable; readonly length: number };

export interface S3Request {
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: S3Body;
}

/** An error S3 answered: its code (`NoSuchBucket`) and status, worded `<Message> (<Code>)`. */
export class S3CallError extends Error {
  override readonly name = "S3CallError";
  readonly code: string;
  readonly status: number;

  constructor(code: string, message: string, status: number, hint = "") {
    super(`${message} (${code})${hint}`);
    this.code = code;
    this.status = status;
  }
}

/** A parsed XML element: its text, or its children by name (lists as arrays, see LISTS). */
export type Xml = string | { readonly [name: string]: Xml | undefined } | Xml[];

/** Elements that are lists even when one item is there, by path from the root. */
const LISTS = new Set([
  "ListAllMyBucketsResult.Buckets.Bucket",
  "ListBucketResult.Contents",
  "ListBucketResult.CommonPrefixes",
  "ListVersionsResult.Version",
  "ListVersionsResult.DeleteMarker",
  "ListMultipartUploadsResult.Upload",
  "DeleteResult.Deleted",
  "DeleteResult.Error",
]);

let parser: Promise<XMLParser> | undefined;

/** The XML parser, loaded with the first answer that needs it: the other commands never do. */
function xmlParser(): Promise<XMLParser> {
  parser ??= import("fast-xml-parser").then(
    ({ XMLParser }) =>
      new XMLParser({
        ignoreAttributes: true,
        ignoreDeclaration: true,
        removeNSPrefix: true,
        // Keys such as "0123" or " x " must stay strings, byte for byte.
        parseTagValue: false,
        trimValues: false,
        htmlEntities: true,
        isArray: (_name, jpath) => LISTS.has(String(jpath)),
      }),
  );
  return parser;
}

/** A document's root element; throws when the text is not XML rooted there. */
export async function parseS3Xml(text: string, root: string): Promise<Record<string, Xml | undefined>> {
  const doc = (await xmlParser()).parse(text) as Record<string, Xml | undefined>;
  const value = doc[root];
  if (value === undefined) throw new Error(`the platform answered no <${root}>: ${text.slice(0, 200)}`);
  return typeof value === "object" && !Array.isArray(value) ? value : {};
}

/** A child's text ("" when absent). */
export function textOf(parent: Xml | undefined, name: string): string {
  const v = typeof parent === "object" && !Array.isArray(parent) ? parent[name] : undefined;
  return typeof v === "string" ? v : "";
}

/** A list child's items (none when absent). */
export function itemsOf(parent: Xml | undefined, name: string): Xml[] {
  const v = typeof parent === "object" && !Array.isArray(parent) ? parent[name] : undefined;
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** An answer's body as text. */
export async function readText(res: IncomingMessage, max = Number.POSITIVE_INFINITY): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    chunks.push(c as Buffer);
    size += (c as Buffer).length;
    if (size > max) {
      res.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}

export class S3Api {
  readonly #o: ClientOptions;
  readonly #url: URL;
  /** The endpoint's own path (usually none) and `/s3`. */
  readonly #root: string;
  readonly #signer: SignatureV4 | undefined;

  constructor(o: ClientOptions) {
    this.#o = o;
    this.#url = new URL(o.endpoint);
    this.#root = `${this.#url.pathname.replace(/\/+$/, "")}/s3`;
    this.#signer =
      o.accessKeyId && o.secretAccessKey
        ? new SignatureV4({
            service: "s3",
            region: o.region,
            credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
            sha256: Sha256,
            // S3 signs the path as it is sent, percent-encoded once (objectPath's).
            uriEscapePath: false,
            applyChecksum: false,
          })
        : undefined;
  }

  /** Sends one request to `path` (objectPath's) and answers the response, whatever its status. */
  async send(method: string, path: string, r: S3Request = {}): Promise<IncomingMessage> {
    const fullPath = this.#root + path;
    const query = r.query ?? {};
    const body = r.body;
    const headers: Record<string, string> = {
      host: this.#url.host,
      "x-amz-content-sha256":
        body === undefined
          ? EMPTY_SHA256
          : Buffer.isBuffer(body)
            ? createHash("sha256").update(body).digest("hex")
            : UNSIGNED_PAYLOAD,
      ...(body === undefined ? {} : { "content-length": String(body.length) }),
      ...r.headers,
    };
    const signed = this.#signer
      ? ((
          await this.#signer.sign(
            new HttpRequest({ method, hostname: this.#url.hostname, path: fullPath, query, headers }),
            this.#o.now ? { signingDate: new Date(this.#o.now()) } : {},
          )
        ).headers as OutgoingHttpHeaders)
      : headers;
    const qs = queryString(query);
    const send = this.#url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let sourceError: Error | undefined;
      const req = send(
        {
          method,
          protocol: this.#url.protocol,
          // node:http wants an IPv6 address without its brackets.
          hostname: this.#url.hostname.replace(/^\[(.*)\]$/, "$1"),
          port: this.#url.port || undefined,
          path: qs ? `${fullPath}?${qs}` : fullPath,
          headers: signed,
        },
        resolve,
      );
      req.on("error", (err) => reject(sourceError ?? this.#unreachable(err)));
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        body.stream.once("error", (err) => {
          sourceError = err;
        });
        pipeline(body.stream, req).catch((err: Error) => reject(sourceError ?? this.#unreachable(err)));
      }
    });
  }

  /** `send`, throwing S3's error for an answer that is not a success. */
  async call(method: string, path: string, r: S3Request = {}): Promise<IncomingMessage> {
    const res = await this.send(method, path, r);
    if ((res.statusCode ?? 0) >= 300) throw await this.#failure(res, method);
    return res;
  }

  /** `call`, for an answer with no body worth reading: its headers. */
  async headers(method: string, path: string, r: S3Request = {}): Promise<IncomingMessage["headers"]> {
    const res = await this.call(method, path, r);
    res.resume();
    return res.headers;
  }

  /** `call`, and the answer's XML root element. */
  async xml(method: string, path: string, root: string, r: S3Request = {}) {
    return parseS3Xml(await readText(await this.call(method, path, r)), root);
  }

  /** A presigned URL for `method` on `path`, valid `expiresS` seconds from now (SigV4 query signing). */
  async presign(method: string, path: string, expiresS: number): Promise<{ url: string; expiresAt: Date }> {
    if (!this.#signer) throw new Error(`cannot presign a URL without a key: ${this.#noKeyHint()}`);
    const signingDate = new Date(this.#o.now?.() ?? Date.now());
    const fullPath = this.#root + path;
    const signed = await this.#signer.presign(
      new HttpRequest({
        method,
        hostname: this.#url.hostname,
        path: fullPath,
        query: {},
        // Hoisted into the query: whoever uses the URL sends any body, unhashed.
        headers: { host: this.#url.host, "x-amz-content-sha256": UNSIGNED_PAYLOAD },
      }),
      { expiresIn: expiresS, signingDate },
    );
    const query = Object.fromEntries(
      Object.entries(signed.query ?? {}).map(([k, v]) => [k, Array.isArray(v) ? (v[0] ?? "") : (v ?? "")]),
    );
    return {
      url: `${this.#url.origin}${fullPath}?${queryString(query)}`,
      expiresAt: new Date(signingDate.getTime() + expiresS * 1000),
    };
  }

  async #failure(res: IncomingMessage, method: string): Promise<Error> {
    const status = res.statusCode ?? 0;
    const text = method === "HEAD" ? "" : await readText(res, MAX_ERROR_BODY_BYTES);
    if (method === "HEAD") res.resume();
    const hint = status === 401 || status === 403 ? `\n${this.#keyHint()}` : "";
    let error: Xml | undefined;
    try {
      error = text === "" ? undefined : await parseS3Xml(text, "Error");
    } catch {}
    const code = textOf(error, "Code");
    if (code !== "") return new S3CallError(code, textOf(error, "Message"), status, hint);
    // A HEAD's error has no body: S3's clients name it by its status, as here.
    if (text === "")
      return new S3CallError(
        status === 404 ? "NotFound" : `HTTP ${status}`,
        STATUS_CODES[status] ?? "",
        status,
        hint,
      );
    return new Error(`${text.slice(0, 200)} (HTTP ${status})${hint}`);
  }

  #unreachable(err: Error): Error {
    const e = err as NodeJS.ErrnoException;
    const from = this.#o.sources ? ` (${this.#o.sources.endpoint})` : "";
    if (e.code === "ECONNREFUSED" || e.code === "ENOTFOUND" || e.code === "EHOSTUNREACH")
      return new Error(
        `cannot reach the platform at ${this.#o.endpoint}${from}: ${e.code}; ` +
          "start it with `nimbus up`, or point at it with --endpoint URL or AWS_ENDPOINT_URL_LAMBDA",
      );
    return new Error(`the connection to the platform at ${this.#o.endpoint} failed: ${e.code ?? e.message}`);
  }

  /** Which key was refused and where it came from (the words of NimbusClient's). */
  #keyHint(): string {
    const s = this.#o.sources;
    if (!s) return "";
    if (!this.#o.accessKeyId) return this.#noKeyHint();
    return (
      `the platform at ${this.#o.endpoint} refused the key ${this.#o.accessKeyId} from ${s.key}: ` +
      "use the pair `nimbus up` printed (NIMBUS_* variables beat AWS_* ones, which beat the data directory's credentials.json)"
    );
  }

  #noKeyHint(): string {
    const where = this.#o.sources ? join(this.#o.sources.dataDir, "credentials.json") : "credentials.json";
    return (
      "no access key was found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the pair `nimbus up` printed, " +
      `or run where the platform's data directory is (looked for ${where}; --data DIR points at another)`
    );
  }
}
