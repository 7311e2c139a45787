/** The CLI's client: finds the platform and its key, and signs every request with SigV4. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "../shared/sha256.js";

export interface ClientOptions {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

/** Endpoint and key from flags, then NIMBUS_* variables, then the data directory. */
export function resolveClientOptions(
  flags: { endpoint?: string; data?: string },
  env: NodeJS.ProcessEnv,
): ClientOptions {
  const dataDir = flags.data ?? env.NIMBUS_DATA ?? ".nimbus";
  const read = (file: string) => {
    try {
      return readFileSync(join(dataDir, file), "utf8");
    } catch {
      return undefined;
    }
  };
  const endpoint = flags.endpoint ?? env.NIMBUS_ENDPOINT ?? read("endpoint")?.trim();
  if (!endpoint) {
    throw new Error(
      `cannot find the platform: start it with \`nimbus up\`, or pass --endpoint URL (looked in ${join(dataDir, "endpoint")})`,
    );
  }
  let accessKeyId = env.NIMBUS_ACCESS_KEY_ID;
  let secretAccessKey = env.NIMBUS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    const stored = read("credentials.json");
    if (!stored)
      throw new Error(
        `no access key: set NIMBUS_ACCESS_KEY_ID and NIMBUS_SECRET_ACCESS_KEY, or run in the platform's directory (looked in ${dataDir})`,
      );
    ({ accessKeyId, secretAccessKey } = JSON.parse(stored) as {
      accessKeyId: string;
      secretAccessKey: string;
    });
  }
  return {
    endpoint: endpoint.replace(/\/$/, ""),
    accessKeyId: accessKeyId!,
    secretAccessKey: secretAccessKey!,
    region: env.NIMBUS_REGION ?? "us-east-1",
  };
}

export class NimbusClient {
  readonly #o: ClientOptions;
  readonly #signer: SignatureV4;

  constructor(o: ClientOptions) {
    this.#o = o;
    this.#signer = new SignatureV4({
      service: "lambda",
      region: o.region,
      credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
      sha256: Sha256,
    });
  }

  /** Sends a signed request; `path` is already percent-encoded. */
  async request(
    method: string,
    path: string,
    opts: { query?: Record<string, string>; body?: Buffer | string; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const url = new URL(this.#o.endpoint + path);
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    const headers: Record<string, string> = {
      host: url.host,
      "x-amz-content-sha256": createHash("sha256")
        .update(body ?? "")
        .digest("hex"),
      ...(body ? { "content-type": "application/json" } : {}),
      ...opts.headers,
    };
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
    );
    const qs = new URLSearchParams(opts.query ?? {}).toString().replaceAll("+", "%20");
    return fetch(`${this.#o.endpoint}${path}${qs ? `?${qs}` : ""}`, {
      method,
      headers: signed.headers as Record<string, string>,
      ...(body ? { body } : {}),
    });
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
      try {
        const j = JSON.parse(text) as { message?: string; Message?: string; error?: { message: string } };
        message = j.error?.message ?? j.message ?? j.Message ?? text;
      } catch {}
      const type = res.headers.get("x-amzn-errortype");
      throw new Error(`${type ? `${type}: ` : ""}${message} (HTTP ${res.status})`);
    }
    return res;
  }
}
