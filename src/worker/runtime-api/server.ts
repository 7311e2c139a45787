/**
 * The Lambda Runtime API (2018-06-01) endpoint of one instance. One HTTP server per instance,
 * on loopback, so a runtime can only ever talk about its own invocation: the state machine
 * behind it (RuntimeApiTarget) compares every request id with the one assigned to this
 * instance, never with a global table.
 */
import { chmod } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { RUNTIME_API_PREFIX, RUNTIME_HEADERS, STREAMING_RESPONSE_MODE } from "../../protocol/runtime-api.js";
import { FramedRuntimeApi } from "./framed.js";
import { type LookupBudget, loopbackPeerUid } from "./peer.js";
import {
  ACCEPTED,
  type ApiAnswer,
  apiError,
  eventHeaders,
  type NextWaiter,
  type RuntimeApiTarget,
  type RuntimeBody,
  type StreamError,
} from "./target.js";

export function sendAnswer(res: ServerResponse, answer: ApiAnswer): void {
  const body = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** A runtime waiting in `GET /next`, answered with the event. */
function httpWaiter(res: ServerResponse): NextWaiter {
  return {
    send(req) {
      res.writeHead(200, { ...eventHeaders(req), "content-length": req.payload.length });
      res.end(req.payload);
    },
    destroy: () => res.destroy(),
  };
}

function httpBody(req: IncomingMessage): RuntimeBody {
  const declared = Number(req.headers["content-length"]);
  return {
    header: (name) => {
      const v = req.headers[name];
      return typeof v === "string" ? v : undefined;
    },
    read: (limit) => readBody(req, limit),
    declaredLength: Number.isFinite(declared) ? declared : undefined,
    discard: () => req.resume(),
  };
}

const INVOCATION_PATH = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/;

export interface RuntimeApiOptions {
  /**
   * When set, a connection is accepted only from a socket owned by the uid this returns (the
   * instance's own sandbox uid); undefined refuses everyone (no sandbox attached yet).
   */
  readonly onlyUid?: () => number | undefined;
  /**
   * Peer lookups (each reads the host's whole TCP table) shared by every instance's server: a
   * process that opens connections in a loop gets refused, not the platform's CPU.
   */
  readonly lookups?: LookupBudget;
}

export interface RuntimeApiListen {
  readonly framedSocket?: string | undefined;
  readonly httpSocket?: string | undefined;
  /** A loopback port (ignored when `httpSocket` is given: one HTTP listener per instance). */
  readonly loopback?: boolean;
}

export class RuntimeApiServer {
  readonly #server: Server;
  readonly #framed: FramedRuntimeApi;
  #address = "";
  #port = 0;
  #refused = 0;

  constructor(target: RuntimeApiTarget, opts: RuntimeApiOptions = {}) {
    this.#server = createServer({ keepAliveTimeout: 0, requestTimeout: 0 }, (req, res) => {
      this.#route(target, req, res).catch(() => {
        if (!res.headersSent) sendAnswer(res, apiError(500, "InternalServerError", "internal error"));
      });
    });
    // The runtime long-polls /next with no timeout; never cut an idle connection.
    this.#server.timeout = 0;
    this.#server.headersTimeout = 0;
    this.#framed = new FramedRuntimeApi(target);
    const onlyUid = opts.onlyUid;
    if (onlyUid) {
      const lookups = opts.lookups;
      this.#server.on("connection", (socket: Socket) => {
        // A Unix socket's directory decides who reaches it; only loopback TCP needs the table.
        if (this.#port === 0) return;
        const expected = onlyUid();
        const peer =
          socket.remotePort === undefined || (lookups && !lookups.take())
            ? undefined
            : loopbackPeerUid(this.#port, socket.remotePort);
        if (expected === undefined || peer !== expected) {
          this.#refused++;
          socket.destroy();
        }
      });
    }
  }

  /** Connections refused because they came from another uid than the instance's. */
  get refusedConnections(): number {
    return this.#refused;
  }

  /** `host:port`, the value of AWS_LAMBDA_RUNTIME_API. */
  get address(): string {
    return this.#address;
  }

  /**
   * Listens where the instance's runtime can reach it: Nimbus's frames on a Unix socket for
   * Nimbus's own runtime (`framedSocket`), HTTP on a loopback port (AWS_LAMBDA_RUNTIME_API)
   * for any runtime on the host's network, and HTTP on a Unix socket (`httpSocket`) for a
   * sandbox with a network of its own, whose relay forwards its loopback port to it. Who may
   * connect to a socket is decided by the directory holding it (the sandbox's own).
   * Returns the loopback `host:port`, or "" without one.
   */
  async listen(where: RuntimeApiListen): Promise<string> {
    if (where.framedSocket) await this.#framed.listen(where.framedSocket);
    if (where.httpSocket) {
      const path = where.httpSocket;
      await new Promise<void>((resolve, reject) => {
        this.#server.once("error", reject);
        this.#server.listen(path, () => resolve());
      });
      await chmod(path, 0o666);
      return "";
    }
    if (!where.loopback) return "";
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = this.#server.address() as AddressInfo;
    this.#port = port;
    this.#address = `127.0.0.1:${port}`;
    return this.#address;
  }

  close(): void {
    this.#framed.close();
    if (!this.#server.listening) return;
    this.#server.close();
    this.#server.closeAllConnections();
  }

  async #route(target: RuntimeApiTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? "";
    const path = url.split("?", 1)[0] ?? "";
    if (path === `${RUNTIME_API_PREFIX}/runtime/invocation/next`) {
      if (req.method !== "GET") return sendAnswer(res, methodNotAllowed());
      return target.next(httpWaiter(res));
    }
    const m = INVOCATION_PATH.exec(path);
    if (m) {
      if (req.method !== "POST") return sendAnswer(res, methodNotAllowed());
      const kind = m[2] === "response" ? "response" : "error";
      if (kind === "response" && req.headers[RUNTIME_HEADERS.responseMode] === STREAMING_RESPONSE_MODE)
        return streamResponse(target, decodeURIComponent(m[1]!), req, res);
      return sendAnswer(res, await target.complete(decodeURIComponent(m[1]!), kind, httpBody(req)));
    }
    if (path === `${RUNTIME_API_PREFIX}/runtime/init/error`) {
      if (req.method !== "POST") return sendAnswer(res, methodNotAllowed());
      return sendAnswer(res, await target.initError(httpBody(req)));
    }
    // The logs and telemetry APIs are not offered; answer as the emulator does so clients go on.
    if ((path === "/2020-08-15/logs" || path === "/2022-07-01/telemetry") && req.method === "PUT") {
      req.resume();
      return sendAnswer(res, ACCEPTED);
    }
    req.resume();
    sendAnswer(res, apiError(404, "NotFound", `no such Runtime API path: ${req.method} ${path}`));
  }
}

/**
 * A streamed response: the chunked body goes to the target chunk by chunk, the request paused
 * while the reader is behind, and its error trailers (if any) end it. Answered at its end.
 */
function streamResponse(
  target: RuntimeApiTarget,
  requestId: string,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const contentType = req.headers["content-type"];
  const writer = target.beginStream(requestId, contentType);
  req.on("data", (chunk: Buffer) => {
    if (!writer.write(chunk)) {
      req.pause();
      writer.whenReady(() => req.resume());
    }
  });
  req.on("end", () => {
    writer.end(trailerError(req.trailers)).then(
      (answer) => sendAnswer(res, answer),
      () => sendAnswer(res, apiError(500, "InternalServerError", "internal error")),
    );
  });
  req.on("error", () => res.destroy());
  // A body that stops before its terminating chunk: the runtime dropped the connection (or
  // died), and the invocation must not wait for its timeout to say so.
  req.on("close", () => {
    if (!req.complete) writer.cut();
  });
}

/** The error a streamed response's trailers report, or undefined when it ended cleanly. */
function trailerError(trailers: IncomingMessage["trailers"]): StreamError | undefined {
  const errorType = trailers[RUNTIME_HEADERS.errorType];
  const body = trailers[RUNTIME_HEADERS.errorBody];
  if (errorType === undefined && body === undefined) return undefined;
  return {
    errorType: errorType || undefined,
    body:
      body === undefined
        ? Buffer.from(JSON.stringify({ errorType, errorMessage: "" }))
        : Buffer.from(body, "base64"),
  };
}

function methodNotAllowed(): ApiAnswer {
  return apiError(405, "MethodNotAllowed", "method not allowed on this Runtime API path");
}

/**
 * Reads a request body up to `limit` bytes; returns undefined if it was larger. Rejects if the
 * connection closes before the body's end (the runtime dropped it, or died).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(over ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on("error", reject);
    req.on("close", () => {
      if (!req.complete) reject(new Error("the connection closed before the end of the request's body"));
    });
  });
}
