/**
 * `GET /nimbus/v1/events/tail?bus=NAME&pattern=JSON`: what a bus accepts, as it passes, in
 * server-sent events as logs are followed: `event: event` with the envelope, `event: dropped`
 * with `{"dropped": N}` when the client fell behind and N events were not kept for it. The
 * pattern is a rule's, checked as PutRule checks it. Nothing is replayed: it starts now.
 */
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { EventMatcher } from "../../../protocol/events/pattern.js";
import type { Envelope } from "../../../services/events/envelope.js";
import { EventsError } from "../../../services/events/errors.js";
import type { EventBus } from "../../../services/events/events.js";
import { checkPattern } from "../../../services/events/rules.js";
import { NimbusError } from "../../../shared/errors.js";
import type { SurfaceEnv } from "../../surface.js";

/** Events kept for a client that reads slower than the bus accepts; more are dropped and counted. */
export const TAIL_BUFFER = 1000;
/** A comment this often keeps an idle stream open through proxies and finds a client gone. */
const KEEP_ALIVE_MS = 15_000;

/** One message of the stream: an event's JSON, or how many were dropped before the next. */
export type TailItem = { kind: "event"; data: string } | { kind: "dropped"; count: number };

/**
 * The events waiting for the client, at most `capacity`: one arriving when it is full is
 * dropped and counted, and the count is given out in order, before the next event kept.
 */
export class TailBuffer {
  readonly #capacity: number;
  readonly #items: TailItem[] = [];
  #dropped = 0;
  #wake: (() => void) | undefined;

  constructor(capacity = TAIL_BUFFER) {
    this.#capacity = capacity;
  }

  push(data: string): void {
    if (this.#items.length >= this.#capacity) {
      this.#dropped++;
      return;
    }
    this.#flushDropped();
    this.#items.push({ kind: "event", data });
    this.#notify();
  }

  /** The next item, if there is one now. */
  take(): TailItem | undefined {
    if (this.#items.length === 0) this.#flushDropped();
    return this.#items.shift();
  }

  /** Resolves when an item may be there, or `wake()` is called. */
  wait(): Promise<void> {
    if (this.#items.length > 0 || this.#dropped > 0) return Promise.resolve();
    return new Promise((r) => {
      this.#wake = r;
    });
  }

  /** Ends a `wait`: the stream is closing. */
  wake(): void {
    this.#notify();
  }

  #flushDropped(): void {
    if (this.#dropped === 0) return;
    this.#items.push({ kind: "dropped", count: this.#dropped });
    this.#dropped = 0;
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }
}

export function eventsTailApi(d: { events: Pick<EventBus, "tap" | "describeEventBus"> }): Hono<SurfaceEnv> {
  const app = new Hono<SurfaceEnv>();

  app.get("/nimbus/v1/events/tail", async (c) => {
    const pattern = c.req.query("pattern");
    const matches = pattern ? matcherOf(pattern) : undefined;
    const bus = await busName(d.events, c.req.query("bus") || "default");
    const buffer = new TailBuffer();
    let closed = false;
    const end = () => {
      closed = true;
      buffer.wake();
    };
    // Tapped before the answer starts: what the bus accepts once the client has it is not missed.
    const stop = d.events.tap(
      bus,
      (e: Envelope) => {
        if (!matches || matches(e)) buffer.push(JSON.stringify(e));
      },
      end,
    );
    return streamSSE(c, async (stream) => {
      stream.onAbort(end);
      const keepAlive = setInterval(() => void stream.write(": keep-alive\n\n"), KEEP_ALIVE_MS);
      keepAlive.unref();
      try {
        // A first line sends the headers at once: the client knows it is tapped.
        await stream.write(`: tailing ${bus}\n\n`);
        while (!closed && !stream.aborted) {
          for (let item = buffer.take(); item && !closed; item = buffer.take()) {
            if (item.kind === "event") await stream.writeSSE({ event: "event", data: item.data });
            else await stream.writeSSE({ event: "dropped", data: JSON.stringify({ dropped: item.count }) });
          }
          if (!closed) await buffer.wait();
        }
      } finally {
        clearInterval(keepAlive);
        stop();
      }
    });
  });

  return app;
}

/** The pattern compiled, or a 400 with the matcher's message, as PutRule answers it. */
function matcherOf(pattern: string): EventMatcher {
  try {
    return checkPattern(pattern);
  } catch (err) {
    if (err instanceof EventsError) throw new NimbusError("InvalidParameter", err.message);
    throw err;
  }
}

/** The bus's name (given by name or ARN), or a 404 when there is no such bus. */
async function busName(events: Pick<EventBus, "describeEventBus">, given: string): Promise<string> {
  try {
    return String((await events.describeEventBus({ Name: given })).Name);
  } catch (err) {
    if (!(err instanceof EventsError)) throw err;
    throw new NimbusError(
      err.code === "ResourceNotFoundException" ? "NotFound" : "InvalidParameter",
      err.message,
    );
  }
}
