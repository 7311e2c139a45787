/**
 * An HTTP server on the loopback that records what it receives, by the first segment of the
 * path, and answers there what a test scripted (200 "ok" once the script runs out): the far end
 * of API destinations and of OAuth authorization endpoints in end-to-end tests.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { eventually } from "./wait.js";

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

export interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** Default: "ok", or "refused by the test" for a status of 400 or more. */
  readonly body?: string;
}

export class Receiver {
  /** What arrived, by the path's first segment. */
  readonly received = new Map<string, Received[]>();
  /** What to answer there, in turn. */
  readonly answers = new Map<string, Answer[]>();
  readonly #server: Server;
  base = "";

  private constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const key = new URL(req.url!, "http://x").pathname.split("/")[1]!;
        const list = this.received.get(key) ?? [];
        list.push({
          method: req.method!,
          url: req.url!,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        this.received.set(key, list);
        const next = this.answers.get(key)?.shift() ?? { status: 200 };
        res
          .writeHead(next.status, next.headers)
          .end(next.body ?? (next.status >= 400 ? "refused by the test" : "ok"));
      });
    });
  }

  static async start(): Promise<Receiver> {
    const r = new Receiver();
    await new Promise<void>((done) => r.#server.listen(0, "127.0.0.1", done));
    r.base = `http://127.0.0.1:${(r.#server.address() as AddressInfo).port}`;
    return r;
  }

  /** What arrived at `/key…` so far. */
  at(key: string): Received[] {
    return this.received.get(key) ?? [];
  }

  /** Waits (in real time) until `n` requests arrived at `/key…`. */
  requests(key: string, n: number): Promise<Received[]> {
    return eventually(
      () => this.at(key),
      (l) => l.length >= n,
      { what: `${n} requests at /${key}`, timeoutMs: 5000 },
    );
  }

  close(): void {
    this.#server.close();
  }
}
