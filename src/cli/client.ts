/** The CLI's client: finds the platform and its key, and signs every request with SigV4. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "../shared/sha256.js";
import { UsageError } from "./usage-error.js";

/** Where `nimbus up` listens when given no --port or --host. */
export const DEFAULT_ENDPOINT = "http://127.0.0.1:9000";
export const DEFAULT_REGION = "us-east-1";
export const DEFAULT_DATA_DIR = ".nimbus";

export interface ClientOptions {
  readonly endpoint: string;
  readonly region: string;
  /** No key: requests go unsigned, which a platform started with --no-auth accepts. */
  readonly accessKeyId?: string | undefined;
  readonly secretAccessKey?: string | undefined;
  /** Where the endpoint and the key came from, named in error messages. */
  readonly sources?: {
    readonly endpoint: string;
    readonly key: string | undefined;
    readonly dataDir: string;
  };
  /** The time requests are signed at (epoch ms): the system's unless given (a test's platform clock). */
  readonly now?: () => number;
}

/** The connection flags every command that talks to the platform takes. */
export interface ConnectionFlags {
  readonly endpoint?: string | undefined;
  readonly data?: string | undefined;
  readonly region?: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

/** A file of the data directory, or undefined when it is not there. */
export type ReadDataFile = (dataDir: string, name: string) => string | undefined;

const readDataFile: ReadDataFile = (dataDir, name) => {
  try {
    return readFileSync(join(dataDir, name), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`cannot read ${join(dataDir, name)}: ${(err as Error).message}`);
  }
};

/**
 * Where and how to connect. Each setting comes from the first of: the flags; the NIMBUS_*
 * variables, then the AWS_* ones the AWS SDKs and `nimbus up`'s banner use; the data
 * directory (`<data>/endpoint` while its platform runs, `<data>/credentials.json`); the
 * defaults (http://127.0.0.1:9000, us-east-1, no key). A key is taken as a pair from one
 * place, never an id from one and a secret from another.
 */
export function resolveClientOptions(
  flags: ConnectionFlags,
  env: Env,
  read: ReadDataFile = readDataFile,
): ClientOptions {
  const dataDir = flags.data ?? env.NIMBUS_DATA ?? DEFAULT_DATA_DIR;
  const endpoint = firstEndpoint(flags, env, dataDir, read);
  const key = firstKey(env, dataDir, read);
  const region =
    flags.region ?? env.NIMBUS_REGION ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? DEFAULT_REGION;
  return {
    endpoint: endpoint.url,
    region,
    accessKeyId: key?.accessKeyId,
    secretAccessKey: key?.secretAccessKey,
    sources: { endpoint: endpoint.source, key: key?.source, dataDir },
  };
}

function firstEndpoint(
  flags: ConnectionFlags,
  env: Env,
  dataDir: string,
  read: ReadDataFile,
): { url: string; source: string } {
  const candidates: Array<[string | undefined, string]> = [
    [flags.endpoint, "--endpoint"],
    [env.NIMBUS_ENDPOINT, "NIMBUS_ENDPOINT"],
    [env.AWS_ENDPOINT_URL_LAMBDA, "AWS_ENDPOINT_URL_LAMBDA"],
    [env.AWS_ENDPOINT_URL, "AWS_ENDPOINT_URL"],
  ];
  for (const [value, source] of candidates) {
    // An empty variable is the shell's way of unsetting it for one command.
    if (value) return { url: checkEndpoint(value, source), source };
  }
  const file = join(dataDir, "endpoint");
  const stored = read(dataDir, "endpoint")?.trim();
  if (stored) return { url: checkEndpoint(stored, file), source: file };
  return {
    url: DEFAULT_ENDPOINT,
    source: `the default: no --endpoint, NIMBUS_ENDPOINT, AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL or ${file}`,
  };
}

/** An http(s) base URL without its trailing slash; otherwise a usage error naming where it came from. */
export function checkEndpoint(value: string, source: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {}
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.search || url.hash)
    throw new UsageError(`${source} must be an http(s) URL like ${DEFAULT_ENDPOINT}, got "${value}"`);
  return value.replace(/\/+$/, "");
}

function firstKey(
  env: Env,
  dataDir: string,
  read: ReadDataFile,
): { accessKeyId: string; secretAccessKey: string; source: string } | undefined {
  for (const prefix of ["NIMBUS", "AWS"]) {
    const idName = `${prefix}_ACCESS_KEY_ID`;
    const secretName = `${prefix}_SECRET_ACCESS_KEY`;
    const id = env[idName];
    const secret = env[secretName];
    if (id && secret)
      return { accessKeyId: id, secretAccessKey: secret, source: `${idName} / ${secretName}` };
    if (id || secret)
      throw new UsageError(
        `${id ? idName : secretName} is set but ${id ? secretName : idName} is not: set both`,
      );
  }
  const file = join(dataDir, "credentials.json");
  const stored = read(dataDir, "credentials.json");
  if (stored === undefined) return undefined;
  let parsed: { accessKeyId?: unknown; secretAccessKey?: unknown } | undefined;
  try {
    parsed = JSON.parse(stored) as typeof parsed;
  } catch {}
  if (typeof parsed?.accessKeyId !== "string" || typeof parsed.secretAccessKey !== "string")
    throw new Error(`cannot read ${file}: expected {"accessKeyId": "…", "secretAccessKey": "…"}`);
  return { accessKeyId: parsed.accessKeyId, secretAccessKey: parsed.secretAccessKey, source: file };
}

export class NimbusClient {
  readonly #o: ClientOptions;
  readonly #signer: SignatureV4 | undefined;

  constructor(o: ClientOptions) {
    this.#o = { ...o, endpoint: o.endpoint.replace(/\/+$/, "") };
    this.#signer =
      o.accessKeyId && o.secretAccessKey
        ? new SignatureV4({
            service: "lambda",
            region: o.region,
            credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
            sha256: Sha256,
          })
        : undefined;
  }

  /** The platform's address, as the client reaches it (what queue URLs are given on). */
  get endpoint(): string {
    return this.#o.endpoint;
  }

  /** Sends a signed request; `path` is already percent-encoded. */
  async request(
    method: string,
    path: string,
    opts: {
      query?: Record<string, string>;
      body?: Buffer | string;
      headers?: Record<string, string>;
      /** Sent without a signature even when the client has a key (an open function URL). */
      unsigned?: boolean;
      /** The service the signature is for: `lambda` unless said (`apigateway` for HTTP APIs' management API). */
      service?: string;
    } = {},
  ): Promise<Response> {
    const url = new URL(this.#o.endpoint + path);
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    let headers: Record<string, string> = {
      host: url.host,
      "x-amz-content-sha256": createHash("sha256")
        .update(body ?? "")
        .digest("hex"),
      ...(body ? { "content-type": "application/json" } : {}),
      ...opts.headers,
    };
    if (this.#signer && !opts.unsigned) {
      const signed = await this.#signer.sign(
        new HttpRequest({
          method,
          protocol: url.protocol,
          hostname: url.hostname,
          port: Number(url.port),
          path: url.pathname,
          query: opts.query ?? {},
          headers,
          ...(body ? { body } : {}),
        }),
        {
          ...(opts.service ? { signingService: opts.service } : {}),
          ...(this.#o.now ? { signingDate: new Date(this.#o.now()) } : {}),
        },
      );
      headers = signed.headers as Record<string, string>;
    }
    const qs = new URLSearchParams(opts.query ?? {}).toString().replaceAll("+", "%20");
    try {
      return await fetch(`${this.#o.endpoint}${path}${qs ? `?${qs}` : ""}`, {
        method,
        headers,
        ...(body ? { body } : {}),
      });
    } catch (err) {
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND) is its cause.
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const from = this.#o.sources ? ` (${this.#o.sources.endpoint})` : "";
      throw new Error(
        `cannot reach the platform at ${this.#o.endpoint}${from}: ${cause?.code ?? cause?.message ?? (err as Error).message}; ` +
          "start it with `nimbus up`, or point at it with --endpoint URL or AWS_ENDPOINT_URL_LAMBDA",
      );
    }
  }

  /** Like request, but throws the platform's error message on a non-2xx answer. */
  async call(
    method: string,
    path: string,
    opts: Parameters<NimbusClient["request"]>[2] = {},
  ): Promise<Response> {
    const res = await this.request(method, path, opts);
    if (res.status >= 300) {
      const text = await res.text();
      let message = text;
      let jsonType: string | undefined;
      try {
        const j = JSON.parse(text) as {
          message?: string;
          Message?: string;
          error?: { message: string };
          __type?: string;
        };
        message = j.error?.message ?? j.message ?? j.Message ?? text;
        // The AWS JSON protocols (SQS, EventBridge) name the error in the body: `com.amazonaws.sqs#QueueDoesNotExist`.
        jsonType = j.__type?.split("#").pop();
      } catch {}
      const type = res.headers.get("x-amzn-errortype") ?? jsonType;
      const hint = res.status === 401 || res.status === 403 ? this.#keyHint() : "";
      throw new Error(`${type ? `${type}: ` : ""}${message} (HTTP ${res.status})${hint}`);
    }
    return res;
  }

  /** `call`, and the answer's JSON body. */
  async json<T>(method: string, path: string, opts: Parameters<NimbusClient["request"]>[2] = {}): Promise<T> {
    return (await (await this.call(method, path, opts)).json()) as T;
  }

  /** Which key was refused and where it came from: the usual cause is a key from another platform. */
  #keyHint(): string {
    const s = this.#o.sources;
    if (!s) return "";
    if (!this.#o.accessKeyId)
      return (
        `\nno access key was found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the pair \`nimbus up\` printed, ` +
        `or run where the platform's data directory is (looked for ${join(s.dataDir, "credentials.json")}; --data DIR points at another)`
      );
    return (
      `\nthe platform at ${this.#o.endpoint} refused the key ${this.#o.accessKeyId} from ${s.key}: ` +
      "use the pair `nimbus up` printed (NIMBUS_* variables beat AWS_* ones, which beat the data directory's credentials.json)"
    );
  }
}
