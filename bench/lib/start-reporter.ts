/**
 * How the start figures learn when a function started that the bench did not call itself (a
 * queue's reader, a bus rule): the handler reads the clock first thing, then posts that moment
 * with the event's tag to a server in the bench. The platform's own records are not used: an
 * event source mapping's invocation has none the bench can read, and the report must not depend
 * on what is measured. An event an API destination delivers here reports itself: its `detail.tag`
 * arrived at the moment its request did. The clock is `performance.timeOrigin + performance.now()` (the machine's
 * wall clock, sub-millisecond), the same in the bench and in the instance.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The handler: its tag is a queue message's body, a bus event's `detail.tag`, or the
 * invocation's own `tag`. It answers the moment it started too, for synchronous calls.
 */
export const startReportingHandler = (port: number): string => `const REPORT = "http://127.0.0.1:${port}/";
export const handler = async (event) => {
  const start = performance.timeOrigin + performance.now();
  const tag = event.Records?.[0]?.body ?? event.detail?.tag ?? event.tag;
  if (tag !== undefined) await fetch(REPORT, { method: "POST", body: JSON.stringify({ tag, start }) });
  return start;
};
`;

export class StartReporter {
  readonly port: number;
  readonly #server: Server;
  readonly #arrived = new Map<string, number>();
  readonly #waiting = new Map<string, (start: number) => void>();

  private constructor(server: Server) {
    this.#server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  static async start(): Promise<StartReporter> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const reporter = new StartReporter(server);
    server.on("request", (req, res) => {
      const arrived = performance.timeOrigin + performance.now();
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        res.end();
        // A handler's report, or an event an API destination delivers (its arrival is its start).
        const m = JSON.parse(body) as { tag?: string; start?: number; detail?: { tag?: string } };
        const tag = m.tag ?? m.detail?.tag;
        if (tag !== undefined) reporter.#arrive(tag, m.start ?? arrived);
      });
    });
    return reporter;
  }

  #arrive(tag: string, start: number): void {
    const waiter = this.#waiting.get(tag);
    if (waiter) {
      this.#waiting.delete(tag);
      waiter(start);
    } else this.#arrived.set(tag, start);
  }

  /** The moment the invocation tagged `tag` started; rejects after `timeoutMs`. */
  startOf(tag: string, timeoutMs = 30_000): Promise<number> {
    const known = this.#arrived.get(tag);
    if (known !== undefined) {
      this.#arrived.delete(tag);
      return Promise.resolve(known);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(tag);
        reject(new Error(`no function started for ${tag} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(tag, (start) => {
        clearTimeout(timer);
        resolve(start);
      });
    });
  }

  /** Forgets reports nobody waited for (a synchronous call's, answered in its reply). */
  forget(): void {
    this.#arrived.clear();
  }

  close(): void {
    this.#server.closeAllConnections();
    this.#server.close();
  }
}
