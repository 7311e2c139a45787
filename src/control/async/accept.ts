/**
 * Accepting an asynchronous invocation: the target must exist, the payload must be JSON within
 * the async limit, an idempotency key must be well formed; then the event is queued durably,
 * and only then does the caller get its request id (and its 202). Every way of starting an
 * asynchronous invocation comes through here: the Invoke API, destinations, event sources.
 */
import { MAX_ASYNC_REQUEST_BYTES } from "../../protocol/limits.js";
import type { Clock } from "../../shared/clock.js";
import { NimbusError } from "../../shared/errors.js";
import { newRequestId } from "../../shared/ids.js";
import { checkJson } from "../invoke-service.js";
import type { Registry } from "../registry/registry.js";
import { formatLineage, nextHop } from "./lineage.js";
import type { WorkQueue } from "./queue.js";

export interface AcceptInput {
  readonly functionName: string;
  readonly qualifier: string | undefined;
  readonly payload: Buffer;
  /** A client's key: repeating a kept key of the same function queues nothing and answers the first id. */
  readonly idempotencyKey?: string | undefined;
  /**
   * The caller's X-Amzn-Trace-Id: a function invoking another (the AWS SDK passes it on)
   * carries its chain's hop count there, which the loop guard counts (`lineage.ts`).
   */
  readonly traceHeader?: string | undefined;
}

const MAX_IDEMPOTENCY_KEY_CHARS = 128;

export class Acceptor {
  readonly #registry: Pick<Registry, "resolve">;
  readonly #queue: Pick<WorkQueue, "enqueue">;
  readonly #clock: Clock;
  readonly #accepted: (functionName: string) => void;

  constructor(deps: {
    registry: Pick<Registry, "resolve">;
    queue: Pick<WorkQueue, "enqueue">;
    clock: Clock;
    /** Told once an event is queued: the poller wakes up for it. */
    accepted: (functionName: string) => void;
  }) {
    this.#registry = deps.registry;
    this.#queue = deps.queue;
    this.#clock = deps.clock;
    this.#accepted = deps.accepted;
  }

  /** Checks and durably queues an event; resolves with its request id once it is durable. */
  async accept(input: AcceptInput): Promise<string> {
    // Callers pass a plain name and qualifier (the Lambda API parses ARNs at the edge).
    const ref = { name: input.functionName, qualifier: input.qualifier };
    await this.#registry.resolve(ref.name, ref.qualifier, false);
    if (input.payload.length > MAX_ASYNC_REQUEST_BYTES) {
      throw new NimbusError(
        "RequestTooLarge",
        `Request must be smaller than ${MAX_ASYNC_REQUEST_BYTES} bytes for the InvokeFunction operation with InvocationType Event; it is ${input.payload.length}`,
      );
    }
    const payload = input.payload.length === 0 ? Buffer.from("{}") : checkJson(input.payload);
    const idempotencyKey = checkIdempotencyKey(input.idempotencyKey);
    const now = this.#clock.now();
    const lineage = nextHop(input.traceHeader, now);
    const id = await this.#queue.enqueue({
      id: newRequestId(),
      functionName: ref.name,
      qualifier: ref.qualifier,
      payload,
      traceId: formatLineage(lineage),
      acceptedAt: now,
      hops: lineage.hops,
      idempotencyKey,
    });
    this.#accepted(ref.name);
    return id;
  }
}

function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_CHARS || !/^[\x21-\x7e]+$/.test(key)) {
    throw new NimbusError(
      "InvalidParameter",
      `X-Nimbus-Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters, got ${JSON.stringify(key.slice(0, 200))}`,
    );
  }
  return key;
}
