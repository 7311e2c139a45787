/**
 * The measuring client: SigV4 signing kept apart from sending, so a caller signs first and
 * starts its timer only around `send`. Plain node:http with a keep-alive agent, the same for
 * the platform and for the bare baseline.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { Credentials } from "../../src/gateway/auth/principal.js";
import { REGION } from "./functions.js";

export type Headers = Record<string, string>;

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export class Signer {
  readonly #signer: SignatureV4;

  /** `service`: what the request is signed for ("lambda"; "sqs" and "events" for their JSON protocols). */
  constructor(credentials: Credentials, service = "lambda") {
    this.#signer = new SignatureV4({ service, region: REGION, credentials, sha256: Sha256 });
  }

  /** Headers for a signed POST of `body` to `path` on `base`. */
  async post(base: URL, path: string, body: Buffer, extra: Headers = {}): Promise<Headers> {
    const headers: Headers = {
      host: base.host,
      "content-type": "application/json",
      "x-amz-content-sha256": createHash("sha256").update(body).digest("hex"),
      ...extra,
    };
    const signed = await this.#signer.sign(
      new HttpRequest({
        method: "POST",
        protocol: base.protocol,
        hostname: base.hostname,
        port: Number(base.port),
        path,
        headers,
        body,
      }),
    );
    return { ...(signed.headers as Headers), "content-length": String(body.length) };
  }
}

/** A keep-alive agent: connections are opened once, before any timed request. */
export function keepAliveAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

/** One POST of `body`, or a GET when it is null; resolves once the whole response body has arrived. */
export function send(
  agent: http.Agent,
  base: URL,
  path: string,
  headers: Headers,
  body: Buffer | null,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const method = body === null ? "GET" : "POST";
    const req = http.request(
      { host: base.hostname, port: base.port, method, path, headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body ?? undefined);
  });
}

/** Throws with the platform's answer unless it is a 200 without a function error. */
export function expectOk(reply: Reply, what: string): void {
  if (reply.status !== 200 || reply.headers["x-amz-function-error"]) {
    throw new Error(`${what}: HTTP ${reply.status} ${reply.body.toString("utf8").slice(0, 300)}`);
  }
}
