/** The event sources' lifecycle, with test sources: in order, in reverse, and when one fails. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../shared/clock.js";
import type { Logger } from "../../shared/logger.js";
import { silentLogger } from "../../shared/logger.js";
import type { InvokeService, SyncInvokeInput, SyncInvokeOutput } from "../invoke-service.js";
import type { EventSource, EventSourceContext } from "./event-source.js";
import { eventSources, sourceContext, startSources, stopSources } from "./sources.js";

function recorder() {
  const calls: string[] = [];
  const contexts: EventSourceContext[] = [];
  const source = (name: string, fail?: "start" | "stop"): EventSource => ({
    name,
    async start(c) {
      calls.push(`start ${name}`);
      contexts.push(c);
      if (fail === "start") throw new Error(`${name} cannot reach its store`);
    },
    async stop() {
      calls.push(`stop ${name}`);
      if (fail === "stop") throw new Error(`${name} hangs`);
    },
  });
  const errors: string[] = [];
  const logger: Logger = {
    ...silentLogger,
    error: (msg, fields) => void errors.push(`${msg}: ${String(fields?.source)}`),
  };
  const ctx: EventSourceContext = {
    invoke: () => assert.fail("not invoked"),
    enqueue: () => assert.fail("not enqueued"),
    clock: new FakeClock(),
    logger,
  };
  return { calls, contexts, errors, source, ctx, logger };
}

test("the async queue's poller is the first source", () => {
  const poller: EventSource = { name: "async-queue", start: async () => {}, stop: async () => {} };
  assert.deepEqual(eventSources({ asyncQueue: poller }), [poller]);
});

test("sources start in order, each with the context, and stop in reverse", async () => {
  const { calls, contexts, source, ctx, logger } = recorder();
  const sources = [source("a"), source("b"), source("c")];
  await startSources(sources, ctx);
  assert.deepEqual(contexts, [ctx, ctx, ctx]);
  await stopSources(sources, logger);
  assert.deepEqual(calls, ["start a", "start b", "start c", "stop c", "stop b", "stop a"]);
});

test("a source that cannot start stops those started before it, and its error is thrown, naming it in the log", async () => {
  const { calls, errors, source, ctx } = recorder();
  await assert.rejects(
    startSources([source("a"), source("b"), source("broken", "start"), source("never")], ctx),
    /broken cannot reach its store/,
  );
  assert.deepEqual(calls, ["start a", "start b", "start broken", "stop b", "stop a"]);
  assert.deepEqual(errors, ["an event source could not start: broken"]);
});

test("a source that fails to stop is logged, and the others still stop", async () => {
  const { calls, errors, source, logger } = recorder();
  await stopSources([source("a"), source("stuck", "stop"), source("c")], logger);
  assert.deepEqual(calls, ["stop c", "stop stuck", "stop a"]);
  assert.deepEqual(errors, ["an event source failed to stop: stuck"]);
});

test("a source's invoke is the Invoke API's synchronous path; its enqueue is the accept path", async () => {
  const invoked: SyncInvokeInput[] = [];
  const answer = { requestId: "r1" } as SyncInvokeOutput;
  const invoke: Pick<InvokeService, "invoke"> = {
    invoke: async (input) => {
      invoked.push(input);
      return answer;
    },
  };
  const enqueue = async () => "queued-id";
  const ctx = sourceContext({ invoke, enqueue, clock: new FakeClock(), logger: silentLogger });
  const payload = Buffer.from("{}");
  assert.equal(await ctx.invoke({ functionName: "f", payload, traceHeader: "Root=1-a" }), answer);
  assert.deepEqual(invoked, [
    {
      functionName: "f",
      qualifier: undefined,
      payload,
      clientContextBase64: undefined,
      dryRun: false,
      traceId: "Root=1-a",
    },
  ]);
  assert.equal(await ctx.enqueue({ functionName: "f", qualifier: undefined, payload }), "queued-id");
});
