/** Request bodies read with a limit, straight from Node's request when there is one. */

import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Context } from "hono";
import { NimbusError } from "../shared/errors.js";

/** Hex sha256 of an empty body, what a signed GET or DELETE carries. */
export const EMPTY_SHA256 = createHash("sha256").digest("hex");

/** Reads the whole body; throws RequestTooLarge with `message` once it passes `limit` bytes. */
export async function readBody(c: Context, limit: number, message: string): Promise<Buffer> {
  const declared = Number(c.req.header("content-length"));
  if (Number.isFinite(declared) && declared > limit) throw new NimbusError("RequestTooLarge", message);
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming) return readIncoming(incoming, limit, message);
  // Without Node's request (the app called directly, as in tests): the Web request's stream.
  const chunks: Buffer[] = [];
  let size = 0;
  const source = c.req.raw.body as AsyncIterable<Uint8Array> | null;
  if (!source) return Buffer.alloc(0);
  for await (const chunk of source) {
    size += chunk.length;
    if (size > limit) throw new NimbusError("RequestTooLarge", message);
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Parses a JSON object body; an empty body is `{}`. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw new NimbusError(
      "InvalidRequestContent",
      `Could not parse request body into json: ${(err as Error).message}`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new NimbusError("InvalidRequestContent", "The request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** Reads Node's request body whole; RequestTooLarge with `message` past `limit` bytes, declared or sent. */
export function readNodeBody(req: IncomingMessage, limit: number, message: string): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit)
    return Promise.reject(new NimbusError("RequestTooLarge", message));
  return readIncoming(req, limit, message);
}

/** Node's request read with listeners: its async iterator costs several turns per request. */
function readIncoming(req: IncomingMessage, limit: number, message: string): Promise<Buffer> {
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.resume();
        reject(new NimbusError("RequestTooLarge", message));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once("error", reject);
  });
}
