/**
 * The platform's HTTP server, in two lifecycle components: `accepting` stops taking requests
 * (and ends log streams) first when the platform stops; `responses` waits, after running
 * invocations have drained, for the last responses to reach their callers, then cuts what is
 * left. Between the two the dispatcher drains.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { sendFileBody, takeFileBody } from "../gateway/file-body.js";
import { nodeHeaders } from "../gateway/node-headers.js";
import type { Clock } from "../shared/clock.js";
import { PlatformStartError } from "./data-dir-lock.js";
import type { Component } from "./lifecycle.js";

/** After the drain, how long responses may take to reach their callers before connections are cut. */
const RESPONSE_FLUSH_MS = 1000;

export class HttpServer {
  readonly #clock: Clock;
  #server: Server | undefined;
  #closed: Promise<void> | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * Serves `fetch` on host:port, each request offered to `first` before (true: it took it);
   * resolves with the URL. A busy port or a foreign address is a PlatformStartError.
   */
  async listen(
    fetch: (req: Request, env: unknown) => Response | Promise<Response>,
    host: string,
    port: number,
    first: (req: IncomingMessage, res: ServerResponse) => boolean = () => false,
  ): Promise<string> {
    const listener = getRequestListener(withFileBodies(fetch));
    const server = createServer((req, res) => {
      if (!first(req, res)) void listener(req, res);
    });
    server.keepAliveTimeout = 65_000;
    // Node cuts a request whose whole exchange takes over 5 minutes: a 5 GB object upload on a
    // slow link takes longer. Headers must still arrive within headersTimeout (60 s).
    server.requestTimeout = 0;
    await new Promise<void>((ok, fail) => {
      server.once("error", (err) => fail(listenError(err, host, port)));
      server.listen(port, host, () => ok());
    });
    this.#server = server;
    const bound = (server.address() as AddressInfo).port;
    return `http://${host.includes(":") ? `[${host}]` : host}:${bound}`;
  }

  /** Stops accepting connections; idle ones close now, busy ones after their response. */
  stopAccepting(): void {
    const server = this.#server;
    if (!server || this.#closed) return;
    this.#closed = new Promise<void>((ok) => server.close(() => ok()));
    server.closeIdleConnections();
  }

  /** Waits for the last responses (up to RESPONSE_FLUSH_MS), then cuts every connection. */
  async flush(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.stopAccepting();
    const timer = this.#clock.setTimeout(() => server.closeAllConnections(), RESPONSE_FLUSH_MS);
    await this.#closed;
    timer.cancel();
  }

  /** The two components: add `responses` before the dispatcher, `accepting` after everything. */
  components(onStopAccepting: () => void): { responses: Component; accepting: Component } {
    return {
      responses: { name: "http responses", stop: () => this.flush() },
      accepting: {
        name: "http listener",
        stop: () => {
          this.stopAccepting();
          onStopAccepting();
        },
      },
    };
  }
}

/**
 * `fetch`, with a response whose body is a file (`gateway/file-body.ts`) sent by this server
 * from the file into the socket, rather than by the adapter from a Web stream.
 */
function withFileBodies(
  fetch: (req: Request, env: unknown) => Response | Promise<Response>,
): (req: Request, env: unknown) => Promise<Response> {
  return async (req, env) => {
    const response = await fetch(req, env);
    const outgoing = (env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    const file = outgoing === undefined ? undefined : takeFileBody(req, response);
    if (file === undefined || outgoing === undefined) return response;
    outgoing.writeHead(response.status, nodeHeaders(response.headers));
    void sendFileBody(file, outgoing);
    return RESPONSE_ALREADY_SENT;
  };
}

/** What a user can act on when the platform cannot listen where it was told to. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (err.code === "EADDRINUSE")
    return new PlatformStartError(
      "address-in-use",
      `cannot listen on ${where}: the port is in use (by another Nimbus platform or another program); stop it, or choose another port with --port`,
    );
  if (err.code === "EADDRNOTAVAIL")
    return new PlatformStartError(
      "address-not-available",
      `cannot listen on ${where}: ${host} is not an address of this machine; choose one with --host (127.0.0.1, or 0.0.0.0 for every address)`,
    );
  return err;
}
