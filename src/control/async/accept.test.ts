/** Accepting an async invocation: what is refused before anything is queued, and what is queued. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import { NimbusError } from "../../shared/errors.js";
import type { Registry } from "../registry/registry.js";
import { Acceptor } from "./accept.js";
import { parseLineage } from "./lineage.js";
import type { NewEvent } from "./queue.js";

function acceptor() {
  const clock = new FakeClock();
  const queued: NewEvent[] = [];
  const log: string[] = [];
  const registry: Pick<Registry, "resolve"> = {
    resolve: async (name: string) => {
      if (name !== "resize") throw new NimbusError("NotFound", `Function not found: ${name}`);
      return {} as Awaited<ReturnType<Registry["resolve"]>>;
    },
  };
  const a = new Acceptor({
    registry,
    queue: {
      enqueue: async (e) => {
        log.push("durable");
        queued.push(e);
        return e.idempotencyKey === "seen" ? "first-id" : e.id;
      },
    },
    clock,
    accepted: () => log.push("accepted"),
  });
  return { a, queued, log, clock };
}

const input = (over: Partial<Parameters<Acceptor["accept"]>[0]> = {}) => ({
  functionName: "resize",
  qualifier: undefined,
  payload: Buffer.from('{"image":7}'),
  ...over,
});

test("an event is queued durably, then the poller is told, then its request id is answered", async () => {
  const { a, queued, log, clock } = acceptor();
  const id = await a.accept(input({ qualifier: "live", idempotencyKey: "order-42" }));
  assert.deepEqual(log, ["durable", "accepted"]);
  assert.equal(queued.length, 1);
  const e = queued[0]!;
  assert.equal(id, e.id);
  assert.deepEqual(
    [e.functionName, e.qualifier, e.payload.toString(), e.acceptedAt, e.hops, e.idempotencyKey],
    ["resize", "live", '{"image":7}', clock.now(), 0, "order-42"],
  );
  assert.deepEqual(parseLineage(e.traceId)?.hops, 0, "a client's call starts a chain");
});

test("a repeated idempotency key answers the id the queue kept", async () => {
  const { a } = acceptor();
  assert.equal(await a.accept(input({ idempotencyKey: "seen" })), "first-id");
});

test("an event from a function's call is one hop further down the caller's chain", async () => {
  const { a, queued } = acceptor();
  await a.accept(input({ traceHeader: "Root=1-67891233-abcdef012345678912345678;Lineage=nimbus:3" }));
  assert.equal(queued[0]!.hops, 4);
  assert.deepEqual(parseLineage(queued[0]!.traceId), {
    root: "1-67891233-abcdef012345678912345678",
    hops: 4,
    stopped: false,
  });
});

test("an empty payload reaches the function as {}", async () => {
  const { a, queued } = acceptor();
  await a.accept(input({ payload: Buffer.alloc(0) }));
  assert.equal(queued[0]!.payload.toString(), "{}");
});

test("an unknown function, a payload over 1 MB or not JSON, and a bad idempotency key are refused, and nothing is queued", async () => {
  const { a, queued, log } = acceptor();
  const refused = async (over: Parameters<typeof input>[0], code: string, message: RegExp) =>
    assert.rejects(
      a.accept(input(over)),
      (err: NimbusError) => err.code === code && message.test(err.message),
    );
  await refused({ functionName: "missing" }, "NotFound", /missing/);
  await refused({ payload: Buffer.alloc(1024 * 1024 + 1, "x") }, "RequestTooLarge", /1048576 bytes.*1048577/);
  await refused({ payload: Buffer.from("{nope") }, "InvalidRequestContent", /must be JSON/);
  await refused({ idempotencyKey: "" }, "InvalidParameter", /1 to 128 visible ASCII/);
  await refused({ idempotencyKey: "x".repeat(129) }, "InvalidParameter", /1 to 128/);
  await refused({ idempotencyKey: "has space" }, "InvalidParameter", /"has space"/);
  assert.deepEqual(queued, []);
  assert.deepEqual(log, []);
});
